"""`followup sync` and the daily run's sync stage against a real Dovecot: sent mail, replies and
mark-done mails change the workbook through the verified save; nothing changes in the mailbox."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cli_helpers import Ran, followup, in_openpyxl, outbox_messages, sheet_values, write_config
from click.testing import CliRunner
from edit_helpers import LOG_HEADER, changed_cells, keep_copy, log_rows, sheet_names
from keyrings import MemoryKeyring
from workbooks import make_workbook

from followup.cli import cli
from followup.core.mail_sync import MARKED_DONE
from followup.delivery.mailbox import PASSWORD_ENV, SYNC_FILE
from tests.imap_server import INTL, ME, ImapServer, Trickler

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")

D = date.fromisoformat
TODAY = "2026-03-11"
HEADER = ["Name", "Company", "Email", "Phone", "How we met", "Met on", "Last contact",
          "Follow-ups", "Status"]  # fmt: skip
PEOPLE = [
    ["Ana Lima", "Acme", "Ana Lima <ana@example.com>; a.lima@work.example", "",
     "Keep in touch", D("2026-01-10"), D("2026-01-20"), 1, ""],
    ["Bo Chen", "Globex", "bo@example.com", "", "Job application", D("2026-02-01"),
     D("2026-02-08"), 1, "Waiting for reply"],
    ["Cy Diaz", "Initech", "", "+1 555 0100", "Networking event", D("2026-03-01"), None, None,
     ""],
]  # fmt: skip
COL = {name: index for index, name in enumerate(HEADER, start=1)}
SECRET = "Zq9-distinctive-imap-pw-7Kx"


@pytest.fixture
def folder(tmp_path: Path, imap: ImapServer) -> Path:
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, *PEOPLE])
    write_config(tmp_path, imap_config(imap))
    return tmp_path


def imap_config(imap: ImapServer, **extra: object) -> str:
    lines = [
        "[digest]",
        f'to = "{ME.address}"',
        "[imap]",
        f'host = "{imap.host}"',
        f"port = {imap.port}",
        'security = "none"',
        f'user = "{ME.user}"',
        *(f"{key} = {json.dumps(value)}" for key, value in extra.items()),
    ]
    return "\n".join(lines) + "\n"


def run(folder: Path, *args: str, password: str = ME.password, today: str = TODAY) -> Ran:
    env = {"FOLLOWUP_IMAP_PASSWORD": password}
    return followup(folder, *args, "--today", today, env=env)


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def test_mail_sent_to_a_contact_is_a_follow_up_and_nothing_is_marked_read(
    folder: Path, imap: ImapServer
) -> None:
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    uid = imap.append("Sent", sender=ME.address, to=["A.Lima@Work.Example"],
                      subject="Coffee next week?", date=at("2026-03-09"))  # fmt: skip
    imap.append("Sent", sender=ME.address, to=["ana@example.com"], date=at("2026-03-09", 15))
    synced = run(folder, "sync")
    assert synced.returncode == 0, synced.stderr
    assert "Ana Lima (row 2): Last contact 2026-03-09, Follow-ups 2" in synced.stdout
    assert changed_cells(before, book, "Contacts") == {
        (2, COL["Last contact"]): date(2026, 3, 9),
        (2, COL["Follow-ups"]): 2.0,
    }
    assert log_rows(book) == [
        LOG_HEADER,
        [
            date(2026, 3, 9),
            "Ana Lima",
            "Ana Lima <ana@example.com>; a.lima@work.example",
            "email",
            "",
        ],
    ]  # fmt: skip  (one follow-up a day: two messages that day, one row, no subject)
    assert imap.flags("Sent", uid) == frozenset()
    again = keep_copy(book)
    second = run(folder, "sync")
    assert second.stdout == "Mailbox: 0 new messages in Sent, INBOX; nothing to update.\n"
    assert changed_cells(again, book, "Contacts") == {}


def test_subjects_are_logged_only_when_asked(folder: Path, imap: ImapServer) -> None:
    write_config(folder, imap_config(imap, log_subjects=True))
    imap.append("Sent", sender=ME.address, to=["bo@example.com"], subject="=@SUM(A1) hi",
                date=at("2026-03-10"))  # fmt: skip
    assert run(folder, "sync").returncode == 0
    assert log_rows(folder / "contacts.xlsx")[1][3:] == ["email", "=@SUM(A1) hi"]


def test_mail_to_strangers_changes_nothing_and_is_not_stored(
    folder: Path, imap: ImapServer
) -> None:
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    imap.append("Sent", sender=ME.address, to=["stranger@elsewhere.example"],
                subject="Private matter", date=at("2026-03-10"))  # fmt: skip
    imap.append("INBOX", sender="other@elsewhere.example", to=[ME.address], date=at("2026-03-10"))
    synced = run(folder, "sync")
    assert synced.stdout == "Mailbox: 2 new messages in Sent, INBOX; nothing to update.\n"
    assert book.read_bytes() == before.read_bytes()
    stored = "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file()
                     and p.suffix != ".xlsx")  # fmt: skip
    assert "elsewhere" not in stored
    assert "Private" not in stored


def test_a_reply_sets_waiting_for_reply_back_to_active_and_is_no_follow_up(
    folder: Path, imap: ImapServer
) -> None:
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    uid = imap.append("INBOX", sender="Bo Chen <BO@example.com>", to=[ME.address],
                      subject="Re: the analyst role", date=at("2026-03-10"))  # fmt: skip
    synced = run(folder, "sync")
    assert "Bo Chen (row 3): replied on 2026-03-10, Status Active" in synced.stdout
    assert changed_cells(before, book, "Contacts") == {(3, COL["Status"]): "Active"}
    assert log_rows(book)[1] == [date(2026, 3, 10), "Bo Chen", "bo@example.com", "reply", ""]
    assert imap.flags("INBOX", uid) == frozenset(), "the reply stays unread"
    status = run(folder, "status", "--json")
    [bo] = [c for c in json.loads(status.stdout)["contacts"] if c["name"] == "Bo Chen"]
    assert bo["status"] != "waiting"


def test_mail_from_before_met_on_is_no_reply_and_an_older_one_leaves_waiting(
    folder: Path, imap: ImapServer
) -> None:
    book = folder / "contacts.xlsx"
    people = [list(person) for person in PEOPLE]
    people[1][COL["Last contact"] - 1] = people[1][COL["Follow-ups"] - 1] = None  # Bo: Met on 1 Feb
    make_workbook(book, [HEADER, *people])
    before = keep_copy(book)
    imap.append("INBOX", sender="bo@example.com", to=[ME.address],
                subject="Newsletter: jobs at Globex", date=at("2026-01-15"))  # fmt: skip
    synced = run(folder, "sync")
    assert synced.stdout == "Mailbox: 1 new message in Sent, INBOX; nothing to update.\n"
    assert book.read_bytes() == before.read_bytes()
    # Written to on 8 Feb: an answer from 5 Feb is logged, but Bo still waits for a reply.
    with in_openpyxl(book) as workbook:
        workbook["Contacts"].cell(3, COL["Last contact"]).value = datetime(2026, 2, 8)
        workbook.save(book)
    imap.append("INBOX", sender="bo@example.com", to=[ME.address], date=at("2026-02-05"))
    older = run(folder, "sync")
    assert "Bo Chen (row 3): replied on 2026-02-05\n" in older.stdout
    assert sheet_values(book, "Contacts")[2][COL["Status"] - 1] == "Waiting for reply"
    imap.append("INBOX", sender="bo@example.com", to=[ME.address], date=at("2026-02-08"))
    assert "replied on 2026-02-08, Status Active" in run(folder, "sync").stdout


def test_a_mark_done_mail_is_applied_once_to_the_person_it_names(
    folder: Path, imap: ImapServer
) -> None:
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    # Row 9 is only a hint: Cy Diaz is on row 4 now.
    imap.append("INBOX", sender=ME.address, to=[ME.address],
                subject="followup: done #9 Cy Diaz", date=at("2026-03-10"))  # fmt: skip
    imap.append("INBOX", sender="someone@elsewhere.example", to=[ME.address],
                subject="followup: done #2 Ana Lima", date=at("2026-03-10"))  # fmt: skip
    imap.append("INBOX", sender=ME.address, to=[ME.address],
                subject="followup: snooze #3 Bo Chen 14", date=at("2026-03-10"))  # fmt: skip
    synced = run(folder, "sync")
    assert synced.returncode == 0, synced.stderr
    assert changed_cells(before, book, "Contacts") == {
        (4, COL["Last contact"]): date(2026, 3, 10),
        (4, COL["Follow-ups"]): 1.0,
        (1, len(HEADER) + 1): "Follow up on",  # the column the snooze needs, added
        (3, len(HEADER) + 1): date(2026, 3, 24),
    }
    assert log_rows(book)[1:] == [[date(2026, 3, 10), "Cy Diaz", "", "phone", MARKED_DONE]]
    # The same messages read again (as after a new UIDVALIDITY) are not applied twice.
    path = folder / "outbox" / SYNC_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), "folders": {}}))
    after = keep_copy(book)
    assert run(folder, "sync").returncode == 0
    assert changed_cells(after, book, "Contacts") == {}
    assert len(log_rows(book)) == 2


def test_a_new_uidvalidity_reads_sent_again_without_double_rows(
    folder: Path, imap: ImapServer
) -> None:
    imap.append("Sent", sender=ME.address, to=["bo@example.com"], date=at("2026-03-10"))
    assert run(folder, "sync").returncode == 0
    imap.change_uidvalidity("Sent")
    state = json.loads((folder / "outbox" / SYNC_FILE).read_text())
    again = run(folder, "sync")
    assert "Mailbox: 1 new message in Sent, INBOX; nothing to update." in again.stdout
    assert json.loads((folder / "outbox" / SYNC_FILE).read_text()) != state
    assert len(log_rows(folder / "contacts.xlsx")) == 2


def test_the_daily_run_syncs_first_and_a_mailbox_fault_is_a_notice(
    folder: Path, imap: ImapServer
) -> None:
    imap.append("Sent", sender=ME.address, to=["bo@example.com"], date=at("2026-03-10"))
    with imap.down():
        down = run(folder, "run")
    assert down.returncode == 0, down.stderr
    assert "Mail was not synced: Could not reach the IMAP server" in down.stdout
    [digest] = outbox_messages(folder / "outbox")
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Mail was not synced: Could not reach the IMAP server" in text
    assert "Follow-up status" in sheet_values_row1(folder)
    synced = run(folder, "run", "--force")
    assert synced.returncode == 0, synced.stderr
    assert "Bo Chen (row 3): Last contact 2026-03-10" in synced.stdout
    assert sheet_names(folder / "contacts.xlsx") == ["Contacts", "Log"]
    # The run's own review sees a Last contact the Log already explains: no second row.
    assert log_rows(folder / "contacts.xlsx")[1:] == [
        [date(2026, 3, 10), "Bo Chen", "bo@example.com", "email", ""]
    ]


def test_mail_sent_before_a_follow_up_on_date_retires_it_in_the_same_run_s_digest(
    tmp_path: Path, imap: ImapServer
) -> None:
    """An import's spread check-in for today, and the user wrote yesterday: the run's sync
    clears Follow up on, and the digest it sends next no longer lists her as due."""
    header = ["Name", "Email", "How we met", "Met on", "Follow up on"]
    hannah = [
        "Hannah Becker",
        "hannah.becker@example.net",
        "Keep in touch",
        D("2015-05-04"),
        D(TODAY),
    ]
    cy = ["Cy Diaz", "", "Networking event", D("2026-03-09"), None]  # due today
    make_workbook(tmp_path / "contacts.xlsx", [header, hannah, cy])
    write_config(tmp_path, imap_config(imap))
    imap.append("Sent", sender=ME.address, to=["Hannah.Becker@example.net"],
                date=at("2026-03-10"))  # fmt: skip
    ran = run(tmp_path, "run")
    assert ran.returncode == 0, ran.stderr
    assert "Hannah Becker (row 2): Last contact 2026-03-10, Follow-ups 1, Follow up on cleared" in (
        ran.stdout
    )
    [digest] = outbox_messages(tmp_path / "outbox")
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Cy Diaz" in text
    assert "Hannah" not in text
    status = run(tmp_path, "status", "--json")
    [row, _] = json.loads(status.stdout)["contacts"]
    assert (row["next_follow_up"], row["status"]) == ("2026-06-08", "scheduled")  # B: 90 days


def test_a_referral_who_replied_gets_no_first_introduction_in_the_same_digest(
    tmp_path: Path, imap: ImapServer
) -> None:
    """The referral wrote back: the digest thanks the referrer, and no longer asks the user to
    introduce themselves to the person they are now talking to."""
    header = ["Name", "Email", "How we met", "Met on", "Last contact", "Status", "Referred by"]
    people = [
        ["Dmitri Singh", "dmitri@example.com", "Referral", D("2026-03-02"), D("2026-03-02"),
         "Waiting for reply", "Lena Andersson"],
        ["Lena Andersson", "lena@example.com", "Keep in touch", None, D("2026-03-01"), "", ""],
        ["Cy Diaz", "", "Networking event", D("2026-03-09"), None, "", ""],  # due today
    ]  # fmt: skip
    make_workbook(tmp_path / "contacts.xlsx", [header, *people])
    write_config(tmp_path, imap_config(imap))
    imap.append("INBOX", sender="Dmitri Singh <dmitri@example.com>", to=[ME.address],
                subject="Re: Lena suggested I write", date=at("2026-03-10"))  # fmt: skip
    ran = run(tmp_path, "run")
    assert ran.returncode == 0, ran.stderr
    assert "Dmitri Singh (row 2): replied on 2026-03-10, Status Active" in ran.stdout
    [digest] = outbox_messages(tmp_path / "outbox")
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "introducing me to Dmitri Singh" in text  # the referrer is thanked
    assert "at the suggestion of" not in text
    assert "OVERDUE" not in text.upper()
    status = run(tmp_path, "status", "--json")
    [dmitri] = [c for c in json.loads(status.stdout)["contacts"] if c["name"] == "Dmitri Singh"]
    assert (dmitri["next_follow_up"], dmitri["status"]) == ("2026-06-08", "scheduled")


def digest_text(folder: Path) -> str:
    [digest] = outbox_messages(folder / "outbox")
    return digest.get_body(("plain",)).get_content()  # type: ignore[union-attr,no-any-return]


def test_a_date_no_timezone_can_convert_counts_on_its_arrival_day(
    folder: Path, imap: ImapServer
) -> None:
    # Anyone can send this: it once ended every run before the digest, for good.
    raw = (
        b"From: Bo Chen <bo@example.com>\r\nTo: me@example.org\r\nSubject: Re: the role\r\n"
        b"Date: Fri, 31 Dec 9999 23:59:59 -1200\r\nMessage-ID: <edge@example.com>\r\n\r\nHi\r\n"
    )
    imap.append_raw("INBOX", raw, received=at("2026-03-10"))
    ran = run(folder, "run")
    assert ran.returncode == 0, ran.stderr
    assert "Bo Chen (row 3): replied on 2026-03-10, Status Active" in ran.stdout
    assert "Mail was not synced" not in digest_text(folder)
    assert "Follow-up status" in sheet_values_row1(folder)
    assert run(folder, "sync").stdout.startswith("Mailbox: 0 new messages"), "the marks moved"


def test_a_fault_in_the_sync_is_a_one_line_notice_and_the_run_goes_on(
    folder: Path, imap: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any exception the sync raises, even one no code foresaw, stops the sync, not the run."""

    def broken(*_: object) -> None:
        raise OverflowError("date value out of range")

    monkeypatch.setattr("followup.commands.sync.message_of", broken)  # the fault, injected
    imap.append("INBOX", sender="bo@example.com", to=[ME.address], date=at("2026-03-10"))
    ran = run(folder, "run")
    assert ran.returncode == 0, ran.stderr
    notice = "Mail was not synced: an unexpected error (OverflowError) stopped it"
    assert notice in ran.stdout
    assert notice in digest_text(folder)
    assert "Traceback" not in ran.stdout + ran.stderr + digest_text(folder)
    assert "Follow-up status" in sheet_values_row1(folder)


