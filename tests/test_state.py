"""The state file: one digest a day, and a broken file never stops a run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cli_helpers import followup, write_config
from workbooks import make_workbook

from followup.commands.memory import MEMORY_FILE, load_memory
from followup.config import load_config
from followup.core.history import Memory
from followup.delivery.state import State
from followup.workbook.guards import RUN_LOCK_NAME, run_lock

DAY = date(2026, 3, 11)
WHEN = datetime(2026, 3, 11, 7, 30, 2, tzinfo=UTC)


def test_a_missing_file_is_a_fresh_start(tmp_path: Path) -> None:
    state = State.load(tmp_path / "state.json")
    assert not state.delivered_on(DAY)
    assert state.warning == ""
    assert state.last_day is None and state.last_at is None


def test_a_delivery_is_remembered_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "state.json"
    state = State.load(path)
    state.record_delivery(DAY, WHEN)
    state.save()

    again = State.load(path)
    assert again.delivered_on(DAY)
    assert not again.delivered_on(date(2026, 3, 12))
    assert (again.last_day, again.last_at) == (DAY, WHEN)
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temporary left


def test_why_sending_failed_is_remembered_and_read_without_side_effects(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    assert State.read(path).last_failure == ""
    state = State.load(path)
    state.last_failure = "smtp.example.org refused the connection."
    state.save()
    assert State.load(path).last_failure == State.read(path).last_failure == state.last_failure
    path.write_text('{"last_failure": 4}')
    assert State.read(path).last_failure == ""
    assert path.exists()  # only State.load (a run's) sets a broken file aside


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b"[]",
        b'{"last_delivered_day": "yesterday"}',
        b'{"last_delivered_day": 20260311}',
        b'{"last_delivered_day": "2026-03-11", "last_delivered_at": "soon"}',
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,  # deeper than json can recurse
        b'{"last_failure": ["refused"]}',
    ],
)
def test_a_broken_file_is_set_aside_and_the_run_goes_on(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)

    state = State.load(path)
    assert not state.delivered_on(DAY)
    assert str(path) in state.warning and "state.json.bad" in state.warning
    assert (tmp_path / "state.json.bad").read_bytes() == content

    state.record_delivery(DAY, WHEN)
    state.save()
    assert State.load(path).delivered_on(DAY)


def test_a_delivery_without_its_time_still_counts_for_its_day(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"last_delivered_day": "2026-03-11", "last_delivered_at": null}')
    state = State.load(path)
    assert state.delivered_on(DAY) and state.last_at is None and state.warning == ""


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"[" * 100_000, "it is nested too deeply to read"),
        (b"{not json", "it is not valid JSON: expecting property name enclosed in double quotes "
         "at line 1"),
        (b'{"last_contact": []}', "it does not hold what followup writes there"),
        (b'{"x": 1e999}', "it does not hold what followup writes there"),  # once 'last_contact'
        (b'"just a string"', "it does not hold what followup writes there"),
        (b"\xff\xfe", "it is not UTF-8 text"),
    ],
)  # fmt: skip
def test_a_broken_contacts_memory_is_set_aside_with_a_notice(
    tmp_path: Path, content: bytes, why: str
) -> None:
    path = tmp_path / MEMORY_FILE
    path.write_bytes(content)
    memory = load_memory(path)
    assert memory == Memory()
    assert memory.warning.startswith(f"Could not use {path} ({why}); it was renamed to "
                                     "contacts.json.bad")  # fmt: skip
    assert (tmp_path / "contacts.json.bad").read_bytes() == content
    assert load_memory(path).warning == ""  # a missing file is a plain fresh start


def test_a_folder_where_the_run_lock_belongs_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / RUN_LOCK_NAME).mkdir()
    with run_lock(tmp_path, wait=0) as notice:
        assert "it was renamed to .followup.lock.bad, so nothing is lost" in notice
    assert (tmp_path / ".followup.lock.bad").is_dir()
    with run_lock(tmp_path, wait=0) as notice:
        assert notice == ""


def test_a_dry_run_reads_a_broken_file_and_leaves_it_where_it_is(tmp_path: Path) -> None:
    """The run reads the state once; a dry run reads it without setting a broken file aside."""
    make_workbook(tmp_path / "contacts.xlsx", [["Name", "Email"], ["Ann Lee", "ann@example.com"]])
    write_config(tmp_path)
    path = load_config(tmp_path / "config.toml").digest.state_dir / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"{not json")

    dry = followup(tmp_path, "run", "--dry-run", "--today", "2026-03-11")
    assert dry.returncode == 0, dry.stderr
    assert path.read_bytes() == b"{not json"
    assert not path.with_name("state.json.bad").exists()

    run = followup(tmp_path, "run", "--today", "2026-03-11")
    assert run.returncode == 0, run.stderr
    assert path.with_name("state.json.bad").read_bytes() == b"{not json"
    assert State.load(path).delivered_on(DAY)
