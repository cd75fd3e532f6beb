"""The coming follow-ups as an iCalendar (.ics) file, for any calendar app.

One all-day event per contact due within the lookahead; an overdue follow-up sits on today,
because that is when it still needs doing. An event's UID comes from who the contact is (email,
else LinkedIn URL, else name and company), never from its row, so importing a newer file
updates the events instead of adding copies, even after the rows were sorted or inserted.
Pure like the rules: the caller passes `today` and `now`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from followup.core.identity import contact_key, fold
from followup.core.model import Contact, FollowUp, Status

FILENAME = "followup.ics"

# Statuses with no follow-up to put in a calendar (a resting contact's date is not due yet).
_NOT_PLANNED = frozenset({Status.CLOSED, Status.PAUSED, Status.NEEDS_INFO})
_SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def build_calendar(
    entries: Iterable[tuple[Contact, FollowUp]], today: date, lookahead_days: int, now: datetime
) -> bytes:
    """The .ics of every follow-up due by today + `lookahead_days`, overdue ones on today.

    `now` is the DTSTAMP (a naive `now` is taken as local time). Events are sorted by day and
    UID, so the same contacts give the same file whatever their row order.
    """
    stamp = now.astimezone(UTC)
    # Calendars keep the copy with the higher SEQUENCE on re-import, so a later export wins.
    sequence = int((stamp - _SEQUENCE_EPOCH).total_seconds()) // 60
    last_day = today + timedelta(days=lookahead_days)
    events = []
    seen: dict[str, int] = {}
    for contact, follow in entries:
        if follow.next_date is None or follow.status in _NOT_PLANNED or follow.next_date > last_day:
            continue
        key = uid_key(contact)
        seen[key] = seen.get(key, 0) + 1
        uid = _uid(key, seen[key])
        day = max(follow.next_date, today)
        events.append((day, uid, _event(contact, follow, day, uid, stamp, sequence)))

    calendar = Calendar()
    calendar.add("prodid", "-//followup//Follow-ups//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Follow-ups")
    for *_, event in sorted(events, key=lambda e: e[:2]):
        calendar.add_component(event)
    return calendar.to_ical()


def uid_key(contact: Contact) -> str:
    """The contact's `identity.contact_key`, in the form the first calendars spelled it for a
    contact with no email or LinkedIn, so that events already imported keep their UID."""
    key = contact_key(contact)
    if key.startswith("name:"):
        return f"name:{fold(contact.name)}|company:{fold(contact.company)}"
    return key


def _uid(key: str, occurrence: int) -> str:
    """A UID that does not reveal the address it came from; repeats of one key are numbered."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"{digest}{f'-{occurrence}' if occurrence > 1 else ''}@followup"


def _event(
    contact: Contact, follow: FollowUp, day: date, uid: str, stamp: datetime, sequence: int
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("sequence", sequence)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", _summary(contact))
    event.add("description", _description(contact, follow))
    event.add("transp", "TRANSPARENT")  # a reminder, not a meeting: the day stays free
    return event


def _summary(contact: Contact) -> str:
    company = contact.company.strip()
    return f"Follow up: {contact.name}" + (f" ({company})" if company else "")


def _description(contact: Contact, follow: FollowUp) -> str:
    """The suggested action, how late it is, and every way to reach them."""
    lines = [follow.action]
    if follow.status is Status.OVERDUE and follow.next_date is not None:
        days = follow.days_overdue
        lines.append(f"Was due {follow.next_date.isoformat()}: {days} day{'s' * (days != 1)} late.")
    for label, value in (
        ("Email", contact.email),
        ("Phone", contact.phone),
        ("LinkedIn", contact.linkedin),
    ):
        if value.strip():
            lines.append(f"{label}: {value.strip()}")
    return "\n".join(lines)