def test_sync_leaves_text_typed_in_last_contact_and_says_so(folder: Path, imap: ImapServer) -> None:
    book = folder / "contacts.xlsx"
    people = [list(person) for person in PEOPLE]
    people[1][COL["Last contact"] - 1] = "last spring"
    make_workbook(book, [HEADER, *people])
    before = keep_copy(book)
    imap.append("Sent", sender=ME.address, to=["bo@example.com"], date=at("2026-03-10"))
    imap.append("Sent", sender=ME.address, to=["ana@example.com"], date=at("2026-03-10"))
    ran = run(folder, "run")
    assert ran.returncode == 0, ran.stderr
    assert (
        "Bo Chen (row 3): Contacts!G3 (Last contact) holds 'last spring', which followup "
        "cannot read, so nothing was changed for them" in ran.stdout
    )
    changed = changed_cells(before, book, "Contacts")
    assert (3, COL["Last contact"]) not in changed
    assert (3, COL["Follow-ups"]) not in changed
    assert changed[(2, COL["Last contact"])] == date(2026, 3, 10), "Ana's mail still counts"
    assert [row[1] for row in log_rows(book)[1:]] == ["Ana Lima"]


def test_mark_done_mails_read_again_never_undo_what_came_after_them(
    folder: Path, imap: ImapServer
) -> None:
    """mailbox.json lost (a new computer, a cleared or damaged state folder): the first sync
    reads the last days_back days again, mark-done and snooze mails included."""
    book = folder / "contacts.xlsx"
    people = [[*person, None] for person in PEOPLE]
    make_workbook(book, [[*HEADER, "Follow up on"], *people])
    follow_up_on = (2, len(HEADER) + 1)
    imap.append("INBOX", sender=ME.address, to=[ME.address],
                subject="followup: snooze #2 Ana Lima 14", date=at("2026-03-02"))  # fmt: skip
    imap.append("INBOX", sender=ME.address, to=[ME.address],
                subject="followup: done #3 Bo Chen", date=at("2026-03-02"))  # fmt: skip
    assert run(folder, "sync", today="2026-03-03").returncode == 0
    assert sheet_values(book, "Contacts")[1][len(HEADER)] == date(2026, 3, 16)
    state = folder / "outbox" / SYNC_FILE

    def again(typed: date | None, today: str) -> dict[tuple[int, int], object]:
        with in_openpyxl(book) as workbook:
            workbook["Contacts"].cell(*follow_up_on).value = typed
            workbook.save(book)
        state.unlink()
        before = keep_copy(book)
        assert run(folder, "sync", today=today).returncode == 0
        return changed_cells(before, book, "Contacts")

    assert again(datetime(2026, 6, 1), "2026-03-11") == {}, "a later date typed stays"
    assert again(None, "2026-03-20") == {}, "a snooze to a day past is not set again"
    assert len(log_rows(book)) == 2, "the done is not counted twice"


