"""Which of the program's own cells must change, given what was read and what the rules said.

Only the four owned columns are ever planned here, and only cells whose value differs from what
the workbook already holds, so an unchanged day writes nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from followup.core.model import Contact, FollowUp
from followup.workbook.cells import Cells, WriteValue
from followup.workbook.columns import OWNED_COLUMNS
from followup.workbook.contents import SheetContents


def planned_cells(
    contents: SheetContents,
    entries: Iterable[tuple[Contact, FollowUp]],
    reminded_rows: Iterable[int],
    reminded_on: date,
) -> Cells:
    """The owned cells to write: missing headers plus every status cell whose value changed.

    Rows in `reminded_rows` were listed by the digest delivered on `reminded_on`. A column the
    sheet has no room for (`contents.owned` lacks it) is not written.
    """
    cells: Cells = {
        (contents.header_row, contents.owned[column.key]): column.header
        for column in OWNED_COLUMNS
        if column.key in contents.owned and column.key not in contents.columns
    }
    reminded = set(reminded_rows)
    columns = list(contents.owned.items())  # in OWNED_COLUMNS order, as `held` below
    nothing = ("",) * len(columns)
    for contact, result in entries:
        row = contact.row
        wanted = {
            "next_follow_up": result.next_date,
            "follow_up_status": result.status.label,
            "suggested_action": result.action,
            "last_reminded": reminded_on if row in reminded else contact.last_reminded,
        }
        held = contents.owned_values.get(row, nothing)
        for (key, col), current in zip(columns, held, strict=True):
            if not _same(current, value := wanted[key]):
                cells[(row, col)] = value
    if contents.hidden:  # cells a merged range hides: never written (a problem says so)
        for cell in contents.hidden.keys() & cells.keys():
            del cells[cell]
    return cells


def _same(raw: object, value: WriteValue) -> bool:
    """Whether a cell as read already shows `value` (dates may come back as datetimes)."""
    if raw == value:
        return True
    if isinstance(raw, datetime):
        return raw.date() == value
    return raw in ("", None) and value in ("", None)


def count_cells(cells: Mapping[tuple[int, int], WriteValue]) -> str:
    """A short count for messages: '12 cells in 4 rows'."""
    rows = {row for row, _ in cells}
    return f"{len(cells)} cell{'s' * (len(cells) != 1)} in {len(rows)} row{'s' * (len(rows) != 1)}"
