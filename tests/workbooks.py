"""Build small contact workbooks for tests with xlsxwriter (what a user's Excel file looks like).

`make_workbook` writes one contacts sheet: optional title rows, the header, then the rows. Dates
(`datetime.date` or `datetime`) become real date cells; strings starting with "=" become formulas.
Anything fancier (merged cells, formats, cached formula values) goes through `customize`, which
gets the workbook and the contacts worksheet after the rows are written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

Rows = Sequence[Sequence[object]]


def make_workbook(
    path: Path,
    rows: Rows,
    sheet: str = "Contacts",
    title_rows: int = 0,
    date_format: str = "yyyy-mm-dd",
    *,
    start: str = "A1",
    before: dict[str, Rows] | None = None,
    date_1904: bool = False,
    customize: Callable[[Workbook, Worksheet], None] | None = None,
) -> Path:
    """Write `rows` (header first) to `sheet` of a new workbook at `path` and return the path.

    `start` is the top-left cell of the block (title rows, then header); `title_rows` rows
    above the header hold a title in their first cell; `before` adds sheets ahead of the
    contacts sheet (name -> rows, written from A1).
    """
    workbook = xlsxwriter.Workbook(path, {"date_1904": date_1904})
    date_cell = workbook.add_format({"num_format": date_format})
    for name, other_rows in (before or {}).items():
        _write_rows(workbook.add_worksheet(name), other_rows, 0, 0, date_cell)
    worksheet = workbook.add_worksheet(sheet)
    first_row, first_col = xl_cell_to_rowcol(start)
    if title_rows:
        worksheet.write(first_row, first_col, "My networking contacts")
    _write_rows(worksheet, rows, first_row + title_rows, first_col, date_cell)
    if customize is not None:
        customize(workbook, worksheet)
    workbook.close()
    return path


def _write_rows(
    worksheet: Worksheet, rows: Rows, first_row: int, first_col: int, date_cell: object
) -> None:
    for row_offset, values in enumerate(rows):
        for col_offset, value in enumerate(values):
            row, col = first_row + row_offset, first_col + col_offset
            if isinstance(value, date):
                worksheet.write_datetime(row, col, value, date_cell)
            elif value is not None and value != "":
                worksheet.write(row, col, value)
