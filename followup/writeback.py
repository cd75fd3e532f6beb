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
    today: date,
) -> Cells:
    """The owned cells to write: missing headers plus every status cell whose value changed."""
    where = owned_columns(contents)
    cells: Cells = {
        (contents.header_row, where[column.key]): column.header
        for column in OWNED_COLUMNS
        if column.key not in contents.columns
    }
    reminded = set(reminded_rows)
    for contact, result in entries:
        wanted: dict[str, CellValue] = {
            "next_follow_up": result.next_date,
            "follow_up_status": result.status.label,
            "suggested_action": result.action,
            "last_reminded": today if contact.row in reminded else contact.last_reminded,
        }
        current = contents.owned.get(contact.row, {})
        for key, value in wanted.items():
            if not _same(current.get(key), value):
                cells[(contact.row, where[key])] = value
    return cells


def _same(raw: object, value: CellValue) -> bool:
    """Whether a cell as read already shows `value` (dates may come back as datetimes)."""
    if isinstance(raw, datetime):
        raw = raw.date()
    if raw in ("", None):
        raw = None
    if value == "":
        value = None
    return raw == value


def describe(cells: Mapping[tuple[int, int], CellValue]) -> str:
    """A short count for messages: '12 cells in 4 rows'."""
    rows = {row for row, _ in cells}
    return f"{len(cells)} cell{'s' * (len(cells) != 1)} in {len(rows)} row{'s' * (len(rows) != 1)}"