def test_a_sync_the_workbook_refuses_is_said_in_the_digest(folder: Path, imap: ImapServer) -> None:
    """Under cron nobody reads what the run prints: a sync refused every day must say so where
    the user looks, or the mark-done links silently do nothing."""
    book = folder / "contacts.xlsx"

    def merge(workbook: Any, sheet: Any) -> None:  # Bo's Met on and Last contact, F3:G3
        sheet.merge_range(
            "F3:G3", datetime(2026, 2, 1), workbook.add_format({"num_format": "yyyy-mm-dd"})
        )

    people = [list(person) for person in PEOPLE]
    people[1][COL["Last contact"] - 1] = None
    make_workbook(book, [HEADER, *people], customize=merge)
    imap.append("Sent", sender=ME.address, to=["bo@example.com"], date=at("2026-03-10"))
    ran = run(folder, "run")
    assert ran.returncode == 0, ran.stderr
    said = "Mail was not synced: Contacts!G3 is inside the merged range F3:G3"
    assert said in ran.stdout
    assert said in " ".join(digest_text(folder).split())
    assert "Follow-up status" in sheet_values_row1(folder), "the statuses are still written"


def test_a_server_trickling_bytes_cannot_hold_the_daily_run(folder: Path, imap: ImapServer) -> None:
    """Each read gets a byte in time, so only the deadline on the whole sync ends it."""
    trickler = Trickler(greet=True)
    try:
        config = imap_config(imap, timeout=2)
        write_config(folder, config.replace(f"port = {imap.port}", f"port = {trickler.port}"))
        started = time.monotonic()
        ran = run(folder, "run")
        assert time.monotonic() - started < 30
    finally:
        trickler.close()
    assert ran.returncode == 0, ran.stderr
    notice = "Mail was not synced: The IMAP server 127.0.0.1:"
    assert notice in ran.stdout
    [digest] = outbox_messages(folder / "outbox")
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "did not answer within 2 seconds ([imap] timeout)" in text
    assert "Follow-up status" in sheet_values_row1(folder)


