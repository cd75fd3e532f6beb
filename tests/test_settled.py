"""A run with nothing left to do stops at once, and only then (followup.settled)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from cli_helpers import followup, outbox_messages, write_config
from smtp_server import free_port
from workbooks import make_workbook

from followup.commands import settled
from followup.config import load_config

TODAY = "2026-03-11"
NOTHING = "Nothing changed since today's last run"
ROWS = [
    ["Name", "Email", "How we met", "Met on"],
    ["Ann Lee", "ann@example.com", "Networking event", date(2026, 3, 2)],
    ["Bo Chen", "bo@example.com", "Job application", date(2026, 3, 4)],
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_workbook(tmp_path / "contacts.xlsx", ROWS)
    write_config(tmp_path)
    return tmp_path


def test_a_second_run_on_a_settled_day_stops_at_once(folder: Path) -> None:
    book = folder / "contacts.xlsx"
    first = followup(folder, "run", "--today", TODAY)
    assert "Wrote" in first.stdout, first.stderr
    written = book.stat().st_mtime_ns

    again = followup(folder, "run", "--today", TODAY)

    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(NOTHING) and "--force" in again.stdout
    assert book.stat().st_mtime_ns == written
    forced = followup(folder, "run", "--force", "--today", TODAY)
    assert NOTHING not in forced.stdout and len(outbox_messages(folder / "outbox")) == 2


@pytest.mark.parametrize("change", ["the workbook", "config.toml", "the day"])
def test_anything_different_makes_a_full_run(folder: Path, change: str) -> None:
    assert followup(folder, "run", "--today", TODAY).returncode == 0
    day = TODAY
    if change == "the workbook":
        snoozed = followup(folder, "snooze", "Bo", "7", "--today", TODAY)
        assert snoozed.returncode == 0, snoozed.stderr
    elif change == "config.toml":
        write_config(folder, "[digest]\nmax_items = 5\n")
    else:
        day = "2026-03-12"

    again = followup(folder, "run", "--today", day)

    assert again.returncode == 0, again.stderr
    assert NOTHING not in again.stdout
    assert "Wrote" in again.stdout or "up to date; not rewritten" in again.stdout


def test_a_digest_left_pending_is_tried_again_the_same_day(folder: Path) -> None:
    write_config(
        folder,
        f'[digest]\nto = "me@example.com"\n[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\n'
        'security = "none"\nuser = "me@example.com"\nfrom = "me@example.com"\ntimeout = 2\n',
    )
    environment = {"FOLLOWUP_SMTP_PASSWORD": "secret"}
    first = followup(folder, "run", "--today", TODAY, env=environment)
    assert first.returncode == 4, first.stderr

    again = followup(folder, "run", "--today", TODAY, env=environment)

    assert again.returncode == 4 and NOTHING not in again.stdout


def test_the_token_changes_with_the_day_the_settings_and_every_byte(folder: Path) -> None:
    config = load_config(folder / "config.toml")
    day = date(2026, 3, 11)
    token = settled.token(config, day)
    assert settled.token(config, day) == token
    assert settled.token(config, date(2026, 3, 12)) != token
    assert settled.token(load_config(write_config(folder, "backups = 3\n")), day) != token
    book = folder / "contacts.xlsx"
    book.write_bytes(book.read_bytes() + b"\0")
    assert settled.token(config, day) != token


def test_a_dry_run_leaves_a_settled_day_settled(folder: Path) -> None:
    """A dry run removed the token, so the next real run did all the work again."""
    assert followup(folder, "run", "--today", TODAY).returncode == 0

    dry = followup(folder, "run", "--dry-run", "--today", TODAY)
    again = followup(folder, "run", "--today", TODAY)

    assert dry.returncode == 0, dry.stderr
    assert again.returncode == 0, again.stderr
    assert NOTHING in again.stdout
