"""The one way the program saves the workbook: surgical, verified, atomic and backed up.

The daily run, `done`, `snooze` and `import` all end here. The new version is written beside
the workbook with `patch_sheet` and checked before it replaces the original:

* every part the save rewrote must parse as namespace-well-formed XML (`xmlcheck`), or Excel
  would not open the file, though python-calamine might;
* every cell the save meant to write must read back with the value and type it was given,
  in the contacts sheet and in the Log: a write that landed elsewhere (a second copy of the
  sheet in the zip, a style that turns a date into a number) is caught here;
* every other cell of the contacts sheet must hold exactly what it held when the workbook was
  read (same value, same type), compared raw, cell by cell: the run means to write only its
  own columns, so a user cell it touched fails the check too;
* a command's contacts must read as it expects (`expected`: with its change);
* the Log must hold what it held plus the new rows.

Anything else, and the original stays as it was.
"""

from __future__ import annotations

import dataclasses
import operator
from array import array
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from followup.core.log import HEADER, Log, LogEntry
from followup.core.model import Contact
from followup.errors import FollowupError, WorkbookError
from followup.settings import WorkbookSettings
from followup.workbook import guards
from followup.workbook.cells import Cells, ReadValue, WriteValue
from followup.workbook.columns import cell_address
from followup.workbook.contents import SheetContents, digest_skips, padded_rows, user_digest
from followup.workbook.log_sheet import log_in
from followup.workbook.reader import contacts_in
from followup.workbook.sheet_guard import Workbook, open_workbook
from followup.workbook.xlsx import (
    DamagedPart,
    OwnSheet,
    PatchResult,
    patch_sheet,
    read_back,
    xmlcheck,
)


def save_workbook(
    settings: WorkbookSettings,
    contents: SheetContents,
    cells: Cells,
    before: guards.Fingerprint,
    now: datetime,
    *,
    expected: Sequence[Contact] | None = None,
    log: Log | None = None,
    new_entries: Sequence[LogEntry] = (),
    cleared_log_rows: Collection[int] = (),
    every_cell: bool = False,
) -> PatchResult:
    """Write `cells` into the contacts sheet and `new_entries` below `log`, in one safe replace.
    The Log rows `cleared_log_rows` (`followup undo`) are emptied in the same save.

    Without `expected` (the daily run) only the program's own columns may change: `cells`
    elsewhere fail the check. With `expected` (a command changing the user's cells on purpose)
    any of `cells` may change, and the contacts must then read as `expected`. With
    `every_cell`, a cell `patch_sheet` would leave alone (a formula) stops the save: a command
    the user typed must do all it says or nothing. Raises what `safe_replace` raises.

    `cells` is emptied once written: the check that follows holds the whole rewritten sheet in
    memory, and at 100,000 rows the planned cells are 25 MB it can have instead (what they
    must read back as is kept as one number per row).
    """
    log = log or Log()
    own = log_additions(log, new_entries, cleared_log_rows)
    kept = (e for e, row in zip(log.entries, log.rows, strict=False) if row not in cleared_log_rows)
    want_log = (*(kept if cleared_log_rows else log.entries), *new_entries)
    written = {} if expected is None else _by_row(cells)
    result = PatchResult(())
    planned = _Planned(array("Q"), array("B"), [[]], 0, {}, {})  # made by `write`

    def write(tmp: Path) -> None:
        nonlocal result, planned
        try:
            result = patch_sheet(settings.path, tmp, contents.sheet, cells, own)
        except DamagedPart as damaged:
            raise WorkbookError(f"{damaged} {_restore()}") from None
        planned = _Planned.of(contents, cells, own, result)
        cells.clear()
        if every_cell and result.skipped:
            raise FollowupError(
                f"{', '.join(result.skipped)} in {settings.path.name} holds a formula, which "
                "followup never overwrites, so nothing was changed. Edit that cell by hand."
            )

    def difference(tmp: Path) -> str | None:
        """Where the new version does not read back as it should, or None."""
        originals = _rows_as_read(settings.path, contents.sheet, written) if written else {}
        trusted = None if contents.left_out is None else {contents.sheet: contents.left_out}
        with open_workbook(tmp, trusted) as workbook:
            rewritten = padded_rows(workbook.sheet(contents.sheet))
            row = _first_difference(contents, rewritten, originals, written, planned)
            del rewritten  # frees the sheet's cells before the checks below read the file again
            if row is not None:
                return f"row {row} of the sheet {contents.sheet!r}"
            if expected is not None:
                again = contacts_in(workbook, tmp, contents.sheet, settings.date_order)
                if _user_data(again.contacts) != _user_data(expected):
                    return f"the contacts on the sheet {contents.sheet!r}"
            if own is not None:
                found = log_in(workbook, settings.date_order, contents.sheet)
                if not (
                    (found.sheet, found.entries) == (own.name, want_log)
                    and _own_cells_read_back(workbook, own.name, planned.own)
                ):
                    return f"the sheet {own.name!r}"
        return None

    def verify(tmp: Path) -> None:
        # python-calamine lets go of the GIL while it loads the sheet, so the strict parse of
        # the rewritten parts runs beside it at little cost.
        with ThreadPoolExecutor(1, "followup-xml-check") as pool:
            strict = pool.submit(_strict_check, settings.path, tmp)
            try:
                where = difference(tmp)
            finally:
                strict.result()  # its failure says more than the read-back's
        if where is not None:
            raise WorkbookError(
                f"{settings.path.name} was not saved: in the new version, {where} did not "
                "read back as written. The workbook is unchanged. This is a bug in followup, "
                "or something in the file it does not handle; please report it with this "
                "message."
            )

    guards.safe_replace(
        settings.path, write, expected=before, backups=settings.backups, verify=verify, now=now
    )
    return result


