"""The commands that change the user's own cells on purpose: done, snooze, undo and import.

Each is planned as a pure `Change` from the evaluated workbook (the cells to write, how the
contacts must read back, the Log rows, what to tell the user), then `apply` saves it under the
run lock through the same verified save as the daily run. A column the change needs and the
sheet lacks (Last contact, Follow-ups, Email...) gets its header after the last header.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from followup.commands.evaluation import Evaluation, evaluate
from followup.commands.importers import Imported
from followup.commands.undo import (
    FIELDS,
    Undoable,
    forget_undoable,
    load_undoable,
    save_undoable,
)
from followup.core.birthdays import cell_value
from followup.core.channels import channel as contact_channel
from followup.core.identity import contact_key, find_contact, identities
from followup.core.log import REPLY, WORKBOOK_EDIT, LogEntry, entries_by_row
from followup.core.mail_sync import Touch
from followup.core.model import LAST_DAY, MAX_DAYS, Contact, HowMet, Stage, Status
from followup.core.rules import follow_up, touches_made
from followup.errors import FollowupError, UsageError, WorkbookError
from followup.settings import Config
from followup.workbook import guards
from followup.workbook.cells import MAX_COUNT, Cells, is_blank, new_cell_text
from followup.workbook.columns import OPTIONAL_COLUMNS, USER_COLUMNS, cell_address
from followup.workbook.reader import SheetContents
from followup.workbook.saving import save_workbook
from followup.workbook.sheet_guard import open_workbook

_HEADERS = {column.key: column.header for column in USER_COLUMNS + OPTIONAL_COLUMNS}


@dataclass(frozen=True)
class Change:
    """What a command writes, and the lines that tell the user what it did."""

    cells: Cells
    expected: tuple[Contact, ...]  # the contacts as they must read back after the save
    new_entries: tuple[LogEntry, ...] = ()
    lines: tuple[str, ...] = ()
    undoable: Undoable | None = None  # what `followup undo` needs to take this back
    cleared_log_rows: tuple[int, ...] = ()  # the Log rows an undo empties
    undone: bool = False  # an undo: its record is forgotten once saved


class _Columns:
    """Where each user column is; a missing one gets its header in the first column that is
    empty in every row (see `SheetContents.free_columns`), and the command refuses when there
    is none."""

    def __init__(self, contents: SheetContents) -> None:
        self.contents = contents
        self.cells: Cells = {}
        self.added: dict[str, int] = {}
        self.free = contents.free_columns()

    def __getitem__(self, key: str) -> int:
        col = self.contents.columns.get(key) or self.added.get(key)
        if col is None:
            col = next(self.free, None)
            if col is None:
                raise self._no_room(key)
            self.added[key] = col
            self.cells[(self.contents.header_row, col)] = _HEADERS[key]
        return col

    def _no_room(self, key: str) -> WorkbookError:
        contents = self.contents
        last = cell_address(contents.header_row, contents.last_header_col)
        return WorkbookError(
            f"{contents.sheet} has no {_HEADERS[key]} column, and no empty column right of its "
            f"last header ({last}) or between its headers to add it in (a column is empty when "
            "no row holds anything in it), so nothing was changed. Clear a column right of "
            f"your headers (or move that header left), or add a {_HEADERS[key]} column "
            "yourself, and run the command again."
        )


def _contacts(evaluation: Evaluation) -> list[Contact]:
    """The contacts with their logged touches, as the rules see them."""
    return [contact for contact, _ in evaluation.entries]


def _expected(contents: SheetContents, updated: Contact) -> tuple[Contact, ...]:
    return tuple(updated if c.row == updated.row else c for c in contents.contacts)


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
    A Follow up on date that this follow-up has reached is cleared, or it would turn overdue.
    An earlier day than Last contact is logged and counted but leaves Last contact alone.
    """
    contents = evaluation.contents
    contact = find_contact(_contacts(evaluation), query, contents.sheet)
    if not again:
        _refuse_a_second(evaluation, contact, on, today)
    columns = _Columns(contents)
    note, changed = new_cell_text(note.strip())
    updated, entry, said = _done(columns, contact, evaluation, on, channel, note, today)
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
        columns.cells, _expected(contents, updated), (entry,), tuple(lines), undoable=undoable
    )


