"""The weekly mention of people who need a date: count, first names, the cell to fill.

Contacts without any date (every vCard import) never fell due and never appeared in the digest;
only `followup status` showed them.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from cli_helpers import followup, outbox_messages, write_config
from hypothesis import given
from hypothesis import strategies as st
from workbooks import make_workbook

from followup.config import load_config
from followup.core.model import Contact, FollowUp, Status
from followup.core.needs_info import needs_info_section, weekly_due
from followup.errors import ConfigError

MONDAY, TUESDAY = date(2026, 3, 9), date(2026, 3, 10)
NEEDS = FollowUp(None, Status.NEEDS_INFO, 0, "Add a date")
DUE = FollowUp(TUESDAY, Status.DUE_TODAY, 0, "Say hello")


def _people(count: int) -> list[tuple[Contact, FollowUp]]:
    return [(Contact(row=n, name=f"Person {n}"), NEEDS) for n in range(2, count + 2)]


def test_the_first_five_are_named_with_their_cell_and_the_rest_counted() -> None:
    entries = [(Contact(row=99, name="Due"), DUE), *_people(7)]
    cells = {n: f"Contacts!E{n}" for n in range(2, 9)}

    section = needs_info_section(entries, cells)

    assert section is not None
    assert (section.title, section.count, section.more) == ("Need a date", 7, 2)
    assert [card.title for card in section.cards] == [f"Person {n}" for n in range(2, 7)]
    assert "Contacts!E2 (Met on)" in section.cards[0].action


def test_nobody_needing_a_date_is_no_section() -> None:
    assert needs_info_section([(Contact(row=2, name="Due"), DUE)], {}) is None


@given(
    today=st.dates(date(1900, 1, 1), date(2200, 12, 31)),
    day=st.none() | st.integers(0, 6),
    back=st.none() | st.integers(-3, 30),
)
def test_due_in_the_first_digest_on_or_after_its_day_since_last_shown(
    today: date, day: int | None, back: int | None
) -> None:
    last = None if back is None else today - timedelta(days=back)
    since = range(back if back is not None and back < 7 else 7)  # days after `last`, to today
    expected = day is not None and any((today - timedelta(d)).weekday() == day for d in since)
    assert weekly_due(today, day, last) is expected


def test_a_skipped_day_moves_the_mention_to_the_next_digest() -> None:
    friday = MONDAY - timedelta(days=3)
    assert weekly_due(friday, 0, None)  # never shown: the first digest shows it
    assert not weekly_due(MONDAY - timedelta(days=1), 0, friday)  # Sunday: its day is to come
    assert weekly_due(TUESDAY, 0, friday)  # Monday was skipped
    assert not weekly_due(TUESDAY + timedelta(days=1), 0, TUESDAY)
    assert weekly_due(MONDAY + timedelta(days=7), 0, TUESDAY)
    assert not weekly_due(TUESDAY, None, None)


@pytest.mark.parametrize(("value", "day"), [("Monday", 0), ("sun", 6), (" FRIDAY ", 4), ("", None)])
def test_the_day_is_a_weekday_name_or_empty(tmp_path: Path, value: str, day: int | None) -> None:
    config = write_config(tmp_path, f'[digest]\nneeds_info_day = "{value}"\n')
    assert load_config(config).digest.needs_info_day == day


@pytest.mark.parametrize("value", ['"Funday"', '"m"', "1", "true"])
def test_a_bad_day_names_the_key(tmp_path: Path, value: str) -> None:
    config = write_config(tmp_path, f"[digest]\nneeds_info_day = {value}\n")
    with pytest.raises(ConfigError, match=r"needs_info_day.*day of the week"):
        load_config(config)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_workbook(
        tmp_path / "contacts.xlsx",
        [
            ["Name", "Email", "Met on"],
            ["Ann Lee", "ann@example.com", date(2025, 1, 5)],  # long overdue
            ["Fay Wong", "fay@example.com", None],
            ["Jürgen Müller", "jm@example.com", None],
        ],
    )
    write_config(tmp_path)
    return tmp_path


def test_mondays_digest_names_who_needs_a_date(folder: Path) -> None:
    ran = followup(folder, "run", "--today", MONDAY.isoformat())
    assert ran.returncode == 0, ran.stderr
    (message,) = outbox_messages(folder / "outbox")
    text = message.get_body(("plain",)).get_content()
    assert "NEED A DATE (2)" in text
    assert "Fay Wong\n  Type when you met them in Contacts!C3 (Met on)" in text
    assert "Contacts!C4" in text


def test_other_days_do_not_mention_them_again(folder: Path) -> None:
    for day in (MONDAY, TUESDAY):
        assert followup(folder, "run", "--today", day.isoformat()).returncode == 0
    tuesday = [m for m in outbox_messages(folder / "outbox") if "Tue 10 Mar" in m["Subject"]]
    assert [("NEED A DATE" in m.get_body(("plain",)).get_content()) for m in tuesday] == [False]


def test_a_skipped_monday_moves_the_mention_and_the_review_to_the_next_digest(
    folder: Path,
) -> None:
    """Runs on Fri 6 Mar, then Tue 10 to Fri 13 Mar: the Monday between was skipped."""
    done = followup(folder, "done", "ann", "--today", "2026-03-04")  # a week to review
    assert done.returncode == 0, done.stderr
    days = ["2026-03-06", "2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13"]
    for day in days:
        assert followup(folder, "run", "--today", day).returncode == 0
    bodies = {
        m["Subject"].split(":")[0].removeprefix("Follow-ups for "): m.get_body(
            ("plain",)
        ).get_content()
        for m in outbox_messages(folder / "outbox")
    }
    shown = {day: ("NEED A DATE" in text, "YOUR WEEK" in text) for day, text in bodies.items()}
    assert shown.pop("Fri 6 Mar") == (True, True)  # never shown before
    assert shown.pop("Tue 10 Mar") == (True, True)
    assert set(shown.values()) <= {(False, False)}  # later digests (if any are due) repeat neither


def test_the_mention_alone_sends_a_digest_once_a_week(tmp_path: Path) -> None:
    make_workbook(tmp_path / "contacts.xlsx", [["Name", "Met on"], ["Fay Wong", None]])
    write_config(tmp_path)
    for day in ("2026-03-16", "2026-03-17", "2026-03-22"):
        assert followup(tmp_path, "run", "--today", day).returncode == 0
    (message,) = outbox_messages(tmp_path / "outbox")
    assert message["Subject"] == "Follow-ups for Mon 16 Mar: 1 needs a date"
    assert "Fay Wong" in message.get_body(("plain",)).get_content()
