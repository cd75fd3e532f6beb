"""The `followup schedule` loop on a fake clock, once for real as a process, and cron-line.

The fake clock moves only when the loop sleeps, so two days of scheduling take milliseconds and
every wake-up is visible. It keeps UTC, because adding a timedelta to a datetime in a DST zone
is wall-clock arithmetic and would hide the very bugs these tests look for.
"""

from __future__ import annotations

import logging
import os
import plistlib
import re
import shlex
import signal
import subprocess
import sys
import threading
import time as clock
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_helpers import ROOT, followup, outbox_messages, write_config

from followup.commands.scheduler import LOG_FILE, DailyScheduler, cron_line, send_moment
from followup.config import load_config
from followup.delivery.state import STATE_FILE, State
from followup.errors import DeliveryError
from followup.workbook.guards import AnotherRunInProgress

LONDON = ZoneInfo("Europe/London")


def at(text: str, zone: ZoneInfo = LONDON) -> datetime:
    """A wall-clock time in `zone` (fold=0: the first of a repeated hour)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


class FakeClock:
    """Time that passes only when the loop sleeps; it stops the loop once `end` is reached."""

    def __init__(self, start: datetime, end: datetime, stop: threading.Event) -> None:
        self.now = start.astimezone(UTC)
        self.end = end.astimezone(UTC)
        self.stop = stop
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.now >= self.end:
            self.stop.set()


class Job:
    """Records when it ran; raises `error` on its first `failures` runs."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.runs: list[datetime] = []
        self.failures = failures
        self.error = error or DeliveryError("The mail server did not answer.")

    def __call__(self, now: datetime) -> None:
        self.runs.append(now)
        if len(self.runs) <= self.failures:
            raise self.error


def run_loop(
    state_dir: Path,
    job: Job,
    start: datetime,
    end: datetime,
    send: str = "07:30",
    zone: ZoneInfo | None = LONDON,
) -> FakeClock:
    stop = threading.Event()
    fake = FakeClock(start, end, stop)
    scheduler = DailyScheduler(job, time.fromisoformat(send), zone, state_dir, now=fake)
    scheduler.run(stop, fake.sleep)
    return fake


def test_a_late_start_runs_at_once(tmp_path: Path) -> None:
    job = Job()
    run_loop(tmp_path, job, at("2026-03-11 09:00:20"), at("2026-03-11 12:00"))
    assert job.runs == [at("2026-03-11 09:00:20")]


def test_an_early_start_waits_for_the_send_time(tmp_path: Path) -> None:
    job = Job()
    run_loop(tmp_path, job, at("2026-03-11 06:00:17"), at("2026-03-11 09:00"))
    assert job.runs == [at("2026-03-11 07:30")]


def test_runs_once_a_day_and_wakes_every_minute(tmp_path: Path) -> None:
    job = Job()
    fake = run_loop(tmp_path, job, at("2026-03-11 06:00:17.5"), at("2026-03-13 06:00"))
    assert job.runs == [at("2026-03-11 07:30"), at("2026-03-12 07:30")]
    assert fake.sleeps[0] == 42.5
    assert all(0 < s <= 60 for s in fake.sleeps)
    assert len(fake.sleeps) == 48 * 60  # one wake a minute, never a busy loop


def test_the_runs_messages_say_when_the_next_run_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="followup")
    run_loop(tmp_path, Job(), at("2026-03-11 07:00"), at("2026-03-11 08:00"))
    assert caplog.messages == [
        "Started: the daily run is at 07:30 (Europe/London).",
        "Daily run done. Next run: Thu 12 Mar 07:30 GMT.",
        "followup schedule stopped.",
    ]


def test_a_failed_run_is_logged_and_retried_every_15_minutes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="followup")
    job = Job(failures=4)
    fake = run_loop(tmp_path, job, at("2026-03-11 07:00"), at("2026-03-11 12:00"))
    assert job.runs == [
        at(f"2026-03-11 {t}") for t in ("07:30", "07:45", "08:00", "08:15", "08:30")
    ]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["The mail server did not answer."] * 4
    assert "Trying again at Wed 11 Mar 07:45 GMT." in caplog.messages
    assert fake.now >= fake.end  # the loop lived on to the end


def test_an_unexpected_error_is_logged_with_its_traceback_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="followup")
    job = Job(failures=1, error=RuntimeError("a bug"))
    run_loop(tmp_path, job, at("2026-03-11 07:00"), at("2026-03-11 12:00"))
    assert job.runs == [at("2026-03-11 07:30"), at("2026-03-11 07:45")]
    [failure] = [r for r in caplog.records if r.exc_info]
    assert failure.levelno == logging.ERROR
    assert "a bug" in caplog.text