def test_a_follow_up_typed_by_hand_before_the_first_sync_is_not_counted_again(
    folder: Path, imap: ImapServer
) -> None:
    """Bo's Last contact 2026-02-08 and Follow-ups 1 were typed by hand for this very mail."""
    imap.append("Sent", sender=ME.address, to=["bo@example.com"], date=at("2026-02-08"))
    imap.append("Sent", sender=ME.address, to=["bo@example.com"], date=at("2026-03-09"))
    ran = run(folder, "sync")
    assert ran.returncode == 0, ran.stderr
    assert "Bo Chen (row 3): Last contact 2026-03-09, Follow-ups 2" in ran.stdout
    assert [row[0] for row in log_rows(folder / "contacts.xlsx")[1:]] == [date(2026, 3, 9)]


def test_a_message_dated_after_today_is_counted_once_its_day_has_come(
    folder: Path, imap: ImapServer
) -> None:
    """A clock ahead (or a run for a past day): the message is read again, not skipped for good."""
    imap.append("Sent", sender=ME.address, to=["bo@example.com"], date=at("2026-03-13"))
    imap.append("INBOX", sender="ana@example.com", to=[ME.address], date=at("2026-03-14"))
    early = run(folder, "sync", today="2026-03-11")
    assert early.returncode == 0, early.stderr
    assert "Bo Chen" not in early.stdout and "Ana Lima" not in early.stdout
    saved = json.loads((folder / "outbox" / SYNC_FILE).read_text(encoding="utf-8"))
    assert saved["folders"]["Sent"]["deferred"] == [1]
    later = run(folder, "sync", today="2026-03-13")
    assert "Bo Chen (row 3): Last contact 2026-03-13, Follow-ups 2" in later.stdout
    assert "Ana Lima" not in later.stdout
    last = run(folder, "sync", today="2026-03-14")
    assert "Ana Lima (row 2): replied on 2026-03-14" in last.stdout
    assert "Bo Chen" not in last.stdout, "counted once"
    assert run(folder, "sync", today="2026-03-15").stdout.startswith("Mailbox: 0 new messages")
    assert [row[0] for row in log_rows(folder / "contacts.xlsx")[1:]] == [
        date(2026, 3, 13),
        date(2026, 3, 14),
    ]


