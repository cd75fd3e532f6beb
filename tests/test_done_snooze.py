"""`followup done` and `followup snooze`: the user's own cells, changed on purpose and no others.

Each test runs the real command on a workbook built like a user's, then compares the file with
a copy taken before: which cells changed, which zip parts changed, and what was printed.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import soffice_csv, write_config
from click.testing import CliRunner
from edit_helpers import (
    LOG_HEADER,
    SHEET_LISTS,
    TODAY,
    changed_cells,
    changed_parts,
    invoke,
    keep_copy,
    log_rows,
    sheet_names,
)
from workbooks import make_workbook
from xlsx_helpers import rich_workbook

from followup.cli import cli
from followup.workbook.guards import BACKUP_FOLDER

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")

D = date.fromisoformat
HEADER = ["Name", "Company", "Email", "How we met", "Met on", "Last contact", "Follow-ups",
          "Follow up on", "Notes"]  # fmt: skip
PEOPLE = [
    ["Ann Lee", "Acme", "ann@example.com", "Networking event", D("2026-03-01"), None, None],
    ["Anna Berg", "Globex", "", "Informational interview", D("2026-02-01"), D("2026-02-02")],
    ["Ann Leeson", "Initech", "al@example.com", "Keep in touch", None, D("2026-01-05"), 1,
     D("2026-03-09")],
    ["Bo Chen", "Umbrella", "bo@example.com", "Job application", D("2026-03-02"), None, None,
     None, "Applied for the analyst role"],
]  # fmt: skip
ROW = {"Ann Lee": 2, "Anna Berg": 3, "Ann Leeson": 4, "Bo Chen": 5}
COL = {name: index for index, name in enumerate(HEADER, start=1)}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, *PEOPLE])
    write_config(tmp_path)
    return tmp_path


def test_done_writes_last_contact_follow_ups_and_a_new_log_sheet_and_nothing_else(
    folder: Path,
) -> None:
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    done = invoke(folder, "done", "ann lee", "--note", "Sent the article", "--channel", "email")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(
        'Ann Lee (row 2): Last contact 2026-03-11, Follow-ups 1; logged on a new sheet "Log"\n'
    )
    assert "Next follow-up: 2026-06-09" in done.output  # the event's one step done: B, 90 days
    assert changed_cells(before, book, "Contacts") == {
        (2, COL["Last contact"]): date(2026, 3, 11),
        (2, COL["Follow-ups"]): 1.0,
    }
    assert sheet_names(book) == ["Contacts", "Log"]
    assert log_rows(book) == [
        LOG_HEADER,
        [date(2026, 3, 11), "Ann Lee", "ann@example.com", "email", "Sent the article"],
    ]
    assert changed_parts(before, book) == {
        "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "docProps/app.xml", *SHEET_LISTS
    }  # fmt: skip
    assert list((folder / BACKUP_FOLDER).iterdir()), "a backup of the previous version is kept"


def test_a_second_done_appends_to_the_log_and_leaves_the_sheet_lists_alone(folder: Path) -> None:
    book = folder / "contacts.xlsx"
    assert invoke(folder, "done", "bo", "--on", "2026-03-09").exit_code == 0
    before = keep_copy(book)
    done = invoke(folder, "done", "anna", "--channel", "meeting", "--note", "Coffee")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(
        'Anna Berg (row 3): Last contact 2026-03-11, Follow-ups 2; logged on sheet "Log"\n'
    )  # the interview's thank-you (02-02) and today's update: the steps are done
    assert "Next follow-up: 2026-06-09" in done.output
    assert changed_parts(before, book) == {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"}
    assert log_rows(book)[1:] == [
        [date(2026, 3, 9), "Bo Chen", "bo@example.com", "email", ""],
        [date(2026, 3, 11), "Anna Berg", "", "meeting", "Coffee"],
    ]


def test_done_adds_the_missing_columns_after_the_last_header(tmp_path: Path) -> None:
    header = ["Name", "Email", "Met on", "Notes"]
    make_workbook(tmp_path / "contacts.xlsx", [header, ["Cy Diaz", "", D("2026-03-02"), "x"]])
    write_config(tmp_path)
    book = tmp_path / "contacts.xlsx"
    before = keep_copy(book)
    done = invoke(tmp_path, "done", "cy")
    assert done.exit_code == 0, done.output
    assert changed_cells(before, book, "Contacts") == {
        (1, 5): "Last contact",
        (1, 6): "Follow-ups",
        (2, 5): date(2026, 3, 11),
        (2, 6): 1.0,
    }
    assert log_rows(book)[1] == [date(2026, 3, 11), "Cy Diaz", "", "note", ""]


def test_done_clears_a_follow_up_on_it_has_reached_and_keeps_a_later_last_contact(
    folder: Path,
) -> None:
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    done = invoke(folder, "done", "ann leeson", "--on", "2026-03-10")
    assert done.exit_code == 0, done.output
    assert "Follow-ups 2, Follow up on cleared; logged" in done.output
    assert changed_cells(before, book, "Contacts") == {
        (4, COL["Last contact"]): date(2026, 3, 10),
        (4, COL["Follow-ups"]): 2.0,
        (4, COL["Follow up on"]): "",
    }
    before = keep_copy(book)
    done = invoke(folder, "done", "al@example.com", "--on", "2026-03-01")
    assert done.exit_code == 0, done.output
    assert "Last contact stays 2026-03-10, Follow-ups 3" in done.output
    assert changed_cells(before, book, "Contacts") == {(4, COL["Follow-ups"]): 3.0}


def test_done_before_a_follow_up_on_date_clears_it_unless_it_lies_beyond_the_cadence(
    folder: Path,
) -> None:
    """A follow-up made early (a "coming up" reminder, an import's spread check-in) retires the
    reminder: they are not asked to check in again days after they did."""
    book = folder / "contacts.xlsx"
    assert invoke(folder, "snooze", "ann lee", "7").exit_code == 0  # 2026-03-18
    before = keep_copy(book)
    done = invoke(folder, "done", "ann lee")
    assert done.exit_code == 0, done.output
    assert "Follow-ups 1, Follow up on cleared; logged" in done.output
    assert "Next follow-up: 2026-06-09" in done.output  # the event's step done: B, 90 days
    assert changed_cells(before, book, "Contacts") == {
        (2, COL["Last contact"]): date(2026, 3, 11),
        (2, COL["Follow-ups"]): 1.0,
        (2, COL["Follow up on"]): "",
    }
    # A reminder set further ahead than the cadence (B: 90 days) is for later, and stays.
    assert invoke(folder, "snooze", "anna", "--until", "2026-09-01").exit_code == 0
    before = keep_copy(book)
    done = invoke(folder, "done", "anna")
    assert done.exit_code == 0, done.output
    assert "cleared" not in done.output
    assert "Next follow-up: 2026-09-01" in done.output
    assert (3, COL["Follow up on"]) not in changed_cells(before, book, "Contacts")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("ann", "'ann' matches 2 contacts in Contacts:\n  row 2: Ann Lee, Acme (ann@example.com)\n"
                "  row 4: Ann Leeson, Initech (al@example.com)\n"),
        ("an", "No name in Contacts has 'an' as a whole word; it is the start of these names:\n"
               "  row 2: Ann Lee, Acme (ann@example.com)\n  row 3: Anna Berg, Globex\n"
               "  row 4: Ann Leeson, Initech (al@example.com)\nType the whole word"),
        ("ann le", "row 2: Ann Lee"),
        ("zed", "No contact in Contacts has 'zed' as their name, a word of it, or their email. "
                "Check the spelling"),
        ("ann leeon", "Did you mean Ann Leeson (row 4)"),
    ],
)  # fmt: skip
def test_an_ambiguous_or_unknown_name_changes_nothing_and_exits_2(
    folder: Path, query: str, message: str
) -> None:
    before = (folder / "contacts.xlsx").read_bytes()
    done = invoke(folder, "done", query)
    assert done.exit_code == 2
    assert message in done.output
    assert (folder / "contacts.xlsx").read_bytes() == before


def test_a_row_number_at_or_above_a_lower_header_says_where_contacts_start(
    tmp_path: Path,
) -> None:
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, *PEOPLE], title_rows=2)
    write_config(tmp_path)
    header = invoke(tmp_path, "done", "#3")
    assert header.exit_code == 2
    assert "Row 3 of Contacts is the header row; contacts start at row 4." in header.output
    title = invoke(tmp_path, "snooze", "#1", "3")
    assert "Row 1 of Contacts is above the header row (3); contacts start at row 4." in (
        title.output
    )
    assert invoke(tmp_path, "done", "#4").exit_code == 0


def test_the_exact_name_wins_over_a_longer_one_and_a_name_may_be_unquoted(folder: Path) -> None:
    done = invoke(folder, "done", "Ann", "Lee")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Ann Lee (row 2):")


@pytest.mark.parametrize("lock", ["~$contacts.xlsx", ".~lock.contacts.xlsx#"])
def test_done_and_snooze_refuse_while_the_workbook_is_open(folder: Path, lock: str) -> None:
    (folder / lock).write_text("someone", encoding="utf-8")
    before = (folder / "contacts.xlsx").read_bytes()
    for args in (["done", "bo"], ["snooze", "bo", "7"]):
        refused = invoke(folder, *args)
        assert refused.exit_code == 1
        assert "contacts.xlsx is open in" in refused.output
        assert "nothing was changed" in refused.output
        assert "Traceback" not in refused.output
    assert (folder / "contacts.xlsx").read_bytes() == before
    assert not (folder / BACKUP_FOLDER).exists()


def test_done_never_overwrites_a_formula(tmp_path: Path) -> None:
    rows = [["Name", "Email", "Follow-ups"], ["Di Egan", "di@example.com", "=1+1"]]
    make_workbook(tmp_path / "contacts.xlsx", rows)
    write_config(tmp_path)
    before = (tmp_path / "contacts.xlsx").read_bytes()
    done = invoke(tmp_path, "done", "di")
    assert done.exit_code == 1
    assert "C2 in contacts.xlsx holds a formula" in done.output
    assert (tmp_path / "contacts.xlsx").read_bytes() == before


def test_done_refuses_a_future_day(folder: Path) -> None:
    done = invoke(folder, "done", "bo", "--on", "2026-03-12")
    assert done.exit_code == 2
    assert "in the future" in done.output


def test_snooze_sets_follow_up_on_by_days_or_date(folder: Path) -> None:
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    snoozed = invoke(folder, "snooze", "Bo", "Chen", "14")
    assert snoozed.exit_code == 0, snoozed.output
    assert snoozed.output == "Bo Chen (row 5): Follow up on 2026-03-25\n"
    assert changed_cells(before, book, "Contacts") == {(5, COL["Follow up on"]): date(2026, 3, 25)}
    assert changed_parts(before, book) <= {"xl/worksheets/sheet1.xml", "xl/styles.xml"}
    assert sheet_names(book) == ["Contacts"], "snoozing is no follow-up: nothing is logged"

    snoozed = invoke(folder, "snooze", "bo", "--until", "2026-04-01")
    assert snoozed.exit_code == 0, snoozed.output
    status = invoke(folder, "status", "--json")
    bo = next(c for c in json.loads(status.output)["contacts"] if c["row"] == 5)
    assert (bo["next_follow_up"], bo["status"]) == ("2026-04-01", "scheduled")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bo"], "Say when to be reminded: a number of days"),
        (["bo", "chen"], "Say when to be reminded: a number of days"),
        (["bo", "5", "--until", "2026-04-01"], "a number of days (5) or --until DATE, not both"),
        (["bo", "1e3"], "DAYS '1e3' must be a whole number from 0 to 3,650"),
        (["bo", "+5"], "DAYS '+5' must be a whole number"),
        (["bo", "5.0"], "DAYS '5.0' must be a whole number"),
        (["bo", " 5"], "DAYS ' 5' must be a whole number"),
        (["bo", "1_000"], "DAYS '1_000' must be a whole number"),
        (
            ["bo", "2026-04-01"],
            "DAYS '2026-04-01' must be a whole number from 0 to 3,650 (about "
            "ten years), like 14; or give the day with --until YYYY-MM-DD",
        ),
        (["bo", "--until", "2026-03-01"], "is in the past"),
        (["bo", "--until", "someday"], "is not a date"),
        (["bo", "3000000"], "DAYS '3000000' must be a whole number from 0 to 3,650"),
        (["bo", "1" * 25], "must be a whole number from 0 to 3,650 (about ten years)"),
        (["bo", "1" * 5000], "must be a whole number from 0 to 3,650"),  # past int()'s limit
        (["bo", "²"], "DAYS '²' must be a whole number from 0 to 3,650"),  # "²".isdigit()
        (["bo", "٣"], "DAYS '٣' must be a whole number"),
        (["bo", "--until", "9999-12-31"], "is not between 1900-01-01 and 2200-12-31"),
    ],
)
def test_snooze_explains_bad_usage(folder: Path, args: list[str], message: str) -> None:
    before = (folder / "contacts.xlsx").read_bytes()
    snoozed = invoke(folder, "snooze", *args)
    assert snoozed.exit_code == 2
    assert message in snoozed.output
    assert "unexpected error" not in snoozed.output
    assert (folder / "contacts.xlsx").read_bytes() == before


def test_snooze_names_a_negative_count_as_days(folder: Path) -> None:
    config = str(folder / "config.toml")
    snoozed = CliRunner().invoke(cli, ["snooze", "--config", config, "bo", "--", "-1"])
    assert snoozed.exit_code == 2
    assert "DAYS '-1' must be a whole number from 0 to 3,650" in snoozed.output


def test_snooze_past_the_last_day_followup_works_with_is_bad_usage(folder: Path) -> None:
    snoozed = invoke(folder, "snooze", "bo", "3650", today="2200-01-01")
    assert snoozed.exit_code == 2
    assert "2209-12-30 is after 2200-12-31, the last day followup works with" in snoozed.output
    assert invoke(folder, "snooze", "bo", "3650").exit_code == 0


@pytest.mark.parametrize(
    ("note", "logged", "notice"),
    [
        ("a\r\nb", "a\nb", ""),
        ("line\rbreak", "line\nbreak", ""),
        ("bell \x01 and _x000D_", "bell \x01 and _x000D_", ""),
        (
            "x" * 32_768,
            "x" * 32_767,
            "The note was cut to 32,767 characters, the most a cell holds.",
        ),
        ("a\udcff", "a", "The note was stripped of 1 character no cell can hold."),
    ],
)
def test_a_note_is_logged_the_way_excel_stores_text(
    folder: Path, note: str, logged: str, notice: str
) -> None:
    """Each of these ended in "did not read back the same; not saved", exit 3."""
    done = invoke(folder, "done", "bo", "--note", note)
    assert done.exit_code == 0, done.output
    assert log_rows(folder / "contacts.xlsx")[-1][4] == logged
    assert (notice in done.output.splitlines()) if notice else len(done.output.splitlines()) == 2


def test_done_on_a_rich_workbook_touches_only_its_cells_and_grows_the_table(
    tmp_path: Path,
) -> None:
    book = rich_workbook(tmp_path / "contacts.xlsx")
    write_config(tmp_path)
    before = keep_copy(book)
    done = invoke(tmp_path, "done", "cy")  # Touches is the Follow-ups column; 2 -> 3
    assert done.exit_code == 0, done.output
    assert "Cy Diaz (row 4): Last contact 2026-03-11, Follow-ups 3" in done.output
    # Last contact goes right of the table (H), the column the table grows over.
    assert changed_cells(before, book, "Contacts") == {
        (1, 8): "Last contact",
        (4, 8): date(2026, 3, 11),
        (4, 6): 3.0,
    }
    assert changed_parts(before, book) == {
        "xl/worksheets/sheet1.xml", "xl/tables/table1.xml", "xl/worksheets/sheet3.xml",
        "docProps/app.xml", *SHEET_LISTS,
    }  # fmt: skip
    assert sheet_names(book) == ["Contacts", "Summary", "Log"]


def test_libreoffice_opens_a_workbook_with_the_new_log_sheet(folder: Path) -> None:
    assert invoke(folder, "done", "bo", "--note", "Asked about the team, kindly").exit_code == 0
    shown = soffice_csv(folder / "contacts.xlsx", folder / "csv")
    if shown is None:
        pytest.skip("LibreOffice is not installed")
    assert "Date,Name,Email,Channel,Note" in shown
    assert '2026-03-11,Bo Chen,bo@example.com,email,"Asked about the team, kindly"' in shown


def test_done_past_the_most_follow_ups_a_cell_counts_is_bad_usage(tmp_path: Path) -> None:
    """9,999 + 1 would be written, read back as a problem, and fail the save's check."""
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, ["Cy Max", "", "", "", None, None, 9999]])
    write_config(tmp_path)
    before = (tmp_path / "contacts.xlsx").read_bytes()
    done = invoke(tmp_path, "done", "cy")
    assert done.exit_code == 2, done.output
    says = "Cy Max already has 9,999 follow-ups, and a Follow-ups cell counts at most 9,999"
    assert says in done.output
    assert (tmp_path / "contacts.xlsx").read_bytes() == before


