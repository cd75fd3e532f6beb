"""Read the contacts sheet once, with python-calamine, into contacts, problems and positions.

Everything later stages need comes from this one pass: the parsed contacts, every problem found
(with the cell to fix), where each known column sits, and the current values of the columns we
own (so the writer can skip a save when nothing changed). Bad cells never raise; only a workbook
that cannot be read at all raises `WorkbookError`.

Where reading stops: the contacts are the rows below the header. Blank rows are skipped, never
the end of the list (people leave gaps). Reading stops at a second table below the contacts:
after at least one blank row, a row of two or more text cells, one of which is a header (a known
column name, or a header of this sheet's own header row). A contact row hardly ever consists of
column names only, while another table's header row almost always does.
"""

from __future__ import annotations

import dataclasses
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

import python_calamine as calamine

from followup.core.identity import fold
from followup.core.model import Contact, Problem
from followup.errors import WorkbookError
from followup.workbook.cells import (
    DateOrder,
    Invalid,
    Parsed,
    ReadValue,
    is_blank,
    parse_birthday_cell,
    parse_cadence,
    parse_count,
    parse_date,
    parse_how_met,
    parse_priority,
    parse_stage,
    parse_text,
)
from followup.workbook.columns import (
    OWNED_COLUMNS,
    cell_address,
    match_header,
    normalize_header,
)
from followup.workbook.contents import (
    SheetContents,
    free_columns,
    owned_cells,
    padded_rows,
    user_digest,
)
from followup.workbook.merges import MergedCells, hidden_problems
from followup.workbook.sheet_guard import Workbook, stray_problems

HEADER_SEARCH_ROWS = 20
"""The header row is the first of the first 20 rows that holds a Name header."""

_NOTHING_OWNED = ("",) * len(OWNED_COLUMNS)
_NONE_OWNED = [None] * len(OWNED_COLUMNS)
_REPEATED_KEYS = frozenset({"how_met", "stage", "follow_up_status", "suggested_action"})

# Our own column: a value we cannot read there is simply treated as "never reminded".
_SILENT_FIELDS = frozenset({"last_reminded"})

# Contact's fields in order, with their defaults (None for `row` and `name`, which have none): a
# row's contact is built positionally from a copy, twice as fast as by keywords, which counts
# at 100,000 rows.
_POSITIONS = {field.name: position for position, field in enumerate(dataclasses.fields(Contact))}
_DEFAULTS: list[Any] = [
    None if field.default is dataclasses.MISSING else field.default
    for field in dataclasses.fields(Contact)
]
_NAME = _POSITIONS["name"]


def contacts_in(
    workbook: Workbook,
    path: Path,
    sheet: str | None = None,
    date_order: DateOrder = "MDY",
    *,
    today: date | None = None,
) -> SheetContents:
    """Read the contacts sheet (`sheet`, or the first with a Name header) of an open workbook.

    `today` enables the "date in the future" check; without it that check is skipped, so this
    function never depends on the clock.
    """
    name, found, header_row = _find_contacts_sheet(workbook, sheet, path)
    merged = MergedCells.from_calamine(found.merged_cell_ranges)
    left_out = workbook.left_out(name)
    taken = merged.columns_from(header_row) | {col for _, col in left_out or ()}
    reader = _SheetReader(name, padded_rows(found), header_row, date_order, today, taken)
    contents = dataclasses.replace(reader.read(), left_out=left_out)
    if merged.ranges:
        contents = _with_merges(contents, merged)
    if strays := workbook.strays(name):
        far = stray_problems(strays)
        contents = dataclasses.replace(contents, problems=(*contents.problems, *far))
    return contents


def _with_merges(contents: SheetContents, merged: MergedCells) -> SheetContents:
    """The contents with the program's own cells that merged ranges hide, and the problems that
    name them."""
    headers = {
        contents.owned[column.key]: column.header
        for column in OWNED_COLUMNS
        if column.key in contents.owned
    }
    rows = {contact.row for contact in contents.contacts}
    hidden = {
        (row, col): where
        for (row, col), where in merged.hidden(headers).items()
        if row in rows or (row == contents.header_row and col not in contents.columns.values())
    }
    problems = hidden_problems(contents.sheet, hidden, headers)
    return dataclasses.replace(
        contents, merged=merged, hidden=hidden, problems=(*contents.problems, *problems)
    )


