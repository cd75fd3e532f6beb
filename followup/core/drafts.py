"""Drafted messages: the short note that fits a contact's relationship and step.

The wording lives in template files (`followup/templates/<name>.txt`: a "Subject: ..." line, a
blank line, then the body, with `$first_name` style placeholders), so a user can change it
without code: a file of the same name in the `[digest] templates` folder wins. A user file that
cannot be used falls back to the built-in one and says why, so a typo never costs a digest.

Reading the files is commands/draft_files.py's; everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from string import Template
from urllib.parse import quote

from followup.core.model import MONTHS, Contact, HowMet, RuleSettings, Stage
from followup.core.rules import hiring_role, is_resting, step_index

# The template for each of a relationship's steps; configured steps beyond these reuse the last.
_STEP_TEMPLATES: dict[HowMet, tuple[str, ...]] = {
    HowMet.NETWORKING_EVENT: ("event_thanks",),
    HowMet.JOB_APPLICATION: ("application_follow_up", "application_check_in"),
    HowMet.INFORMATIONAL_INTERVIEW: ("interview_thanks", "interview_update"),
    HowMet.REFERRAL: ("referral_intro",),
}
_CADENCE = "keep_in_touch"
_NUDGE = "nudge"
_LIGHT_TOUCH = "light_touch"  # after a decline, and after the courtesy guard's rest
_BIRTHDAY = "birthday"  # a greeting, no follow-up
_REFERRER_THANKS = "referrer_thanks"  # to whoever introduced you, once the person answered

TEMPLATE_NAMES: tuple[str, ...] = tuple(
    sorted(
        {
            *(n for names in _STEP_TEMPLATES.values() for n in names),
            *(_CADENCE, _NUDGE, _LIGHT_TOUCH, _BIRTHDAY, _REFERRER_THANKS),
        }
    )
)
PLACEHOLDERS: frozenset[str] = frozenset(
    {
        *("first_name", "name", "company", "role", "how_met", "met_on", "referred_by"),
        *("your_name", "at_place", "about", "at_company", "application", "seeking"),
        "introduced",
    }
)

_TITLES = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "sir"})
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class DraftTemplate:
    """One template as written, placeholders not yet filled."""

    subject: str
    body: str


@dataclass(frozen=True)
class Draft:
    """A filled-in message, and the template it came from (so alike drafts can be grouped)."""

    template: str
    subject: str
    body: str


def parse_template(text: str) -> DraftTemplate:
    """A template file's text: a "Subject: ..." line, a blank line, then the body.

    Raises ValueError (worded to follow the file's path) when the file cannot be used.
    """
    head, _, body = text.lstrip("\ufeff").partition("\n")
    label, colon, subject = head.partition(":")
    if not colon or label.strip().lower() != "subject" or not subject.strip():
        raise ValueError('does not start with a "Subject: ..." line')
    if not body.strip():
        raise ValueError("has no message after its Subject line")
    unknown = set(Template(f"{head}\n{body}").get_identifiers()) - PLACEHOLDERS
    if unknown:
        known = ", ".join(f"${name}" for name in sorted(PLACEHOLDERS))
        raise ValueError(f"uses ${min(unknown)}, which is not a placeholder (use {known})")
    return DraftTemplate(subject.strip(), body.strip())


def choose_template(contact: Contact, rules: RuleSettings) -> str:
    """The template for the contact's next follow-up, by the same stage and step as the rules."""
    if contact.stage is Stage.DECLINED or is_resting(contact, rules):
        return _LIGHT_TOUCH
    if contact.stage is Stage.WAITING:
        return _NUDGE
    step = step_index(contact, rules)
    names = _STEP_TEMPLATES.get(contact.how_met, ())
    if step is None or not names:
        return _CADENCE
    return names[min(step, len(names) - 1)]


def draft_for(
    contact: Contact, templates: Mapping[str, DraftTemplate], rules: RuleSettings, your_name: str
) -> Draft | None:
    """The contact's draft for their next follow-up; None when no template is at hand."""
    name = choose_template(contact, rules)
    return fill(name, templates[name], contact, your_name) if name in templates else None


def greeting(
    contact: Contact, templates: Mapping[str, DraftTemplate], your_name: str
) -> Draft | None:
    """The contact's birthday greeting; None when no template is at hand."""
    template = templates.get(_BIRTHDAY)
    return fill(_BIRTHDAY, template, contact, your_name) if template else None


def referrer_thanks(
    referrer: Contact, introduced: str, templates: Mapping[str, DraftTemplate], your_name: str
) -> Draft | None:
    """The thank-you to `referrer` for introducing you to `introduced`; None without a template."""
    template = templates.get(_REFERRER_THANKS)
    if template is None:
        return None
    return fill(_REFERRER_THANKS, template, referrer, your_name, introduced)


def fill(
    name: str, template: DraftTemplate, contact: Contact, your_name: str, introduced: str = ""
) -> Draft:
    """The template `name` filled in from the contact's row; a "$" typed in a cell stays as
    typed, since values are never read as placeholders themselves. Without a name to sign
    with, the sign-off line ("Best wishes,") goes too, rather than dangle. `introduced` is
    the person a referrer introduced you to (the referrer thank-you's `$introduced`)."""
    values = _values(contact, your_name) | {"introduced": one_line(introduced) or "them"}
    subject = one_line(Template(template.subject).safe_substitute(values))
    body = Template(template.body).safe_substitute(values).strip()
    if not values["your_name"]:
        head, _, last = body.rpartition("\n")
        if head and last.rstrip().endswith(",") and len(last) <= _SIGN_OFF_LIMIT:
            body = head.rstrip()
    return Draft(name, subject, body)


def mailto(address: str, draft: Draft | None) -> str:
    """A mailto: link that opens the draft, every part URL-encoded (RFC 6068)."""
    link = f"mailto:{quote(address, safe='@')}"
    if draft is None:
        return link
    body = draft.body.replace("\n", "\r\n")
    return f"{link}?subject={quote(draft.subject, safe='')}&body={quote(body, safe='')}"


def talking_points(draft: Draft) -> tuple[str, ...]:
    """Two lines to say on a call: the message's first two sentences, without the greeting
    ("Hi Dave,") or the sign-off ("Best wishes,\nSam"), whether or not the draft is signed."""
    paragraphs = _PARAGRAPH_BREAK.split(draft.body)
    if len(paragraphs) > 1 and _is_salutation(paragraphs[0]):
        paragraphs = paragraphs[1:]
    if len(paragraphs) > 1 and _is_salutation(paragraphs[-1].partition("\n")[0]):
        paragraphs = paragraphs[:-1]
    return tuple(_SENTENCE_END.split(one_line(" ".join(paragraphs)))[:2])


def _is_salutation(paragraph: str) -> bool:
    """A greeting or sign-off line: short, one line, ending in a comma."""
    line = paragraph.strip()
    return "\n" not in line and line.endswith(",") and len(line) <= _SIGN_OFF_LIMIT


def first_name(name: str) -> str:
    """The first word of a name that is not a title ("Dr. Ann Lee" -> "Ann"), or ""."""
    for word in name.split():
        if word.rstrip(".").lower() not in _TITLES:
            return word.strip(",")
    return ""


def one_line(text: str) -> str:
    """Workbook text on one line: newlines and tabs in a cell would break a subject or layout."""
    return " ".join(text.split())


_SIGN_OFF_LIMIT = 40  # "Best wishes," "Thank you for your time," ...
_DETAIL_LIMIT = 80  # a longer Where we met or topic is a note to self, not a phrase
_PREPOSITIONS = ("at ", "in ", "on ", "during ", "through ", "via ", "over ")
# A Where we met that names a meal or a video call reads after "over" or "on", not "at":
# "Coffee at Café Nero" gives "over coffee at Café Nero", "Zoom" gives "on Zoom".
_OVER = ("coffee", "lunch", "breakfast", "dinner", "drinks", "tea")
_ON = ("zoom", "teams", "google meet", "skype", "a call", "a video call")
_TOPIC = re.compile(
    r"^(?:we\s+)?(?:talked|spoke|chatted|discussed|talk|chat)(?:\s+about)?\s+(?P<topic>.+)$"
    r"|^(?:topic|re|about)\s*:\s*(?P<label>.+)$",
    re.IGNORECASE,
)
_FIRST_SENTENCE = re.compile(r"[.!?;\n]")
_SEEKING = {
    "": "what the hiring manager is most looking for",
    "hiring manager": "what you are most looking for in the role",
    "recruiter": "where my application stands, and what the hiring manager is most looking for",
}


def at_place(where_met: str) -> str:
    """ " at PyData Berlin" for the Where we met cell, or "" when it is blank or too long."""
    place = one_line(where_met).rstrip(".,;:!? ")
    if not place or len(place) > _DETAIL_LIMIT:
        return ""
    folded = place.casefold()
    if folded.startswith(_PREPOSITIONS):
        return f" {place}"
    if _starts_with(folded, _OVER, (" at ", " in ", " with ")):
        return f" over {place[0].lower()}{place[1:]}"
    if _starts_with(folded, _ON, (" ",)):
        return f" on {place}"
    return f" at {place}"


def topic(notes: str) -> str:
    """What you talked about, when the first sentence of Notes says so ("Talked about Rust
    data pipelines. Has two kids." gives "Rust data pipelines"); else "". Only a sentence
    that says what was talked about is used: other notes are for the user alone."""
    first = _FIRST_SENTENCE.split(notes.strip(), maxsplit=1)[0]
    found = _TOPIC.match(one_line(first))
    if not found:
        return ""
    text = (found.group("topic") or found.group("label")).strip().rstrip(",:- ")
    return text if 0 < len(text) <= _DETAIL_LIMIT else ""


def _starts_with(folded: str, words: tuple[str, ...], joins: tuple[str, ...]) -> bool:
    """Whether the text is one of the words, or one of them followed by one of the joins."""
    return any(folded == w or folded.startswith(tuple(w + j for j in joins)) for w in words)


_APPLIED_FOR = re.compile(r"^(?:i\s+)?applied\s+for\s+(?P<role>.+)$", re.IGNORECASE)


def application(notes: str, company: str) -> str:
    """What the user applied for, as a phrase after "applied" (" for the analyst role at Acme",
    " to Acme", " for the analyst role", " for a role with your team"): the role comes from a
    first Notes sentence like "Applied for the analyst role.", the rest from Company."""
    first = _FIRST_SENTENCE.split(notes.strip(), maxsplit=1)[0]
    found = _APPLIED_FOR.match(one_line(first))
    role = found.group("role").rstrip(",:- ") if found else ""
    role = role if len(role) <= _DETAIL_LIMIT else ""
    company = one_line(company)
    if role and company and company.casefold() not in role.casefold():
        return f" for {role} at {company}"
    if role:
        return f" for {role}"
    return f" to {company}" if company else " for a role with your team"


def _values(contact: Contact, your_name: str) -> dict[str, str]:
    """Placeholder values; a blank cell gets wording that still reads well in a sentence, or
    none at all (the "$at_place", "$about" and "$at_company" phrases start with a space)."""
    met = contact.met_on
    subject = topic(contact.notes)
    company = one_line(contact.company)
    return {
        "first_name": first_name(contact.name) or "there",
        "name": one_line(contact.name),
        "company": one_line(contact.company) or "your organisation",
        "role": one_line(contact.role),
        "how_met": contact.how_met.value,
        "met_on": f"{met.day} {MONTHS[met.month - 1]} {met.year}" if met else "",
        "referred_by": one_line(contact.referred_by) or "a mutual contact",
        "your_name": one_line(your_name),
        "at_place": at_place(contact.where_met),
        "about": f" about {subject}" if subject else "",
        "at_company": f" at {company}" if company else "",
        "application": application(contact.notes, contact.company),
        "seeking": _SEEKING[hiring_role(contact)],
    }
