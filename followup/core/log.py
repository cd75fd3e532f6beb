"""The Log: the history of follow-ups, as data (the workbook's Log sheet is read and written by
workbook/log_sheet.py).

`followup done` appends a row for every follow-up, and the daily run appends one when it sees
that Last contact was moved forward by hand (channel "workbook edit"). A row belongs to the
contact with its email, else the one contact with its name; the days it records count as
touches (`Contact.logged_touches`), so Follow-ups and the relationship's step stay right even
when the user only edits dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from followup.core.identity import fold, index_by
from followup.core.model import Contact
from followup.core.rules import touches_made

LOG_SHEET = "Log"
SPARE_NAME = "Follow-up log"
"""The log's sheet when the workbook's own "Log" is someone else's (then "Follow-up log 2"...)."""
HEADER = ("Date", "Name", "Email", "Channel", "Note")
CHANNELS = ("email", "phone", "linkedin", "note", "meeting")
WORKBOOK_EDIT = "workbook edit"
"""The channel of a row the run adds for a Last contact moved by hand."""
REPLY = "reply"
"""The channel of a row sync adds for a contact's answer: it is theirs, so no follow-up."""


@dataclass(frozen=True)
class LogEntry:
    """One follow-up: when, with whom, how, and a note."""

    day: date
    name: str
    email: str = ""
    channel: str = ""
    note: str = ""


@dataclass(frozen=True)
class Log:
    """The program's log as read, and where new rows go."""

    entries: tuple[LogEntry, ...] = ()
    header_row: int = 0  # 0: the sheet is missing and is created with the first rows
    columns: tuple[int, ...] = (1, 2, 3, 4, 5)  # column of Date, Name, Email, Channel, Note
    next_row: int = 1  # the first row below everything on the sheet
    sheet: str = LOG_SHEET
    rows: tuple[int, ...] = ()
    """The worksheet row of each entry (`followup undo` clears the one it takes back)."""

    def place(self) -> str:
        """Where new rows go, for messages: 'on sheet "Log"', 'on a new sheet "Follow-up log"'."""
        return f'on {"sheet" if self.header_row else "a new sheet"} "{self.sheet}"'


def entries_by_row(
    contacts: Sequence[Contact], entries: Sequence[LogEntry]
) -> dict[int, list[LogEntry]]:
    """Each contact's Log entries, by worksheet row: by email, else the one contact so named."""
    if not entries:
        return {}
    by_email = index_by(contacts, lambda c: fold(c.email))
    by_name = index_by(contacts, lambda c: fold(c.name))
    found: dict[int, list[LogEntry]] = {}
    for entry in entries:
        namesakes = by_name.get(fold(entry.name), [])
        # One email on several rows is one person typed twice; one name may be two people.
        owners = by_email.get(fold(entry.email)) or (namesakes if len(namesakes) == 1 else [])
        for owner in owners:
            found.setdefault(owner.row, []).append(entry)
    return found


def after_meeting(contact: Contact, day: date) -> bool:
    """Whether a touch on `day` can be a follow-up: one on or before Met on is part of meeting
    them (the Log, a hand edit to Last contact and sent mail all count by this rule)."""
    return contact.met_on is None or day > contact.met_on


def touch_days(contact: Contact, entries: Sequence[LogEntry], today: date) -> set[date]:
    """The days of logged follow-ups since Met on (the meeting itself is no follow-up, and a
    reply is theirs, not one)."""
    return {
        e.day
        for e in entries
        if e.day <= today and after_meeting(contact, e.day) and e.channel != REPLY
    }


def last_reply(contact: Contact, entries: Sequence[LogEntry], today: date) -> date | None:
    """The day of their latest logged reply since Met on: from then on you are in touch."""
    return max(
        (
            e.day
            for e in entries
            if e.channel == REPLY and e.day <= today and after_meeting(contact, e.day)
        ),
        default=None,
    )


def logged_on(entries: Sequence[LogEntry], day: date) -> list[LogEntry]:
    """A contact's Log rows of follow-ups on a day (a reply is theirs, not one)."""
    return [e for e in entries if e.day == day and e.channel != REPLY]


def typed_on(contact: Contact, day: date) -> bool:
    """Whether Last contact already holds a follow-up on `day`: it is that day and the rules
    count it (Follow-ups, or a Last contact after Met on), as the "How to use" sheet tells the
    user to type one."""
    return contact.last_contact == day and touches_made(contact) >= 1


def already_recorded(contact: Contact, entries: Sequence[LogEntry], day: date) -> bool:
    """Whether a follow-up with `contact` on `day` is already recorded, in Last contact or in
    their Log rows `entries`: then neither `done` nor a sync counts another one that day."""
    return typed_on(contact, day) or bool(logged_on(entries, day))
