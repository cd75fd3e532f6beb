"""The daily digest: who to follow up with today, as one plain-text part and one HTML part.

`build_digest` is pure: the caller passes `today` and the evaluated contacts; it reads no clock,
file or network. Both parts are rendered from the same list of sections, so they always say the
same thing; `to_message` wraps them in an email. Every string from the workbook is escaped in
the HTML and only http(s), mailto: and tel: links are ever made, so a cell holding markup or a
`javascript:` URL stays inert text.
"""

from __future__ import annotations

import email.utils
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from urllib.parse import quote, urlsplit

from followup.model import Contact, FollowUp, HowMet, Problem, Stage, Status

# The contact sections, in the order the digest shows them, with their heading and colour.
_SECTIONS: dict[Status, tuple[str, str]] = {
    Status.OVERDUE: ("Overdue", "#b91c1c"),
    Status.DUE_TODAY: ("Due today", "#b45309"),
    Status.UPCOMING: ("Coming up", "#1d4ed8"),
}
_PROBLEMS = ("Workbook problems", "#6d28d9")
_NOTHING = "Nobody to follow up with today. Enjoy the day."
_FOOTER = (
    "Sent by followup to you alone; it never writes to your contacts. After you follow up, "
    "update Last contact in your workbook (or run: followup done NAME)."
)
_NOTES_LIMIT = 200

# Drafted emails: (subject, paragraph). Gracious, brief, no ask beyond a conversation.
_STAGE_DRAFTS: dict[Stage, tuple[str, str]] = {
    Stage.WAITING: (
        "Following up",
        "Just a gentle nudge on my last note, in case it got buried. No pressure at all.",
    ),
    Stage.DECLINED: (
        "Hello again",
        "I hope things are going well. No need to reply; I just wanted to say hello and "
        "wish you all the best.",
    ),
}
_DRAFTS: dict[HowMet, tuple[str, str]] = {
    HowMet.NETWORKING_EVENT: (
        "Great to meet you",
        "It was great to meet you recently. I enjoyed our conversation, and if there is "
        "anything I can help with, just let me know.",
    ),
    HowMet.JOB_APPLICATION: (
        "Following up on my application",
        "I wanted to follow up on my application with {company}. I'm still very interested "
        "and happy to share anything that would help. Thank you for your time.",
    ),
    HowMet.INFORMATIONAL_INTERVIEW: (
        "Thank you for your time",
        "Thank you again for taking the time to talk with me. Your advice was really "
        "helpful, and I'll let you know how things go.",
    ),
    HowMet.REFERRAL: (
        "Introduction via {referrer}",
        "I was pointed your way by {referrer} and would value a short conversation whenever "
        "it suits you. No worries at all if now isn't a good time.",
    ),
    HowMet.KEEP_IN_TOUCH: (
        "Catching up",
        "I was thinking of you and wanted to say hello. How are things going? I'd love to "
        "hear what you're working on.",
    ),
}
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "sir"})
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
_PHONE = re.compile(r"\+?\d{3,}")
_BARE_LINKEDIN = re.compile(r"(www\.)?linkedin\.com/", re.IGNORECASE)


@dataclass(frozen=True)
class Digest:
    """One day's digest, ready to send or to save."""

    day: date
    subject: str
    text: str
    html: str
    listed_rows: tuple[int, ...]  # worksheet rows of every contact listed (for Last reminded)


@dataclass(frozen=True)
class _Link:
    """A way to reach someone; `href` is None when the data cannot safely become a link."""

    label: str
    shown: str
    href: str | None


@dataclass(frozen=True)
class _Card:
    """One person (or one problem) in a section."""

    title: str
    lines: tuple[str, ...]
    action: str
    links: tuple[_Link, ...] = ()


@dataclass(frozen=True)
class _Section:
    title: str
    colour: str
    cards: tuple[_Card, ...]


def worth_sending(entries: Sequence[tuple[Contact, FollowUp]], problems: Sequence[Problem]) -> bool:
    """True when someone is Overdue or Due today, or the workbook has a problem."""
    due = {Status.OVERDUE, Status.DUE_TODAY}
    return bool(problems) or any(follow.status in due for _, follow in entries)


