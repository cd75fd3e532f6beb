"""Every command on contacts workbooks last saved by openpyxl, pandas, xlsxwriter and LibreOffice.

Each writer lays out its XML its own way (openpyxl and pandas declare the relationships prefix
on each <sheet>, LibreOffice writes its own styles and relationship ids), so the same four
commands run on a workbook from each: `run`, `done` (which adds the Log sheet), `snooze` and
`import` (a LinkedIn export). After every command:

* it exited 0 and did what it says (the statuses, the Log row, the date, the new contact);
* every part it wrote parses as namespace-well-formed XML, and openpyxl loads the file;
* LibreOffice converts it to csv (all files in one LibreOffice run), showing the owned columns;
* every part the command did not mean to change keeps its bytes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from cli_helpers import assert_namespace_well_formed, loads_in_openpyxl, write_config, zip_parts
from edit_helpers import invoke
from reading import read_contacts, read_log
from workbooks import make_workbook
from xlsx_helpers import soffice_convert

D = date.fromisoformat
TODAY = "2026-03-11"
HEADER = ["Name", "Company", "Email", "How we met", "Met on", "Last contact", "Follow-ups", "Notes"]
PEOPLE = [
    ["Ann Lee", "Acme", "ann@example.com", "Networking event", D("2026-03-05"), None, None, ""],
    ["Bo Chen", "Globex", "bo@example.com", "Referral", D("2026-03-10"), None, None, "via Ann"],
    ["Cy Park", "Initech", "", "Job application", D("2026-02-20"), D("2026-02-27"), 1, ""],
]
CONNECTIONS = (
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
    "Dee,Ames,https://www.linkedin.com/in/dee-ames,dee@example.com,Hooli,CTO,02 Mar 2026\r\n"
    "Ann,Lee,https://www.linkedin.com/in/ann-lee,ann@example.com,Acme,Engineer,11 Mar 2026\r\n"
)
STEPS = {
    "run": ["run"],
    "done": ["done", "ann", "--note", "Coffee"],
    "snooze": ["snooze", "bo", "7"],
    "import": ["import", "linkedin", "{folder}/Connections.csv"],
}
OWNED = ["Next follow-up", "Follow-up status", "Suggested action", "Last reminded"]
SHEET_LISTS = {
    "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "docProps/app.xml"
}  # fmt: skip
WRITERS = ["openpyxl", "pandas-openpyxl", "pandas-xlsxwriter", "xlsxwriter", "libreoffice"]


def by_openpyxl(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Contacts"
    for row in [HEADER, *PEOPLE]:
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2, min_col=5, max_col=6):
        for cell in cells:
            cell.number_format = "yyyy-mm-dd"
    book.save(path)


def by_pandas(path: Path, engine: str) -> None:
    """DataFrame.to_excel, which writes with openpyxl or xlsxwriter, whichever is installed."""
    frame = pd.DataFrame(
        [[datetime.combine(v, datetime.min.time()) if isinstance(v, date) else v for v in row]
         for row in PEOPLE],
        columns=HEADER,
    )  # fmt: skip
    frame.to_excel(path, sheet_name="Contacts", index=False, engine=engine)


@dataclass
class Step:
    before: Path
    after: Path
    exit_code: int
    output: str


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Step]:
    """Each writer's workbook, and each command run on it in turn."""
    root = tmp_path_factory.mktemp("saved-by")
    folders = {writer: root / writer for writer in WRITERS}
    for folder in folders.values():
        folder.mkdir()
        write_config(folder)
        (folder / "Connections.csv").write_text(CONNECTIONS, encoding="utf-8")
    by_openpyxl(folders["openpyxl"] / "contacts.xlsx")
    by_pandas(folders["pandas-openpyxl"] / "contacts.xlsx", "openpyxl")
    by_pandas(folders["pandas-xlsxwriter"] / "contacts.xlsx", "xlsxwriter")
    make_workbook(folders["xlsxwriter"] / "contacts.xlsx", [HEADER, *PEOPLE])
    made = make_workbook(root / "contacts.xlsx", [HEADER, *PEOPLE])
    saved = soffice_convert([made], "xlsx", root / "libreoffice-out")
    if saved is None:
        pytest.skip("LibreOffice is not installed")
    shutil.copyfile(saved[0], folders["libreoffice"] / "contacts.xlsx")

    found = {}
    for writer, folder in folders.items():
        book = folder / "contacts.xlsx"
        for name, args in STEPS.items():
            before = shutil.copyfile(book, folder / f"{writer}-before-{name}.xlsx")
            done = invoke(folder, *(arg.format(folder=folder) for arg in args), today=TODAY)
            after = shutil.copyfile(book, folder / f"{writer}-after-{name}.xlsx")
            found[(writer, name)] = Step(before, after, done.exit_code, done.output)
    return found


@pytest.fixture(scope="module")
def csv_first_lines(steps: dict[tuple[str, str], Step], tmp_path_factory) -> dict[Path, str]:
    """The first line of each file's first sheet as LibreOffice converts it ("" if it did not)."""
    files = [step.after for step in steps.values()]
    converted = soffice_convert(files, "csv", tmp_path_factory.mktemp("saved-by-csv"))
    if converted is None:
        pytest.skip("LibreOffice is not installed")
    return {
        path: csv.read_text("utf-8").splitlines()[0] if csv.is_file() else ""
        for path, csv in zip(files, converted, strict=True)
    }


def _cases() -> list[object]:
    return [pytest.param(writer, step) for writer in WRITERS for step in STEPS]


@pytest.mark.parametrize(("writer", "name"), _cases())
def test_each_command_on_a_workbook_saved_by(
    writer: str,
    name: str,
    steps: dict[tuple[str, str], Step],
    csv_first_lines: dict[Path, str],
) -> None:
    step = steps[(writer, name)]
    assert step.exit_code == 0, step.output
    before, after = zip_parts(step.before), zip_parts(step.after)
    changed = {e for e in before.keys() | after.keys() if before.get(e) != after.get(e)}
    for entry in changed:
        assert_namespace_well_formed(after[entry], entry)
    assert loads_in_openpyxl(step.after)
    assert csv_first_lines[step.after].split(",")[len(HEADER) : len(HEADER) + 4] == OWNED

    meant = {"xl/worksheets/sheet1.xml", "xl/styles.xml"}
    contacts = {c.name: c for c in read_contacts(step.after, "Contacts").contacts}
    if name == "run":
        assert "Wrote " in step.output
        statuses = read_contacts(step.after, "Contacts").owned_values
        assert [statuses[row][1] for row in (2, 3, 4)] == ["Overdue", "Upcoming", "Overdue"]
    elif name == "done":
        added = set(after) - set(before)
        assert len(added) == 1 and added.pop().startswith("xl/worksheets/sheet")
        meant |= SHEET_LISTS | set(after) - set(before)
        assert [e.note for e in read_log(step.after, contacts="Contacts").entries] == ["Coffee"]
        assert (contacts["Ann Lee"].last_contact, contacts["Ann Lee"].follow_ups) == (
            D(TODAY),
            1,
        )
    elif name == "snooze":
        assert contacts["Bo Chen"].follow_up_on == D("2026-03-18")
    else:
        assert "Added 1 contact; skipped 1." in step.output
        assert contacts["Dee Ames"].row == 5
    assert changed <= meant, changed - meant