def _find_contacts_sheet(
    workbook: Workbook, wanted: str | None, path: Path
) -> tuple[str, calamine.CalamineSheet, int]:
    """The sheet to read and its header row: the configured one, else the first with a Name.

    Visible worksheets are tried before hidden ones, since a hidden sheet is more likely a
    lookup list than the user's contacts.
    """
    if wanted is not None:
        by_folded = {name.casefold(): name for name in workbook.sheet_names}
        if wanted.casefold() not in by_folded:
            raise WorkbookError(
                f'{path} has no sheet called "{wanted}"; its sheets are '
                f"{', '.join(repr(name) for name in workbook.sheet_names)}. Fix [workbook] sheet "
                "in config.toml, or remove it to use the first sheet with a Name column."
            )
        candidates = [by_folded[wanted.casefold()]]
    else:
        worksheets = [
            meta
            for meta in workbook.sheets_metadata
            if meta.typ == calamine.SheetTypeEnum.WorkSheet
        ]
        worksheets.sort(key=lambda meta: meta.visible != calamine.SheetVisibleEnum.Visible)
        candidates = [meta.name for meta in worksheets]
    for name in candidates:
        sheet = workbook.sheet(name)
        header_row = _header_row(sheet.to_python(skip_empty_area=False, nrows=HEADER_SEARCH_ROWS))
        if header_row is not None:
            return name, sheet, header_row
    where = f'the sheet "{candidates[0]}"' if wanted is not None else "any sheet"
    raise WorkbookError(
        f"There is no Name column in {where} of {path}. The contacts sheet needs a header row "
        f"(within the first {HEADER_SEARCH_ROWS} rows) with a column called Name; add it, or "
        "make a new workbook from the template with `followup init new-contacts.xlsx`."
    )


def _header_row(rows: Sequence[Sequence[ReadValue]]) -> int | None:
    """The 1-based number of the first row holding a Name header, if any."""
    for number, values in enumerate(rows, start=1):
        if any(_column_key(value) == "name" for value in values):
            return number
    return None


def _column_key(value: ReadValue) -> str | None:
    """The known column a header cell names, if it names one."""
    text = parse_text(value)
    column = match_header(text) if text is not None else None
    return column.key if column is not None else None


def _field_parsers(date_order: DateOrder) -> dict[str, Callable[[ReadValue], Parsed[object]]]:
    """How to read each known column (Column.key -> parser); the date order is the config's."""
    read_date = partial(parse_date, date_order=date_order)
    return {
        "name": parse_text,
        "company": parse_text,
        "role": parse_text,
        "email": parse_text,
        "phone": parse_text,
        "linkedin": parse_text,
        "how_met": parse_how_met,
        "met_on": read_date,
        "last_contact": read_date,
        "follow_ups": parse_count,
        "priority": parse_priority,
        "cadence": parse_cadence,
        "follow_up_on": read_date,
        "stage": parse_stage,
        "referred_by": parse_text,
        "notes": parse_text,
        "where_met": parse_text,
        "birthday": partial(parse_birthday_cell, date_order=date_order),
        "last_reminded": read_date,
    }


