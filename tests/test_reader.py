"""Reading the contacts sheet: finding it, mapping columns, parsing rows, reporting problems."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from corpus import CORPUS, corpus_file, corpus_params
from reading import read_contacts
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from followup.core.model import Contact, HowMet, Problem, Stage
from followup.errors import WorkbookError
from followup.workbook.contents import SheetContents, digest_skips, user_digest
from tests.workbooks import make_workbook

TODAY = date(2026, 3, 11)


def read(path: Path, **kwargs: object) -> SheetContents:
    return read_contacts(path, **kwargs)  # type: ignore[arg-type]


# --- a realistic sheet: title row, shuffled and extra columns, aliases, every date spelling ---

MESSY_HEADER = [
    "Notes",
    "E-mail",
    "Full name",
    "Favourite colour",
    "Date met",
    "Tier",
    "Cadence",
    "Touches",
    "Organisation",
    "Last touch",
    "How we met",
    "Stage",
    "Snooze until",
    "Mobile",
    "Next follow-up",
    "Last reminded",
]


def messy_rows() -> list[list[object]]:
    # Columns:  Notes, E-mail, Full name, colour, Date met, Tier, Cadence, Touches,
    #           Organisation, Last touch, How we met, Stage, Snooze until, Mobile, Next, Reminded
    return [
        MESSY_HEADER,
        ["met at PyCon", "ann@example.com", "Ann Archer", "blue", date(2026, 3, 9), "a", 14,
         "2", "Acme", "2026-03-10", "event", "", "", "0612345678", date(2026, 3, 11),
         date(2026, 3, 10)],
        [],
        ["", "", "Ben Baker", "", "3/5/2026", "", "", "", "", "March 6, 2026", "Job application",
         "waiting for reply", "", 4915112345678, "", ""],
        ["", "", "Cleo Cho", "", "11 Feb 2026", "C", "", 1.0, "", "Feb 12 2026", "informational",
         "", "2026-04-01", "", "", ""],
        [],
        [],
        ["", "", "Dan Diaz", "", "3.2.26", "", "30", "", "", "11 March 2026", "", "Paused",
         "Mar 20 2026", "", "", ""],
        ["", "", "Eve Ede", "", "11-Mar-26", "B", "", "", "", "", "Referral", "", "", "", "", ""],
    ]  # fmt: skip


def test_messy_sheet_reads_every_row_as_the_user_meant(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "messy.xlsx", messy_rows(), title_rows=1)

    contents = read(path, today=TODAY)

    assert contents.problems == ()
    assert contents.sheet == "Contacts"
    assert contents.header_row == 2
    assert contents.last_header_col == len(MESSY_HEADER)
    assert contents.columns == {
        "notes": 1,
        "email": 2,
        "name": 3,
        "met_on": 5,
        "priority": 6,
        "cadence": 7,
        "follow_ups": 8,
        "company": 9,
        "last_contact": 10,
        "how_met": 11,
        "stage": 12,
        "follow_up_on": 13,
        "phone": 14,
        "next_follow_up": 15,
        "last_reminded": 16,
    }
    assert contents.contacts == (
        Contact(
            row=3,
            name="Ann Archer",
            company="Acme",
            email="ann@example.com",
            phone="0612345678",
            how_met=HowMet.NETWORKING_EVENT,
            met_on=date(2026, 3, 9),
            last_contact=date(2026, 3, 10),
            follow_ups=2,
            priority="A",
            cadence=14,
            notes="met at PyCon",
            last_reminded=date(2026, 3, 10),
        ),
        Contact(
            row=5,
            name="Ben Baker",
            phone="4915112345678",
            how_met=HowMet.JOB_APPLICATION,
            met_on=date(2026, 3, 5),
            last_contact=date(2026, 3, 6),
            stage=Stage.WAITING,
        ),
        Contact(
            row=6,
            name="Cleo Cho",
            how_met=HowMet.INFORMATIONAL_INTERVIEW,
            met_on=date(2026, 2, 11),
            last_contact=date(2026, 2, 12),
            follow_ups=1,
            priority="C",
            follow_up_on=date(2026, 4, 1),
        ),
        Contact(
            row=9,
            name="Dan Diaz",
            met_on=date(2026, 3, 2),
            last_contact=date(2026, 3, 11),
            cadence=30,
            follow_up_on=date(2026, 3, 20),
            stage=Stage.PAUSED,
        ),
        Contact(row=10, name="Eve Ede", how_met=HowMet.REFERRAL, met_on=date(2026, 3, 11)),
    )
    # The run's own columns: the two it has, then two it will add after the last header.
    assert contents.owned == {
        "next_follow_up": 15,
        "follow_up_status": 17,
        "suggested_action": 18,
        "last_reminded": 16,
    }
    assert contents.owned_values == {
        2: ("Next follow-up", "", "", "Last reminded"),
        3: (date(2026, 3, 11), "", "", date(2026, 3, 10)),
    }
    assert len(contents.digests) == 10  # every row, the title row and the blank ones too


def test_dmy_text_dates(tmp_path: Path) -> None:
    rows = [["Name", "Met on", "Last contact"], ["Ann", "11/3/2026", "12.03.26"]]
    path = make_workbook(tmp_path / "dmy.xlsx", rows)

    (contact,) = read(path, date_order="DMY").contacts

    assert (contact.met_on, contact.last_contact) == (date(2026, 3, 11), date(2026, 3, 12))


@pytest.mark.parametrize("date_1904", [False, True])
@pytest.mark.parametrize("date_format", ["yyyy-mm-dd", "d mmm yyyy", "dd/mm/yyyy", "m/d/yy h:mm"])
def test_real_date_cells_in_both_date_systems(
    tmp_path: Path, date_1904: bool, date_format: str
) -> None:
    rows = [["Name", "Met on", "Follow up on"], ["Ann", date(2026, 3, 11), date(1904, 1, 5)]]
    path = make_workbook(
        tmp_path / "dates.xlsx", rows, date_format=date_format, date_1904=date_1904
    )

    (contact,) = read(path).contacts

    assert (contact.met_on, contact.follow_up_on) == (date(2026, 3, 11), date(1904, 1, 5))


# --- problems ----------------------------------------------------------------------------------


def test_bad_cells_are_problems_at_their_address_and_the_row_still_counts(
    tmp_path: Path,
) -> None:
    rows = [
        ["Name", "Priority", "Cadence", "Met on", "How we met", "Follow-ups", "Last reminded"],
        ["Eve", "D", -3, "next Tuesday", "conference", "lots", "garbage"],
        ["Fay", "A", 7, "2026-03-01", "event", 1, ""],
    ]
    path = make_workbook(tmp_path / "bad.xlsx", rows, title_rows=2)

    contents = read(path)

    assert [(p.sheet, p.cell, p.value) for p in contents.problems] == [
        ("Contacts", "B4", "D"),
        ("Contacts", "C4", "-3"),
        ("Contacts", "D4", "next Tuesday"),
        ("Contacts", "E4", "conference"),
        ("Contacts", "F4", "lots"),
    ]
    messages = [p.message for p in contents.problems]
    assert messages[0].startswith("Priority: ") and "A, B or C" in messages[0]
    assert messages[1].startswith("Cadence: ") and "whole number" in messages[1]
    assert messages[2].startswith("Met on: ") and "2026-03-11" in messages[2]
    assert messages[3].startswith("How we met: ") and "Networking event" in messages[3]
    assert messages[4].startswith("Follow-ups: ")
    # Every bad field fell back to its default; the rest of the row is used.
    assert contents.contacts[0] == Contact(row=4, name="Eve")
    assert contents.contacts[1].priority == "A"


def test_problem_names_the_column_as_the_user_typed_it(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "alias.xlsx", [["Contact", "Tier"], ["Ann", "Z"]])

    (problem,) = read(path).problems

    assert problem.cell == "B2"
    assert problem.message.startswith("Tier: ")


def test_sheet_starting_at_c3_keeps_true_addresses(tmp_path: Path) -> None:
    rows = [["Name", "Email", "Met on"], ["Ann", "ann@x.org", "someday"], ["Ben", "", ""]]
    path = make_workbook(tmp_path / "c3.xlsx", rows, start="C3", title_rows=1)

    contents = read(path)

    assert contents.header_row == 4
    assert contents.columns == {"name": 3, "email": 4, "met_on": 5}
    assert contents.last_header_col == 5
    assert [c.row for c in contents.contacts] == [5, 6]
    assert contents.contacts[0].email == "ann@x.org"
    assert [p.cell for p in contents.problems] == ["E5"]


def test_duplicate_header_first_wins(tmp_path: Path) -> None:
    rows = [["Name", "Email", "E-mail"], ["Ann", "first@x.org", "second@x.org"]]
    path = make_workbook(tmp_path / "dup-header.xlsx", rows)

    contents = read(path)

    assert contents.columns["email"] == 2
    assert contents.contacts[0].email == "first@x.org"
    (problem,) = contents.problems
    assert (problem.cell, problem.value) == ("C1", "E-mail")
    assert "B1" in problem.message


def test_row_with_data_but_no_name(tmp_path: Path) -> None:
    rows = [
        ["Name", "Email", "Next follow-up"],
        ["Ann", "ann@x.org", ""],
        ["", "lost@x.org", ""],
        ["", "", date(2026, 3, 1)],  # only our own column left over: not the user's data
    ]
    path = make_workbook(tmp_path / "noname.xlsx", rows)

    contents = read(path)

    assert [c.name for c in contents.contacts] == ["Ann"]
    (problem,) = contents.problems
    assert problem.cell == "A3"
    assert "Row 3 has data but no Name" in problem.message


def test_duplicates_are_reported_once_and_both_rows_kept(tmp_path: Path) -> None:
    rows = [
        ["Name", "Company", "Email"],
        ["Ann Archer", "Acme", "ann@x.org"],
        ["Bob Bell", "Initech", ""],
        ["Annie Archer", "Other", " ANN@X.ORG "],  # same email
        ["bob  bell", "INITECH", ""],  # same name and company
        ["Ann Archer", "Acme", "ann@x.org"],  # both: still one problem
        ["Cy", "", ""],
        ["Cy", "", ""],  # same name, no company
        ["Dee", "Acme", "dee@x.org"],
    ]
    path = make_workbook(tmp_path / "dups.xlsx", rows)

    contents = read(path)

    assert len(contents.contacts) == 8
    assert [(p.cell, p.value) for p in contents.problems] == [
        ("A4", "Annie Archer"),
        ("A5", "bob  bell"),
        ("A6", "Ann Archer"),
        ("A8", "Cy"),
    ]
    first, second, third, fourth = (p.message for p in contents.problems)
    assert "row 2 (Ann Archer)" in first and "same email" in first
    assert "row 3 (Bob Bell)" in second and "same name and company" in second
    assert "row 2" in third
    assert "row 7" in fourth and "same name" in fourth


def test_implausible_dates_are_problems_but_kept(tmp_path: Path) -> None:
    rows = [
        ["Name", "Met on", "Last contact"],
        ["Ann", "2026-03-05", "2026-03-01"],
        ["Ben", date(2026, 4, 1), ""],
        ["Cy", "", "12 Mar 2026"],
    ]
    path = make_workbook(tmp_path / "dates.xlsx", rows)

    contents = read(path, today=TODAY)

    assert [(p.cell, p.value) for p in contents.problems] == [
        ("C2", "2026-03-01"),
        ("B3", "2026-04-01"),
        ("C4", "12 Mar 2026"),
    ]
    assert "before Met on" in contents.problems[0].message
    assert "in the future" in contents.problems[1].message
    assert contents.contacts[0].last_contact == date(2026, 3, 1)
    assert contents.contacts[1].met_on == date(2026, 4, 1)
    # Without today there is nothing to compare with: only the order problem remains.
    assert [p.cell for p in read(path).problems] == ["C2"]


# --- messy input -------------------------------------------------------------------------------


def test_merged_cells_formulas_text_numbers_hidden_and_formatted_blank_rows(
    tmp_path: Path,
) -> None:
    def customize(workbook: Workbook, sheet: Worksheet) -> None:
        sheet.write_formula("B2", '="Ac"&"me"', None, "Acme")  # cached value is what we read
        sheet.write_formula("C2", "=1+1", None, 2)
        sheet.merge_range("E2:E3", "Both met at PyCon")
        sheet.set_row(2, None, None, {"hidden": True})
        shaded = workbook.add_format({"bg_color": "#EEEEEE"})
        for row in range(3, 500):
            sheet.write_blank(row, 0, None, shaded)

    rows = [
        ["Name", "Company", "Follow-ups", "Phone", "Notes"],
        ["Ann", "", "", "007123", ""],
        ["Ben", "Initech", "3", "", ""],
    ]
    path = make_workbook(tmp_path / "messy-cells.xlsx", rows, customize=customize)

    contents = read(path)

    assert contents.problems == ()
    ann, ben = contents.contacts
    assert (ann.company, ann.follow_ups, ann.phone, ann.notes) == (
        "Acme",
        2,
        "007123",
        "Both met at PyCon",
    )
    assert (ben.row, ben.follow_ups, ben.notes) == (3, 3, "")


def test_reading_stops_at_a_second_table_below(tmp_path: Path) -> None:
    rows = [
        ["Name", "Met on", "Favourite colour"],
        ["Ann", "2026-03-01", "red"],
        [],
        [],
        ["Ben", "2026-03-02", ""],  # gaps alone never end the list
        [],
        ["Event", "Date", "Notes"],  # another table's header: a known column name
        ["PyCon", "someday", "bring cards"],
    ]
    path = make_workbook(tmp_path / "two-tables.xlsx", rows)

    contents = read(path)

    assert [c.name for c in contents.contacts] == ["Ann", "Ben"]
    assert contents.problems == ()


def test_second_table_repeating_one_of_our_headers_also_stops(tmp_path: Path) -> None:
    rows = [
        ["Name", "Favourite colour"],
        ["Ann", "red"],
        [],
        ["Favourite colour", "How many"],
        ["red", 1],
    ]
    path = make_workbook(tmp_path / "colours.xlsx", rows)

    assert [c.name for c in read(path).contacts] == ["Ann"]


# --- choosing the sheet and the header row -----------------------------------------------------


def test_contacts_on_a_later_sheet(tmp_path: Path) -> None:
    before = {"Summary": [["Total", 3]], "Lists": [["Priority"], ["A"], ["B"]]}
    path = make_workbook(tmp_path / "later.xlsx", [["Name"], ["Ann"]], "People", before=before)

    contents = read(path)

    assert contents.sheet == "People"
    assert [c.name for c in contents.contacts] == ["Ann"]


def test_hidden_sheet_with_names_comes_after_visible_ones(tmp_path: Path) -> None:
    def hide_first(workbook: Workbook, sheet: Worksheet) -> None:
        sheet.activate()
        workbook.worksheets()[0].hide()

    before = {"Lookup": [["Name"], ["Nobody"]]}
    path = make_workbook(
        tmp_path / "hidden.xlsx", [["Name"], ["Ann"]], before=before, customize=hide_first
    )

    assert read(path).sheet == "Contacts"
    assert read(path, sheet="lookup").sheet == "Lookup"  # configured names ignore case


def test_configured_sheet_missing_names_the_sheets_that_exist(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "s.xlsx", [["Name"]], before={"Summary": [["x"]]})

    with pytest.raises(WorkbookError, match="People") as raised:
        read(path, sheet="People")

    assert "'Summary', 'Contacts'" in str(raised.value)
    assert "[workbook] sheet" in str(raised.value)


def test_configured_sheet_without_a_name_column(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "s.xlsx", [["Name"]], before={"Summary": [["x"]]})

    with pytest.raises(WorkbookError, match='no Name column in the sheet "Summary"'):
        read(path, sheet="Summary")


@pytest.mark.parametrize(("title_rows", "found"), [(19, True), (20, False)])
def test_header_must_be_in_the_first_20_rows(tmp_path: Path, title_rows: int, found: bool) -> None:
    path = make_workbook(tmp_path / "deep.xlsx", [["Name"], ["Ann"]], title_rows=title_rows)

    if found:
        assert read(path).header_row == 20
    else:
        with pytest.raises(WorkbookError, match="no Name column in any sheet"):
            read(path)


def test_no_name_column_anywhere(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "none.xlsx", [["Person", "Email"], ["Ann", "a@x.org"]])

    with pytest.raises(WorkbookError, match=r"no Name column in any sheet .*followup init"):
        read(path)


# --- files that are not readable workbooks -----------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WorkbookError, match="does not exist"):
        read(tmp_path / "nope.xlsx")


@pytest.mark.parametrize("name", ["notes.xlsx", "notes.txt"])
def test_not_a_workbook(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("just some text\n")

    with pytest.raises(WorkbookError, match="not an Excel workbook"):
        read(path)


def test_password_protected() -> None:
    with pytest.raises(WorkbookError, match="password-protected"):
        read(corpus_file("pass_protected.xlsx"))


@pytest.mark.parametrize("name", corpus_params())
def test_every_corpus_file_reads_or_says_why_not(name: str) -> None:
    path = CORPUS / name
    try:
        contents = read(path, today=TODAY)
    except WorkbookError as error:
        assert str(error)
    else:
        assert contents.header_row <= 20
        assert all(isinstance(problem, Problem) for problem in contents.problems)


# --- speed -------------------------------------------------------------------------------------


def test_ten_thousand_rows_read_in_seconds_not_minutes(tmp_path: Path) -> None:
    header = ["Name", "Company", "Email", "How we met", "Met on", "Last contact", "Priority"]
    rows = [header] + [
        [f"Person {i}", "Acme", f"p{i}@x.org", "event", date(2026, 1, 1), "3/1/2026", "A"]
        for i in range(10_000)
    ]
    path = make_workbook(tmp_path / "big.xlsx", rows)

    started = time.perf_counter()
    contents = read(path, today=TODAY)
    elapsed = time.perf_counter() - started

    assert len(contents.contacts) == 10_000
    assert contents.problems == ()
    assert elapsed < 5  # a generous bound: scripts/bench.py measures the speed


def test_a_row_digest_sees_values_and_types_but_not_the_runs_own_columns() -> None:
    skips = digest_skips({"next_follow_up": 3, "last_reminded": 5})  # columns C and E

    def digest(*values: object) -> int:
        return user_digest(list(values), skips)

    row = digest("Ann", True, "Overdue", 2.0, date(2026, 3, 1))
    assert digest("Ann", True, "Upcoming", 2.0, None) == row  # only the run's cells differ
    assert digest("Ann", True, "", 2.0, "", "", "") == row  # a wider sheet, empty on the right
    assert digest("Ann", 1, "", 2.0) != row  # TRUE read back as 1
    assert digest("Ann", True, "", 2) != row  # the number 2.0 read back as the integer 2
    assert digest("Anne", True, "", 2.0) != row
    assert digest(True, "Ann", "", 2.0) != row  # cells moved
    assert digest("Ann", True, "", 2.0, "", "x") != row
    assert digest("Ann", True, "", -1.0) != digest("Ann", True, "", -2.0)  # equal hash()


@pytest.mark.parametrize("header", ["Where we met", "Event", "occasion"])
def test_where_we_met_is_an_optional_column_by_any_of_its_names(header: str) -> None:
    from followup.workbook.columns import match_header

    column = match_header(header)
    assert column is not None and column.key == "where_met"
