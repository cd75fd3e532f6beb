"""The daily digest: who to follow up with today, as one plain-text part and one HTML part.

`build_digest` is pure: the caller passes `today`, the evaluated contacts and the draft
templates; it reads no clock, file or network. Both parts are rendered from the same list of
sections, so they always say the same thing; `to_message` wraps them in an email. Every string
from the workbook is escaped in the HTML and only http(s), mailto: and tel: links are ever made,
so a cell holding markup or a `javascript:` URL stays inert text.

It respects attention: people are ranked (priority, then how overdue), at most `max_items` are
listed and the rest counted, and a crowd met at one event that falls due together is one line.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy
from functools import partial
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from followup.core import birthdays, drafts
from followup.core.channels import Channel, channel, email_address
from followup.core.digest_render import (
    Card,
    Link,
    Reach,
    Section,
    render_html,
    render_text,
)
from followup.core.drafts import Draft, DraftTemplate, one_line
from followup.core.history import Thanks
from followup.core.mail_sync import mark_subject
from followup.core.model import (
    Contact,
    FollowUp,
    HowMet,
    Problem,
    RuleSettings,
    Status,
    day_month,
    day_name,
)

# The contact sections, in the order the digest shows them, with their heading and colour.
_SECTIONS: dict[Status, tuple[str, str]] = {
    Status.OVERDUE: ("Overdue", "#b91c1c"),
    Status.DUE_TODAY: ("Due today", "#b45309"),
    Status.UPCOMING: ("Coming up", "#1d4ed8"),
}
_SECTION_RANK = {status: rank for rank, status in enumerate(_SECTIONS)}
_DRAFTED = frozenset({Status.OVERDUE, Status.DUE_TODAY})
_PROBLEMS = ("Workbook problems", "#6d28d9")
_THANKS = ("Thank a referrer", "#b45309")
_NOTES_LIMIT = 200
_DEFAULT_RULES = RuleSettings()

# People met at one event and due the same day share one line from this many on.
_CROWD = 3
_CROWD_NAMES = 3  # first names spelled out in that line before "and N more"
_CROWD_ASKS = {"event_thanks": "one short thank-you each"}
_CROWD_ASK = "one short note each"

# What a draft that cannot ride in a mailto: link is shown as, by the channel the row allows.
_COPY_LABELS: dict[Channel, str] = {
    Channel.EMAIL: "Draft email",
    Channel.LINKEDIN: "LinkedIn message to copy",
    Channel.PHONE: "Talking points for a call",
    Channel.NOTE: "Handwritten note (no email, LinkedIn or phone)",
}
_PHONE = re.compile(r"\+?\d{3,}")
_BARE_LINKEDIN = re.compile(r"(www\.)?linkedin\.com/", re.IGNORECASE)


class _Policy(EmailPolicy):
    """policy.default, except that headers fold as every reader reads them back.

    Python moves a value that does not fit after "Subject: " but fits on a line of its own
    to the next line ("Subject:\n Follow-ups for Sat 5 Dec: ..."), which strict readers take
    as a subject starting with a space: here it is folded after its first words. And Python
    3.11 drops a space between words when it folds encoded words ("Zoë, ¡" came back as
    "Zoë,¡"), so a subject outside ASCII is encoded whole (email.header), which cannot.
    """

    def _fold(self, name: str, value: Any, refold_binary: bool = False) -> str:
        if name.lower() == "subject" and hasattr(value, "name") and not str(value).isascii():
            words = Header(str(value), "utf-8", header_name=name)
            encoded = words.encode(linesep=self.linesep, maxlinelen=self.max_line_length)
            return f"{name}: {encoded}{self.linesep}"
        folded = super()._fold(name, value, refold_binary)
        lead = f"{name}:{self.linesep} "
        if not folded.startswith(lead):
            return folded
        first, linesep, rest = folded[len(lead) :].partition(self.linesep)
        room = (self.max_line_length or len(folded)) - len(name) - 2
        cut = first.rfind(" ", 1, room + 1)  # a break at a space fits on one line
        if cut > 0 and first[:cut].strip() and first[cut:].strip():
            first = f"{first[:cut]}{self.linesep}{first[cut:]}"
        return f"{name}: {first}{linesep}{rest}"


MESSAGE_POLICY = _Policy()
"""How digests are written and read back (outbox): headers fold after their first words."""


@dataclass(frozen=True)
class Digest:
    """One day's digest, ready to send or to save."""

    day: date
    subject: str
    text: str
    html: str
    listed_rows: tuple[int, ...]  # worksheet rows of every contact listed (for Last reminded)
    weekly: tuple[str, ...] = ()  # titles of the weekly sections it carries (`mentions`)


