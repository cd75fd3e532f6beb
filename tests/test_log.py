"""The Log sheet and the history that survives hand edits.

Three layers: the writer adding (or appending to) the program's own sheet and nothing else;
the pure review that turns the memory, the Log and today's sheet into Log rows, touch counts
and referrers to thank; and `followup run` doing all of it on real workbooks.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import outbox_messages, write_config, zip_parts
from edit_helpers import (
    LOG_HEADER,
    SHEET_LISTS,
    changed_cells,
    changed_parts,
    invoke,
    keep_copy,
    log_rows,
    sheet_names,
)
from reading import read_log
from workbooks import make_workbook
from xlsx_helpers import rich_workbook

from followup.commands.memory import MEMORY_FILE, load_memory, save_memory
from followup.core.history import Memory, review
from followup.core.log import Log, LogEntry
from followup.core.model import Contact, HowMet, RuleSettings, Stage, Status
from followup.core.rules import follow_up
from followup.workbook.saving import log_additions
from followup.workbook.xlsx import OwnSheet, patch_sheet

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")

D = date.fromisoformat
TODAY = D("2026-03-11")


# --- the writer: the program's own sheet -----------------------------------------------------


def test_a_new_own_sheet_changes_only_the_parts_that_list_sheets(tmp_path: Path) -> None:
    book = rich_workbook(tmp_path / "rich.xlsx")
    out = tmp_path / "out.xlsx"
    own = OwnSheet("Log", {(1, 1): "Date", (1, 2): "Name", (2, 2): "Ann Lee"}, (12.0, 24.0))
    assert patch_sheet(book, out, "Contacts", {}, own).skipped == ()
    assert changed_parts(book, out) == {
        "xl/worksheets/sheet3.xml",
        "docProps/app.xml",
        *SHEET_LISTS,
    }
    parts = zip_parts(out)
    assert b'<sheet name="Log" sheetId="3" r:id="rId' in parts["xl/workbook.xml"]
    assert b'<col min="1" max="1" width="12" customWidth="1"/>' in parts["xl/worksheets/sheet3.xml"]
    # The worksheet titles come before the named ranges' in app.xml, and are counted.
    app = parts["docProps/app.xml"].decode()
    assert "<vt:i4>3</vt:i4>" in app
    assert (
        '<vt:vector size="4" baseType="lpstr"><vt:lpstr>Contacts</vt:lpstr>'
        "<vt:lpstr>Summary</vt:lpstr><vt:lpstr>Log</vt:lpstr><vt:lpstr>Everyone</vt:lpstr>"
    ) in app
    assert sheet_names(out) == ["Contacts", "Summary", "Log"]


def test_an_existing_own_sheet_is_appended_to_whatever_its_case(tmp_path: Path) -> None:
    book = make_workbook(
        tmp_path / "a.xlsx", [["Name"], ["Ann"]], before={"log": [LOG_HEADER]}
    )  # the Log first, and spelled in lower case
    out = tmp_path / "out.xlsx"
    patch_sheet(book, out, "Contacts", {}, OwnSheet("Log", {(2, 1): D("2026-03-11")}))
    # The log's part, and styles.xml: this workbook had no date style yet.
    assert changed_parts(book, out) == {"xl/worksheets/sheet1.xml", "xl/styles.xml"}
    assert changed_cells(book, out, "log") == {(2, 1): D("2026-03-11")}


def test_the_own_sheet_must_not_be_the_patched_sheet(tmp_path: Path) -> None:
    book = make_workbook(tmp_path / "a.xlsx", [["Name"]], sheet="Log")
    with pytest.raises(ValueError, match="own sheet"):
        patch_sheet(book, tmp_path / "b.xlsx", "Log", {}, OwnSheet("log", {(1, 1): "x"}))


# --- reading the Log ---------------------------------------------------------------------------


def test_the_log_is_read_by_its_headers_in_any_order(tmp_path: Path) -> None:
    rows = [
        ["My follow-ups"],
        ["Note", "Name", "Date", "Channel"],  # Email deleted, columns moved
        ["Coffee", "Ann Lee", D("2026-03-02"), "meeting"],
        ["", "No date", "someday", "email"],
        ["", "", D("2026-03-03"), "email"],
    ]
    book = make_workbook(tmp_path / "a.xlsx", [["Name"]], before={"Log": rows})
    log = read_log(book)
    assert log.entries == (LogEntry(D("2026-03-02"), "Ann Lee", "", "meeting", "Coffee"),)
    assert (log.header_row, log.columns, log.next_row) == (2, (3, 2, 5, 4, 1), 6)
    own = log_additions(log, [LogEntry(TODAY, "Bo", "bo@example.com", "email", "")])
    assert own is not None
    assert own.cells == {
        (6, 3): TODAY, (6, 2): "Bo", (6, 5): "bo@example.com", (6, 4): "email", (6, 1): ""
    }  # fmt: skip


@pytest.mark.parametrize(
    "theirs",
    [
        [["Diary"], ["x"]],
        [["Date", "Name", "Hours"], [D("2026-03-02"), "Ann Lee", 3]],  # a timesheet
        [],  # an empty sheet the user made
    ],
)
def test_someone_elses_log_sheet_is_left_alone(tmp_path: Path, theirs: list[list[object]]) -> None:
    book = make_workbook(tmp_path / "a.xlsx", [["Name"]], before={"LOG": theirs})
    log = read_log(book)
    assert (log.sheet, log.header_row, log.entries) == ("Follow-up log", 0, ())
    own = log_additions(log, [LogEntry(TODAY, "Bo")])
    assert own is not None and own.name == "Follow-up log"
    assert own.cells[(1, 1)] == "Date" and own.cells[(2, 1)] == TODAY


def test_the_log_takes_the_next_free_name(tmp_path: Path) -> None:
    sheets = {"Log": [["Diary"]], "Follow-up log": [["Mine too"]]}
    book = make_workbook(tmp_path / "a.xlsx", [["Name"]], before=sheets)
    assert read_log(book).sheet == "Follow-up log 2"


def test_a_contacts_sheet_called_log_is_not_the_log(tmp_path: Path) -> None:
    rows = [["Name", "Date", "Email", "Note"], ["Ann", D("2026-03-02"), "a@x.org", "hi"]]
    book = make_workbook(tmp_path / "contacts.xlsx", rows, sheet="Log")
    assert read_log(book, contacts="Log") == Log(sheet="Follow-up log")
    write_config(tmp_path)
    done = invoke(tmp_path, "done", "ann")  # stopped by "the own sheet must not be..." before
    assert done.exit_code == 0, done.output
    assert sheet_names(book) == ["Log", "Follow-up log"]


def test_done_and_run_keep_the_users_log_sheet_and_find_their_own_again(tmp_path: Path) -> None:
    diary = [["What I did", "When"], ["Called the bank", D("2026-03-01")]]
    book = make_workbook(tmp_path / "contacts.xlsx", [HEADER, *PEOPLE], before={"Log": diary})
    write_config(tmp_path)
    before = keep_copy(book)
    assert invoke(tmp_path, "run", today="2026-03-09").exit_code == 0  # the first look

    done = invoke(tmp_path, "done", "bo", today="2026-03-10")
    assert done.exit_code == 0, done.output
    assert 'logged on a new sheet "Follow-up log"' in done.output
    move_last_contact(book, {4: D("2026-03-10")})  # Cy, by hand
    ran = invoke(tmp_path, "run", today="2026-03-11")
    assert ran.exit_code == 0, ran.output
    assert '1 log row on sheet "Follow-up log"' in ran.output

    assert sheet_names(book) == ["Log", "Contacts", "Follow-up log"]
    assert [row[1:4] for row in log_rows(book, "Follow-up log")[1:]] == [
        ["Bo Chen", "bo@example.com", "email"],
        ["Cy Diaz", "cy@example.com", "workbook edit"],
    ]
    assert changed_cells(before, book, "Log") == {}  # the user's own sheet, untouched


def test_no_log_sheet_means_an_empty_log_written_from_a1(tmp_path: Path) -> None:
    log = read_log(make_workbook(tmp_path / "a.xlsx", [["Name"]]))
    assert log == Log()
    assert log_additions(log, []) is None


# --- the review: pure ----------------------------------------------------------------------


def interview(**fields: object) -> Contact:
    base = Contact(
        row=2,
        name="Ana Lima",
        email="ana@example.com",
        how_met=HowMet.INFORMATIONAL_INTERVIEW,
        met_on=D("2026-02-01"),
    )
    return replace(base, **fields)


def memory(last: date | None) -> Memory:
    return Memory({"email:ana@example.com": last})


def test_a_last_contact_moved_by_hand_is_logged_and_moves_the_relationship_on() -> None:
    """The worked examples' informational interview: thank-you on 02-02, then the update."""
    ana = interview(last_contact=D("2026-02-23"))
    before = follow_up(interview(last_contact=D("2026-02-23")), TODAY, RuleSettings())
    assert before.next_date == D("2026-03-16")  # without history: "update in 3 weeks" again

    history = review([ana], Log(), memory(D("2026-02-02")), TODAY)
    assert history.new_entries == (
        LogEntry(D("2026-02-02"), "Ana Lima", "ana@example.com", "workbook edit",
                 "An earlier contact, seen in the workbook before 2026-02-23"),
        LogEntry(D("2026-02-23"), "Ana Lima", "ana@example.com", "workbook edit",
                 "Last contact moved from 2026-02-02 to 2026-02-23 in the workbook"),
    )  # fmt: skip
    (counted,) = history.contacts
    assert counted.logged_touches == 2
    after = follow_up(counted, TODAY, RuleSettings())
    assert (after.next_date, after.status) == (D("2026-05-25"), Status.SCHEDULED)  # cadence B


