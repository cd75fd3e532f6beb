"""`followup run` and `status` end to end, on workbooks shaped like real users' files.

The workbook below has a title row, shuffled and unknown columns, header aliases, blank rows
and every accepted date spelling; its rows are the worked examples, so the expected
results are the spec's own table.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from cli_helpers import (
    followup,
    outbox_messages,
    sheet_values,
    soffice_csv,
    write_config,
    zip_parts,
)
from workbooks import make_workbook

from followup.commands import daily
from followup.config import load_config

TODAY = "2026-03-11"
D = date.fromisoformat

HEADER = [
    "Notes", "Full name", "Date met", "Context", "Favourite colour", "Last touch",
    "Tier", "Cadence", "Snooze until", "Stage", "Touches", "E-mail",
]  # fmt: skip

# (how we met, met on, last contact, other columns, expected next, status, days overdue).
# Dates are spelled every accepted way: date cells, ISO, month first, month names.
SPEC_EXAMPLES = [
    ("Networking event", D("2026-03-09"), None, {}, "2026-03-11", "due-today", 0),
    ("Networking event", "2026-03-05", None, {}, "2026-03-09", "overdue", 2),
    ("event", "1/10/2026", "Jan 12, 2026", {}, "2026-04-13", "scheduled", 0),
    ("Job application", "6 Mar 2026", None, {}, "2026-03-13", "upcoming", 0),
    ("application", D("2026-02-20"), "27 February 2026", {}, "2026-03-06", "overdue", 5),
    ("Job application", "2026-02-01", "2/15/2026", {"Touches": 2}, None, "closed", 0),
    ("Informational interview", "March 10, 2026", None, {}, "2026-03-11", "due-today", 0),
    ("info interview", "2026-02-01", D("2026-02-02"), {}, "2026-02-23", "overdue", 16),
    ("Keep in touch", None, "2026-02-01", {"Tier": "A"}, "2026-03-03", "overdue", 8),
    ("", None, "1 Jan 2026", {"Tier": "c"}, "2026-06-30", "scheduled", 0),
    ("keep in touch", None, "3/1/2026", {"Cadence": 14}, "2026-03-16", "upcoming", 0),
    ("Referral", "2026-03-10", None, {}, "2026-03-12", "upcoming", 0),
    ("Keep in touch", None, "2026-01-05", {"Snooze until": "20 Mar 2026"}, "2026-03-20",
     "scheduled", 0),
    ("Networking event", "2026-03-01", None, {"Stage": "Paused"}, None, "paused", 0),
    ("Job application", "2026-03-01", None, {"Stage": "closed"}, None, "closed", 0),
    ("Networking event", None, None, {}, None, "needs-info", 0),
    ("Keep in touch", None, "2025-09-01", {"Stage": "Declined"}, "2026-03-02", "overdue", 9),
    ("Networking event", "2026-03-02", "2026-03-06", {"Stage": "Waiting for reply"},
     "2026-03-13", "waiting", 0),
]  # fmt: skip


def spec_rows() -> list[list[object]]:
    """The header, then each example with a blank row after every fifth one."""
    rows: list[list[object]] = [HEADER]
    for n, (how, met, last, other, *_expected) in enumerate(SPEC_EXAMPLES, start=1):
        values = {
            "Full name": f"Person {n}",
            "Context": how,
            "Date met": met,
            "Last touch": last,
            "Favourite colour": "teal",
            "Notes": f'=HYPERLINK("http://x/{n}")' if n == 3 else f"note {n}",
            "E-mail": f"p{n}@example.com",
            **other,
        }
        rows.append([values.get(h) for h in HEADER])
        if n % 5 == 0:
            rows.append([None] * len(HEADER))
    return rows


def expected_rows() -> list[int]:
    """Worksheet row of each example: a title row, the header, and the blank spacer rows."""
    return [2 + n + (n - 1) // 5 for n in range(1, len(SPEC_EXAMPLES) + 1)]


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """A messy contacts workbook, with a second sheet whose formulas read the contacts."""

    def add_summary(workbook, _sheet) -> None:
        summary = workbook.add_worksheet("Summary")
        summary.write_formula("A1", "=COUNTA(Contacts!B3:B30)", None, len(SPEC_EXAMPLES))
        summary.write_formula("A2", '=Contacts!B3&" first"', None, "Person 1 first")

    make_workbook(tmp_path / "contacts.xlsx", spec_rows(), title_rows=1, customize=add_summary)
    write_config(tmp_path)
    return tmp_path


def test_status_json_gives_the_spec_results_for_every_row(messy: Path) -> None:
    done = followup(messy, "status", "--json", "--today", TODAY)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["today"] == TODAY
    got = [
        (c["row"], c["next_follow_up"], c["status"], c["days_overdue"]) for c in report["contacts"]
    ]
    want = [
        (row, example[4], example[5], example[6])
        for row, example in zip(expected_rows(), SPEC_EXAMPLES, strict=True)
    ]
    assert got == want
    assert report["problems"] == []
    first = report["contacts"][0]
    assert set(first) == {
        "row", "name", "company", "email", "how_met", "status", "next_follow_up",
        "days_overdue", "action",
    }  # fmt: skip
    assert (first["name"], first["how_met"]) == ("Person 1", "networking event")


def test_run_writes_only_the_owned_columns(messy: Path) -> None:
    book = messy / "contacts.xlsx"
    before_parts = zip_parts(book)
    before_values = sheet_values(book, "Contacts")

    done = followup(messy, "run", "--today", TODAY)
    assert done.returncode == 0, done.stderr

    after_parts = zip_parts(book)
    changed = {name for name in before_parts if before_parts[name] != after_parts.get(name)}
    assert changed <= {"xl/worksheets/sheet1.xml", "xl/styles.xml"}
    assert "xl/worksheets/sheet1.xml" in changed
    assert set(after_parts) == set(before_parts)

    after_values = sheet_values(book, "Contacts")
    width = len(HEADER)
    assert [r[:width] for r in after_values] == before_values  # user cells unchanged
    header = after_values[1][width : width + 4]
    assert header == ["Next follow-up", "Follow-up status", "Suggested action", "Last reminded"]
    for row, example in zip(expected_rows(), SPEC_EXAMPLES, strict=True):
        next_date, status, label = [*after_values[row - 1][width : width + 2], example[5]]
        assert next_date == (D(example[4]) if example[4] else "")
        assert status == label.replace("-", " ").capitalize()
    assert sheet_values(book, "Summary") == [[float(len(SPEC_EXAMPLES))], ["Person 1 first"]]


def test_libreoffice_opens_the_written_file(messy: Path, tmp_path: Path) -> None:
    assert followup(messy, "run", "--today", TODAY).returncode == 0
    csv = soffice_csv(messy / "contacts.xlsx", tmp_path / "csv")
    if csv is None:
        pytest.skip("LibreOffice is not installed")
    assert "Next follow-up,Follow-up status,Suggested action,Last reminded" in csv
    assert "Person 2" in csv and "2026-03-09" in csv and "Overdue" in csv
    assert '=HYPERLINK("http://x/3")' not in csv.replace('""', '"')  # formula, shown as its value


def test_a_second_run_the_same_day_does_not_rewrite(messy: Path) -> None:
    book = messy / "contacts.xlsx"
    assert followup(messy, "run", "--today", TODAY).returncode == 0
    first = book.stat().st_mtime_ns, book.read_bytes()
    done = followup(messy, "run", "--today", TODAY)
    assert done.returncode == 0, done.stderr
    assert (book.stat().st_mtime_ns, book.read_bytes()) == first
    assert "already delivered" in done.stdout
    assert len(outbox_messages(messy / "outbox")) == 1

    forced = followup(messy, "run", "--force", "--today", TODAY)
    assert forced.returncode == 0, forced.stderr
    assert len(outbox_messages(messy / "outbox")) == 2


@pytest.mark.parametrize("enabled", [True, False])
def test_a_run_gives_the_cycle_collector_back_as_it_was(messy: Path, enabled: bool) -> None:
    # The scheduler runs run_daily in one long-lived process.
    config = load_config(messy / "config.toml")
    try:
        gc.enable() if enabled else gc.disable()
        daily.run_daily(config, D(TODAY), datetime(2026, 3, 11, 8, 0))
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError), daily.collector_paused():
            assert not gc.isenabled()
            raise ValueError("a run that fails")
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_the_digest_lands_in_the_outbox(messy: Path) -> None:
    assert followup(messy, "run", "--today", TODAY).returncode == 0
    [message] = outbox_messages(messy / "outbox")
    assert message["Subject"] == "Follow-ups for Wed 11 Mar: 5 overdue, 2 due today"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "<" not in text
    assert text.index("OVERDUE") < text.index("DUE TODAY") < text.index("COMING UP")
    assert "Person 17" in text and "mailto:p2@example.com" in html
    assert (messy / "outbox" / "2026-03-11 Follow-ups.html").read_text(encoding="utf-8") == html


def test_dry_run_prints_the_digest_and_changes_nothing(messy: Path) -> None:
    book = messy / "contacts.xlsx"
    before = book.read_bytes()
    done = followup(messy, "run", "--dry-run", "--today", TODAY)
    assert done.returncode == 0, done.stderr
    assert "Subject: Follow-ups for Wed 11 Mar" in done.stdout
    assert "Person 2" in done.stdout
    assert book.read_bytes() == before
    assert not (messy / "outbox").exists() or not outbox_messages(messy / "outbox")


def test_a_workbook_open_in_excel_is_not_written(messy: Path) -> None:
    book = messy / "contacts.xlsx"
    (messy / "~$contacts.xlsx").write_bytes(b"owner")
    before = book.read_bytes()
    done = followup(messy, "run", "--today", TODAY)
    assert done.returncode == 0, done.stderr
    assert book.read_bytes() == before
    [message] = outbox_messages(messy / "outbox")
    assert "open in Excel" in message.get_body(("plain",)).get_content()


def test_first_run_on_the_shipped_config_creates_a_workbook(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        (Path(__file__).parent.parent / "config.toml").read_text(encoding="utf-8")
    )
    done = followup(tmp_path, "run", "--today", TODAY)
    assert done.returncode == 0, done.stderr
    values = sheet_values(tmp_path / "contacts.xlsx", "Contacts")
    assert values[0][-4:] == [
        "Next follow-up",
        "Follow-up status",
        "Suggested action",
        "Last reminded",
    ]
    statuses = {row[-3] for row in values[1:] if row[0]}
    assert {"Overdue", "Due today", "Upcoming", "Scheduled", "Needs info"} <= statuses
    [message] = outbox_messages(tmp_path / "outbox")
    text = message.get_body(("plain",)).get_content()
    for section in ("Overdue", "Due today", "Coming up", "Workbook problems"):
        assert section.upper() in text


def test_status_table_and_preview(messy: Path) -> None:
    table = followup(messy, "status", "--today", TODAY)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["Row", "Name", "Status", "Next"]
    assert "Person 8" in lines[1] and "Overdue (16d)" in lines[1]  # most overdue first
    preview = followup(messy, "preview", "--today", TODAY)
    assert preview.returncode == 0, preview.stderr
    page = Path(preview.stdout.strip())
    assert page.exists() and "Person 8" in page.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("setup", "code", "says"),
    [
        (lambda d: None, 2, "No config.toml in this folder"),
        (lambda d: write_config(d, "[digest]\nlookahead_days = 'many'\n"), 2, "lookahead_days"),
        (lambda d: write_config(d, workbook="missing.xlsx") and None, 0, ""),
        (lambda d: (write_config(d), (d / "contacts.xlsx").write_text("hello")), 3, "workbook"),
    ],
    ids=["no-config", "bad-config", "missing-workbook-is-created", "not-a-workbook"],
)
def test_exit_codes_and_messages(tmp_path: Path, setup, code: int, says: str) -> None:
    setup(tmp_path)
    done = followup(tmp_path, "run", "--today", TODAY)
    assert done.returncode == code, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_today_is_a_usage_error(messy: Path) -> None:
    done = followup(messy, "status", "--today", "11/03/2026")
    assert done.returncode == 2
    assert "YYYY-MM-DD" in done.stderr


def test_init_creates_a_workbook_and_config(tmp_path: Path) -> None:
    done = followup(tmp_path, "init", "mine.xlsx", "--empty", "--today", TODAY)
    assert done.returncode == 0, done.stderr
    assert sheet_values(tmp_path / "mine.xlsx", "Contacts")[0][0] == "Name"
    assert 'path = "mine.xlsx"' in (tmp_path / "config.toml").read_text(encoding="utf-8")
    again = followup(tmp_path, "init", "mine.xlsx")
    assert again.returncode == 0 and "is already set up" in again.stdout


def test_concurrent_runs_deliver_one_digest_and_write_once(messy: Path) -> None:
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "followup", "run", "--today", TODAY],
            cwd=messy,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert len(outbox_messages(messy / "outbox")) == 1
    writes = [out for out, _err in outputs if "Wrote " in out]
    assert len(writes) == 1, outputs


def test_last_reminded_is_written_after_the_workbook_is_closed(messy: Path) -> None:
    """A digest delivered while the workbook was open still gets its Last reminded dates."""
    book = messy / "contacts.xlsx"
    lock = messy / ".~lock.contacts.xlsx#"
    lock.write_text("someone,host", encoding="utf-8")
    assert followup(messy, "run", "--today", TODAY).returncode == 0
    lock.unlink()

    done = followup(messy, "run", "--today", TODAY)
    assert done.returncode == 0, done.stderr
    assert "already delivered" in done.stdout
    assert len(outbox_messages(messy / "outbox")) == 1
    values = sheet_values(book, "Contacts")
    reminded = {row[1] for row in values[2:] if row[len(HEADER) + 3] == D(TODAY)}
    assert reminded == {f"Person {n}" for n in (1, 2, 4, 5, 7, 8, 9, 11, 12, 17)}


@pytest.mark.parametrize(("send_when_empty", "digests"), [(False, 0), (True, 1)])
def test_a_quiet_day_sends_a_digest_only_when_asked(
    tmp_path: Path, send_when_empty: bool, digests: int
) -> None:
    rows = [["Name", "How we met", "Last contact"], ["Kim Park", "Keep in touch", D("2026-03-01")]]
    make_workbook(tmp_path / "contacts.xlsx", rows)
    empty = str(send_when_empty).lower()
    write_config(tmp_path, f'[digest]\nsend_when_empty = {empty}\nreview_day = "off"\n')
    done = followup(tmp_path, "run", "--today", TODAY)
    assert done.returncode == 0, done.stderr
    messages = outbox_messages(tmp_path / "outbox") if (tmp_path / "outbox").exists() else []
    assert len(messages) == digests
    if messages:
        assert messages[0]["Subject"] == "Follow-ups for Wed 11 Mar: nothing due"
    assert sheet_values(tmp_path / "contacts.xlsx", "Contacts")[1][4] == "Scheduled"


def test_the_installed_command_is_the_same_program(messy: Path) -> None:
    command = Path(sys.executable).parent / "followup"
    done = subprocess.run(
        [str(command), "status", "--json", "--today", TODAY],
        cwd=messy,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(
        followup(messy, "status", "--json", "--today", TODAY).stdout
    )


def test_a_run_into_the_outbox_does_not_load_the_mail_code(messy: Path) -> None:
    """yagmail, keyring and ssl cost 60 ms and 6 MB at start-up; only an SMTP send needs them."""
    script = (
        "import sys\n"
        "from followup.cli import cli\n"
        "try:\n"
        f"    cli(['run', '--today', '{TODAY}'], prog_name='followup')\n"
        "finally:\n"
        "    print(sorted({'yagmail', 'keyring', 'ssl', 'smtplib'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=messy, capture_output=True, text=True, timeout=60
    )
    assert "Digest written to" in done.stdout, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