def test_another_run_in_progress_is_not_an_error_but_is_checked_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="followup")
    job = Job(failures=1, error=AnotherRunInProgress())
    run_loop(tmp_path, job, at("2026-03-11 07:00"), at("2026-03-11 12:00"))
    assert job.runs == [at("2026-03-11 07:30"), at("2026-03-11 07:45")]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_digest_delivered_by_another_run_is_not_sent_again(tmp_path: Path) -> None:
    state = State(tmp_path / STATE_FILE)
    state.record_delivery(date(2026, 3, 11), at("2026-03-11 07:30"))
    state.save()
    job = Job()
    run_loop(tmp_path, job, at("2026-03-11 09:00"), at("2026-03-12 09:00"))
    assert job.runs == [at("2026-03-12 07:30")]


def test_spring_forward_a_send_time_in_the_skipped_hour_runs_once(tmp_path: Path) -> None:
    # 2026-03-29: London clocks go from 01:00 GMT to 02:00 BST; 01:30 does not exist.
    job = Job()
    run_loop(tmp_path, job, at("2026-03-29 00:00"), at("2026-03-31 00:00"), send="01:30")
    assert [r.astimezone(UTC) for r in job.runs] == [
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 02:30 BST: 01:30 read at the winter offset
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),  # 01:30 BST: back to the set time next day
    ]


@pytest.fixture
def machine_in_london(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's local timezone set to Europe/London, as [digest] timezone = "" uses."""
    if not hasattr(clock, "tzset"):
        pytest.skip("TZ sets the machine's zone on POSIX only")
    monkeypatch.setenv("TZ", "Europe/London")
    clock.tzset()
    yield
    monkeypatch.undo()
    clock.tzset()


@pytest.mark.usefixtures("machine_in_london")
@pytest.mark.parametrize("zone", [LONDON, None], ids=["Europe/London", "machine's zone"])
def test_fall_back_a_send_time_in_the_repeated_hour_runs_once(
    tmp_path: Path, zone: ZoneInfo | None
) -> None:
    # 2026-10-25: London clocks go from 02:00 BST back to 01:00 GMT; 01:30 happens twice.
    job = Job()
    run_loop(tmp_path, job, at("2026-10-25 00:00"), at("2026-10-26 00:00"), "01:30", zone)
    assert [r.astimezone(UTC) for r in job.runs] == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]


def test_fall_back_retries_are_15_real_minutes_apart(tmp_path: Path) -> None:
    job = Job(failures=6)
    run_loop(tmp_path, job, at("2026-10-25 00:00"), at("2026-10-25 04:00"), send="01:30")
    utc = [r.astimezone(UTC) for r in job.runs]
    assert utc[0] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert [b - a for a, b in pairwise(utc)] == [timedelta(minutes=15)] * 6


@pytest.mark.parametrize(
    ("day", "utc"),
    [
        ("2026-03-28", "08:30"),
        ("2026-03-29", "07:30"),
        ("2026-10-24", "07:30"),
        ("2026-10-25", "08:30"),
    ],
)
def test_send_moment_follows_the_zone_not_a_fixed_offset(day: str, utc: str) -> None:
    moment = send_moment(date.fromisoformat(day), time(8, 30), LONDON)
    assert moment.astimezone(UTC) == datetime.fromisoformat(f"{day} {utc}+00:00")


@pytest.mark.usefixtures("machine_in_london")
@pytest.mark.parametrize("day", ["2026-03-28", "2026-03-29", "2026-10-24", "2026-10-25"])
def test_send_moment_without_a_timezone_follows_the_machine(day: str) -> None:
    the_day = date.fromisoformat(day)
    assert send_moment(the_day, time(8, 30), None) == send_moment(the_day, time(8, 30), LONDON)


# The real program --------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a POSIX signal")
def test_schedule_catches_up_as_a_process_and_stops_on_sigterm(tmp_path: Path) -> None:
    shipped = (ROOT / "config.toml").read_text(encoding="utf-8")
    config = re.sub(r'(?m)^time = "07:30"', 'time = "00:00"', shipped)
    config = re.sub(r"(?m)^send_when_empty = false", "send_when_empty = true", config)
    assert 'time = "00:00"' in config and "send_when_empty = true" in config
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    env["TZ"] = "America/New_York"  # the Date header has its true offset, as `run` writes it
    with (tmp_path / "out.txt").open("w") as out, (tmp_path / "err.txt").open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "followup", "schedule", "--config", "config.toml"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        try:
            deadline = clock.monotonic() + 30
            while not list((tmp_path / "outbox").glob("*.eml")):
                assert process.poll() is None, (tmp_path / "err.txt").read_text()
                assert clock.monotonic() < deadline, "no digest within 30 s"
                clock.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            process.kill()
            process.wait()
    log_file = tmp_path / "outbox" / LOG_FILE
    assert f"Logging to {log_file}" in (tmp_path / "out.txt").read_text()
    assert "Next run: now." in (tmp_path / "out.txt").read_text()
    log = log_file.read_text(encoding="utf-8")
    assert "Digest written to" in log
    assert log.rstrip().endswith("followup schedule stopped.")
    (message,) = outbox_messages(tmp_path / "outbox")
    sent = parsedate_to_datetime(message["Date"])
    assert abs(sent - datetime.now(UTC)) < timedelta(minutes=2)
    if sys.platform != "win32":
        assert sent.utcoffset() == ZoneInfo("America/New_York").utcoffset(sent.replace(tzinfo=None))