def test_done_refuses_when_the_cell_it_needs_is_hidden_by_a_merged_range(tmp_path: Path) -> None:
    """Last contact of Anna Berg (F3) lies inside the merged range E2:F3; Excel would never show
    what done wrote there, so done changes nothing and says why."""
    make_workbook(
        tmp_path / "contacts.xlsx",
        [HEADER, *PEOPLE],
        customize=lambda _book, sheet: sheet.merge_range("E2:F3", "Spring meetup"),
    )
    write_config(tmp_path)
    book = tmp_path / "contacts.xlsx"
    before = book.read_bytes()
    done = invoke(tmp_path, "done", "anna")
    assert done.exit_code == 1, done.output
    assert "Contacts!F3 is inside the merged range E2:F3" in done.output
    assert "nothing was changed" in done.output
    assert book.read_bytes() == before
    assert invoke(tmp_path, "done", "bo").exit_code == 0  # row 5 is clear of it


def test_a_second_done_the_same_day_is_refused_unless_again(folder: Path) -> None:
    book = folder / "contacts.xlsx"
    assert invoke(folder, "done", "bo").exit_code == 0
    before = book.read_bytes()
    twice = invoke(folder, "done", "bo", "chen")
    assert twice.exit_code == 2
    assert twice.output == (
        "followup: A follow-up with Bo Chen today is already in the Log (by email), so nothing was "
        "changed. If you really followed up twice, add --again; to take the last one back, run "
        "`followup undo`.\n"
    )
    assert book.read_bytes() == before
    again = invoke(folder, "done", "bo", "--again")
    assert again.exit_code == 0, again.output
    assert "Follow-ups 2" in again.output
    assert len(log_rows(book)) == 3


