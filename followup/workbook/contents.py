"""What one read of the contacts sheet holds (`SheetContents`), and the row digests the verified
save compares the rewritten sheet with: the same rows, read the same way (`padded_rows`), must
hash the same outside the program's own columns.
"""

from __future__ import annotations

import dataclasses
from array import array
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

import python_calamine as calamine

from followup.core.model import Contact, Problem
from followup.workbook.cells import (
    ReadValue,
)
from followup.workbook.columns import (
    MAX_COLUMN,
)
from followup.workbook.merges import MergedCells, MergedRange
from followup.workbook.sheet_guard import Places


@dataclass(frozen=True)
class SheetContents:
    """Everything read from the contacts sheet; rows and columns are 1-based worksheet numbers."""

    sheet: str
    header_row: int
    columns: dict[str, int]  # Column.key -> column number, for user and owned columns found
    last_header_col: int  # the last non-empty header cell
    contacts: tuple[Contact, ...]  # one per data row that has a name
    problems: tuple[Problem, ...]
    owned: dict[str, int]
    """Column number of each of the program's own columns: where it is, or where it will go
    (the first free columns after the last header, see `free_columns`), in OWNED_COLUMNS
    order. When the sheet has no room for the missing ones, only those it has (a problem
    says so)."""
    owned_values: dict[int, tuple[ReadValue, ...]]
    """Row -> what its cells in the program's own columns hold (in `owned` order; "" for a
    column the sheet does not have yet), for the rows where any of them holds something: the
    writer leaves alone a cell that already shows its value."""
    digests: array[int]
    """For every row of the sheet from row 1, `user_digest` of its cells: what the save checks
    the rewritten sheet against. Keeping the rows themselves would cost about 40 MB at 100,000
    rows, held while the save reads the whole rewritten sheet back."""
    merged: MergedCells = dataclasses.field(default_factory=MergedCells)
    hidden: dict[tuple[int, int], MergedRange] = dataclasses.field(default_factory=dict)
    """The cells of the program's own columns that a merged range hides, in the contacts' rows
    (and the header row, where a header is still to be written): never written."""
    left_out: Places | None = None
    """The places of the cells far from the rest that the reading left out (see `sheet_guard`),
    none when it read the sheet as it is: the save's read-back leaves out the same, and need
    not measure the rewritten sheet again."""
    taken: frozenset[int] = frozenset()
    """The columns right of the last header that some row holds something in (or a merged
    range covers, in the header row or below, or a cell left out lies in): never a new
    column's place."""
    gaps: tuple[int, ...] = ()
    """The columns between the first and the last header whose header is blank and that no
    row holds anything in (nor a merged range covers): where new columns go when there is no
    room right of the headers (a value typed in XFD1 takes all of it)."""

    def free_columns(self) -> Iterator[int]:
        """Where new columns may go, in order (see `free_columns`)."""
        return free_columns(self.last_header_col, self.taken, self.gaps)


def free_columns(
    last_header_col: int, taken: Collection[int], gaps: Iterable[int]
) -> Iterator[int]:
    """The columns that are empty in every row of the sheet, the only places a new column may
    go, so that it never covers a cell of the user's (a note typed right of the table, a
    formula's result, a pivot table's output): those right of the last header, left to right,
    then the `gaps` between the headers."""
    right = (col for col in range(last_header_col + 1, MAX_COLUMN + 1) if col not in taken)
    return chain(right, gaps)


def padded_rows(sheet: calamine.CalamineSheet) -> Iterator[list[ReadValue]]:
    """The sheet's rows from row 1 and column A, one at a time.

    Streaming the rows instead of `to_python()` keeps one row in Python at a time: at 100,000
    contacts the whole grid as Python lists is about 80 MB. `iter_rows` starts at row 1 but at
    the first used column, so rows are padded back to column A.
    """
    first_col = sheet.start[1] if sheet.start else 0
    if not first_col:
        yield from sheet.iter_rows()
        return
    padding: list[ReadValue] = [""] * first_col
    for values in sheet.iter_rows():
        yield padding + values


def digest_skips(owned: dict[str, int]) -> list[int]:
    """The 0-based indexes of the owned columns, as `user_digest` takes them."""
    return [col - 1 for col in owned.values()]


def user_digest(values: list[ReadValue], skips: Sequence[int]) -> int:
    """A hash of a row's cells outside the program's own columns (`digest_skips`, which count
    as empty), with their types, so that a TRUE read back as 1 is a change; trailing empty
    cells do not count, so a row does not change by the sheet growing wider, nor by a new own
    column, which goes where every row is empty. Changes `values`."""
    width = len(values)
    for index in skips:
        if index < width:
            values[index] = ""
    while values and values[-1] == "":
        values.pop()
    kept = tuple(values)
    # CPython hashes -1 like -2; counting the -1s tells a cell's -1 from a -2.
    return hash((kept, tuple(map(type, kept)), kept.count(-1)))


def owned_cells(
    values: Sequence[ReadValue], indexes: Sequence[int | None]
) -> tuple[ReadValue, ...]:
    """What a row holds in the program's own columns; "" in one the sheet does not have yet."""
    return tuple("" if i is None or i >= len(values) else values[i] for i in indexes)