def test_a_missing_folder_is_a_notice_and_the_other_folders_are_read(
    folder: Path, imap: ImapServer
) -> None:
    write_config(folder, imap_config(imap, inbox=["INBOX", "Replies"]))
    imap.append("INBOX", sender="bo@example.com", to=[ME.address], date=at("2026-03-10"))
    ran = run(folder, "run")
    assert ran.returncode == 0, ran.stderr
    [digest] = outbox_messages(folder / "outbox")
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Mail sync: The mailbox has no folder 'Replies' ([imap] inbox)." in text
    assert "Bo Chen (row 3): replied on 2026-03-10, Status Active" in ran.stdout
    assert "Follow-up status" in sheet_values_row1(folder)


def test_sync_alone_exits_4_when_a_folder_is_missing_after_reading_the_others(
    folder: Path, imap: ImapServer
) -> None:
    write_config(folder, imap_config(imap, sent="Nope"))
    imap.append("INBOX", sender="bo@example.com", to=[ME.address], date=at("2026-03-10"))
    ran = run(folder, "sync")
    assert ran.returncode == 4
    assert ran.stderr == "followup: The mailbox has no folder 'Nope' ([imap] sent).\n"
    assert ran.stdout == "Bo Chen (row 3): replied on 2026-03-10, Status Active\n"