def test_a_done_already_typed_in_last_contact_is_refused_unless_again(tmp_path: Path) -> None:
    """Last contact = the day and Follow-ups counted, as the "How to use" sheet says to type it."""
    typed = [*PEOPLE[:3], [*PEOPLE[3][:5], D(TODAY), 1, None, PEOPLE[3][8]]]
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, *typed])
    write_config(tmp_path)
    book = tmp_path / "contacts.xlsx"
    before = book.read_bytes()
    twice = invoke(tmp_path, "done", "bo")
    assert twice.exit_code == 2
    assert twice.output == (
        f"followup: A follow-up with Bo Chen today is already recorded in Last contact ({TODAY}), "
        "so nothing was changed. If you really followed up twice, add --again.\n"
    )  # no `undo` hint: undo takes back only what followup recorded, not a date typed by hand
    assert book.read_bytes() == before
    earlier = invoke(tmp_path, "done", "ann leeson", "--on", "2026-01-05")
    assert earlier.exit_code == 2
    assert "on 2026-01-05 is already recorded in Last contact (2026-01-05)" in earlier.output
    again = invoke(tmp_path, "done", "bo", "--again")
    assert again.exit_code == 0, again.output
    assert "Follow-ups 2" in again.output
    assert invoke(tmp_path, "done", "ann lee").exit_code == 0, "nothing typed for Ann Lee"


