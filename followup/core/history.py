"""What a run remembers about each contact, and what it learns by comparing with today's sheet.

The memory (`contacts.json` in the state folder, kept by commands/memory.py) is keyed by
`identity.contact_key`, so that sorting the sheet or inserting rows changes nothing:

    {"version": 1,
     "last_contact": {"email:ann@example.com": "2026-03-02", "name:bo chen|globex": null},
     "referrer_thanked": {"email:cy@example.com": "2026-03-11"}}

From it and the Log a run learns two things:

* Hand edits. Last contact later than the run saw last time, and not yet in the Log, is a
  follow-up the user recorded by hand: the run logs it (channel "workbook edit"). When the
  date it replaced was a follow-up the Log does not know either, that one is logged too, so the
  Log counts every touch the workbook has shown. Touches are then counted from the Log
  (`Contact.logged_touches`, and their latest reply `Contact.replied_on`), never by writing
  Follow-ups: during a run only the program's own cells and its own Log sheet change.
* Referrers to thank. Once a referred contact has a follow-up in the Log, the person named in
  their Referred by (when they are in the workbook) is due a thank-you with news of how it
  went; the digest says so once, and the memory records when.

A missing or unreadable file is a fresh start: the first run only learns what the sheet holds,
so nothing counts as moved until a run has seen the workbook before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from followup.core.identity import contact_key, fold, index_by
from followup.core.log import (
    WORKBOOK_EDIT,
    Log,
    LogEntry,
    after_meeting,
    entries_by_row,
    last_reply,
    touch_days,
)
from followup.core.model import Contact, Stage


@dataclass(frozen=True)
class Memory:
    """What the last run saw, by contact key. `last_contact` is None before any run saved it."""

    last_contact: dict[str, date | None] | None = None
    referrer_thanked: dict[str, date] = field(default_factory=dict)
    warning: str = field(default="", compare=False)
    """Why a damaged file was set aside (see `commands.memory.load_memory`), for the run to say."""


@dataclass(frozen=True)
class Thanks:
    """A referrer to thank now that the person they introduced has answered."""

    referrer: Contact
    referred: Contact

    def line(self) -> str:
        return (
            f"Close the loop with {self.referrer.name}: thank them for introducing you to "
            f"{self.referred.name}, and tell them how it went."
        )


@dataclass(frozen=True)
class History:
    """What the Log and the memory say about today's contacts."""

    log: Log = field(default_factory=Log)
    memory: Memory = field(default_factory=Memory)
    new_entries: tuple[LogEntry, ...] = ()  # hand edits the run appends to the Log
    thanks: tuple[Thanks, ...] = ()
    contacts: tuple[Contact, ...] = ()  # as read, with logged_touches (new entries included)
    keys: tuple[str, ...] = ()  # contact_key of each of `contacts`

    def remembered(self, today: date, *, logged: bool, thanked: bool) -> Memory:
        """The memory after a run: today's Last contact dates, except for edits the run could
        not log (the workbook was open), which must still look new next time; and the
        referrers the delivered digest mentioned."""
        old = self.memory.last_contact or {}
        unlogged = set() if logged else {(e.name, e.email) for e in self.new_entries}
        last_contact: dict[str, date | None] = {}
        for contact, key in zip(self.contacts, self.keys, strict=True):
            day = contact.last_contact
            if (day is not None and day > today) or (contact.name, contact.email) in unlogged:
                day = old.get(key)  # a date in the future is a typo, not a touch yet
            last_contact.setdefault(key, day)
        thanked_now = {contact_key(t.referred): today for t in self.thanks} if thanked else {}
        return Memory(last_contact, {**self.memory.referrer_thanked, **thanked_now})


def review(contacts: Sequence[Contact], log: Log, memory: Memory, today: date) -> History:
    """Hand edits to log, referrers to thank, and every contact's logged touches. Pure."""
    by_row = entries_by_row(contacts, log.entries)
    keys = tuple(contact_key(c) for c in contacts)
    new_entries: list[LogEntry] = []
    counted = []
    for contact, key in zip(contacts, keys, strict=True):
        logged = by_row.get(contact.row, [])
        if memory.last_contact is not None and key in memory.last_contact:
            edits = _hand_edits(contact, logged, memory.last_contact[key], today)
            if edits:
                new_entries += edits
                logged = by_row[contact.row] = [*logged, *edits]
        touches = len(touch_days(contact, logged, today)) if logged else 0
        replied = last_reply(contact, logged, today) if logged else None
        if touches or replied:
            contact = dataclasses.replace(contact, logged_touches=touches, replied_on=replied)
        counted.append(contact)
    thanks = _thanks(contacts, keys, by_row, memory) if by_row else []
    return History(log, memory, tuple(new_entries), tuple(thanks), tuple(counted), keys)


def _hand_edits(
    contact: Contact, logged: Sequence[LogEntry], old: date | None, today: date
) -> list[LogEntry]:
    """Log rows for a Last contact moved forward by hand since the last run (see module doc)."""
    new = contact.last_contact
    if new is None or new > today or (old is not None and new <= old):
        return []
    days = {entry.day for entry in logged}
    if new in days or not after_meeting(contact, new):
        return []
    entries = []
    if old is not None and old not in days and after_meeting(contact, old):
        note = f"An earlier contact, seen in the workbook before {new.isoformat()}"
        entries.append(LogEntry(old, contact.name, contact.email, WORKBOOK_EDIT, note))
    moved = f"moved from {old.isoformat()} to" if old else "set to"
    note = f"Last contact {moved} {new.isoformat()} in the workbook"
    entries.append(LogEntry(new, contact.name, contact.email, WORKBOOK_EDIT, note))
    return entries


def _thanks(
    contacts: Sequence[Contact],
    keys: Sequence[str],
    by_row: Mapping[int, Sequence[LogEntry]],
    memory: Memory,
) -> list[Thanks]:
    """Referrers in the workbook whose referral has a logged follow-up, has answered (their
    Status is no longer Waiting for reply: a nudge alone is nothing to thank for yet) and whose
    referrer has not been thanked."""
    waiting = [
        contact
        for contact, key in zip(contacts, keys, strict=True)
        if contact.referred_by
        and contact.stage is not Stage.WAITING
        and by_row.get(contact.row)
        and key not in memory.referrer_thanked
    ]
    by_name = index_by(contacts, lambda c: fold(c.name)) if waiting else {}
    found = []
    for contact in waiting:
        referrers = by_name.get(fold(contact.referred_by), [])
        if len(referrers) != 1 or referrers[0] is contact:
            continue
        if referrers[0].stage is not Stage.DO_NOT_CONTACT:
            found.append(Thanks(referrers[0], contact))
    return found
