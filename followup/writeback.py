"""Which of the program's own cells must change, given what was read and what the rules said.

Only the four owned columns are ever planned here, and only cells whose value differs from what
the workbook already holds, so an unchanged day writes nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from followup.columns import OWNED_COLUMNS
from followup.model import Contact, FollowUp
from followup.reader import SheetContents
from followup.xlsx import CellValue

Cells = dict[tuple[int, int], CellValue]


def owned_columns(contents: SheetContents) -> dict[str, int]:
    """Column number of each owned column: where it is, or the next free spot after the headers."""
    placed: dict[str, int] = {}
    next_free = contents.last_header_col + 1
    for column in OWNED_COLUMNS:
        if column.key in contents.columns:
            placed[column.key] = contents.columns[column.key]
        else:
            placed[column.key] = next_free
            next_free += 1
    return placed


def planned_cells(
    contents: SheetContents,
    entries: Iterable[tuple[Contact, FollowUp]],
    reminded_rows: Iterable[int],
    reminded_on: date,
) -> Cells:
    """The owned cells to write: missing headers plus every status cell whose value changed.

    Rows in `reminded_rows` were listed by the digest delivered on `reminded_on`.
    """
    where = owned_columns(contents)
    cells: Cells = {
        (contents.header_row, where[column.key]): column.header
        for column in OWNED_COLUMNS
        if column.key not in contents.columns
    }
    reminded = set(reminded_rows)
    # (column, whether the sheet has it yet) of each value in `wanted` below, in its order.
    keys = ("next_follow_up", "follow_up_status", "suggested_action", "last_reminded")
    targets = [(where[key], key in contents.columns) for key in keys]
    for contact, result in entries:
        row = contact.row
        as_read = contents.rows[row - 1]
        wanted = (
            result.next_date,
            result.status.label,
            result.action,
            reminded_on if row in reminded else contact.last_reminded,
        )
        for (col, present), value in zip(targets, wanted, strict=True):
            current = as_read[col - 1] if present and col <= len(as_read) else ""
            if not _same(current, value):
                cells[(row, col)] = value
    return cells


def _same(raw: object, value: CellValue) -> bool:
    """Whether a cell as read already shows `value` (dates may come back as datetimes)."""
    if raw == value:
        return True
    if isinstance(raw, datetime):
        return raw.date() == value
    return raw in ("", None) and value in ("", None)


def describe(cells: Mapping[tuple[int, int], CellValue]) -> str:
    """A short count for messages: '12 cells in 4 rows'."""
    rows = {row for row, _ in cells}
    return f"{len(cells)} cell{'s' * (len(cells) != 1)} in {len(rows)} row{'s' * (len(rows) != 1)}"