def test_an_earlier_date_already_in_the_log_is_not_logged_again() -> None:
    ana = interview(last_contact=D("2026-02-23"))
    log = Log((LogEntry(D("2026-02-02"), "Ana Lima", "ana@example.com", "email"),), 1)
    history = review([ana], log, memory(D("2026-02-02")), TODAY)
    assert [e.day for e in history.new_entries] == [D("2026-02-23")]
    assert history.contacts[0].logged_touches == 2


@pytest.mark.parametrize(
    ("seen", "last", "why"),
    [
        (None, D("2026-02-23"), "the first run only learns what the sheet holds"),
        (Memory({}), D("2026-02-23"), "a new row is a starting point, not an edit"),
        (memory(D("2026-02-23")), D("2026-02-23"), "unchanged"),
        (memory(D("2026-02-23")), D("2026-02-10"), "moved back: a correction"),
        (memory(D("2026-02-23")), D("2026-03-20"), "in the future: a typo, reported elsewhere"),
        (memory(None), D("2026-02-01"), "on Met on: the meeting, not a follow-up"),
    ],
)
def test_no_log_row_when_nothing_was_followed_up(seen: Memory | None, last: date, why: str) -> None:
    history = review([interview(last_contact=last)], Log(), seen or Memory(), TODAY)
    assert history.new_entries == (), why


