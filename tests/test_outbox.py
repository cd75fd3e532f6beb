"""The outbox: digests written whole, kept in order, moved to sent/ only once delivered."""

from __future__ import annotations

import stat
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from followup import atomic
from followup.core.digest import build_digest, to_message
from followup.delivery.outbox import Outbox

DAY = date(2026, 3, 11)


def message(day: date = DAY):
    when = datetime.combine(day, time(7, 30), tzinfo=UTC)
    return to_message(build_digest([], [], day), "me@example.com", "me@example.com", when)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_keep_writes_a_readable_eml_and_html_pair(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    sent = message()
    first = outbox.keep(sent, DAY)
    second = outbox.keep(message(), DAY)

    assert names(tmp_path / "outbox") == [
        "2026-03-11 Follow-ups 2.eml",
        "2026-03-11 Follow-ups 2.html",
        "2026-03-11 Follow-ups.eml",
        "2026-03-11 Follow-ups.html",
    ]
    assert (first.name, second.name) == ("2026-03-11 Follow-ups.eml", "2026-03-11 Follow-ups 2.eml")
    html = sent.get_body(preferencelist=("html",)).get_content()
    assert first.with_suffix(".html").read_text(encoding="utf-8") == html
    assert first.read_bytes() == bytes(sent)
    assert outbox.pending() == []


def test_load_reads_back_the_message_as_written(tmp_path: Path) -> None:
    sent = message()
    path = Outbox(tmp_path).add(sent, DAY)
    again = Outbox.load(path)
    assert bytes(again) == bytes(sent)
    assert again.get_body(preferencelist=("plain",)).get_content() == (
        sent.get_body(preferencelist=("plain",)).get_content()
    )


def test_pending_is_oldest_first(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.add(message(), date(2026, 3, 12))
    for _ in range(10):
        outbox.add(message(), DAY)
    outbox.add(message(), date(2026, 3, 9))

    assert [p.name for p in outbox.pending()] == [
        "2026-03-09 Follow-ups.eml",
        "2026-03-11 Follow-ups.eml",
        *(f"2026-03-11 Follow-ups {n}.eml" for n in range(2, 11)),
        "2026-03-12 Follow-ups.eml",
    ]


def test_mark_sent_moves_the_pair_and_never_reuses_a_sent_name(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    queued = outbox.add(message(), DAY)
    moved = outbox.mark_sent(queued)

    assert outbox.pending() == []
    assert moved == tmp_path / "sent" / "2026-03-11 Follow-ups.eml"
    assert names(tmp_path / "sent") == ["2026-03-11 Follow-ups.eml", "2026-03-11 Follow-ups.html"]
    assert names(tmp_path / "pending") == []

    again = outbox.add(message(), DAY)  # e.g. --force on the same day
    assert again.name == "2026-03-11 Follow-ups 2.eml"
    outbox.mark_sent(again)
    assert len(names(tmp_path / "sent")) == 4


def test_a_digest_set_aside_is_never_overwritten_by_a_later_one_of_its_day(tmp_path: Path) -> None:
    """add() skipped the names in pending/ and sent/ but not replaced/, so a second digest of a
    day (a rerun with --today) set aside in its turn replaced the first one kept there."""
    outbox = Outbox(tmp_path)
    first = outbox.set_aside(outbox.add(message(), DAY))
    second = outbox.set_aside(outbox.add(message(), DAY))

    assert first != second
    assert names(tmp_path / "replaced") == [
        "2026-03-11 Follow-ups 2.eml",
        "2026-03-11 Follow-ups 2.html",
        "2026-03-11 Follow-ups.eml",
        "2026-03-11 Follow-ups.html",
    ]


def test_pending_without_a_folder_is_empty(tmp_path: Path) -> None:
    assert Outbox(tmp_path / "nowhere").pending() == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_atomic(target, b"new")
    assert target.read_text() == "old"
    assert names(tmp_path) == ["state.json"]


def test_written_files_are_complete_private_and_leave_no_temporaries(tmp_path: Path) -> None:
    path = Outbox(tmp_path).add(message(), DAY)
    assert names(tmp_path / "pending") == [
        "2026-03-11 Follow-ups.eml",
        "2026-03-11 Follow-ups.html",
    ]
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
