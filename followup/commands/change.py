"""A `Change` to the user's own cells, and applying it: the one way a command writes them.

A command plans a `Change` from the evaluated workbook (the cells to write, how the contacts
must read back, the Log rows, what to tell the user), then `apply` saves it under the run lock
through the same verified save as the daily run. A column the change needs and the sheet lacks
(Last contact, Follow-ups, Email...) gets its header in the first empty column (`Columns`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from followup.commands.evaluation import Evaluation, evaluate
from followup.commands.undo_record import Undoable, forget_undoable, save_undoable
from followup.core.log import LogEntry
from followup.core.model import Contact
from followup.errors import FollowupError, UsageError, WorkbookError
from followup.settings import Config
from followup.workbook import guards
from followup.workbook.cells import Cells
from followup.workbook.columns import OPTIONAL_COLUMNS, USER_COLUMNS, cell_address
from followup.workbook.contents import SheetContents
from followup.workbook.saving import save_workbook

HEADERS = {column.key: column.header for column in USER_COLUMNS + OPTIONAL_COLUMNS}


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


class Columns:
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
            self.cells[(self.contents.header_row, col)] = HEADERS[key]
        return col

    def keep_typed(self, contact: Contact, *keys: str) -> None:
        """Refuse a change to a cell whose text did not read as a value (the reader's problem
        names it): the user typed it, so no command may replace it, and no undo could bring
        it back."""
        contents = self.contents
        unread = {p.cell: p for p in contents.problems if p.sheet == contents.sheet}
        for key in keys:
            col = contents.columns.get(key)
            problem = unread.get(cell_address(contact.row, col)) if col else None
            if problem is not None:
                raise UsageError(
                    f"{contact.name} (row {contact.row}): {contents.sheet}!{problem.cell} "
                    f"({HEADERS[key]}) holds {problem.value!r}, which followup cannot read, so "
                    "nothing was changed for them and your text stays. Correct or clear that "
                    "cell first."
                )

    def _no_room(self, key: str) -> WorkbookError:
        contents = self.contents
        last = cell_address(contents.header_row, contents.last_header_col)
        return WorkbookError(
            f"{contents.sheet} has no {HEADERS[key]} column, and no empty column right of its "
            f"last header ({last}) or between its headers to add it in (a column is empty when "
            "no row holds anything in it), so nothing was changed. Clear a column right of "
            f"your headers (or move that header left), or add a {HEADERS[key]} column "
            "yourself, and run the command again."
        )


def expected_after(contents: SheetContents, updated: Contact) -> tuple[Contact, ...]:
    """The contacts as they must read back once `updated` is saved over its row."""
    return tuple(updated if c.row == updated.row else c for c in contents.contacts)


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
        if dry_run or before is None:
            return change
        if change.cells or change.new_entries or change.cleared_log_rows:
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