def test_a_done_already_logged_is_not_a_hand_edit() -> None:
    ana = interview(last_contact=TODAY, follow_ups=2)
    log = Log((LogEntry(TODAY, "Ana Lima", "ana@example.com", "email"),), 1)
    assert review([ana], log, memory(D("2026-02-02")), TODAY).new_entries == ()


def test_log_rows_match_by_email_else_by_a_name_only_one_contact_has() -> None:
    ann = Contact(row=2, name="Ann Lee", email="ann@example.com")
    twins = [Contact(row=3, name="Jo Park"), Contact(row=4, name="Jo Park", company="B")]
    log = Log(
        (
            LogEntry(D("2026-03-01"), "A. Lee", "ANN@example.com"),
            LogEntry(D("2026-03-02"), "ann lee"),
            LogEntry(D("2026-03-02"), "Ann Lee"),  # the same day counts once
            LogEntry(D("2026-03-03"), "Jo Park"),  # which Jo? neither
        ),
        1,
    )
    counts = [c.logged_touches for c in review([ann, *twins], log, Memory(), TODAY).contacts]
    assert counts == [2, 0, 0]


def test_the_memory_keeps_an_edit_the_run_could_not_log() -> None:
    history = review([interview(last_contact=D("2026-02-23"))], Log(), memory(None), TODAY)
    key = "email:ana@example.com"
    assert history.remembered(TODAY, logged=False, thanked=False).last_contact == {key: None}
    assert history.remembered(TODAY, logged=True, thanked=False).last_contact == {
        key: D("2026-02-23")
    }


