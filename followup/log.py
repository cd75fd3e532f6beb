"""The Log sheet: the history of follow-ups, kept in the user's own workbook.

`followup done` appends a row for every follow-up, and the daily run appends one when it sees
that Last contact was moved forward by hand (channel "workbook edit"). The Log is the
program's own sheet, like its status columns: a run may append rows to it, and nothing ever
changes a row already there. It is called "Log", unless the workbook already has a sheet of
that name that is the user's own: then it is "Follow-up log". A row belongs to the contact
with its email, else the one contact with its name; the days it records count as touches
(`Contact.logged_touches`), so Follow-ups and the relationship's step stay right even when the
user only edits dates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import count
from pathlib import Path

from followup.cells import CellValue, DateOrder, parse_date, parse_text
from followup.columns import normalize_header
from followup.identity import fold, index_by
from followup.model import Contact
from followup.sheet_guard import Workbook, open_workbook
from followup.xlsx import OwnSheet

LOG_SHEET = "Log"
SPARE_NAME = "Follow-up log"
"""The log's sheet when the workbook's own "Log" is someone else's (then "Follow-up log 2"...)."""
HEADER = ("Date", "Name", "Email", "Channel", "Note")
_WIDTHS = (12.0, 24.0, 30.0, 14.0, 60.0)
CHANNELS = ("email", "phone", "linkedin", "note", "meeting")
WORKBOOK_EDIT = "workbook edit"
"""The channel of a row the run adds for a Last contact moved by hand."""


@dataclass(frozen=True)
class LogEntry:
    """One follow-up: when, with whom, how, and a note."""

    day: date
    name: str
    email: str = ""
    channel: str = ""
    note: str = ""


@dataclass(frozen=True)
class Log:
    """The program's log as read, and where new rows go."""

    entries: tuple[LogEntry, ...] = ()
    header_row: int = 0  # 0: the sheet is missing and is created with the first rows
    columns: tuple[int, ...] = (1, 2, 3, 4, 5)  # column of Date, Name, Email, Channel, Note
    next_row: int = 1  # the first row below everything on the sheet
    sheet: str = LOG_SHEET

    def place(self) -> str:
        """Where new rows go, for messages: 'on sheet "Log"', 'on a new sheet "Follow-up log"'."""
        return f'on {"sheet" if self.header_row else "a new sheet"} "{self.sheet}"'

    def own_sheet(self, new: Sequence[LogEntry]) -> OwnSheet | None:
        """The cells that append `new` (after the header, on a new sheet), or None."""
        if not new:
            return None
        cells: dict[tuple[int, int], CellValue] = {}
        row = self.next_row
        if not self.header_row:
            cells.update({(row, col): text for col, text in zip(self.columns, HEADER, strict=True)})
            row += 1
        for offset, entry in enumerate(new):
            values = (entry.day, entry.name, entry.email, entry.channel, entry.note)
            for col, value in zip(self.columns, values, strict=True):
                cells[(row + offset, col)] = value
        return OwnSheet(self.sheet, cells, _WIDTHS)


def read_log(path: Path, date_order: DateOrder = "MDY", contacts: str = "") -> Log:
    """The program's log in the workbook at `path` (see `log_in`)."""
    with open_workbook(path) as workbook:
        return log_in(workbook, date_order, contacts)


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


def _parse(grid: list[list[CellValue]], date_order: DateOrder, sheet: str) -> Log | None:
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
    entries = []
    for values in grid[index + 1 :]:
        cell = dict(enumerate(values, 1))
        day = parse_date(cell.get(columns[0], ""), date_order)
        texts = [parse_text(cell.get(col, "")) or "" for col in columns[1:]]
        if isinstance(day, date) and texts[0]:
            entries.append(LogEntry(day, *texts))
    return Log(tuple(entries), index + 1, tuple(columns), len(grid) + 1, sheet)


def _is_header(found: dict[str, int]) -> bool:
    """Date and Name and two of Email, Channel and Note: the log's header, not a diary's."""
    return {*_WANTED[:2]} <= found.keys() and len(found.keys() & {*_WANTED[2:]}) >= 2


def _headers(values: list[CellValue]) -> dict[str, int]:
    """Normalized header text -> column number, for one row."""
    return {normalize_header(parse_text(value) or ""): col for col, value in enumerate(values, 1)}


def entries_by_row(
    contacts: Sequence[Contact], entries: Sequence[LogEntry]
) -> dict[int, list[LogEntry]]:
    """Each contact's Log entries, by worksheet row: by email, else the one contact so named."""
    if not entries:
        return {}
    by_email = index_by(contacts, lambda c: fold(c.email))
    by_name = index_by(contacts, lambda c: fold(c.name))
    found: dict[int, list[LogEntry]] = {}
    for entry in entries:
        namesakes = by_name.get(fold(entry.name), [])
        # One email on several rows is one person typed twice; one name may be two people.
        owners = by_email.get(fold(entry.email)) or (namesakes if len(namesakes) == 1 else [])
        for owner in owners:
            found.setdefault(owner.row, []).append(entry)
    return found


def touch_days(contact: Contact, entries: Sequence[LogEntry], today: date) -> set[date]:
    """The days of logged follow-ups since Met on (the meeting itself is no follow-up)."""
    return {
        e.day
        for e in entries
        if e.day <= today and (contact.met_on is None or e.day > contact.met_on)
    }