def sheet_values_row1(folder: Path) -> list[object]:
    from cli_helpers import sheet_values

    return sheet_values(folder / "contacts.xlsx", "Contacts")[0]


def test_a_wrong_password_never_shows_the_password(folder: Path, imap: ImapServer) -> None:
    refused = run(folder, "sync", password=SECRET)
    assert refused.returncode == 4
    assert "refused the login for me" in refused.stderr
    daily = run(folder, "run", password=SECRET)
    assert daily.returncode == 0
    assert "Mail was not synced" in daily.stdout
    assert run(folder, "sync").returncode == 0  # the right one
    for ran in (refused, daily):
        assert SECRET not in ran.stdout + ran.stderr
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert imap.log.is_file()  # the server's own log holds no password either
    assert SECRET.encode() not in imap.log.read_bytes()


def test_a_password_set_in_another_encoding_is_named_at_once_not_blamed_on_the_server(
    folder: Path, imap: ImapServer
) -> None:
    """INTL's password from a crontab in GB18030: its bytes reach Python escaped. The login
    stalled for [imap] timeout, then said the server did not answer."""
    write_config(
        folder,
        imap_config(imap, timeout=30).replace(f'user = "{ME.user}"', f'user = "{INTL.user}"'),
    )
    escaped = INTL.password.encode("gb18030").decode("utf-8", "surrogateescape")
    said = f"{PASSWORD_ENV} is not valid UTF-8 text"
    started = time.monotonic()
    synced = run(folder, "sync", password=escaped)
    assert synced.returncode == 4
    assert said in synced.stderr
    assert "followup password --imap" in synced.stderr
    daily = run(folder, "run", password=escaped)
    assert daily.returncode == 0, daily.stderr
    assert f"Mail was not synced: {said}" in " ".join(digest_text(folder).split())
    doctor = run(folder, "doctor", password=escaped)
    assert said in " ".join(doctor.stdout.split())
    assert time.monotonic() - started < 10, "no wait on the server"
    assert run(folder, "sync", password=INTL.password).returncode == 0, "UTF-8: it logs in"