def test_schedule_refuses_today(tmp_path: Path) -> None:
    write_config(tmp_path)
    result = followup(tmp_path, "schedule", "--today", "2026-03-11")
    assert result.returncode == 2
    assert "real clock" in result.stderr


def _cron_entry(text: str) -> list[str]:
    [entry] = [line for line in text.splitlines() if not line.startswith("#")]
    return entry.split(" ", 5)


def test_cron_line_has_the_time_and_absolute_quoted_paths(tmp_path: Path) -> None:
    folder = tmp_path / "my 100% contacts"
    folder.mkdir()
    config = load_config(write_config(folder, '[digest]\ntime = "06:05"\n'))
    text = cron_line(config, "/opt/my python/bin/python3", datetime(2026, 3, 11, tzinfo=UTC))
    *fields, command = _cron_entry(text)
    assert fields == ["5", "6", "*", "*", "*"]
    assert "timezone" not in text  # no [digest] timezone: cron's clock is the right one
    source = folder.resolve() / "config.toml"
    log = folder.resolve() / "followup-cron.log"
    unescaped = command.replace("\\%", "%")
    assert "%" not in command.replace("\\%", "")
    assert shlex.split(unescaped) == [
        "cd", str(folder.resolve()), "&&",
        "/opt/my python/bin/python3", "-m", "followup", "run", "--config", str(source),
        ">>", str(log), "2>&1",
    ]  # fmt: skip


@pytest.mark.skipif(sys.platform == "win32", reason="TZ sets the machine's zone on POSIX only")
@pytest.mark.parametrize(("machine", "warned"), [("UTC", True), ("Europe/London", False)])
def test_cron_line_warns_when_the_machine_clock_is_in_another_zone(
    tmp_path: Path, machine: str, warned: bool
) -> None:
    write_config(tmp_path, '[digest]\ntime = "07:30"\ntimezone = "Europe/London"\n')
    result = followup(tmp_path, "cron-line", env={"TZ": machine})
    assert result.returncode == 0, result.stderr
    assert ("not [digest] timezone Europe/London" in result.stdout) is warned
    *fields, command = _cron_entry(result.stdout)
    assert fields == ["30", "7", "*", "*", "*"]
    assert shlex.split(command)[3] == sys.executable
    assert Path(shlex.split(command)[1]).is_absolute()


# The scheduler units in scripts/ ----------------------------------------------------------

SCRIPTS = ROOT / "scripts"


def test_the_cron_file_runs_followup_daily_at_0730() -> None:
    *fields, command = _cron_entry((SCRIPTS / "followup.cron").read_text(encoding="utf-8"))
    assert fields == ["30", "7", "*", "*", "*"]
    assert "-m followup run --config /path/to/followup/config.toml" in command


def test_the_systemd_timer_is_persistent_and_daily() -> None:
    timer = (SCRIPTS / "followup.timer").read_text(encoding="utf-8").splitlines()
    assert "OnCalendar=*-*-* 07:30:00" in timer
    assert "Persistent=true" in timer
    service = (SCRIPTS / "followup.service").read_text(encoding="utf-8").splitlines()
    assert "Type=oneshot" in service
    assert any(line.startswith("ExecStart=") and "followup run" in line for line in service)


def test_the_windows_task_runs_daily_and_catches_up_when_the_pc_wakes() -> None:
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    task = ET.parse(SCRIPTS / "followup-task.xml").getroot()  # noqa: S314 (our own file)
    assert task.findtext("t:Settings/t:StartWhenAvailable", namespaces=ns) == "true"
    trigger = task.find("t:Triggers/t:CalendarTrigger", ns)
    assert trigger is not None
    assert trigger.findtext("t:ScheduleByDay/t:DaysInterval", namespaces=ns) == "1"
    assert trigger.findtext("t:StartBoundary", namespaces=ns).endswith("T07:30:00")
    assert "followup run" in task.findtext("t:Actions/t:Exec/t:Arguments", namespaces=ns)


def test_the_launchd_agent_runs_daily_at_0730() -> None:
    with (SCRIPTS / "com.followup.daily.plist").open("rb") as handle:
        agent = plistlib.load(handle)
    assert agent["StartCalendarInterval"] == {"Hour": 7, "Minute": 30}
    assert agent["ProgramArguments"][1:4] == ["-m", "followup", "run"]