def build_digest(
    entries: Sequence[tuple[Contact, FollowUp]],
    problems: Sequence[Problem],
    today: date,
    notices: Sequence[str] = (),
    your_name: str = "",
) -> Digest:
    """The digest for `today`: Overdue, Due today, Coming up and Workbook problems."""
    listed = sorted(
        (entry for entry in entries if entry[1].status in _SECTIONS),
        key=lambda entry: _order(*entry, today),
    )
    sections = [
        _Section(
            title,
            colour,
            tuple(
                _contact_card(contact, follow, today, your_name)
                for contact, follow in listed
                if follow.status is status
            ),
        )
        for status, (title, colour) in _SECTIONS.items()
    ]
    sections.append(_Section(*_PROBLEMS, tuple(_problem_card(p) for p in problems)))
    sections = [section for section in sections if section.cards]

    headline = f"Follow-ups for {_day(today)}"
    summary = _summary(
        sum(follow.status is Status.OVERDUE for _, follow in listed),
        sum(follow.status is Status.DUE_TODAY for _, follow in listed),
        len(problems),
    )
    return Digest(
        day=today,
        subject=f"{headline}: {summary}",
        text=_text(headline, summary, notices, sections),
        html=_html(headline, summary, notices, sections),
        listed_rows=tuple(contact.row for contact, _ in listed),
    )


def to_message(digest: Digest, sender: str, recipient: str, when: datetime) -> EmailMessage:
    """The digest as a multipart/alternative email: text/plain first, then text/html.

    Quoted-printable keeps every line short and 7-bit, so no relay can mangle the body.
    `when` (the Date header) comes from the caller, like every other reading of the clock.
    """
    message = EmailMessage()
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


def _order(contact: Contact, follow: FollowUp, today: date) -> tuple[date, str, str, int]:
    """Earliest date first (so most overdue first), then priority, then name."""
    return (follow.next_date or today, contact.priority, contact.name.casefold(), contact.row)


def _summary(overdue: int, due_today: int, problems: int) -> str:
    parts = [f"{overdue} overdue"] if overdue else []
    if due_today:
        parts.append(f"{due_today} due today")
    if not parts:
        parts.append("nothing due")
    if problems:
        parts.append(f"{problems} workbook problem{'s' if problems > 1 else ''}")
    return ", ".join(parts)


def _contact_card(contact: Contact, follow: FollowUp, today: date, your_name: str) -> _Card:
    lines = [_who(contact), _history(contact, today), _when(follow, today)]
    if contact.referred_by:
        lines.append(f"Referred by {contact.referred_by}")
    if contact.notes:
        notes = _flat(contact.notes)
        cut = notes if len(notes) <= _NOTES_LIMIT else notes[:_NOTES_LIMIT].rstrip() + "…"
        lines.append(f"Notes: {cut}")
    return _Card(
        title=contact.name,
        lines=tuple(line for line in lines if line),
        action=follow.action,
        links=_links(contact, your_name),
    )


def _problem_card(problem: Problem) -> _Card:
    lines = (f"Value: {problem.value}",) if problem.value else ()
    return _Card(title=f"{problem.sheet}!{problem.cell}", lines=lines, action=problem.message)


def _who(contact: Contact) -> str:
    if contact.role and contact.company:
        return f"{contact.role} at {contact.company}"
    return contact.role or contact.company


def _history(contact: Contact, today: date) -> str:
    """How you met and how long ago, e.g. "Networking event, 9 days ago"."""
    met = contact.how_met.label
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
        return f"Due {_day(follow.next_date)}, {_ago(follow.next_date, today)}"
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


def _day(day: date) -> str:
    """Like "Wed 11 Mar", in English whatever the machine's locale."""
    weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[day.weekday()]
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{weekday} {day.day} {month[day.month - 1]}"


def _links(contact: Contact, your_name: str) -> tuple[_Link, ...]:
    links = []
    address = contact.email.strip()
    if address:
        href = _mailto(contact, address, your_name) if _EMAIL.fullmatch(address) else None
        links.append(_Link("Email", address, href))
    if contact.phone.strip():
        number = re.sub(r"[^\d+]", "", contact.phone)
        href = f"tel:{number}" if _PHONE.fullmatch(number) else None
        links.append(_Link("Phone", contact.phone, href))
    if contact.linkedin.strip():
        links.append(_Link("LinkedIn", contact.linkedin, _web_url(contact.linkedin)))
    return tuple(links)


def _web_url(text: str) -> str | None:
    """The text as an http(s) link, or None: no other scheme (javascript:, data:) is linked."""
    url = text.strip()
    if _BARE_LINKEDIN.match(url):
        url = f"https://{url}"
    if not url.isprintable() or " " in url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _mailto(contact: Contact, address: str, your_name: str) -> str:
    """A mailto: link that opens a short drafted email, every part URL-encoded (RFC 6068)."""
    subject, paragraph = _STAGE_DRAFTS.get(contact.stage) or _DRAFTS[contact.how_met]
    fields = {
        "company": _flat(contact.company) or "your team",
        "referrer": _flat(contact.referred_by) or "a mutual contact",
    }
    first = _first_name(contact.name)
    greeting = f"Hi {first}," if first else "Hello,"
    body = f"{greeting}\r\n\r\n{paragraph.format(**fields)}\r\n\r\nBest wishes,\r\n{your_name}"
    return (
        f"mailto:{quote(address, safe='@')}"
        f"?subject={quote(subject.format(**fields), safe='')}"
        f"&body={quote(body.rstrip(), safe='')}"
    )