def test_sync_without_imap_settings_says_what_to_set(tmp_path: Path) -> None:
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, *PEOPLE])
    write_config(tmp_path)
    ran = followup(tmp_path, "sync")
    assert ran.returncode == 2
    assert "[imap] host is empty" in ran.stderr


def test_the_digest_s_mark_done_link_is_applied_by_the_next_sync(
    folder: Path, imap: ImapServer
) -> None:
    """Cy Diaz has only a phone: the digest offers links that mail the user; sending the
    mark-done one as it is and syncing records the follow-up."""
    assert run(folder, "run").returncode == 0
    [digest] = outbox_messages(folder / "outbox")
    html = digest.get_body(("html",)).get_content()  # type: ignore[union-attr]
    links = re.findall(r'href="(mailto:[^"]+)"', html)
    marks = [urlsplit(unescape(link)) for link in links if "followup%3A" in link]
    assert {m.path for m in marks} == {ME.address}
    subjects = [parse_qs(m.query)["subject"][0] for m in marks]
    assert subjects == ["followup: done #4 Cy Diaz", "followup: snooze #4 Cy Diaz 14"]
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Mark done: email yourself “followup: done #4 Cy Diaz”" in text
    imap.append("INBOX", sender=ME.address, to=[ME.address], subject=subjects[0],
                date=at("2026-03-11", 8))  # fmt: skip
    synced = run(folder, "sync")
    assert "Cy Diaz (row 4): Last contact 2026-03-11, Follow-ups 1" in synced.stdout


def test_doctor_logs_in_finds_the_folders_and_counts_without_changing_anything(
    folder: Path, imap: ImapServer
) -> None:
    uid = imap.append("Sent", sender=ME.address, to=["bo@example.com"], date=at("2026-03-10"))
    imap.append("INBOX", sender="other@elsewhere.example", to=[ME.address], date=at("2026-03-10"))
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    checked = run(folder, "doctor")
    assert (
        f"logged in to {imap.host} as me; read Sent (sent), INBOX (inbox): 2 messages in the "
        "last 90 days, 1 to or from your contacts; nothing was changed"
    ) in checked.stdout
    assert book.read_bytes() == before.read_bytes()
    assert not (folder / "outbox" / SYNC_FILE).exists()
    assert imap.flags("Sent", uid) == frozenset()
    assert "Bo Chen (row 3): Last contact 2026-03-10" in run(folder, "sync").stdout
    with imap.down():
        down = run(folder, "doctor")
    assert re.search(r"✗ Mailbox +Could not reach the IMAP server", down.stdout), down.stdout


def test_password_imap_stores_the_mailbox_password_in_the_keyring(
    folder: Path, imap: ImapServer, memory_keyring: MemoryKeyring
) -> None:
    typed = f"{SECRET}\n{SECRET}\n"
    stored = CliRunner().invoke(
        cli, ["password", "--imap", "--config", str(folder / "config.toml")], input=typed
    )
    assert stored.exit_code == 0, stored.output
    assert "IMAP password for me at 127.0.0.1" in stored.output
    assert SECRET not in stored.output
    assert memory_keyring.entries == {("followup", "me@127.0.0.1"): SECRET}


def test_an_imap_host_without_a_user_is_refused_naming_both(tmp_path: Path) -> None:
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, *PEOPLE])
    write_config(tmp_path, '[imap]\nhost = "imap.example.org"\n')
    ran = followup(tmp_path, "sync")
    assert ran.returncode == 2
    assert "[imap] host is set but [imap] user is empty" in ran.stderr
