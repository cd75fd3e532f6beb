"""Where a command adds a column the sheet lacks: only in a column empty in every row.

Users type their own notes right of the table, or keep a formula's result or a pivot table's
output there; a new column (the status columns of `run`, Follow up on of `snooze`, Follow-ups
of `done`, Company or Role of `import`) goes to the first column no row holds anything in, and
the user's cells stay as they were, as openpyxl reads them.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from cli_helpers import write_config
from edit_helpers import invoke

D = date.fromisoformat
HEADER = ["Name", "Email", "How we met", "Met on", "Notes"]  # A:E
PEOPLE = [
    ["Ann Lee", "ann@example.com", "Networking event", D("2026-03-01"), "met at the fair"],
    ["Bo Chen", "bo@example.com", "Job application", D("2026-02-20"), ""],
    ["Cy Diaz", "", "Keep in touch", D("2025-11-02"), ""],
]
# The user's own cells right of the table: F and G in the contacts' rows, H far below them.
USERS = {"F3": "call her back re: budget!", "G4": 12345, "H9": "Q3 total"}
OWNED = ["Next follow-up", "Follow-up status", "Suggested action", "Last reminded"]
LINKEDIN = (
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
    "Dana,Ruiz,https://www.linkedin.com/in/dana-ruiz,dana@example.com,Wayne,CTO,02 Feb 2026\r\n"
)


def make_book(folder: Path, extra: dict[str, object]) -> Path:
    """An openpyxl workbook with the contacts in A1:E4 plus the `extra` cells."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Contacts"
    for row in [HEADER, *PEOPLE]:
        sheet.append(row)
    for address, value in extra.items():
        sheet[address] = value
    path = folder / "contacts.xlsx"
    book.save(path)
    write_config(folder)
    (folder / "Connections.csv").write_text(LINKEDIN, encoding="utf-8")
    return path


def cells(path: Path) -> dict[str, object]:
    """Every non-empty cell of the contacts sheet by address, as openpyxl reads it."""
    book = openpyxl.load_workbook(path)
    try:
        return {
            cell.coordinate: cell.value
            for row in book["Contacts"].iter_rows()
            for cell in row
            if cell.value is not None
        }
    finally:
        book.close()


def new_headers(before: dict[str, object], after: dict[str, object]) -> dict[str, object]:
    """The header cells a command added, by address."""
    return {
        address: value
        for address, value in after.items()
        if address not in before and address[-1] == "1" and address[-2].isalpha()
    }


COMMANDS = {
    "run": (("run",), OWNED),
    "snooze": (("snooze", "ann", "3"), ["Follow up on"]),
    "done": (("done", "ann"), ["Last contact", "Follow-ups"]),
    "import": (
        ("import", "linkedin", "Connections.csv"),
        ["Company", "Role", "LinkedIn", "Follow up on", "Priority"],  # the last two: the spread
    ),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_new_column_never_covers_the_users_cells_right_of_the_table(
    tmp_path: Path, command: str
) -> None:
    path = make_book(tmp_path, USERS)
    before = cells(path)
    args, headers = COMMANDS[command]
    if command == "import":
        args = (*args[:2], str(tmp_path / args[2]))
    done = invoke(tmp_path, *args)
    assert done.exit_code == 0, done.output
    after = cells(path)
    assert {address: after.get(address) for address in USERS} == USERS
    assert {address: after[address] for address in before} == before  # nothing of theirs moved
    added = new_headers(before, after)
    assert sorted(added.values()) == sorted(headers)
    # F, G and H each hold a cell of the user's in some row: the first free column is I.
    assert sorted(added) == [f"{letter}1" for letter in "IJKLM"[: len(headers)]]


def test_the_status_columns_written_beside_the_users_cells_are_found_again(
    tmp_path: Path,
) -> None:
    """A second run finds its columns at I:L (headers after a gap) and changes nothing."""
    path = make_book(tmp_path, USERS)
    assert invoke(tmp_path, "run").exit_code == 0
    written = cells(path)
    assert [written[f"{letter}1"] for letter in "IJKL"] == OWNED
    again = invoke(tmp_path, "run")
    assert again.exit_code == 0, again.output
    assert "Wrote" not in again.output, again.output
    assert cells(path) == written


@pytest.mark.parametrize(
    ("far", "places"),
    [
        ("XFD1", ["F1", "G1", "H1", "I1", "J1", "K1"]),
        ("XFC1", ["XFD1", "F1", "G1", "H1", "I1", "J1"]),
    ],
)
def test_a_value_in_the_header_rows_last_columns_leaves_the_new_columns_between_headers(
    tmp_path: Path, far: str, places: list[str]
) -> None:
    """A header typed in the sheet's last columns leaves no room right of it (or little): the
    new columns take the first empty columns between the headers, and the far cell stays."""
    path = make_book(tmp_path, {far: "x"})
    ran = invoke(tmp_path, "run")
    assert ran.exit_code == 0, ran.output
    after = cells(path)
    assert [after[address] for address in places[:4]] == OWNED
    assert after[far] == "x"
    done = invoke(tmp_path, "done", "ann")
    assert done.exit_code == 0, done.output
    after = cells(path)
    assert [after[address] for address in places[4:]] == ["Last contact", "Follow-ups"]
    assert [after[address.replace("1", "2")] for address in places[4:]] == [
        datetime(2026, 3, 11),
        1,
    ]
    assert after[far] == "x"
    assert invoke(tmp_path, "run").exit_code == 0


def test_a_sheet_without_an_empty_column_is_not_written_and_says_why(tmp_path: Path) -> None:
    """Every column from F to XFD holds something in some row: no new column fits anywhere."""
    path = make_book(tmp_path, {})
    book = openpyxl.load_workbook(path)
    for col in range(6, 16_385):
        book["Contacts"].cell(9, col, col)
    book.save(path)
    before = path.read_bytes()
    status = invoke(tmp_path, "status")
    assert status.exit_code == 0, status.output
    assert "needs 4 empty columns" in " ".join(status.output.split()), status.output
    ran = invoke(tmp_path, "run")
    assert ran.exit_code == 0, ran.output
    assert path.read_bytes() == before
    done = invoke(tmp_path, "done", "ann")
    assert done.exit_code == 3, done.output
    assert "no Last contact column, and no empty column" in " ".join(done.output.split())
    assert path.read_bytes() == before