def _first_name(name: str) -> str:
    for word in name.split():
        if word.rstrip(".").lower() not in _TITLES:
            return word.strip(",")
    return ""


def _flat(text: str) -> str:
    """Workbook text on one line: newlines and tabs in a cell would break the layout."""
    return " ".join(text.split())


def _text(headline: str, summary: str, notices: Sequence[str], sections: list[_Section]) -> str:
    out = [f"{headline}: {summary}", ""]
    out += [f"Note: {_flat(notice)}" for notice in notices]
    if notices:
        out.append("")
    if not sections:
        out += [_NOTHING, ""]
    for section in sections:
        out += [f"{section.title.upper()} ({len(section.cards)})", ""]
        for card in section.cards:
            out.append(_flat(card.title))
            out += [f"  {_flat(line)}" for line in (*card.lines, card.action)]
            out += [f"  {link.label}: {_flat(link.shown)}" for link in card.links]
            out.append("")
    out.append(_FOOTER)
    return "\n".join(out) + "\n"


def _esc(text: str) -> str:
    return html.escape(_flat(text), quote=True)


def _html(headline: str, summary: str, notices: Sequence[str], sections: list[_Section]) -> str:
    """A table-based page with inline styles only: what Gmail and Outlook both render."""
    font = "font-family:Segoe UI,Helvetica,Arial,sans-serif;"
    rows = [
        f'<tr><td style="padding:24px 24px 4px;">'
        f'<h1 style="margin:0;font-size:22px;color:#111827;">{_esc(headline)}</h1>'
        f'<p style="margin:4px 0 0;font-size:15px;color:#4b5563;">{_esc(summary)}</p></td></tr>'
    ]
    rows += [
        f'<tr><td style="padding:12px 24px 0;"><p style="margin:0;padding:8px 12px;'
        f'background:#fef3c7;border-left:4px solid #d97706;font-size:14px;color:#78350f;">'
        f"{_esc(notice)}</p></td></tr>"
        for notice in notices
    ]
    if not sections:
        rows.append(
            f'<tr><td style="padding:16px 24px 0;font-size:15px;color:#111827;">'
            f"{_esc(_NOTHING)}</td></tr>"
        )
    rows += [_html_section(section) for section in sections]
    rows.append(
        f'<tr><td style="padding:20px 24px 24px;font-size:12px;color:#6b7280;">'
        f"{_esc(_FOOTER)}</td></tr>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(f'{headline}: {summary}')}</title></head>\n"
        '<body style="margin:0;padding:0;background:#f3f4f6;">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="background:#f3f4f6;"><tr><td align="center" style="padding:16px 8px;">\n'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" '
        f'style="width:100%;max-width:600px;background:#ffffff;{font}color:#111827;">\n'
        + "\n".join(rows)
        + "\n</table>\n</td></tr></table>\n</body></html>\n"
    )


def _html_section(section: _Section) -> str:
    colour = section.colour
    cards = "".join(_html_card(card) for card in section.cards)
    return (
        f'<tr><td style="padding:20px 24px 0;">'
        f'<h2 style="margin:0;padding-bottom:4px;font-size:17px;color:{colour};'
        f'border-bottom:2px solid {colour};">{_esc(section.title)} ({len(section.cards)})</h2>'
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0">{cards}'
        f"</table></td></tr>"
    )


def _html_card(card: _Card) -> str:
    small = "font-size:14px;color:#4b5563;"
    parts = [f'<div style="font-size:16px;font-weight:bold;">{_esc(card.title)}</div>']
    parts += [f'<div style="{small}">{_esc(line)}</div>' for line in card.lines]
    parts.append(f'<div style="margin-top:6px;font-size:14px;">{_esc(card.action)}</div>')
    parts += [f'<div style="{small}">{_html_link(link)}</div>' for link in card.links]
    cell = "padding:12px 0;border-bottom:1px solid #e5e7eb;"
    return f'<tr><td style="{cell}">{"".join(parts)}</td></tr>'


def _html_link(link: _Link) -> str:
    shown = _esc(link.shown)
    if link.href:
        shown = f'<a href="{html.escape(link.href, quote=True)}" style="color:#1d4ed8;">{shown}</a>'
    return f"{_esc(link.label)}: {shown}"