def _strict_check(original: Path, new: Path) -> None:
    """Raise a WorkbookError naming the first part the save rewrote that is not
    namespace-well-formed XML, and saying whether the original's was already broken."""
    broken = xmlcheck.broken_parts(new, xmlcheck.rewritten_parts(original, new))
    if not broken:
        return
    part = broken[0]
    if xmlcheck.broken_parts(original, [part.name]):
        raise WorkbookError(
            f"{original.name} was not saved: its part {part.name} is not well-formed XML "
            f"({part.problem}), so Excel and LibreOffice may refuse to open the file. "
            f"{_restore()}"
        )
    raise WorkbookError(
        f"{original.name} was not saved: the new version's part {part.name} would not be "
        f"well-formed XML ({part.problem}), and Excel could not open it. The workbook is "
        "unchanged. This is a bug in followup; please report it with this message."
    )


def _restore() -> str:
    """What to do about a workbook that was broken before followup touched it."""
    return (
        f"Restore an earlier copy (followup keeps some in {guards.BACKUP_FOLDER} beside the "
        "workbook), then rerun."
    )


@dataclasses.dataclass(frozen=True)
class _Planned:
    """What the cells a save wrote must read back as.

    For each row from row 1, `owned` holds a digest of what the program's own columns must
    hold: what they held, with the cells written in them (one number a row, as the daily run
    may write in every row). A column the sheet did not have yet counts only where a cell was
    written in it (`masks`: a bit for each such column); what else it held is not known. Rows
    past the end must have the own columns empty (`empty`). `user` holds the cells a command
    wrote in the user's columns, {row: {column: value}}, and `own` the cells written to the
    program's own sheet, {(row, column): value}.
    """

    owned: array[int]
    masks: array[int]
    indexes: list[list[tuple[int, int]]]
    """The own columns each mask stands for, as (position, 0-based column index): the columns
    the sheet had, and those of the mask's bits, in the order of `contents.owned`."""
    empty: int
    user: dict[int, dict[int, ReadValue]]
    own: dict[tuple[int, int], ReadValue]

    @classmethod
    def of(
        cls,
        contents: SheetContents,
        cells: Mapping[tuple[int, int], WriteValue],
        own: OwnSheet | None,
        result: PatchResult,
    ) -> _Planned:
        order = list(contents.owned.items())
        position = {col: index for index, (_, col) in enumerate(order)}
        had = [key in contents.columns for key, _ in order]
        indexes = [
            [(i, col - 1) for i, (_, col) in enumerate(order) if had[i] or mask >> i & 1]
            for mask in range(1 << len(order))
        ]
        held, nothing = contents.owned_values, ("",) * len(order)
        empty = sum(_cell_digest(i, "") for i, _ in indexes[0]) & _DIGEST_BITS
        height = max(max(held, default=0), max(cells, default=(0, 0))[0])
        owned, masks = array("Q", [empty]) * height, array("B", [0]) * height
        for row, values in held.items():  # in the order of `order`, "" where a column was not
            owned[row - 1] = sum(_cell_digest(i, values[i]) for i, _ in indexes[0]) & _DIGEST_BITS
        skipped = set(result.skipped)  # A1 addresses, usually none
        user: dict[int, dict[int, ReadValue]] = {}
        date1904 = result.date1904
        for (row, col), value in cells.items():  # up to 400,000: `_cell_digest` is inline
            index = position.get(col)
            if index is None:
                user.setdefault(row, {})[col] = read_back(value, date1904)
                continue
            if skipped and cell_address(row, col) in skipped:
                continue  # a formula is left as it was
            now = read_back(value, date1904)
            digest = owned[row - 1] + hash((index, now, type(now)))
            if had[index]:  # the digest is a sum: the cell's old part goes, its new one comes
                was = held.get(row, nothing)[index]
                digest -= hash((index, was, type(was)))
            else:
                masks[row - 1] |= 1 << index
            owned[row - 1] = digest & _DIGEST_BITS
        own_cells = {}
        if own is not None:
            own_cells = {
                cell: read_back(value, result.date1904)
                for cell, value in own.cells.items()
                if f"{own.name}!{cell_address(*cell)}" not in skipped
            }
        return cls(owned, masks, indexes, empty, user, own_cells)

    def holds_owned(self, row: int, values: Sequence[ReadValue]) -> bool:
        """Whether a row as read holds in the own columns what this plan says."""
        if row > len(self.owned):
            return _owned_digest(self.indexes[0], values) == self.empty
        return _owned_digest(self.indexes[self.masks[row - 1]], values) == self.owned[row - 1]


