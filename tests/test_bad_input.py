"""Hostile and unlucky inputs end to end: bad cells, broken state files, bad settings, leftovers,
and a sweep of every command with hostile arguments. None may end in a traceback or in
"unexpected error"; each ends in its documented exit code with one line that says what to do.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from cli_helpers import followup, sheet_values, write_config
from click.testing import CliRunner, Result
from workbooks import make_workbook

from followup.cli import cli

TODAY = "2026-03-11"
HEADER = ["Name", "Email", "How we met", "Met on", "Last contact", "Cadence (days)"]
ROWS = [
    ["Ann Lee", "ann@example.com", "Networking event", date(2026, 3, 2)],
    ["Bo Year", "bo@example.com", "Keep in touch", None, date(9999, 12, 31)],
    ["Cy Met", "cy@example.com", "Networking event", datetime(9999, 12, 31, 12, 0)],
    ["Di Cadence", "di@example.com", "Keep in touch", None, date(2026, 3, 1), 999_999_999],
    ["Ed Float", "ed@example.com", "Keep in touch", None, date(2026, 3, 1), 1e15],
    ["Fay Text", "fay@example.com", "Keep in touch", None, "9999-12-31"],
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, *ROWS])
    write_config(tmp_path)
    return tmp_path


def invoke(folder: Path, *args: str) -> Result:
    """A command in this process, as the sweep runs them; `args` may hold its own --today."""
    today = () if "--today" in args else ("--today", TODAY)
    return CliRunner().invoke(cli, [*args, "--config", str(folder / "config.toml"), *today])


# --- one row's bad cell stops nothing ------------------------------------------------------


def test_a_date_or_number_no_rule_can_use_is_a_problem_and_the_others_are_scheduled(
    folder: Path,
) -> None:
    """Year 9999 (serial 2958465) and a cadence of 1e15 stopped every run with OverflowError."""
    status = invoke(folder, "status", "--json")
    assert status.exit_code == 0, status.output
    report = json.loads(status.output)
    problems = {p["cell"]: p["message"] for p in report["problems"]}
    assert set(problems) == {"E3", "D4", "F5", "F6", "E7"}
    assert "is not between 1900 and 2200: check the year" in problems["E3"]
    assert "from 1 to 3,650" in problems["F5"]
    by_name = {c["name"]: c for c in report["contacts"]}
    assert by_name["Ann Lee"]["next_follow_up"] == "2026-03-04"
    assert by_name["Di Cadence"]["next_follow_up"] == "2026-06-01"  # B's 90 days, off Saturday
    assert by_name["Bo Year"]["status"] == "needs-info"

    run = followup(folder, "run", "--today", TODAY)
    assert run.returncode == 0, run.stderr
    assert "Wrote" in run.stdout
    assert sheet_values(folder / "contacts.xlsx", "Contacts")[1][-4] == date(2026, 3, 4)


# --- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("[digest]\nlookahead_days = 3000000\n", "[digest] lookahead_days"),
        ("[rules]\ncadence = {A = 999999999}\n", "[rules] cadence"),
        ('[rules]\nsteps = {"networking event" = [99999999999]}\n', "[rules] steps"),
        ("[smtp]\ntimeout = 1e20\n", "[smtp] timeout"),
        ('[digest]\noutbox = "out\\u0000box"\n', "[digest] outbox"),
        ('[digest]\noutbox = "contacts.xlsx"\n', "[digest] outbox"),
    ],
)
def test_a_bad_setting_stops_before_anything_is_read(folder: Path, extra: str, key: str) -> None:
    write_config(folder, extra)
    before = sorted(p.name for p in folder.iterdir())
    for command in ("run", "status", "calendar"):
        done = invoke(folder, command)
        assert done.exit_code == 2, done.output
        [line] = done.output.splitlines()
        assert key in line and "unexpected" not in line
    assert sorted(p.name for p in folder.iterdir()) == before  # no outbox, nothing written


def test_a_config_with_a_byte_order_mark_runs(folder: Path) -> None:
    config = folder / "config.toml"
    config.write_bytes(b"\xef\xbb\xbf" + config.read_bytes())
    assert invoke(folder, "status").exit_code == 0


# --- the program's own files -----------------------------------------------------------------


def outbox(folder: Path) -> Path:
    return folder / "outbox"


@pytest.mark.parametrize(
    ("name", "content", "notice"),
    [
        ("state.json", b"[" * 100_000, "state.json.bad"),
        ("contacts.json", b"[" * 100_000, "contacts.json.bad"),
        ("state.json", b'{"last_delivered_day": "2026-03-10", "last_delivered_at": null}', ""),
        ("settled", b"\xff\xfe\x80 not a token", ""),
        (".followup.lock", None, ".followup.lock.bad"),
    ],
)
def test_a_damaged_file_of_the_program_never_blocks_a_run(
    folder: Path, name: str, content: bytes | None, notice: str
) -> None:
    outbox(folder).mkdir()
    if content is None:
        (outbox(folder) / name).mkdir()
    else:
        (outbox(folder) / name).write_bytes(content)
    first = invoke(folder, "run")
    assert first.exit_code == 0, first.output
    assert "Digest written to" in first.output
    if notice:
        assert f"renamed to {notice}" in first.output
    again = invoke(folder, "run")
    assert again.exit_code == 0, again.output
    assert "renamed" not in again.output


def test_the_same_day_is_still_delivered_once_without_its_time(folder: Path) -> None:
    outbox(folder).mkdir()
    (outbox(folder) / "state.json").write_text(
        '{"last_delivered_day": "2026-03-11", "last_delivered_at": null}'
    )
    done = invoke(folder, "run")
    assert done.exit_code == 0, done.output
    assert "Today's digest was already delivered; `followup run --force` sends another." in (
        done.output
    )


def test_temp_files_a_killed_digest_write_left_are_removed(folder: Path) -> None:
    assert invoke(folder, "run").exit_code == 0
    pending = outbox(folder) / "pending"
    pending.mkdir()
    stale = [
        outbox(folder) / f".{TODAY} Follow-ups 2.html.k3j_9x2a.tmp",
        outbox(folder) / ".state.json.abcd1234.tmp",
        pending / f".{TODAY} Follow-ups.eml.zz99zz99.tmp",
    ]
    fresh = outbox(folder) / f".{TODAY} Follow-ups 3.html.q1w2e3r4.tmp"  # a write in progress
    mine = outbox(folder) / ".notes.tmp"  # not a name the program makes
    for path in [*stale, fresh, mine]:
        path.write_text("half")
    hour_ago = time.time() - 3700
    for path in [*stale, mine]:
        os.utime(path, (hour_ago, hour_ago))
    assert invoke(folder, "run", "--force").exit_code == 0
    assert [p.exists() for p in stale] == [False, False, False]
    assert fresh.exists() and mine.exists()


# --- every command, hostile arguments --------------------------------------------------------
# (No NUL: a command line cannot hold one. Config values and files can, and are tested above.)

HOSTILE_DAYS = ["9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01", "2026-02-30", "x", ""]

SWEEP = [
    *(["run", "--today", day] for day in HOSTILE_DAYS),
    *([command, "--today", "9999-12-31"] for command in ("status", "preview", "calendar")),
    *([command, "--today", "0001-01-01"] for command in ("cron-line", "doctor", "schedule")),
    ["init", "--today", "9999-12-31"],
    ["run", "--dry-run", "--force"],
    ["status", "--json", "--today", "2200-12-31"],
    ["calendar", "--today", "1900-01-01"],
    ["done", "ann", "--on", "9999-12-31"],
    ["done", "ann", "--on", "0001-01-01"],
    ["done", "\x01"],
    ["done", "nobody at all"],
    ["done", "ann", "--channel", "pigeon"],
    ["done", "ann", "--note", "\r\n\x01\x1f\udcff" * 10_000],
    ["snooze", "ann", "3000000"],
    ["snooze", "ann", "1234567890123456789012345"],
    ["snooze", "ann", "²"],
    ["snooze", "ann", "½"],
    ["snooze", "ann", "--until", "9999-12-31"],
    ["snooze", "ann", "--until", "2026-03-01"],
    ["snooze", "ann", "3650", "--today", "2200-12-31"],
    ["import", "linkedin", "/"],
    ["import", "vcard", "/nonexistent.vcf"],
    ["import", "vcard", "contacts.xlsx"],
    ["import", "linkedin", "contacts.xlsx", "--met-on", "9999-12-31"],
    ["import", "linkedin", "config.toml", "--how", "\x01"],
    ["calendar", "--out", "/"],
    ["calendar", "--out", "bad\x01name.ics"],
    ["calendar", "--out", "x" * 300 + ".ics"],
    ["calendar", "--out", "contacts.xlsx/inside.ics"],
    ["init", "contacts.xlsx"],
    ["init", "x" * 300 + ".xlsx"],
    ["init", "control\x01.xlsx"],
    ["init", "/"],
]


@pytest.mark.parametrize("args", SWEEP, ids=[f"{n}-{a[0]}" for n, a in enumerate(SWEEP)])
def test_every_command_with_hostile_arguments_ends_in_its_exit_code_and_one_line(
    folder: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folder)  # relative paths in the arguments are the folder's
    done = invoke(folder, *args)
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    assert done.exit_code in (0, 2, 3, 4), done.output
    assert "Traceback" not in done.output and "unexpected error" not in done.output
    if done.exit_code:
        errors = [
            line for line in done.output.splitlines() if line.startswith(("followup:", "Error:"))
        ]
        assert len(errors) == 1, done.output


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["run", "--today", "9999-12-31"], 2, "is not between 1900-01-01 and 2200-12-31"),
        (["snooze", "ann", "²"], 2, "must be a whole number from 0 to 3,650"),
        (["status", "--config", "con\x01fig.toml"], 2, "No config file at con\x01fig.toml"),
    ],
)
def test_the_installed_program_answers_hostile_arguments_in_one_line(
    folder: Path, args: list[str], code: int, says: str
) -> None:
    done = (
        followup(folder, *args, "--today", TODAY)
        if "--today" not in args
        else followup(folder, *args)
    )
    assert done.returncode == code, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert (
        len([line for line in done.stderr.splitlines() if "followup:" in line or "Error:" in line])
        == 1
    )
