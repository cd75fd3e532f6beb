"""`followup import` spreads first check-ins, so a big import does not flood the first morning.

Once, 40 ordinary LinkedIn connections (2015-2026) made 41 people overdue on the first day.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from cli_helpers import followup, sheet_values
from edit_helpers import invoke
from hypothesis import given
from hypothesis import strategies as st

from followup.commands.import_plan import spread_check_ins
from followup.config import load_config
from followup.core.model import Contact, HowMet
from followup.core.rules import follow_up

TODAY = "2026-12-01"  # a Tuesday
HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"


def _connections(count: int) -> str:
    """`count` connections made between 2015 and 2026, newest first as LinkedIn lists them:
    by the rules, every one of them is overdue."""
    rows = [
        f"P{n},Person,https://www.linkedin.com/in/p{n},,Co {n},Role,"
        f"{date(2026, 5, 1) - timedelta(days=n * 97):%d %b %Y}\r\n"
        for n in range(count)
    ]
    return HEADER + "".join(rows)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    assert followup(tmp_path, "init", "--empty", "--today", TODAY).returncode == 0
    return tmp_path


def _imported(folder: Path, csv: str, *args: str) -> str:
    (folder / "Connections.csv").write_text(csv, encoding="utf-8")
    done = invoke(folder, "import", "linkedin", str(folder / "Connections.csv"), *args, today=TODAY)
    assert done.exit_code == 0, done.output
    return done.output


def _status(folder: Path, today: str = TODAY) -> list[dict[str, object]]:
    done = invoke(folder, "status", "--json", today=today)
    assert done.exit_code == 0, done.output
    return json.loads(done.output)["contacts"]


def test_forty_connections_are_spread_over_the_working_days_of_sixty(folder: Path) -> None:
    said = _imported(folder, _connections(40))

    assert (
        "Added 40 contacts; skipped 0. Their first check-ins run from 2 Dec to 28 Jan, about 1 "
        "a working day (in Follow up on)."
    ) in said
    contacts = _status(folder)
    assert len(contacts) == 40
    assert [c for c in contacts if c["status"] in ("overdue", "due-today")] == []
    days = Counter(date.fromisoformat(str(c["next_follow_up"])) for c in contacts)
    assert min(days) == date(2026, 12, 2) and max(days) == date(2027, 1, 28)
    assert max(days.values()) == 1
    assert all(day.weekday() < 5 for day in days)
    # The first morning lists the newest connection only.
    tomorrow = [c["name"] for c in _status(folder, "2026-12-02") if c["status"] == "due-today"]
    assert tomorrow == ["P0 Person"]


def test_a_date_the_rules_give_sooner_is_kept(folder: Path) -> None:
    """A job application from last week is nudged when its rule says, not in the spread."""
    csv = HEADER + "Jo,Bell,https://www.linkedin.com/in/jo,,Acme,Lead,27 Nov 2026\r\n"
    said = _imported(
        folder, csv + "".join(_connections(3).splitlines(True)[1:]), "--how", "Job application"
    )
    assert "3 keep" not in said and "1 keeps the sooner date the rules give." in said
    jo = next(c for c in _status(folder) if c["name"] == "Jo Bell")
    assert jo["next_follow_up"] == "2026-12-04"  # 7 days after applying


def test_an_old_event_connection_gets_a_check_in_not_a_thank_you_years_late(
    folder: Path,
) -> None:
    """The spread moves the first date; what to do then must fit the years gone by."""
    csv = HEADER + "Old,Friend,https://www.linkedin.com/in/old,,Acme,Lead,29 Nov 2018\r\n"
    _imported(folder, csv, "--how", "Networking event")
    ran = invoke(folder, "run", "--dry-run", today="2026-12-02")
    assert ran.exit_code == 0, ran.output
    card = ran.output[ran.output.index("Old Friend") :]
    assert "Networking event, 8 years ago" in card
    assert "Check in by LinkedIn message with something useful" in card
    assert "I was thinking back to our conversation" in card  # the keep-in-touch draft
    assert "thank" not in card.casefold()


def test_one_person_gets_one_date_not_a_range(folder: Path) -> None:
    """It once said "run from 2 Dec to 2 Dec, about 1 a working day"."""
    said = _imported(folder, _connections(1))
    assert "Added 1 contact; skipped 0. Their first check-in is on 2 Dec (in Follow up on)." in said


def test_a_one_day_spread_names_its_day(folder: Path) -> None:
    config = folder / "config.toml"
    text = config.read_text(encoding="utf-8").replace("spread_days = 60", "spread_days = 1")
    config.write_text(text, encoding="utf-8")
    said = _imported(folder, _connections(3))
    assert "Their first check-ins are on 2 Dec (in Follow up on)." in said


def test_priority_is_chosen_and_c_by_default(folder: Path) -> None:
    _imported(folder, _connections(2), "--priority", "a")
    _imported(folder, _connections(4))  # the first two are already there
    book = load_config(folder / "config.toml").workbook.path
    rows = sheet_values(book, "Contacts")
    priority = rows[0].index("Priority")
    assert [r[priority] for r in rows[1:]] == ["A", "A", "C", "C"]


def test_no_spread_leaves_undated_people_named_as_unschedulable(folder: Path) -> None:
    config = folder / "config.toml"
    text = config.read_text(encoding="utf-8").replace("spread_days = 60", "spread_days = 0")
    config.write_text(text, encoding="utf-8")
    csv = HEADER + "Ed,Nash,https://www.linkedin.com/in/ed,,Acme,,\r\n"

    said = _imported(folder, csv)

    assert "Their first check-ins" not in said
    assert "No Met on date for 1: Ed Nash (row 2)." in said
    assert "followup cannot schedule them" in said
    assert _status(folder)[0]["status"] == "needs-info"


@given(
    met=st.lists(st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2030, 1, 1))), max_size=300),
    today=st.dates(date(2000, 1, 1), date(2100, 1, 1)),
    days=st.integers(0, 365),
)
def test_spread_dates_are_working_days_in_the_window_in_equal_shares(
    met: list[date | None], today: date, days: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("spread")
    (folder / "config.toml").write_text(f"[import]\nspread_days = {days}\n", encoding="utf-8")
    config = load_config(folder / "config.toml")
    added = [Contact(row=n, name=f"P{n}", met_on=m, priority="C") for n, m in enumerate(met, 2)]
    added += [Contact(row=1000, name="Job", how_met=HowMet.JOB_APPLICATION, met_on=today)]

    spread = spread_check_ins(added, today, config)

    if days == 0:
        assert spread == {}
        return
    window = [today + timedelta(n) for n in range(1, days + 1)]
    working = [d for d in window if d.weekday() < 5] or window
    nudge = follow_up(added[-1], today, config.rules).next_date
    assert nudge is not None
    assert (1000 in spread) is not (today <= nudge <= working[-1])  # kept when in the window
    assert set(spread.values()) <= set(working)
    load = Counter(spread.values())
    if 1000 not in spread and nudge in working:
        load[nudge] += 1  # a kept date is a check-in on its day too: the others go around it
    most = -(-sum(load.values()) // len(working))
    assert max(load.values(), default=0) <= most


def test_a_second_import_fills_the_days_the_first_left_light(folder: Path) -> None:
    """Two imports once put their first check-ins on the same days (2 Dec and 31 Dec twice)."""
    _imported(folder, _connections(40))
    csv = HEADER + "".join(
        f"Q{n},Other,https://www.linkedin.com/in/q{n},,Co,Role,01 Jan 2020\r\n" for n in range(40)
    )
    said = _imported(folder, csv)

    assert "Added 40 contacts; skipped 0." in said
    assert "about 1 a working day" in said
    days = Counter(date.fromisoformat(str(c["next_follow_up"])) for c in _status(folder))
    # 80 people on the 43 working days up to 28 Jan: each day once before any twice.
    assert len(days) == 43 and max(days.values()) == 2


@given(
    first=st.integers(0, 300),
    second=st.integers(1, 300),
    typed=st.lists(st.dates(date(2026, 12, 1), date(2027, 3, 1)), max_size=20),
    days=st.integers(1, 120),
)
def test_after_two_imports_no_working_day_holds_more_than_its_share(
    first: int,
    second: int,
    typed: list[date],
    days: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("twice")
    (folder / "config.toml").write_text(f"[import]\nspread_days = {days}\n", encoding="utf-8")
    config = load_config(folder / "config.toml")
    today = date(2026, 12, 1)
    window = [today + timedelta(n) for n in range(1, days + 1)]
    working = [d for d in window if d.weekday() < 5] or window
    once = spread_check_ins(
        [Contact(row=n, name=f"P{n}", priority="C") for n in range(first)], today, config, typed
    )
    twice = spread_check_ins(
        [Contact(row=n, name=f"Q{n}", priority="C") for n in range(first, first + second)],
        today,
        config,
        [*typed, *once.values()],
    )

    typed_days = Counter(typed)
    held = Counter([*once.values(), *twice.values()]) + typed_days
    assert set(twice.values()) <= set(working)
    # Each day at most its share of everyone in the window (tighter than "share + 1"); a day
    # the user's own typed dates already fill past it gets no one more.
    share = -(-(first + second + sum(typed_days[d] for d in working)) // len(working))
    assert all(held[d] <= max(share, typed_days[d]) for d in working)
