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
from pathlib import Path

from followup import safety
from followup.cells import CellValue as ReadValue
from followup.config import Config
from followup.errors import FollowupError, WorkbookError
from followup.log import Log, LogEntry, log_in
from followup.model import Contact
from followup.reader import (
    SheetContents,
    contacts_in,
    digest_skips,
    open_workbook,
    owned_cells,
    owned_indexes,
    padded_rows,
    user_digest,
)
from followup.xlsx import CellValue, PatchResult, patch_sheet


def save_workbook(
    config: Config,
    contents: SheetContents,
    cells: dict[tuple[int, int], CellValue],
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

    `cells` is emptied once written: the check that follows holds the whole rewritten sheet in
    memory, and at 100,000 rows the planned cells are 25 MB it can have instead.
    """
    own = (log or Log()).own_sheet(new_entries)
    want_log = (log or Log()).entries + tuple(new_entries)
    written = {} if expected is None else _by_row(cells)
    result = PatchResult(())

    def write(tmp: Path) -> None:
        nonlocal result
        result = patch_sheet(config.workbook, tmp, contents.sheet, cells, own)
        cells.clear()
        if every_cell and result.skipped:
            raise FollowupError(
                f"{', '.join(result.skipped)} in {config.workbook.name} holds a formula, which "
                "followup never overwrites, so nothing was changed. Edit that cell by hand."
            )

    def verify(tmp: Path) -> None:
        originals = _rows_as_read(config.workbook, contents.sheet, written) if written else {}
        trusted = None if contents.left_out is None else {contents.sheet: contents.left_out}
        with open_workbook(tmp, trusted) as workbook:
            rewritten = padded_rows(workbook.sheet(contents.sheet))
            same = _unchanged(contents, rewritten, originals, written, owned_too=bool(written))
            del rewritten  # frees the sheet's cells before the checks below read the file again
            if expected is not None and same:
                again = contacts_in(workbook, tmp, contents.sheet, config.date_order)
                same = _user_data(again.contacts) == _user_data(expected)
            if own is not None and same:
                found = log_in(workbook, config.date_order, contents.sheet)
                same = (found.sheet, found.entries) == (own.name, want_log)
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


def _rows_as_read(path: Path, sheet: str, rows: Iterable[int]) -> dict[int, list[ReadValue]]:
    """The given rows of the saved workbook (a command's few edited rows), read again."""
    wanted = set(rows)
    with open_workbook(path) as workbook:
        found = padded_rows(workbook.sheet(sheet))
        return {number: values for number, values in enumerate(found, 1) if number in wanted}


def _unchanged(
    contents: SheetContents,
    rewritten: Iterable[list[ReadValue]],
    originals: Mapping[int, list[ReadValue]],
    written: Mapping[int, Sequence[int]],
    *,
    owned_too: bool,
) -> bool:
    """Whether the rewritten sheet reads as `contents` did, but for the cells meant to change.

    A row a command wrote cells in (`written`, {row: [0-based column]}) must equal its row in
    `originals` everywhere else, value for value and type for type. Any other row must have
    the user digest it had and, with `owned_too`, the same values in the program's columns.
    A row only one of them has must be empty. The rows of `rewritten` are changed in place.
    """
    skips = digest_skips(contents.owned)
    owned_at = owned_indexes(contents.columns, contents.owned)
    nothing = ("",) * len(owned_at)
    digests, empty = contents.digests, user_digest([], ())
    height = 0
    for height, values in enumerate(rewritten, 1):
        if height in written:
            if not _same_cells(originals.get(height, []), values, written[height]):
                return False
            continue
        if owned_too:
            held = contents.owned_values.get(height, nothing)
            now = owned_cells(values, owned_at)
            if now != held or [*map(type, now)] != [*map(type, held)]:
                return False
        digest = digests[height - 1] if height <= len(digests) else empty
        if user_digest(values, skips) != digest:
            return False
    if any(digest != empty for digest in digests[height:]):
        return False
    return not owned_too or all(row <= height for row in contents.owned_values)


def _same_cells(old: list[ReadValue], new: list[ReadValue], skip: Sequence[int]) -> bool:
    """Whether two rows hold equal values of the same types, but in the `skip` columns; a cell
    only one of them has must be empty."""
    width = max(len(old), len(new))
    old = [*old, *[""] * (width - len(old))]
    new = [*new, *[""] * (width - len(new))]
    for index in skip:
        if index < width:
            old[index] = new[index] = ""
    return old == new and [*map(type, old)] == [*map(type, new)]


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