def test_undo_takes_back_the_last_done_cells_and_log_row(folder: Path) -> None:
    book = folder / "contacts.xlsx"
    assert invoke(folder, "done", "bo", "--on", "2026-03-09").exit_code == 0
    before = keep_copy(book)
    done = invoke(folder, "done", "ann leeson", "--note", "Coffee")
    assert done.exit_code == 0, done.output
    undone = invoke(folder, "undo")
    assert undone.exit_code == 0, undone.output
    assert undone.output == (
        "Undid the follow-up with Ann Leeson recorded on 2026-03-11 (row 4): Last contact back "
        "to 2026-01-05, Follow-ups back to 1, Follow up on back to 2026-03-09, Log row 3 "
        "emptied. The Log sheet stays (an empty row in it is ignored), and cells back to blank "
        "keep the date or number format they were given.\n"
    )
    assert changed_cells(before, book, "Contacts") == {}
    assert log_rows(book) == log_rows(before)
    again = invoke(folder, "undo")
    assert again.exit_code == 2
    assert "There is nothing to undo" in again.output


def test_undo_takes_back_a_snooze(folder: Path) -> None:
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    assert invoke(folder, "snooze", "chen", "14").exit_code == 0
    undone = invoke(folder, "undo")
    assert undone.exit_code == 0, undone.output
    assert undone.output == (
        "Undid the snooze of Bo Chen recorded on 2026-03-11 (row 5): Follow up on back to blank.\n"
    )
    assert changed_cells(before, book, "Contacts") == {}