def test_the_memory_survives_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / MEMORY_FILE
    path.write_text("{not json", encoding="utf-8")
    assert load_memory(path) == Memory()
    saved = Memory({"name:bo|": TODAY, "name:cy|": None}, {"name:cy|": TODAY})
    save_memory(saved, path)
    assert load_memory(path) == saved


def referral(**fields: object) -> list[Contact]:
    bo = Contact(row=2, name="Bo Chen", email="bo@example.com")
    cy = Contact(row=3, name="Cy Diaz", how_met=HowMet.REFERRAL, referred_by=" bo  chen ")
    return [replace(bo, **fields), cy]


def test_the_referrer_is_thanked_once_the_referral_is_followed_up() -> None:
    people = referral()
    assert review(people, Log(), Memory(), TODAY).thanks == ()  # nothing logged yet
    log = Log((LogEntry(D("2026-03-10"), "Cy Diaz", "", "email"),), 1)
    history = review(people, log, Memory({}), TODAY)
    (thanks,) = history.thanks
    assert thanks.line() == (
        "Close the loop with Bo Chen: thank them for introducing you to Cy Diaz, "
        "and tell them how it went."
    )
    assert history.remembered(TODAY, logged=True, thanked=False).referrer_thanked == {}
    told = history.remembered(TODAY, logged=True, thanked=True)
    assert review(people, log, told, TODAY).thanks == ()


def test_no_thanks_while_the_referral_has_not_answered() -> None:
    """A nudge is nothing to thank the referrer for: only an answer (Status moved on) is."""
    bo, cy = referral()
    log = Log((LogEntry(D("2026-03-10"), "Cy Diaz", "", "email"),), 1)
    waiting = [bo, replace(cy, stage=Stage.WAITING)]
    assert review(waiting, log, Memory({}), TODAY).thanks == ()
    (thanks,) = review([bo, replace(cy, stage=Stage.ACTIVE)], log, Memory({}), TODAY).thanks
    assert thanks.referred.name == "Cy Diaz"


def test_no_thanks_to_someone_not_to_be_contacted() -> None:
    log = Log((LogEntry(D("2026-03-10"), "Cy Diaz"),), 1)
    assert review(referral(stage=Stage.DO_NOT_CONTACT), log, Memory(), TODAY).thanks == ()


# --- the daily run -------------------------------------------------------------------------

HEADER = ["Name", "Email", "How we met", "Met on", "Last contact", "Referred by"]
PEOPLE = [
    ["Ana Lima", "ana@example.com", "Informational interview", D("2026-02-01"), D("2026-02-02"),
     ""],
    ["Bo Chen", "bo@example.com", "Networking event", D("2026-03-09"), None, ""],
    ["Cy Diaz", "cy@example.com", "Referral", D("2026-03-02"), None, "Bo Chen"],
]  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, *PEOPLE])
    write_config(tmp_path)
    return tmp_path


def move_last_contact(book: Path, rows: dict[int, date]) -> None:
    """What the user does in Excel: type a later Last contact (column E)."""
    edited = book.with_name("edited.xlsx")
    patch_sheet(book, edited, "Contacts", {(row, 5): day for row, day in rows.items()})
    edited.replace(book)


def status_of(folder: Path, row: int, today: str) -> dict[str, object]:
    done = invoke(folder, "status", "--json", today=today)
    return next(c for c in json.loads(done.output)["contacts"] if c["row"] == row)


