"""A digest's Date header is the true instant, with the UTC offset of the machine or of
[digest] timezone: mail clients order and show it by that header.

It once carried the machine's wall-clock time marked -0000 (no zone known): with TZ set to
New York a digest written at 00:57 UTC read 19:57 -0000, five hours early.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_helpers import followup, outbox_messages

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="TZ sets the machine's zone on POSIX only"
)
NEW_YORK = ZoneInfo("America/New_York")


def _set_up(folder: Path, zone: str = "") -> None:
    assert followup(folder, "init", "--today", "2026-03-11").returncode == 0
    config = folder / "config.toml"
    text = config.read_text(encoding="utf-8")
    assert 'timezone = ""' in text
    config.write_text(text.replace('timezone = ""', f'timezone = "{zone}"'), encoding="utf-8")


def _date_header(folder: Path, *args: str) -> datetime:
    ran = followup(folder, "run", *args, env={"TZ": "America/New_York"}, real=True)
    assert ran.returncode == 0, ran.stderr
    (message,) = outbox_messages(folder / "outbox")
    return parsedate_to_datetime(message["Date"])


def test_run_in_the_machines_zone_writes_its_true_offset(tmp_path: Path) -> None:
    _set_up(tmp_path)
    sent = _date_header(tmp_path)
    assert sent.tzinfo is not None
    assert abs(sent - datetime.now(UTC)) < timedelta(minutes=2)
    assert sent.utcoffset() == NEW_YORK.utcoffset(sent.replace(tzinfo=None))


def test_run_in_the_configured_zone_writes_that_offset(tmp_path: Path) -> None:
    _set_up(tmp_path, "Asia/Tokyo")
    sent = _date_header(tmp_path)
    assert abs(sent - datetime.now(UTC)) < timedelta(minutes=2)
    assert sent.utcoffset() == timedelta(hours=9)


@pytest.mark.parametrize(("day", "hours"), [("2026-07-01", -4), ("2026-01-15", -5)])
def test_a_given_day_has_that_days_offset(tmp_path: Path, day: str, hours: int) -> None:
    _set_up(tmp_path)
    sent = _date_header(tmp_path, "--today", day)
    assert sent.date().isoformat() == day
    assert sent.utcoffset() == timedelta(hours=hours)
