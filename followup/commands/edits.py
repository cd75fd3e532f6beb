"""The commands that record what the user did: done, snooze, and sync's touches from mail.

Each is planned as a pure `Change` (commands/change.py) from the evaluated workbook, then
applied through the verified save. The DAYS and --until of `snooze` are read here too.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import date, timedelta

from followup.commands.change import Change, Columns, expected_after
from followup.commands.evaluation import Evaluation
from followup.commands.undo_record import FIELDS, Undoable
from followup.core.channels import channel as contact_channel
from followup.core.channels import logged_as
from followup.core.identity import contact_key, find_contact
from followup.core.log import REPLY, LogEntry, already_recorded, logged_on
from followup.core.mail_sync import Touch
from followup.core.model import LAST_DAY, MAX_DAYS, WEEKDAYS, Contact, RuleSettings, Stage, Status
from followup.core.rules import clears_follow_up_on, follow_up, touches_made
from followup.errors import UsageError
from followup.settings import Config
from followup.workbook.cells import MAX_COUNT, new_cell_text


def plan_done(
    evaluation: Evaluation,
    config: Config,
    query: str,
    *,
    on: date,
    channel: str | None,
    note: str,
    today: date,
    again: bool = False,
) -> Change:
    """Record a follow-up made `on` a day: Last contact, Follow-ups + 1 and a Log row.

    A second follow-up with the same person on the same day is refused unless `again`: typing
    the command twice must not count two.

    Follow-ups becomes one more than the touches the rules already count (the column, the Log,
    or a Last contact after Met on), so a first `done` after typing dates by hand counts right.
    Follow up on is cleared unless it lies more than the contact's cadence after `on`
    (core/rules.clears_follow_up_on): the reminder to get in touch is answered by doing so.
    An earlier day than Last contact is logged and counted but leaves Last contact alone.
    """
    contents = evaluation.contents
    contact = find_contact(evaluation.contacts(), query, contents.sheet, contents.header_row)
    if not again:
        _refuse_a_second(evaluation, contact, on, today)
    columns = Columns(contents)
    note, changed = new_cell_text(note.strip())
    updated, entry, said = _done(
        columns, contact, evaluation, config.rules, on, channel, note, today
    )
    lines = [said, _next(updated, config, today)]
    if changed:
        lines.append(f"The note was {changed}.")
    log = evaluation.history.log
    undoable = Undoable(
        "done",
        today,
        contact_key(contact),
        contact.name,
        _before_after(contact, updated),
        log.next_row + (0 if log.header_row else 1),  # below the header a new Log gets
        entry,
    )
    return Change(
        columns.cells, expected_after(contents, updated), (entry,), tuple(lines), undoable=undoable
    )


def _done(
    columns: Columns,
    contact: Contact,
    evaluation: Evaluation,
    rules: RuleSettings,
    on: date,
    channel: str | None,
    note: str,
    today: date,
) -> tuple[Contact, LogEntry, str]:
    """One follow-up made `on` a day (see plan_done): the contact after it, its Log row (with
    `note`, already fit for a cell) and the line that says so."""
    if on > today:
        raise UsageError(f"--on {on} is in the future: record a follow-up once it is made.")
    if contact.met_on is not None and on < contact.met_on:
        raise UsageError(f"--on {on} is before {contact.name}'s Met on ({contact.met_on}).")
    columns.keep_typed(contact, "last_contact", "follow_ups", "follow_up_on")
    row = contact.row
    last = max(on, contact.last_contact or on)
    count = touches_made(contact) + 1
    if count > MAX_COUNT:  # the cell would no longer read as a count
        raise UsageError(
            f"{contact.name} already has {count - 1:,} follow-ups, and a Follow-ups cell counts "
            f"at most {MAX_COUNT:,}: correct Follow-ups in row {contact.row} first."
        )
    cleared = clears_follow_up_on(contact, on, rules)
    if last != contact.last_contact:
        columns.cells[(row, columns["last_contact"])] = last
    columns.cells[(row, columns["follow_ups"])] = count
    if cleared:
        columns.cells[(row, columns["follow_up_on"])] = None
    updated = dataclasses.replace(
        contact,
        last_contact=last,
        follow_ups=count,
        follow_up_on=None if cleared else contact.follow_up_on,
    )
    said = "Last contact" + (" stays " if last != on else " ") + last.isoformat()
    said += f", Follow-ups {count}" + (", Follow up on cleared" if cleared else "")
    logged = f"logged {evaluation.history.log.place()}"
    channel = channel or contact_channel(contact)
    entry = LogEntry(on, contact.name, contact.email, channel.lower(), note)
    return updated, entry, f"{contact.name} (row {row}): {said}; {logged}"


def _refuse_a_second(evaluation: Evaluation, contact: Contact, on: date, today: date) -> None:
    """Stop a `done` already recorded for that person and day (core/log.already_recorded)."""
    mine = evaluation.logged().get(contact.row, [])
    if not already_recorded(contact, mine, on):
        return
    same_day = logged_on(mine, on)
    day = "today" if on == today else f"on {on.isoformat()}"
    if same_day:
        how = f" ({logged_as(same_day[-1].channel)})" if same_day[-1].channel else ""
        where, back = f"in the Log{how}", "; to take the last one back, run `followup undo`"
    else:
        where, back = f"recorded in Last contact ({on.isoformat()})", ""
    raise UsageError(
        f"A follow-up with {contact.name} {day} is already {where}, so nothing was changed. "
        f"If you really followed up twice, add --again{back}."
    )


def _before_after(before: Contact, after: Contact) -> dict[str, tuple[date | int | None, ...]]:
    """The fields a command changed, each as (before, after)."""
    pairs = {name: (getattr(before, name), getattr(after, name)) for name in FIELDS}
    return {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}


def plan_snooze(evaluation: Evaluation, query: str, until: date, *, today: date) -> Change:
    """Set Follow up on, which wins over every computed date."""
    contents = evaluation.contents
    contact = find_contact(evaluation.contacts(), query, contents.sheet, contents.header_row)
    if contact.follow_up_on == until:  # saving nothing, it must not replace the undo record
        line = (
            f"{contact.name} (row {contact.row}): Follow up on is already {until.isoformat()}, "
            "so nothing was changed."
        )
        return Change({}, contents.contacts, lines=(line,))
    columns = Columns(contents)
    updated, line = _snooze(columns, contact, until)
    undoable = Undoable(
        "snooze", today, contact_key(contact), contact.name, _before_after(contact, updated)
    )
    return Change(
        columns.cells, expected_after(contents, updated), lines=(line,), undoable=undoable
    )


def _snooze(columns: Columns, contact: Contact, until: date) -> tuple[Contact, str]:
    columns.keep_typed(contact, "follow_up_on")
    columns.cells[(contact.row, columns["follow_up_on"])] = until
    updated = dataclasses.replace(contact, follow_up_on=until)
    return updated, f"{contact.name} (row {contact.row}): Follow up on {until.isoformat()}"


def plan_touches(
    evaluation: Evaluation, touches: Sequence[Touch], rules: RuleSettings, *, today: date
) -> Change:
    """What the mailbox says (core/mail_sync.decide) as one change, made by the steps of
    `done` and `snooze`; a reply sets Waiting for reply back to Active and logs "reply".
    A touch that `done` or `snooze` refuses (a Follow-ups cell at its limit, a cell holding
    text followup cannot read) is told, not applied."""
    contents = evaluation.contents
    columns = Columns(contents)
    current = {contact.row: contact for contact in evaluation.contacts()}
    entries: list[LogEntry] = []
    lines: list[str] = []
    changed: set[int] = set()
    for touch in touches:
        contact = current[touch.row]
        try:
            if touch.kind == "snooze":
                contact, line = _snooze(columns, contact, touch.until)
            elif touch.kind == "reply":
                contact, entry, line = _replied(columns, contact, touch.day)
                entries.append(entry)
            else:
                channel = "email" if touch.kind == "sent" else None
                note = new_cell_text(touch.note)[0]
                contact, entry, line = _done(
                    columns, contact, evaluation, rules, touch.day, channel, note, today
                )
                entries.append(entry)
        except UsageError as error:
            lines.append(str(error))
            continue
        current[touch.row] = contact
        changed.add(touch.row)
        lines.append(line)
    expected = tuple(current[c.row] if c.row in changed else c for c in contents.contacts)
    return Change(columns.cells, expected, tuple(entries), tuple(lines))


def _replied(columns: Columns, contact: Contact, day: date) -> tuple[Contact, LogEntry, str]:
    """Their answer: a Waiting for reply contact not written to since is Active again."""
    said = f"{contact.name} (row {contact.row}): replied on {day.isoformat()}"
    if contact.stage is Stage.WAITING and (contact.last_contact or day) <= day:
        columns.cells[(contact.row, columns["stage"])] = Stage.ACTIVE.label
        contact = dataclasses.replace(contact, stage=Stage.ACTIVE)
        said += ", Status Active"
    return contact, LogEntry(day, contact.name, contact.email, REPLY, ""), said


def _next(contact: Contact, config: Config, today: date) -> str:
    """The contact's next follow-up as the next run will compute it, or why there is none."""
    result = follow_up(contact, today, config.rules)
    if result.next_date is not None:
        when = result.next_date
        days = (when - today).days
        span = "today" if days == 0 else f"in {days} day{'s' * (days != 1)}"
        if days < 0:
            span = f"{-days} day{'s' * (days != -1)} ago"
        weekday = WEEKDAYS[when.weekday()]
        return f"Next follow-up: {when.isoformat()} ({weekday}, {span}). {result.action}"
    if result.status is Status.NEEDS_INFO:
        return "No next follow-up yet: " + result.action[0].lower() + result.action[1:]
    if contact.stage is not Stage.ACTIVE and result.status in (Status.CLOSED, Status.PAUSED):
        return f"No next follow-up: their Status is {contact.stage.label}."
    return (
        f"No next follow-up: the {contact.how_met.value} follow-ups are all made, so give "
        "them space unless they get in touch (set Follow up on for a reminder)."
    )