def _done(
    columns: _Columns,
    contact: Contact,
    evaluation: Evaluation,
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
    row = contact.row
    last = max(on, contact.last_contact or on)
    count = touches_made(contact) + 1
    if count > MAX_COUNT:  # the cell would no longer read as a count
        raise UsageError(
            f"{contact.name} already has {count - 1:,} follow-ups, and a Follow-ups cell counts "
            f"at most {MAX_COUNT:,}: correct Follow-ups in row {contact.row} first."
        )
    reached = contact.follow_up_on is not None and contact.follow_up_on <= on
    if last != contact.last_contact:
        columns.cells[(row, columns["last_contact"])] = last
    columns.cells[(row, columns["follow_ups"])] = count
    if reached:
        columns.cells[(row, columns["follow_up_on"])] = None
    updated = dataclasses.replace(
        contact,
        last_contact=last,
        follow_ups=count,
        follow_up_on=None if reached else contact.follow_up_on,
    )
    said = "Last contact" + (" stays " if last != on else " ") + last.isoformat()
    said += f", Follow-ups {count}" + (", Follow up on cleared" if reached else "")
    logged = f"logged {evaluation.history.log.place()}"
    channel = channel or contact_channel(contact)
    entry = LogEntry(on, contact.name, contact.email, channel.lower(), note)
    return updated, entry, f"{contact.name} (row {row}): {said}; {logged}"


def _refuse_a_second(evaluation: Evaluation, contact: Contact, on: date, today: date) -> None:
    """Stop a `done` the Log already records for that person and day (see plan_done)."""
    logged = entries_by_row(evaluation.contents.contacts, evaluation.history.log.entries)
    same_day = [
        e
        for e in logged.get(contact.row, [])
        if e.day == on and e.channel not in (WORKBOOK_EDIT, REPLY)
    ]
    if same_day:
        day = "today" if on == today else f"on {on.isoformat()}"
        how = f" ({same_day[-1].channel})" if same_day[-1].channel else ""
        raise UsageError(
            f"A follow-up with {contact.name} {day} is already in the Log{how}, so nothing "
            "was changed. If you really followed up twice, add --again; to take the last one "
            "back, run `followup undo`."
        )


def _before_after(before: Contact, after: Contact) -> dict[str, tuple[date | int | None, ...]]:
    """The fields a command changed, each as (before, after)."""
    pairs = {name: (getattr(before, name), getattr(after, name)) for name in FIELDS}
    return {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}


def plan_snooze(evaluation: Evaluation, query: str, until: date, *, today: date) -> Change:
    """Set Follow up on, which wins over every computed date."""
    contents = evaluation.contents
    contact = find_contact(_contacts(evaluation), query, contents.sheet)
    columns = _Columns(contents)
    updated, line = _snooze(columns, contact, until)
    undoable = Undoable(
        "snooze", today, contact_key(contact), contact.name, _before_after(contact, updated)
    )
    return Change(columns.cells, _expected(contents, updated), lines=(line,), undoable=undoable)


def _snooze(columns: _Columns, contact: Contact, until: date) -> tuple[Contact, str]:
    columns.cells[(contact.row, columns["follow_up_on"])] = until
    updated = dataclasses.replace(contact, follow_up_on=until)
    return updated, f"{contact.name} (row {contact.row}): Follow up on {until.isoformat()}"


def plan_touches(evaluation: Evaluation, touches: Sequence[Touch], *, today: date) -> Change:
    """What the mailbox says (core/mail_sync.decide) as one change, made by the steps of
    `done` and `snooze`; a reply sets Waiting for reply back to Active and logs "reply".
    A touch that `done` refuses (a Follow-ups cell at its limit) is told, not applied."""
    contents = evaluation.contents
    columns = _Columns(contents)
    current = {contact.row: contact for contact in _contacts(evaluation)}
    entries: list[LogEntry] = []
    lines: list[str] = []
    changed: set[int] = set()
    for touch in touches:
        contact = current[touch.row]
        if touch.kind == "snooze":
            until = min(touch.day + timedelta(days=touch.days), LAST_DAY)
            contact, line = _snooze(columns, contact, until)
        elif touch.kind == "reply":
            contact, entry, line = _replied(columns, contact, touch.day)
            entries.append(entry)
        else:
            channel = "email" if touch.kind == "sent" else None
            note = new_cell_text(touch.note)[0]
            try:
                contact, entry, line = _done(
                    columns, contact, evaluation, touch.day, channel, note, today
                )
            except UsageError as error:
                lines.append(str(error))
                continue
            entries.append(entry)
        current[touch.row] = contact
        changed.add(touch.row)
        lines.append(line)
    expected = tuple(current[c.row] if c.row in changed else c for c in contents.contacts)
    return Change(columns.cells, expected, tuple(entries), tuple(lines))


def _replied(columns: _Columns, contact: Contact, day: date) -> tuple[Contact, LogEntry, str]:
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
        return f"Next follow-up: {when.isoformat()} ({when:%A}, {span}). {result.action}"
    if result.status is Status.NEEDS_INFO:
        return "No next follow-up yet: " + result.action[0].lower() + result.action[1:]
    if contact.stage is not Stage.ACTIVE and result.status in (Status.CLOSED, Status.PAUSED):
        return f"No next follow-up: their Status is {contact.stage.label}."
    return (
        f"No next follow-up: the {contact.how_met.value} follow-ups are all made, so give "
        "them space unless they get in touch (set Follow up on for a reminder)."
    )


def plan_undo(evaluation: Evaluation, record: Undoable) -> Change:
    """Put back the cells the last `done` or `snooze` changed, and empty the Log row a `done`
    added, provided each still holds what the command wrote (else refuse, changing nothing)."""
    contents = evaluation.contents
    what = "follow-up with" if record.command == "done" else "snooze of"
    taken = f"the {what} {record.name} recorded on {record.made.isoformat()}"
    owners = [c for c in contents.contacts if contact_key(c) == record.key]
    if len(owners) != 1:
        raise FollowupError(
            f"Cannot undo {taken}: {record.name} is no longer in {contents.sheet} under the "
            "same email (or LinkedIn profile, or name and company), so nothing was changed."
        )
    contact = owners[0]
    columns = _Columns(contents)
    for name, (before, after) in record.fields.items():
        now = getattr(contact, name)
        if now != after:
            raise FollowupError(
                f"Cannot undo {taken}: {_HEADERS[name]} in row {contact.row} now holds "
                f"{_shown(now)}, not the {_shown(after)} it wrote, so it was changed since and "
                "nothing was changed now. Correct the row by hand if you need to."
            )
        columns.cells[(contact.row, columns[name])] = None if before in (None, 0) else before
    cleared: tuple[int, ...] = ()
    if record.entry is not None:
        log = evaluation.history.log
        rows = [r for e, r in zip(log.entries, log.rows, strict=False) if e == record.entry]
        if not rows:
            raise FollowupError(
                f"Cannot undo {taken}: its row is no longer on the Log sheet, so it was changed "
                "since and nothing was changed now."
            )
        cleared = (record.log_row if record.log_row in rows else rows[-1],)
    updated = dataclasses.replace(
        contact, **{name: before for name, (before, _) in record.fields.items()}
    )
    put_back = [
        f"{_HEADERS[name]} back to {_shown(before)}" for name, (before, _) in record.fields.items()
    ]
    if cleared:
        put_back.append(f"Log row {cleared[0]} emptied")
    done = ", ".join(put_back) or "nothing needed changing"
    line = f"Undid {taken} (row {contact.row}): {done}."
    return Change(
        columns.cells,
        _expected(contents, updated),
        lines=(line,),
        cleared_log_rows=cleared,
        undone=True,
    )


def _shown(value: date | int | None) -> str:
    if value is None or value == 0:  # a count of 0 is written as a blank cell
        return "blank"
    return value.isoformat() if isinstance(value, date) else str(value)


def undo_last(config: Config, today: date, now: datetime) -> Change:
    """`followup undo`: take back the last `done` or `snooze`, if it can still be."""
    record, warning = load_undoable(config.state_dir)
    if record is None:
        raise UsageError(
            (warning + " " if warning else "")
            + "There is nothing to undo: followup takes back only the last `done` or "
            "`snooze`, once, and none is waiting to be undone."
        )
    return apply(config, today, now, lambda evaluation: plan_undo(evaluation, record))


_IMPORTED_FIELDS = ("name", "company", "role", "email", "phone", "linkedin", "notes")
_SAME = {"email": "same email", "linkedin": "same LinkedIn profile", "name": "same name"}


def plan_import(
    evaluation: Evaluation,
    people: Sequence[Imported],
    *,
    how_met: HowMet,
    met_on: date | None,
    rows_in_use: Iterable[int],
    dry_run: bool,
    priority: str = "C",
    today: date | None = None,
    config: Config | None = None,
) -> Change:
    """New rows below the last contact for everyone not already in the workbook.

    A person is already there when their email, LinkedIn profile, or name and company match a
    contact (or someone earlier in the file). Existing rows are never touched; the rows the new
    contacts go into must be empty. Given `today` and `config`, first check-ins are spread
    (`spread_check_ins`), so a big import does not make everyone due on the first morning.
    """
    contents = evaluation.contents
    known: dict[str, int] = {}
    for contact in contents.contacts:
        for key in identities(contact):
            known.setdefault(key, contact.row)
    from_file: dict[str, str] = {}
    new: list[Imported] = []
    lines: list[str] = []
    for person in people:
        keys = identities(person)
        if not person.name:
            lines.append(f"Skipped {person.source}: it has no name.")
        elif match := next((k for k in keys if k in known), None):
            lines.append(f"Skipped {person.name}: already in row {known[match]} ({_why(match)}).")
        elif match := next((k for k in keys if k in from_file), None):
            lines.append(
                f"Skipped {person.name} ({person.source}): {_why(match)} as {from_file[match]}."
            )
        else:
            new.append(person)
            from_file.update(dict.fromkeys(keys, person.source))
    first = max((c.row for c in contents.contacts), default=contents.header_row) + 1
    busy = sorted(set(range(first, first + len(new))) & set(rows_in_use))
    if busy:
        raise UsageError(
            f"Row {busy[0]} of {contents.sheet}, below your last contact, is not empty, so "
            f"there is no room for {len(new)} new contacts there. Move what is below row "
            f"{first - 1} further down (or to another sheet) and import again."
        )
    columns = _Columns(contents)
    added: list[Contact] = []
    verb = "Would add" if dry_run else "Added"
    for row, person in enumerate(new, start=first):
        values = {}
        for name in _IMPORTED_FIELDS:
            value, changed = new_cell_text(getattr(person, name))
            if changed:
                lines.append(f"{person.source}: {_HEADERS[name]} was {changed}.")
            if value:
                values[name] = value
        day = person.met_on or met_on
        if day is not None:
            values["met_on"] = day
        values["priority"] = priority
        added.append(Contact(row=row, how_met=how_met, birthday=person.birthday, **values))
        lines.append(f"{verb} row {row}: {_summary(added[-1])}")
    spread = spread_check_ins(added, today, config) if today and config else {}
    added = [dataclasses.replace(c, follow_up_on=spread.get(c.row)) for c in added]
    for contact in added:
        cells = {key: getattr(contact, key) for key in (*_IMPORTED_FIELDS, "met_on")}
        cells.update(how_met=how_met.label, priority=priority, follow_up_on=contact.follow_up_on)
        if contact.birthday is not None:
            cells["birthday"] = cell_value(contact.birthday)
        for key, value in cells.items():
            if value:
                columns.cells[(contact.row, columns[key])] = value
    lines.append(
        f"{verb} {len(new)} contact{'s' * (len(new) != 1)}; skipped {len(people) - len(new)}."
        + _spread_line(spread, len(added), dry_run)
    )
    lines.extend(_undated_line(added, spread))
    return Change(columns.cells, (*contents.contacts, *added), lines=tuple(lines))


def spread_check_ins(added: Sequence[Contact], today: date, config: Config) -> dict[int, date]:
    """Follow up on for new contacts, by row: working days from tomorrow to [import]
    spread_days ahead, in equal shares, the most recently met first. A contact whose rules
    give a date within that window (a job application's nudge next week) keeps it; one they
    make overdue (a connection from 2015), or give no date, or a date beyond it, is spread."""
    ahead = config.import_.spread_days
    window = [today + timedelta(days=n) for n in range(1, ahead + 1)]
    days = [d for d in window if d.weekday() < 5] or window
    if not days:
        return {}
    spread = [
        c
        for c in added
        if (due := follow_up(c, today, config.rules).next_date) is None
        or not today <= due <= days[-1]
    ]
    spread.sort(key=lambda c: c.met_on or date.min, reverse=True)
    return {c.row: days[i * len(days) // len(spread)] for i, c in enumerate(spread)}


def _spread_line(spread: dict[int, date], added: int, dry_run: bool) -> str:
    """ " Their first check-ins run from 2 Dec to 29 Jan, about 1 a working day." """
    if not spread:
        return ""
    first, last = min(spread.values()), max(spread.values())
    span = sum(1 for n in range((last - first).days + 1) if (first + timedelta(n)).weekday() < 5)
    per_day = len(spread) / max(span, 1)
    rate = (
        f"about {round(per_day)} a working day"
        if per_day >= 0.75
        else f"about 1 every {round(1 / per_day)} working days"
    )
    kept = added - len(spread)
    return (
        f" Their first check-ins {'would run' if dry_run else 'run'} from {_day(first)} to "
        f"{_day(last)}, {rate} (in Follow up on)"
        + (f"; {kept} keep{'s' * (kept == 1)} the sooner date the rules give." if kept else ".")
    )


def _undated_line(added: Sequence[Contact], spread: dict[int, date]) -> list[str]:
    """The new rows without a Met on date, named, since the rules need one to go on."""
    undated = [c for c in added if c.met_on is None and c.last_contact is None]
    if not undated:
        return []
    names = ", ".join(f"{c.name} (row {c.row})" for c in undated[:5])
    more = f" and {len(undated) - 5} more" if len(undated) > 5 else ""
    if all(c.row in spread for c in undated):
        then = "their first check-in is set in Follow up on meanwhile."
    else:
        then = "until then (or a date in Follow up on) followup cannot schedule them."
    return [
        f"No Met on date for {len(undated)}: {names}{more}. Type when you met them in Met on "
        f"if you know it; {then}"
    ]


def _day(day: date) -> str:
    return f"{day.day} {day:%b}"


def _why(key: str) -> str:
    return _SAME[key.partition(":")[0]] + (" and company" if key.startswith("name:") else "")


def _summary(contact: Contact) -> str:
    """One line about a new contact, however long or many-lined its cells."""
    who = ", ".join(_short(p) for p in (contact.name, contact.role, contact.company) if p)
    met = f", met {contact.met_on.isoformat()}" if contact.met_on else ""
    return f"{who} ({contact.how_met.label}{met})"


def _short(text: str, most: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


def rows_in_use(path: Path, sheet: str) -> set[int]:
    """The rows of `sheet` that hold anything (the reader stops at a second table; this not)."""
    with open_workbook(path) as workbook:
        grid = workbook.sheet(sheet).to_python(skip_empty_area=False)
    return {n for n, values in enumerate(grid, 1) if not all(is_blank(v) for v in values)}


def apply(
    config: Config,
    today: date,
    now: datetime,
    plan: Callable[[Evaluation], Change],
    *,
    dry_run: bool = False,
) -> Change:
    """Plan the change on the workbook as it is now and save it, holding the run lock.

    Refuses, changing nothing (exit 1), when the workbook is open in Excel or LibreOffice, is
    saved while the change is written, or a run is in progress; with exit 3 when it cannot be
    saved (a read-only folder, a full disk), and exit 2 when the outbox cannot be written.
    """
    try:
        with guards.run_lock(config.state_dir) as notice:
            change = apply_locked(config, today, now, plan, dry_run=dry_run)
            if notice:
                change = dataclasses.replace(change, lines=(notice, *change.lines))
            return change
    except guards.AnotherRunInProgress:
        raise FollowupError(
            "A followup run is in progress, so nothing was changed. Run the command again in "
            "a minute."
        ) from None


def apply_locked(
    config: Config,
    today: date,
    now: datetime,
    plan: Callable[[Evaluation], Change],
    *,
    dry_run: bool = False,
) -> Change:
    """`apply` for a caller that already holds the run lock (the daily run's sync stage)."""
    name = config.workbook.path.name
    try:
        app = guards.open_by_user(config.workbook.path)
        if app and not dry_run:
            raise FollowupError(
                f"{name} is open in {app}, so nothing was changed. Save and close it "
                f"there, then run the command again. (If {app} is not running, delete "
                "its leftover lock file beside the workbook.)"
            )
        # Taken before reading: rows planned from this read must not land in a newer file.
        before = guards.fingerprint(config.workbook.path) if config.workbook.path.exists() else None
        evaluation = evaluate(config, today)
        change = plan(evaluation)
        _refuse_hidden_cells(evaluation.contents, change.cells)
        if dry_run or before is None or not (change.cells or change.new_entries):
            return change
        if change.undone and not (change.cells or change.cleared_log_rows):
            forget_undoable(config.state_dir)
            return change
        save_workbook(
            config.workbook,
            evaluation.contents,
            change.cells,
            before,
            now,
            expected=change.expected,
            log=evaluation.history.log,
            new_entries=change.new_entries,
            cleared_log_rows=change.cleared_log_rows,
            every_cell=True,
        )
        return _remember(config, change)
    except guards.WorkbookOpen as error:
        raise FollowupError(
            f"{name} was opened in {error.app} while followup was saving, so nothing was "
            "changed. Close it and run the command again."
        ) from None
    except guards.WorkbookChanged:
        raise FollowupError(
            f"{name} was saved by someone else while followup was updating it, so nothing was "
            "changed and their edits are safe. Run the command again."
        ) from None
    except guards.SaveFailed as error:
        reason = error.__cause__.strerror if isinstance(error.__cause__, OSError) else error
        raise WorkbookError(
            f"Could not save {name} ({reason}), so nothing was changed. Check that "
            f"{config.workbook.path.parent} is writable and has free space."
        ) from None


def _remember(config: Config, change: Change) -> Change:
    """Keep what `followup undo` needs (or forget what an undo took back), once saved. The
    change is made by then: a state folder that cannot be written costs only the undo."""
    try:
        if change.undone:
            forget_undoable(config.state_dir)
        elif change.undoable is not None:
            save_undoable(change.undoable, config.state_dir)
    except OSError as err:
        reason = err.strerror or err
        return dataclasses.replace(
            change,
            lines=(
                *change.lines,
                f"(followup could not note this in {config.state_dir} ({reason}), so "
                "`followup undo` cannot take it back.)",
            ),
        )
    return change


def _refuse_hidden_cells(contents: SheetContents, cells: Cells) -> None:
    """A command does all it says or nothing: a cell it needs that a merged range hides (Excel
    would never show what it wrote there) stops it."""
    for row, col in sorted(cells):
        if (merged := contents.merged.over(row, col)) is not None:
            raise FollowupError(
                f"{contents.sheet}!{cell_address(row, col)} is inside the merged range "
                f"{merged.ref}, which shows only its first cell, so followup cannot write there "
                "and nothing was changed. Unmerge those cells and run the command again."
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