def test_a_snooze_that_changes_nothing_says_so_and_leaves_the_last_one_undoable(
    folder: Path,
) -> None:
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    assert invoke(folder, "snooze", "chen", "3").exit_code == 0
    snoozed = book.read_bytes()
    again = invoke(folder, "snooze", "chen", "3")
    assert again.exit_code == 0, again.output
    assert again.output == (
        "Bo Chen (row 5): Follow up on is already 2026-03-14, so nothing was changed.\n"
    )
    assert book.read_bytes() == snoozed
    undone = invoke(folder, "undo")
    assert undone.output == (
        "Undid the snooze of Bo Chen recorded on 2026-03-11 (row 5): Follow up on back to blank.\n"
    )
    assert changed_cells(before, book, "Contacts") == {}


def test_undo_refuses_when_the_cells_changed_since(folder: Path) -> None:
    import openpyxl

    book = folder / "contacts.xlsx"
    assert invoke(folder, "done", "bo").exit_code == 0
    workbook = openpyxl.load_workbook(book)
    workbook["Contacts"].cell(ROW["Bo Chen"], COL["Last contact"]).value = date(2026, 3, 10)
    workbook.save(book)
    before = book.read_bytes()
    undone = invoke(folder, "undo")
    assert undone.exit_code == 1
    assert undone.output == (
        "followup: Cannot undo the follow-up with Bo Chen recorded on 2026-03-11: Last contact "
        "in row 5 now holds 2026-03-10, not the 2026-03-11 it wrote: it was edited after the "
        "`done`, so undo changed nothing. Correct the row by hand if you need to.\n"
    )
    assert book.read_bytes() == before