class _SheetReader:
    """One pass over the rows below the header; collects contacts and problems as it goes."""

    def __init__(
        self,
        sheet: str,
        rows: Iterator[list[ReadValue]],
        header_row: int,
        date_order: DateOrder,
        today: date | None,
        taken: Iterable[int] = (),
    ) -> None:
        self.sheet = sheet
        self.rows = rows  # from row 1; read() consumes the ones below the header
        self.header_row = header_row
        self.today = today
        self.problems: list[Problem] = []
        self.columns: dict[str, int] = {}
        self.headers: dict[str, str] = {}  # Column.key -> the header as the user typed it
        self.last_header_col = 0
        self.last_header = ""  # as typed
        self.header_words: set[str] = set()  # every header of this sheet, normalized
        head = list(islice(rows, header_row))
        self._map_header(head[-1])
        self.taken = set(taken)  # columns right of the headers holding something (`_keep`)
        self.gaps = self._blank_headers(head[-1])  # less those some row holds something in
        # The own columns the sheet has (in OWNED_COLUMNS order, None for one it lacks): those
        # it lacks go where every row is empty, so the digests need not leave them out.
        self.owned_at = [
            self.columns[column.key] - 1 if column.key in self.columns else None
            for column in OWNED_COLUMNS
        ]
        self.owned_values: dict[int, tuple[ReadValue, ...]] = {}
        self.skips = [index for index in self.owned_at if index is not None]
        self.digests = array("q")  # 8 bytes a row, where an int object takes 36
        for row, values in enumerate(head, start=1):
            self._keep(row, values)
        parsers = _field_parsers(date_order)
        # Text fields never hold a bad value, so they skip the checks the others need.
        self.text_fields = [
            (col - 1, _POSITIONS[key])
            for key, col in self.columns.items()
            if parsers.get(key) is parse_text
        ]
        self.fields = [
            (key, col - 1, parsers[key], _POSITIONS[key])
            for key, col in self.columns.items()
            if key in parsers and parsers[key] is not parse_text
        ]
        # Columns of a few distinct texts, typed again on every row: each text is kept once
        # (at 100,000 rows: 7 MB less, 25 MB once the program's own columns are filled in).
        self.repeated_indexes = [
            col - 1 for key, col in self.columns.items() if key in _REPEATED_KEYS
        ]
        self.texts: dict[str, str] = {}
        self.by_email: dict[str, Contact] = {}
        self.by_name: dict[tuple[str, str], Contact] = {}

    def _problem(self, row: int, index: int, value: ReadValue, message: str) -> None:
        self.problems.append(
            Problem(self.sheet, cell_address(row, index + 1), parse_text(value) or "", message)
        )

    def _map_header(self, values: Sequence[ReadValue]) -> None:
        """Find the known columns; a repeated one is reported and ignored (the first wins)."""
        for index, value in enumerate(values):
            text = parse_text(value)
            if text is None:
                continue
            self.last_header_col = index + 1
            self.last_header = text
            self.header_words.add(normalize_header(text))
            key = _column_key(text)
            if key is None:
                continue
            if key in self.columns:
                first = cell_address(self.header_row, self.columns[key])
                self._problem(
                    self.header_row,
                    index,
                    text,
                    f"A second {self.headers[key]} column: only the first one ({first}) is "
                    "read. Rename or delete this one.",
                )
                continue
            self.columns[key] = index + 1
            self.headers[key] = text

    def _blank_headers(self, values: Sequence[ReadValue]) -> set[int]:
        """The columns between the first and the last header whose header is blank."""
        first = next(index for index, value in enumerate(values) if parse_text(value) is not None)
        return {
            index + 1
            for index in range(first, self.last_header_col)
            if parse_text(values[index]) is None
        }

    def read(self) -> SheetContents:
        contacts: list[Contact] = []
        after_gap = False
        for row, values in enumerate(self.rows, start=self.header_row + 1):
            for index in self.repeated_indexes:
                if isinstance(value := values[index], str):
                    values[index] = self.texts.setdefault(value, value)
            self._keep(row, values.copy())
            if all(is_blank(value) for value in values):
                after_gap = True
                continue
            if after_gap and self._looks_like_header(values):
                break
            after_gap = False
            contact = self._read_row(row, values)
            if contact is not None:
                contacts.append(contact)
        for row, values in enumerate(self.rows, start=len(self.digests) + 1):
            self._keep(row, values)  # below a second table: never read, but kept as it is
        gaps = tuple(sorted(self.gaps - self.taken))
        owned = self._place_owned(gaps)
        return SheetContents(
            sheet=self.sheet,
            header_row=self.header_row,
            columns=dict(self.columns),
            last_header_col=self.last_header_col,
            contacts=tuple(contacts),
            problems=tuple(self.problems),
            owned=owned,
            owned_values=self.owned_values,
            digests=self.digests,
            taken=frozenset(col for col in self.taken if col > self.last_header_col),
            gaps=gaps,
        )

    def _place_owned(self, gaps: Sequence[int]) -> dict[str, int]:
        """Where each own column is, or goes: those the sheet lacks, to the first columns that
        are empty in every row (`free_columns`). Without room for all of them none is added (a
        problem says why), and the owned values are cut to the columns the sheet has."""
        missing = [column for column in OWNED_COLUMNS if column.key not in self.columns]
        room = free_columns(self.last_header_col, self.taken, gaps)
        free = list(islice(room, len(missing)))
        if len(free) == len(missing):
            new = iter(free)
            return {c.key: self.columns.get(c.key) or next(new) for c in OWNED_COLUMNS}
        last = self.last_header_col
        self._problem(
            self.header_row,
            last - 1,
            self.last_header,
            f"followup needs {len(missing)} empty column{'s' * (len(missing) != 1)} for "
            f"{', '.join(c.header for c in missing)}, right of this header (the last one) or "
            "between your headers, but "
            + (f"finds only {len(free)}" if free else "finds none")
            + " (a column is empty when no row holds anything in it), so it does not write "
            "them. Clear columns right of your headers (or move this header left) and save.",
        )
        had = [i for i, index in enumerate(self.owned_at) if index is not None]
        self.owned_values = {
            row: tuple(values[i] for i in had) for row, values in self.owned_values.items()
        }
        return {c.key: self.columns[c.key] for c in OWNED_COLUMNS if c.key in self.columns}

    def _keep(self, row: int, values: list[ReadValue]) -> None:
        """Note what the save checks the row against: its owned cells and the digest of the
        others; and the columns without a header it holds something in. Changes `values`."""
        extra = values[self.last_header_col :]
        if extra.count("") != len(extra):
            first = self.last_header_col + 1
            self.taken.update(col for col, value in enumerate(extra, first) if value != "")
        if self.gaps:
            width = len(values)
            self.gaps.difference_update(
                [col for col in self.gaps if col <= width and values[col - 1] != ""]
            )
        if self.owned_at != _NONE_OWNED:  # a first run's sheet has none of them yet
            held = owned_cells(values, self.owned_at)
            if held != _NOTHING_OWNED:
                self.owned_values[row] = held
        self.digests.append(user_digest(values, self.skips))

    def _looks_like_header(self, values: Iterable[ReadValue]) -> bool:
        """Another table's header row: two or more text cells, one of them a column name."""
        filled = [value for value in values if not is_blank(value)]
        return (
            len(filled) >= 2
            and all(isinstance(value, str) for value in filled)
            and any(
                _column_key(value) is not None or normalize_header(str(value)) in self.header_words
                for value in filled
            )
        )

    def _read_row(self, row: int, values: Sequence[ReadValue]) -> Contact | None:
        """The row's contact, or None for a row without a name (a problem if it has data)."""
        fields = _DEFAULTS.copy()
        fields[0] = row
        for index, position in self.text_fields:
            if (value := values[index]) != "" and (text := parse_text(value)) is not None:
                fields[position] = text
        for key, index, parse, position in self.fields:
            value = values[index]
            if value == "":  # an empty cell: the field keeps its default
                continue
            parsed = parse(value)
            if parsed is None:
                continue
            if isinstance(parsed, Invalid):
                if key not in _SILENT_FIELDS:
                    self._problem(row, index, value, f"{self.headers[key]}: {parsed.message}")
            else:
                fields[position] = parsed
        if fields[_NAME] is None:
            owned = {index for index in self.owned_at if index is not None}
            if any(not is_blank(value) for index, value in enumerate(values) if index not in owned):
                self._problem(
                    row,
                    self.columns["name"] - 1,
                    "",
                    f"Row {row} has data but no {self.headers['name']}: type the person's name, "
                    "or clear the row.",
                )
            return None
        contact = Contact(*fields)
        self._check_dates(contact, values)
        self._check_duplicate(contact)
        return contact

    def _check_dates(self, contact: Contact, values: Sequence[ReadValue]) -> None:
        """Dates that read fine but cannot be right; the row is still computed as typed."""
        met_on, last_contact = contact.met_on, contact.last_contact
        if met_on is not None and last_contact is not None and last_contact < met_on:
            index = self.columns["last_contact"] - 1
            self._problem(
                contact.row,
                index,
                values[index],
                f"{self.headers['last_contact']} is before {self.headers['met_on']} "
                f"({met_on.isoformat()}): check both dates. Until then follow-ups count "
                f"from {self.headers['met_on']}.",
            )
        if self.today is None:
            return
        for key, day in (("met_on", met_on), ("last_contact", last_contact)):
            if day is not None and day > self.today:
                index = self.columns[key] - 1
                self._problem(
                    contact.row,
                    index,
                    values[index],
                    f"{self.headers[key]} is in the future: type the date it happened "
                    "(to be reminded on a later date, use Follow up on).",
                )

    def _check_duplicate(self, contact: Contact) -> None:
        """Report a later row that repeats an email, or a name and company (both still run)."""
        earlier: Contact | None = None
        reason = ""
        email = fold(contact.email)
        if email:
            first = self.by_email.setdefault(email, contact)
            if first is not contact:
                earlier, reason = first, "the same email"
        first = self.by_name.setdefault((fold(contact.name), fold(contact.company)), contact)
        if earlier is None and first is not contact:
            earlier = first
            reason = "the same name and company" if contact.company else "the same name"
        if earlier is None:
            return
        self._problem(
            contact.row,
            self.columns["name"] - 1,
            contact.name,
            f"Looks like a duplicate of row {earlier.row} ({earlier.name}): {reason}. Both rows "
            "are followed up; merge them into one row, or delete one.",
        )
