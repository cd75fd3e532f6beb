"""The one way the program saves the workbook: surgical, verified, atomic and backed up.

The daily run, `done`, `snooze` and `import` all end here. The new version is written beside
the workbook with `patch_sheet` and read back before it replaces the original:

* every cell of the contacts sheet that the save did not mean to write must hold exactly what
  it held when the workbook was read (same value, same type), compared raw, cell by cell;
  the run means to write only its own columns, so a user cell it touched fails the check too;
* a command's contacts must read as it expects (`expected`: with its change);
* the Log must hold what it held plus the new rows.

Anything else, and the original stays as it was.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import chain, zip_longest
from pathlib import Path

from followup import safety
from followup.cells import CellValue as ReadValue
from followup.config import Config
from followup.errors import FollowupError, WorkbookError
from followup.log import Log, LogEntry, log_in
from followup.model import Contact
from followup.reader import SheetContents, contacts_in, open_workbook, padded_rows
from followup.writeback import owned_columns
from followup.xlsx import CellValue, PatchResult, patch_sheet


def save_workbook(
    config: Config,
    contents: SheetContents,
    cells: Mapping[tuple[int, int], CellValue],
    before: safety.Fingerprint,
    now: datetime,
    *,
    expected: Sequence[Contact] | None = None,
    log: Log | None = None,
    new_entries: Sequence[LogEntry] = (),
    every_cell: bool = False,
) -> PatchResult:
    """Write `cells` into the contacts sheet and `new_entries` below `log`, in one safe replace.

    Without `expected` (the daily run) only the program's own columns may change: `cells`
    elsewhere fail the check. With `expected` (a command changing the user's cells on purpose)
    any of `cells` may change, and the contacts must then read as `expected`. With
    `every_cell`, a cell `patch_sheet` would leave alone (a formula) stops the save: a command
    the user typed must do all it says or nothing. Raises what `safe_replace` raises.
    """
    own = (log or Log()).own_sheet(new_entries)
    want_log = (log or Log()).entries + tuple(new_entries)
    if expected is None:
        columns, written = [col - 1 for col in owned_columns(contents).values()], {}
    else:
        columns, written = [], _by_row(cells)
    result = PatchResult(())

    def write(tmp: Path) -> None:
        nonlocal result
        result = patch_sheet(config.workbook, tmp, contents.sheet, cells, own)
        if every_cell and result.skipped:
            raise FollowupError(
                f"{', '.join(result.skipped)} in {config.workbook.name} holds a formula, which "
                "followup never overwrites, so nothing was changed. Edit that cell by hand."
            )

    def verify(tmp: Path) -> None:
        with open_workbook(tmp) as workbook:
            rewritten = padded_rows(workbook.get_sheet_by_name(contents.sheet))
            same = _unchanged(contents.rows, rewritten, columns, written)
            del rewritten  # frees the sheet's cells before the checks below read the file again
            if expected is not None and same:
                again = contacts_in(workbook, tmp, contents.sheet, config.date_order)
                same = _user_data(again.contacts) == _user_data(expected)
            if own is not None and same:
                same = log_in(workbook, config.date_order).entries == want_log
        if not same:
            raise WorkbookError("The rewritten workbook did not read back the same; not saved.")

    safety.safe_replace(
        config.workbook, write, expected=before, backups=config.backups, verify=verify, now=now
    )
    return result


def _by_row(cells: Iterable[tuple[int, int]]) -> dict[int, list[int]]:
    """1-based (row, column) cells as {row: [0-based column index, ...]}."""
    rows: dict[int, list[int]] = {}
    for row, col in cells:
        rows.setdefault(row, []).append(col - 1)
    return rows


def _unchanged(
    before: Sequence[Sequence[ReadValue]],
    after: Iterable[list[ReadValue]],
    columns: Sequence[int],
    cells: Mapping[int, Sequence[int]],
) -> bool:
    """Whether every cell outside `columns` (0-based indexes, in every row) and `cells`
    ({row: [column index]}) reads the same in both grids (rows from row 1 and column A): equal
    values of the same type, so a TRUE that came back as 1 is a change. A row or column only
    one of them has must be empty there. The rows of `after` are changed in place.
    """
    missing: list[ReadValue] = []  # a row only one grid has; never changed below
    for number, (old_row, new) in enumerate(zip_longest(before, after, fillvalue=missing), 1):
        old = list(old_row)
        if len(old) != len(new):
            width = max(len(old), len(new))
            old += [""] * (width - len(old))
            new = [*new, *[""] * (width - len(new))]
        width = len(old)
        for index in chain(columns, cells.get(number, ())):
            if index < width:
                old[index] = new[index] = ""
        if old != new or [*map(type, old)] != [*map(type, new)]:
            return False
    return True


_USER_FIELDS = operator.attrgetter(
    *(
        field.name
        for field in dataclasses.fields(Contact)
        if field.name not in {"last_reminded", "logged_touches"}
    )
)
"""A contact's fields that come from the user's own cells (not what the program writes or
derives), as a tuple: comparing those is much cheaper than copying contacts without the rest."""


def _user_data(contacts: Sequence[Contact]) -> list[tuple[object, ...]]:
    """The contacts as the user's own cells say."""
    return [_USER_FIELDS(contact) for contact in contacts]
