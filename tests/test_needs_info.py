"""The weekly mention of people who need a date: count, first names, the cell to fill.

Contacts without any date (every vCard import) never fell due and never appeared in the digest;
only `followup status` showed them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from cli_helpers import followup, outbox_messages, write_config
from hypothesis import given
from hypothesis import strategies as st
from workbooks import make_workbook

from followup.config import load_config
from followup.core.model import Contact, FollowUp, Status
from followup.core.needs_info import needs_info_section
from followup.errors import ConfigError

MONDAY, TUESDAY = date(2026, 3, 9), date(2026, 3, 10)
NEEDS = FollowUp(None, Status.NEEDS_INFO, 0, "Add a date")
DUE = FollowUp(TUESDAY, Status.DUE_TODAY, 0, "Say hello")


def _people(count: int) -> list[tuple[Contact, FollowUp]]:
    return [(Contact(row=n, name=f"Person {n}"), NEEDS) for n in range(2, count + 2)]


def test_on_its_day_the_first_five_are_named_with_their_cell_and_the_rest_counted() -> None:
    entries = [(Contact(row=99, name="Due"), DUE), *_people(7)]
    cells = {n: f"Contacts!E{n}" for n in range(2, 9)}

    section = needs_info_section(entries, MONDAY, 0, cells)

    assert section is not None
    assert (section.title, section.count, section.more) == ("Need a date", 7, 2)
    assert [card.title for card in section.cards] == [f"Person {n}" for n in range(2, 7)]
    assert "Contacts!E2 (Met on)" in section.cards[0].action


@given(today=st.dates(date(1900, 1, 1), date(2200, 12, 31)), day=st.none() | st.integers(0, 6))
def test_only_on_its_weekday(today: date, day: int | None) -> None:
    section = needs_info_section(_people(2), today, day, {})
    assert (section is not None) == (day is not None and today.weekday() == day)


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


def test_other_days_do_not_mention_them(folder: Path) -> None:
    ran = followup(folder, "run", "--today", TUESDAY.isoformat())
    assert ran.returncode == 0, ran.stderr
    (message,) = outbox_messages(folder / "outbox")
    assert "NEED A DATE" not in message.get_body(("plain",)).get_content()


def test_the_mention_alone_sends_a_digest_on_its_day(tmp_path: Path) -> None:
    make_workbook(tmp_path / "contacts.xlsx", [["Name", "Met on"], ["Fay Wong", None]])
    write_config(tmp_path)
    assert followup(tmp_path, "run", "--today", TUESDAY.isoformat()).returncode == 0
    assert outbox_messages(tmp_path / "outbox") == []
    assert followup(tmp_path, "run", "--today", "2026-03-16").returncode == 0
    (message,) = outbox_messages(tmp_path / "outbox")
    assert "Fay Wong" in message.get_body(("plain",)).get_content()
