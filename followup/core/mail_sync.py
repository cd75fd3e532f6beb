"""What the mail the user sent and received means for their contacts. Pure: the mailbox
adapter reads the headers, this decides, and `commands/sync.py` applies the decisions through
the same planners as `followup done` and `followup snooze`.

* A message in Sent to a contact's Email (To, Cc or Bcc) is a follow-up on its day: one per
  person per day, and none on a day already recorded (in the Log, or a Last contact typed by
  hand, `core/log.already_recorded`).
* A message in the inbox from a contact, on or after Met on, is their reply: a Waiting for
  reply contact is Active again, and the Log says "reply" (mail from before you met is not).
* A message from the user to themselves titled "followup: done #14 Ana Lima" (or "followup:
  snooze #14 Ana Lima 14") is the digest's one-click link: done or snooze for that person,
  found by name (the row only decides between namesakes, since rows move). A snooze read
  again later never sets a day already past, nor one before the Follow up on date held.

Anyone not in the workbook is ignored: nothing about them leaves this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from followup.core.identity import fold, index_by
from followup.core.log import REPLY, LogEntry, after_meeting, already_recorded
from followup.core.model import LAST_DAY, MAX_DAYS, Contact

SUBJECT_PREFIX = "followup:"
_ADDRESS = re.compile(r"[^\s<>,;:\"'()\[\]]+@[^\s<>,;:\"'()\[\]]+")
_COMMAND = re.compile(
    r"^\s*followup:\s*(?P<verb>done|snooze)\s+#(?P<row>\d{1,7})\s+(?P<name>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_DAYS_AFTER_NAME = re.compile(r"^(?P<name>.+?)\s+(?P<days>\d{1,4})$", re.DOTALL)
MARKED_DONE = "marked done from the digest"


@dataclass(frozen=True)
class Message:
    """One message as the decisions need it; `key` names it between runs (its Message-ID)."""

    kind: Literal["sent", "inbox"]
    day: date
    sender: str
    recipients: tuple[str, ...]
    subject: str = ""
    key: str = ""


@dataclass(frozen=True)
class Touch:
    """One decision about one contact (by row): a follow-up made, a reply, done or snooze."""

    row: int
    kind: Literal["sent", "reply", "done", "snooze"]
    day: date
    note: str = ""
    days: int = 0
    """For snooze: how many days after `day` the next follow-up is."""
    key: str = ""
    """For done and snooze: the message to remember as applied."""

    @property
    def until(self) -> date:
        """For snooze: the Follow up on date it sets."""
        return min(self.day + timedelta(days=self.days), LAST_DAY)


def addresses(cell: str) -> frozenset[str]:
    """The email addresses in a cell or header, folded: "Ana <ana@x.org>; a.lima@y.com"."""
    return frozenset(fold(found).rstrip(".") for found in _ADDRESS.findall(cell))


def involves(contacts: Sequence[Contact], message: Message) -> bool:
    """Whether a message was sent to, or came from, someone in the workbook."""
    known = {address for contact in contacts for address in addresses(contact.email)}
    people = message.recipients if message.kind == "sent" else (message.sender,)
    return any(fold(address) in known for address in people)


def waits(contacts: Sequence[Contact], message: Message, today: date) -> bool:
    """Whether a message is for a later day (dated after `today`: a clock ahead, or a run for
    a day in the past) and matters: it must be read again once its day has come."""
    return message.day > today and (
        involves(contacts, message) or _COMMAND.match(message.subject) is not None
    )


def mark_subject(verb: Literal["done", "snooze"], contact: Contact, days: int = 0) -> str:
    """The subject of a digest link that tells the next sync a follow-up was made."""
    name = " ".join(contact.name.split())
    return f"{SUBJECT_PREFIX} {verb} #{contact.row} {name}" + (f" {days}" if days else "")


def decide(
    contacts: Sequence[Contact],
    logged: Mapping[int, Sequence[LogEntry]],
    messages: Iterable[Message],
    *,
    own_address: str,
    today: date,
    log_subjects: bool,
    applied: frozenset[str] = frozenset(),
) -> list[Touch]:
    """The touches the messages make, in day order, each at most once per contact and day.

    `logged` is each row's Log entries, so a day already recorded is not counted again (a sync
    after `followup done` or a Last contact typed by hand, or a folder read again after the
    server renumbered it); `applied` are the keys of done/snooze messages applied before.
    """
    own = addresses(own_address)
    by_address: dict[str, list[Contact]] = {}
    for contact in contacts:
        for address in addresses(contact.email) - own:  # mail to yourself is no follow-up
            by_address.setdefault(address, []).append(contact)
    seen = {
        (row, entry.channel == REPLY, entry.day)
        for row, entries in logged.items()
        for entry in entries
    }
    by_row = {contact.row: contact for contact in contacts}

    def follow_up(row: int, day: date) -> bool:
        """True the first time a row has a follow-up on a day not recorded before."""
        return not already_recorded(by_row[row], logged.get(row, ()), day) and _new(
            seen, row, False, day
        )

    touches: list[Touch] = []
    for message in sorted(messages, key=lambda m: m.day):
        if message.day > today:
            continue  # a clock ahead: the message counts once its day has come (`waits`)
        sender = addresses(message.sender)
        if message.kind == "sent":
            found = {c.row: c for a in message.recipients for c in by_address.get(fold(a), ())}
            note = _subject(message) if log_subjects else ""
            for contact in found.values():
                if after_meeting(contact, message.day) and follow_up(contact.row, message.day):
                    touches.append(Touch(contact.row, "sent", message.day, note))
        elif sender & own:
            touch = _command(contacts, message) if message.key not in applied else None
            if touch is None:
                continue
            if touch.kind == "snooze":
                if _still_meant(by_row[touch.row], touch, today):
                    touches.append(touch)
            elif follow_up(touch.row, touch.day):
                touches.append(touch)  # a done counts once a day, like any follow-up
        else:
            for contact in {c.row: c for a in sender for c in by_address.get(a, ())}.values():
                if _answers(contact, message.day) and _new(seen, contact.row, True, message.day):
                    touches.append(Touch(contact.row, "reply", message.day))
    return touches


def _answers(contact: Contact, day: date) -> bool:
    """Mail from a contact before Met on (a newsletter, an old thread) answers nothing yet."""
    return contact.met_on is None or day >= contact.met_on


def _still_meant(contact: Contact, snooze: Touch, today: date) -> bool:
    """A snooze mail read again (mailbox.json lost, a folder renumbered) must not undo what
    came after it: one whose date is past means nothing now, and none moves a Follow up on
    date the workbook holds to an earlier day."""
    held = contact.follow_up_on
    return snooze.until >= today and (held is None or snooze.until >= held)


def _new(seen: set[tuple[int, bool, date]], row: int, reply: bool, day: date) -> bool:
    """True the first time a row has a touch (or a reply) on a day."""
    if (row, reply, day) in seen:
        return False
    seen.add((row, reply, day))
    return True


def _subject(message: Message) -> str:
    return " ".join(message.subject.split())


def _command(contacts: Sequence[Contact], message: Message) -> Touch | None:
    """The done/snooze a mark-done message asks for, or None when it is no such message or
    names nobody in the workbook (nothing is guessed)."""
    found = _COMMAND.match(message.subject)
    if found is None:
        return None
    name, row, days = found["name"], int(found["row"]), 0
    if found["verb"].lower() == "snooze":  # the days follow the name, which may end in digits
        split = _DAYS_AFTER_NAME.match(name)
        if split is None or not 1 <= int(split["days"]) <= MAX_DAYS:
            return None
        name, days = split["name"], int(split["days"])
    contact = person_named(contacts, name, row)
    if contact is None:
        return None
    if days:
        return Touch(contact.row, "snooze", message.day, days=days, key=message.key)
    return Touch(contact.row, "done", message.day, MARKED_DONE, key=message.key)


def person_named(contacts: Sequence[Contact], name: str, row: int) -> Contact | None:
    """The contact with exactly this name; the row only picks among namesakes."""
    namesakes = index_by(contacts, lambda c: fold(c.name)).get(fold(name), [])
    if len(namesakes) > 1:
        namesakes = [c for c in namesakes if c.row == row]
    return namesakes[0] if len(namesakes) == 1 else None
