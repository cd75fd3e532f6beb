"""Reading a workbook file as the product does (`open_workbook`, then `contacts_in` or
`log_in`), for the tests that look at what one read returns."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from followup.core.log import Log
from followup.workbook.cells import DateOrder
from followup.workbook.contents import SheetContents
from followup.workbook.log_sheet import log_in
from followup.workbook.reader import contacts_in
from followup.workbook.sheet_guard import open_workbook


def read_contacts(
    path: Path,
    sheet: str | None = None,
    date_order: DateOrder = "MDY",
    *,
    today: date | None = None,
) -> SheetContents:
    """The contacts sheet of the workbook at `path`."""
    with open_workbook(path) as workbook:
        return contacts_in(workbook, path, sheet, date_order, today=today)


def read_log(path: Path, date_order: DateOrder = "MDY", contacts: str = "") -> Log:
    """The program's log in the workbook at `path`."""
    with open_workbook(path) as workbook:
        return log_in(workbook, date_order, contacts)