def _owned_digest(indexes: Sequence[tuple[int, int]], values: Sequence[ReadValue]) -> int:
    """A digest of what a row as read holds in the own columns `indexes` names, as (position,
    0-based column index), types included (a date is not its serial): a sum over the columns,
    so that one cell's part of it can be replaced."""
    total, width = 0, len(values)
    for position, index in indexes:
        value = values[index] if index < width else ""
        total += hash((position, value, type(value)))  # _cell_digest, inline: once a row
    return total & _DIGEST_BITS


def _cell_digest(position: int, value: ReadValue) -> int:
    """One own column's part of `_owned_digest`; `position` is its place in `contents.owned`."""
    return hash((position, value, type(value)))


_DIGEST_BITS = (1 << 64) - 1
"""Digests are kept to 64 bits, what an array("Q") holds."""


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


def _first_difference(
    contents: SheetContents,
    rewritten: Iterable[list[ReadValue]],
    originals: Mapping[int, list[ReadValue]],
    written: Mapping[int, Sequence[int]],
    planned: _Planned,
) -> int | None:
    """The first row where the rewritten sheet does not read as `contents` did, but for the
    cells meant to change, which must read as `planned`; None when there is none.

    In every row the program's own columns must hold what `planned` says. A row a command wrote
    cells in (`written`, {row: [0-based column]}) must equal its row in `originals` everywhere
    else, value for value and type for type, and hold the planned values in those cells. Any
    other row must have the user digest it had. A row only one of them has must be empty.
    The rows of `rewritten` are changed in place.
    """
    skips = digest_skips(contents.owned)
    digests, empty = contents.digests, user_digest([], ())
    height = 0
    for height, values in enumerate(rewritten, 1):
        if not planned.holds_owned(height, values):
            return height
        if height in written:
            if not _same_cells(originals.get(height, []), values, written[height]):
                return height
            if not _holds(values, planned.user.get(height, {})):
                return height
            continue
        digest = digests[height - 1] if height <= len(digests) else empty
        if user_digest(values, skips) != digest:
            return height
    # Rows the rewritten sheet no longer has must have been empty, and stay so.
    for row in range(height + 1, max(len(digests), len(planned.owned)) + 1):
        if row <= len(digests) and digests[row - 1] != empty:
            return row
        if row <= len(planned.owned) and planned.owned[row - 1] != planned.empty:
            return row
    return None


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


def _holds(values: Sequence[ReadValue], cells: Mapping[int, ReadValue]) -> bool:
    """Whether a row as read holds each of `cells` ({1-based column: value}), types included."""
    for col, value in cells.items():
        found = values[col - 1] if col <= len(values) else ""
        if found != value or type(found) is not type(value):
            return False
    return True


def _own_cells_read_back(
    workbook: Workbook, name: str, cells: Mapping[tuple[int, int], ReadValue]
) -> bool:
    """Whether the program's own sheet holds each of `cells`, types included."""
    names = [n for n in workbook.sheet_names if n.casefold() == name.casefold()]
    if not names:
        return not cells
    rows = list(padded_rows(workbook.sheet(names[0])))
    by_row: dict[int, dict[int, ReadValue]] = {}
    for (row, col), value in cells.items():
        by_row.setdefault(row, {})[col] = value
    return all(
        _holds(rows[row - 1] if row <= len(rows) else [], wanted) for row, wanted in by_row.items()
    )


_USER_FIELDS = operator.attrgetter(
    *(
        field.name
        for field in dataclasses.fields(Contact)
        if field.name not in {"last_reminded", "logged_touches", "replied_on"}
    )
)
"""A contact's fields that come from the user's own cells (not what the program writes or
derives), as a tuple: comparing those is much cheaper than copying contacts without the rest."""


def _user_data(contacts: Sequence[Contact]) -> list[tuple[object, ...]]:
    """The contacts as the user's own cells say."""
    return [_USER_FIELDS(contact) for contact in contacts]


_LOG_WIDTHS = (12.0, 24.0, 30.0, 14.0, 60.0)


def log_additions(
    log: Log, new: Sequence[LogEntry], cleared: Iterable[int] = ()
) -> OwnSheet | None:
    """The cells that append `new` (after the header, on a new sheet) and empty the rows
    `cleared`, or None when there are neither."""
    cells: Cells = {(row, col): None for row in cleared for col in log.columns}
    if not new:
        return OwnSheet(log.sheet, cells, _LOG_WIDTHS) if cells else None
    row = log.next_row
    if not log.header_row:
        cells.update({(row, col): text for col, text in zip(log.columns, HEADER, strict=True)})
        row += 1
    for offset, entry in enumerate(new):
        values = (entry.day, entry.name, entry.email, entry.channel, entry.note)
        for col, value in zip(log.columns, values, strict=True):
            cells[(row + offset, col)] = value
    return OwnSheet(log.sheet, cells, _LOG_WIDTHS)