def test_undo_never_writes_over_text_typed_since_in_a_cell_it_would_restore(
    folder: Path,
) -> None:
    """`done` cleared Follow up on; text typed there since reads as blank, like what `done`
    wrote, but it is the user's: undo refuses rather than put the old date over it."""
    import openpyxl

    book = folder / "contacts.xlsx"
    done = invoke(folder, "done", "ann leeson")
    assert done.exit_code == 0, done.output
    assert "Follow up on cleared" in done.output
    workbook = openpyxl.load_workbook(book)
    workbook["Contacts"].cell(ROW["Ann Leeson"], COL["Follow up on"]).value = "next spring"
    workbook.save(book)
    before = book.read_bytes()
    undone = invoke(folder, "undo")
    assert undone.exit_code == 2, undone.output
    assert "Contacts!H4 (Follow up on) holds 'next spring'" in undone.output
    assert "your text stays" in undone.output
    assert book.read_bytes() == before


def test_an_undo_that_only_empties_a_log_row_does_empty_it(folder: Path) -> None:
    """A record whose cells need nothing put back (kept by an older version, or edited) still
    has its Log row: undo must save that, not only say it, and then forget the record."""
    book = folder / "contacts.xlsx"
    assert invoke(folder, "done", "bo", "--on", "2026-03-09").exit_code == 0
    logged = log_rows(book)
    assert invoke(folder, "done", "ann lee").exit_code == 0
    state = next(folder.rglob("undo.json"))
    record = json.loads(state.read_text(encoding="utf-8"))
    state.write_text(json.dumps({**record, "fields": {}}), encoding="utf-8")
    before = keep_copy(book)
    undone = invoke(folder, "undo")
    assert undone.exit_code == 0, undone.output
    assert "(row 2): Log row 3 emptied." in undone.output
    assert changed_cells(before, book, "Contacts") == {}
    assert log_rows(book) == logged
    assert invoke(folder, "undo").exit_code == 2, "undone once, the record is forgotten"