def test_a_run_logs_a_hand_edit_once_and_never_writes_follow_ups(folder: Path) -> None:
    book = folder / "contacts.xlsx"
    assert invoke(folder, "run", today="2026-02-03").exit_code == 0  # the program's first look
    move_last_contact(book, {2: D("2026-02-23")})
    assert status_of(folder, 2, "2026-02-24")["next_follow_up"] == "2026-05-25"  # status knows

    before = keep_copy(book)
    ran = invoke(folder, "run", today="2026-02-24")
    assert ran.exit_code == 0, ran.output
    assert 'and 2 log rows on a new sheet "Log" to contacts.xlsx' in ran.output
    changed = changed_cells(before, book, "Contacts")
    assert changed, "the statuses moved on"
    assert all(col > len(HEADER) for _, col in changed), "a run writes only its own columns"
    assert [row[3] for row in log_rows(book)[1:]] == ["workbook edit", "workbook edit"]
    assert status_of(folder, 2, "2026-02-24")["action"].startswith("Check in by email")

    again = keep_copy(book)
    assert invoke(folder, "run", today="2026-02-25").exit_code == 0
    assert len(log_rows(book)) == 3
    assert changed_parts(again, book) <= {"xl/worksheets/sheet1.xml"}


def test_sorting_the_sheet_is_no_hand_edit(folder: Path) -> None:
    assert invoke(folder, "run", today="2026-03-10").exit_code == 0
    make_workbook(folder / "contacts.xlsx", [HEADER, *reversed(PEOPLE)])  # sorted Z to A
    ran = invoke(folder, "run", today="2026-03-11")
    assert ran.exit_code == 0, ran.output
    assert "Log" not in sheet_names(folder / "contacts.xlsx")


def test_an_edit_made_while_the_workbook_is_open_is_logged_after_it_is_closed(
    folder: Path,
) -> None:
    book = folder / "contacts.xlsx"
    assert invoke(folder, "run", today="2026-03-09").exit_code == 0
    move_last_contact(book, {3: D("2026-03-10")})
    lock = folder / ".~lock.contacts.xlsx#"
    lock.write_text("x", encoding="utf-8")
    assert invoke(folder, "run", today="2026-03-10").exit_code == 0
    assert "Log" not in sheet_names(book)
    lock.unlink()
    assert invoke(folder, "run", today="2026-03-11").exit_code == 0
    assert log_rows(book)[1][:4] == [D("2026-03-10"), "Bo Chen", "bo@example.com", "workbook edit"]


def test_the_referrer_appears_in_the_next_digest_once(folder: Path) -> None:
    assert invoke(folder, "done", "cy", "--on", "2026-03-05", today="2026-03-10").exit_code == 0
    thanks = "Close the loop with Bo Chen: thank them for introducing you to Cy Diaz"
    assert invoke(folder, "run", today="2026-03-11").exit_code == 0  # Bo is due today
    assert invoke(folder, "run", "--force", today="2026-03-12").exit_code == 0
    first, second = outbox_messages(folder / "outbox")
    text = first.get_body(("plain",)).get_content()
    assert thanks in text
    assert "THANK A REFERRER (1)\n\nBo Chen\n  Introduced you to Cy Diaz\n" in text
    assert (
        "Subject: Thank you for the introduction\n\n    Hi Bo,\n\n    Thank you again "
        "for introducing me to Cy Diaz. We have now been in touch, and I am grateful for the "
        "connection. If I can ever return the favour or help with anything, just let me know."
    ) in text
    assert (
        "subject=Thank%20you%20for%20the%20introduction" in first.get_body(("html",)).get_content()
    )
    assert thanks not in second.get_body(("plain",)).get_content()
    remembered = json.loads((folder / "outbox" / MEMORY_FILE).read_text(encoding="utf-8"))
    assert remembered["referrer_thanked"] == {"email:cy@example.com": "2026-03-11"}


@pytest.mark.parametrize(("status", "thanked"), [("Active", True), ("Replied", False)])
def test_a_status_that_cannot_be_read_does_not_say_the_referral_answered(
    tmp_path: Path, status: str, thanked: bool
) -> None:
    rows = [[*HEADER, "Status"], *[[*p, ""] for p in PEOPLE[:2]], [*PEOPLE[2], status]]
    make_workbook(tmp_path / "contacts.xlsx", rows)
    write_config(tmp_path)
    assert invoke(tmp_path, "done", "cy", "--on", "2026-03-05", today="2026-03-10").exit_code == 0
    ran = invoke(tmp_path, "run", "--dry-run", today="2026-03-11")
    assert ran.exit_code == 0, ran.output
    assert ("Close the loop with Bo Chen" in ran.output) is thanked
    assert ("Not a status" in ran.output) is not thanked