class _Person(NamedTuple):
    """A listed contact, what the rules decided, their draft (only when they are due: Coming
    up shows what to do, not the message yet) and their birthday when it is coming up."""

    contact: Contact
    follow: FollowUp
    draft: Draft | None
    birthday: date | None = None


def worth_sending(
    entries: Sequence[tuple[Contact, FollowUp]],
    problems: Sequence[Problem],
    today: date | None = None,
) -> bool:
    """True when someone is Overdue or Due today, the workbook has a problem, or (given
    `today`) it is someone's birthday."""
    due = {Status.OVERDUE, Status.DUE_TODAY}
    if bool(problems) or any(follow.status in due for _, follow in entries):
        return True
    return today is not None and bool(
        birthdays.coming_birthdays([contact for contact, _ in entries], today, 0)
    )


def build_digest(
    entries: Sequence[tuple[Contact, FollowUp]],
    problems: Sequence[Problem],
    today: date,
    notices: Sequence[str] = (),
    your_name: str = "",
    *,
    templates: Mapping[str, DraftTemplate] | None = None,
    rules: RuleSettings | None = None,
    max_items: int = 0,
    mentions: Sequence[Section] = (),
    mark_done_to: str = "",
    thanks: Sequence[Thanks] = (),
) -> Digest:
    """The digest for `today`: Overdue, Due today, Coming up and Workbook problems.

    Within a section people are ranked by priority (A first), then by how overdue. Only the
    first `max_items` (0: everyone) are listed, so a long backlog stays readable; the rest are
    counted. `templates` (from drafts.load_templates) and `rules` pick the draft of each
    person Overdue or Due today (Coming up shows the action and links only); without templates
    the email links open a blank message. Birthdays coming up follow the people due (someone
    listed there already has it on their card instead), then the `mentions` (the weekly
    needs-info and review sections), then the problems. With `mark_done_to` (the user's own
    address, when sync reads their mailbox) people reached other than by email get "mark done"
    and "snooze" links: a message to themselves that the next sync applies.
    """
    rules = rules or _DEFAULT_RULES
    ranked = sorted(
        (entry for entry in entries if entry[1].status in _SECTIONS),
        key=lambda entry: _rank(*entry, today),
    )
    listed = ranked[:max_items] if max_items else ranked
    left_out = [follow.status for _, follow in ranked[len(listed) :]]
    coming = birthdays.coming_birthdays([c for c, _ in entries], today, rules.lookahead_days)
    born_on = {contact.row: when for contact, when in coming}
    people = [
        _Person(
            c,
            f,
            drafts.draft_for(c, templates or {}, rules, your_name)
            if f.status in _DRAFTED
            else None,
            born_on.get(c.row),
        )
        for c, f in listed
    ]
    sections = []
    for status, (title, colour) in _SECTIONS.items():
        here = [person for person in people if person.follow.status is status]
        more = left_out.count(status)
        if here or more:
            sections.append(
                Section(title, colour, len(here) + more, _cards(here, today, mark_done_to), more)
            )
    greet = partial(drafts.greeting, templates=templates or {}, your_name=your_name)
    shown_rows = {contact.row for contact, _ in listed}  # their card says it: one message
    others = [(contact, when) for contact, when in coming if contact.row not in shown_rows]
    if section := birthdays.birthday_section(others, today, greet, _reach):
        sections.append(section)
    if thanks:
        sections.append(_thanks_section(thanks, templates or {}, your_name, mark_done_to))
    sections += mentions
    if problems:
        cards = tuple(_problem_card(problem) for problem in problems)
        sections.append(Section(*_PROBLEMS, len(problems), cards))

    headline = f"Follow-ups for {day_name(today)}"
    statuses = [follow.status for _, follow in ranked]
    summary = _summary(
        statuses.count(Status.OVERDUE),
        statuses.count(Status.DUE_TODAY),
        len(problems),
        sum(day == today for _, day in coming),
        [section.subject for section in mentions if section.subject],
    )
    if left_out:
        shown = f"{summary} (the top {len(listed)} are listed, and {len(left_out)} more)"
    else:
        shown = summary
    return Digest(
        day=today,
        subject=f"{headline}: {summary}",
        text=render_text(headline, shown, notices, sections),
        html=render_html(headline, shown, notices, sections),
        listed_rows=tuple(contact.row for contact, _ in listed),
        weekly=tuple(section.title for section in mentions),
    )


