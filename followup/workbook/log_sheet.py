"""The Log sheet in the user's own workbook: reading it (saving.py appends to it).

The Log is the program's own sheet, like its status columns: a run may append rows to it, and
nothing ever changes a row already there. It is called "Log", unless the workbook already has a
sheet of that name that is the user's own: then it is "Follow-up log". What the entries mean
(whose they are, which days count as touches) is core/log.py's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import count

from followup.core.log import HEADER, LOG_SHEET, SPARE_NAME, Log, LogEntry
from followup.workbook.cells import DateOrder, ReadValue, parse_date, parse_text
from followup.workbook.columns import normalize_header
from followup.workbook.sheet_guard import Workbook


def log_in(workbook: Workbook, date_order: DateOrder = "MDY", contacts: str = "") -> Log:
    """The program's log in an open workbook, or an empty one on the sheet it will get.

    The log is the first of the sheets "Log", "Follow-up log", "Follow-up log 2"... (in any
    case) that is missing or holds the log's header. A sheet of that name without it (the
    user's own log, or the contacts sheet `contacts`) is never written to: the log takes the
    next name. Rows without a readable date or a name are not entries (they stay as they are).
    """
    by_folded = {name.casefold(): name for name in workbook.sheet_names}

    def log_on(name: str) -> Log | None:
        """The log on the sheet so named, a new log there if there is none, else None."""
        found = by_folded.get(name.casefold())
        if found is None:
            return Log(sheet=name)
        if found == contacts:
            return None
        return _parse(workbook.sheet(found).to_python(skip_empty_area=False), date_order, found)

    return next(log for name in _names() if (log := log_on(name)) is not None)


def _names() -> Iterator[str]:
    yield LOG_SHEET
    yield SPARE_NAME
    yield from (f"{SPARE_NAME} {n}" for n in count(2))


_WANTED = tuple(normalize_header(text) for text in HEADER)


def _parse(grid: list[list[ReadValue]], date_order: DateOrder, sheet: str) -> Log | None:
    """The entries below the log's header, or None for a sheet without it.

    The header is the first row with Date and Name and two more of the log's headers, in any
    order: a column the user deleted comes back to the right of the others.
    """
    index = next((i for i, row in enumerate(grid) if _is_header(_headers(row))), None)
    if index is None:
        return None
    found = _headers(grid[index])
    spare = max(len(grid[index]), *found.values()) + 1
    columns = []
    for key in _WANTED:
        if key not in found:
            found[key], spare = spare, spare + 1
        columns.append(found[key])
    entries, rows = [], []
    for row, values in enumerate(grid[index + 1 :], index + 2):
        cell = dict(enumerate(values, 1))
        day = parse_date(cell.get(columns[0], ""), date_order)
        texts = [parse_text(cell.get(col, "")) or "" for col in columns[1:]]
        if isinstance(day, date) and texts[0]:
            entries.append(LogEntry(day, *texts))
            rows.append(row)
    return Log(tuple(entries), index + 1, tuple(columns), len(grid) + 1, sheet, tuple(rows))


def _is_header(found: dict[str, int]) -> bool:
    """Date and Name and two of Email, Channel and Note: the log's header, not a diary's."""
    return {*_WANTED[:2]} <= found.keys() and len(found.keys() & {*_WANTED[2:]}) >= 2


def _headers(values: list[ReadValue]) -> dict[str, int]:
    """Normalized header text -> column number, for one row."""
    return {normalize_header(parse_text(value) or ""): col for col, value in enumerate(values, 1)}