def test_a_damaged_undo_record_is_set_aside(folder: Path) -> None:
    assert invoke(folder, "snooze", "bo", "3").exit_code == 0
    state = next(folder.rglob("undo.json"))
    state.write_text('{"command": "rm -rf"}', encoding="utf-8")
    undone = invoke(folder, "undo")
    assert undone.exit_code == 2
    assert "There is nothing to undo" in undone.output
    assert state.with_name("undo.json.bad").exists()


def test_done_says_why_there_is_no_next_follow_up(folder: Path) -> None:
    assert invoke(folder, "done", "bo", "--on", "2026-03-09").exit_code == 0
    done = invoke(folder, "done", "bo")
    assert done.exit_code == 0, done.output
    assert done.output.endswith(
        "No next follow-up: the job application follow-ups are all made, so give them space "
        "unless they get in touch (set Follow up on for a reminder).\n"
    )


@pytest.mark.parametrize(
    ("column", "typed", "command"),
    [
        ("Last contact", "last spring", ("done", "ann lee")),
        ("Follow-ups", "a few", ("done", "ann lee")),
        ("Follow up on", "after the holidays", ("done", "ann lee")),
        ("Follow up on", "after the holidays", ("snooze", "ann lee", "14")),
    ],
)
def test_text_typed_in_a_cell_a_command_would_write_is_kept_and_named(
    folder: Path, column: str, typed: str, command: tuple[str, ...]
) -> None:
    book = folder / "contacts.xlsx"
    people = [list(PEOPLE[0]) + [None] * (len(HEADER) - len(PEOPLE[0])), *PEOPLE[1:]]
    people[0][COL[column] - 1] = typed
    make_workbook(book, [HEADER, *people])
    before = keep_copy(book)
    refused = invoke(folder, *command)
    assert refused.exit_code == 2, refused.output
    cell = f"Contacts!{'FGH'[['Last contact', 'Follow-ups', 'Follow up on'].index(column)]}2"
    assert f"{cell} ({column}) holds {typed!r}, which followup cannot read" in refused.output
    assert book.read_bytes() == before.read_bytes()
    undo = invoke(folder, "undo")
    assert undo.exit_code != 0, "nothing was recorded to take back"
    assert book.read_bytes() == before.read_bytes()
