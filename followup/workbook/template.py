"""A new user's first workbook: the template, plus example contacts dated relative to today.

The examples are chosen so the very first digest shows every section (overdue, due today,
coming up, a workbook problem), which teaches the columns better than any manual.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

from followup.errors import FollowupError, WorkbookError
from followup.workbook.cells import Cells, WriteValue
from followup.workbook.columns import USER_COLUMNS
from followup.workbook.guards import dangling_link
from followup.workbook.xlsx import patch_sheet

# Package data, beside this module: an installed wheel carries it (scripts/make_template.py
# makes it).
TEMPLATE = Path(__file__).with_name("contacts_template.xlsx")
SHEET = "Contacts"


def _examples(today: date) -> list[dict[str, WriteValue]]:
    def ago(days: int) -> date:
        return today - timedelta(days=days)

    return [
        {
            "name": "Priya Shah (example)",
            "company": "Northwind Labs",
            "role": "Data lead",
            "email": "priya@example.com",
            "how_met": "Networking event",
            "met_on": ago(6),
            "priority": "A",
            "notes": "Met at the data meetup; she is hiring next quarter.",
        },
        {
            "name": "Tom Becker (example)",
            "company": "Contoso",
            "role": "Recruiter",
            "email": "tom@example.com",
            "how_met": "Job application",
            "met_on": ago(20),
            "last_contact": ago(12),
            "notes": "Applied for the analyst role.",
        },
        {
            "name": "Ana Lima (example)",
            "company": "Fabrikam",
            "role": "Product manager",
            "linkedin": "https://www.linkedin.com/in/example",
            "how_met": "Informational interview",
            "met_on": ago(40),
            "follow_up_on": today,
            "notes": "Suggested I read her team's blog.",
        },
        {
            "name": "Sam Okafor (example)",
            "company": "Tailspin",
            "role": "Engineer",
            "phone": "+44 20 7946 0000",
            "how_met": "Job application",
            "met_on": ago(3),
        },
        {
            "name": "Lee Chen (example)",
            "company": "Adatum",
            "email": "lee@example.com",
            "how_met": "Keep in touch",
            "last_contact": ago(10),
            "priority": "A",
        },
        {
            "name": "Maria Rossi (example)",
            "company": "Litware",
            "email": "maria@example.com",
            "how_met": "Networking event",
            "met_on": "last Tuesday",
            "notes": "This example's Met on is not a date: fix it or delete the row.",
        },
    ]


def create_workbook(path: Path, today: date, *, examples: bool = True) -> None:
    """Copy the template to `path` (which must not exist), adding the example contacts."""
    if message := dangling_link(path):
        raise WorkbookError(message)
    if not TEMPLATE.exists():
        raise FollowupError(
            f"The template {TEMPLATE} is missing from this install of followup; install it "
            "again (`pip install --force-reinstall followup`, or from its folder `pip install .`)."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    column = {c.key: i for i, c in enumerate(USER_COLUMNS, start=1)}
    cells: Cells = {
        (row, column[key]): value
        for row, example in enumerate(_examples(today) if examples else [], start=2)
        for key, value in example.items()
    }
    tmp = path.with_name(f".{path.stem}.followup-new{path.suffix}")
    try:
        if cells:
            patch_sheet(TEMPLATE, tmp, SHEET, cells)
        else:
            shutil.copyfile(TEMPLATE, tmp)
        if path.exists():
            raise FollowupError(f"{path} already exists; not overwriting it.")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