def to_message(digest: Digest, sender: str, recipient: str, when: datetime) -> EmailMessage:
    """The digest as a multipart/alternative email: text/plain first, then text/html.

    Quoted-printable keeps every line short and 7-bit, so no relay can mangle the body.
    `when` (the Date header) comes from the caller, like every other reading of the clock.
    """
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = digest.subject
    message["Date"] = email.utils.format_datetime(when)
    # An explicit domain: make_msgid's default looks up this machine's name, which can hang.
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "followup.invalid"
    message["Message-ID"] = email.utils.make_msgid("followup", domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(digest.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(digest.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def _rank(contact: Contact, follow: FollowUp, today: date) -> tuple[int, str, date, str, int]:
    """Section, then priority (A first), then earliest date (most overdue first), then name."""
    return (
        _SECTION_RANK[follow.status],
        contact.priority,
        follow.next_date or today,
        contact.name.casefold(),
        contact.row,
    )


def _summary(
    overdue: int, due_today: int, problems: int, born_today: int, held: Sequence[str]
) -> str:
    """The subject's counts. With nobody due, `held` (what the weekly sections hold: "12 need
    a date") says why the digest came, rather than "nothing due"."""
    parts = [f"{overdue} overdue"] if overdue else []
    if due_today:
        parts.append(f"{due_today} due today")
    if not parts:
        parts = [*held] or ([] if born_today else ["nothing due"])
    if problems:
        parts.append(f"{problems} workbook problem{'s' if problems > 1 else ''}")
    if born_today:
        parts.append(f"{born_today} birthday{'s' * (born_today != 1)} today")
    return ", ".join(parts)


def _cards(people: list[_Person], today: date, mark_to: str = "") -> tuple[Card, ...]:
    """A card per person, except that a crowd (several people met at one event, due the same
    day with the same draft) shares one line where the first of them ranks."""
    keys = [_crowd_key(person) for person in people]
    crowds: dict[tuple[object, ...], list[_Person]] = {}
    for key, person in zip(keys, people, strict=True):
        if key is not None:
            crowds.setdefault(key, []).append(person)
    cards = []
    for key, person in zip(keys, people, strict=True):
        crowd = crowds[key] if key is not None else [person]
        if len(crowd) < _CROWD:
            cards.append(_contact_card(person, today, mark_to))
        elif person is crowd[0]:
            cards.append(_crowd_card(crowd, today, mark_to))
    return tuple(cards)


def _crowd_key(person: _Person) -> tuple[object, ...] | None:
    """What people share to be one crowd; None for anyone not met at an event on a known day.
    People met on one day at different events (Where we met) are different crowds."""
    contact, follow, draft, birthday = person
    if contact.how_met is HowMet.NETWORKING_EVENT and contact.met_on and not birthday:
        where = drafts.at_place(contact.where_met).casefold()
        return (contact.met_on, where, follow.next_date, draft and draft.template)
    return None


def _contact_card(person: _Person, today: date, mark_to: str = "") -> Card:
    contact, follow, draft, birthday = person
    lines = [_who(contact), _history(contact, today), _when(follow, today)]
    if birthday:  # one card, not a second one in Birthdays with a second draft
        lines.append(
            f"{birthdays.birthday_line(birthday, today)}: add a birthday wish when you get in touch"
        )
    if contact.referred_by:
        lines.append(f"Referred by {contact.referred_by}")
    if contact.notes:
        notes = one_line(contact.notes)
        cut = notes if len(notes) <= _NOTES_LIMIT else notes[:_NOTES_LIMIT].rstrip() + "…"
        lines.append(f"Notes: {cut}")
    return Card(
        title=contact.name,
        lines=tuple(line for line in lines if line),
        action=follow.action,
        reach=_reach(contact, draft, mark_to),
    )


def _crowd_card(crowd: list[_Person], today: date, mark_to: str = "") -> Card:
    """E.g. "5 people you met at PyData Berlin on 9 Mar are due today: Ann, Bob, Cem and 2 more —
    one short thank-you each" ("at the event" when Where we met is blank), then one compact
    line per person with their links."""
    contact, follow, draft, _ = crowd[0]
    names = [drafts.first_name(p.contact.name) or p.contact.name for p in crowd]
    if len(names) <= _CROWD_NAMES:
        who = f"{', '.join(names[:-1])} and {names[-1]}"
    else:
        who = f"{', '.join(names[:_CROWD_NAMES])} and {len(names) - _CROWD_NAMES} more"
    when = _when(follow, today)
    ask = _CROWD_ASKS.get(draft.template, _CROWD_ASK) if draft else _CROWD_ASK
    met_on = contact.met_on
    assert met_on is not None  # crowds are keyed by it
    met = day_month(met_on)
    if met_on.year != today.year:
        met += f" {met_on.year}"
    return Card(
        title=f"{len(crowd)} people you met{drafts.at_place(contact.where_met) or ' at the event'}"
        f" on {met} are "
        f"{when[:1].lower()}{when[1:]}: {who} — {ask}",
        members=tuple(
            (
                f"{p.contact.name} ({p.contact.company})" if p.contact.company else p.contact.name,
                _reach(p.contact, p.draft, mark_to),
            )
            for p in crowd
        ),
    )


def _thanks_section(
    thanks: Sequence[Thanks],
    templates: Mapping[str, DraftTemplate],
    your_name: str,
    mark_to: str,
) -> Section:
    """A card per referrer to thank, with a short thank-you draft like every other action."""
    cards = tuple(
        Card(
            title=t.referrer.name,
            lines=(f"Introduced you to {t.referred.name}",),
            action=t.line(),
            reach=_reach(
                t.referrer,
                drafts.referrer_thanks(t.referrer, t.referred.name, templates, your_name),
                mark_to,
            ),
        )
        for t in thanks
    )
    return Section(*_THANKS, len(cards), cards)


def _problem_card(problem: Problem) -> Card:
    lines = (f"Value: {problem.value}",) if problem.value else ()
    where = f"{problem.sheet}!{problem.cell}" if problem.cell else problem.sheet
    return Card(title=where, lines=lines, action=problem.message)


def _who(contact: Contact) -> str:
    if contact.role and contact.company:
        return f"{contact.role} at {contact.company}"
    return contact.role or contact.company


def _history(contact: Contact, today: date) -> str:
    """How you met and how long ago, e.g. "Networking event (PyData Berlin), 9 days ago"."""
    met = contact.how_met.label
    if where := one_line(contact.where_met):
        met += f" ({where})"
    if contact.met_on:
        met += f", {_ago(contact.met_on, today)}"
    if contact.last_contact and contact.last_contact != contact.met_on:
        met += f"; last contact {_ago(contact.last_contact, today)}"
    return met


def _when(follow: FollowUp, today: date) -> str:
    if follow.status is Status.OVERDUE:
        days = follow.days_overdue
        return f"{days} day{'s' if days != 1 else ''} overdue"
    if follow.status is Status.UPCOMING and follow.next_date:
        return f"Due {day_name(follow.next_date)}, {_ago(follow.next_date, today)}"
    return "Due today"


def _ago(day: date, today: date) -> str:
    days = (today - day).days
    if days < -1:
        return f"in {-days} days"
    named = {-1: "tomorrow", 0: "today", 1: "yesterday"}
    if days in named:
        return named[days]
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"


def _reach(contact: Contact, draft: Draft | None, mark_to: str = "") -> Reach:
    """Links to the person and their draft, shown in both parts: an email's with its subject
    (the mail client that opens the text part has no link to click), else the message to copy
    for the channel they have; with `mark_to`, links that mark the follow-up done or snooze it."""
    links = _links(contact, draft)
    way = channel(contact)
    if mark_to and way is not Channel.EMAIL:
        links += _mark_links(contact, mark_to)
    if draft is None:
        return Reach(links)
    if way is Channel.EMAIL:
        return Reach(
            links, _COPY_LABELS[way], (f"Subject: {draft.subject}", "", *draft.body.splitlines())
        )
    if way is Channel.PHONE:
        return Reach(links, _COPY_LABELS[way], drafts.talking_points(draft))
    return Reach(links, _COPY_LABELS[way], tuple(draft.body.splitlines()))


def _links(contact: Contact, draft: Draft | None) -> tuple[Link, ...]:
    links = []
    if contact.email.strip():
        address = email_address(contact)
        href = drafts.mailto(address, draft) if address else None
        links.append(Link("Email", contact.email.strip(), href))
    if contact.phone.strip():
        number = re.sub(r"[^\d+]", "", contact.phone)
        href = f"tel:{number}" if _PHONE.fullmatch(number) else None
        links.append(Link("Phone", contact.phone, href))
    if contact.linkedin.strip():
        links.append(Link("LinkedIn", contact.linkedin, _web_url(contact.linkedin)))
    return tuple(links)


_SNOOZE_DAYS = 14
_MARK_BODY = "Send this message as it is: followup's next sync reads its subject."


def _mark_links(contact: Contact, to: str) -> tuple[Link, ...]:
    """Mailto links to the user's own address whose subject the next sync applies. A mailto:
    holds a bare address (RFC 6068): "Sam <me@example.org>" there is refused by webmail."""
    to = email.utils.parseaddr(to)[1]
    done = mark_subject("done", contact)
    snooze = mark_subject("snooze", contact, _SNOOZE_DAYS)
    return (
        Link(
            "Mark done", f"email yourself “{done}”", drafts.mailto(to, Draft("", done, _MARK_BODY))
        ),
        Link(
            f"Snooze {_SNOOZE_DAYS} days",
            f"email yourself “{snooze}”",
            drafts.mailto(to, Draft("", snooze, _MARK_BODY)),
        ),
    )


def _web_url(text: str) -> str | None:
    """The text as an http(s) link, or None: no other scheme (javascript:, data:) is linked."""
    url = text.strip()
    if _BARE_LINKEDIN.match(url):
        url = f"https://{url}"
    if not url.isprintable() or " " in url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None