_COUNT_LIKE = re.compile(r"\s*[+-]?[\d.,_]*\d[\d.,_eE+-]*\s*")
"""A word meant as a number of days, if not a whole one: 1e3, +5, 5.0, -1, 1_000."""


def split_days(words: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """The DAYS and NAME of `snooze NAME [DAYS]`: the last word is DAYS when it is meant as a
    number, so that one `snooze_until` refuses is named as DAYS, not taken as part of NAME."""
    if len(words) > 1 and (words[-1].isnumeric() or _COUNT_LIKE.fullmatch(words[-1])):
        return words[-1], words[:-1]
    return None, words


def snooze_until(days: str | None, until: date | None, today: date) -> date:
    """The Follow up on date of `snooze NAME DAYS` or `snooze NAME --until DATE`."""
    if days is None and until is None:
        raise UsageError(
            "Say when to be reminded: a number of days (like `followup snooze NAME 14`) or a "
            "day (--until YYYY-MM-DD)."
        )
    if days is not None and until is not None:
        raise UsageError(f"Give either a number of days ({days}) or --until DATE, not both.")
    if days is not None:
        # "²" and "٣" pass str.isdigit(); a 5,000-digit number is past what int() reads.
        if not (days.isascii() and days.isdigit() and len(days) <= 4 and int(days) <= MAX_DAYS):
            raise UsageError(
                f"DAYS {days!r} must be a whole number from 0 to {MAX_DAYS:,} (about ten years), "
                "like 14; or give the day with --until YYYY-MM-DD."
            )
        until = today + timedelta(days=int(days))
    assert until is not None
    if until < today:
        raise UsageError(f"--until {until} is in the past; snooze to today or later.")
    if until > LAST_DAY:
        raise UsageError(f"{until} is after {LAST_DAY}, the last day followup works with.")
    return until
