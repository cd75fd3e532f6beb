"""The weekly review: last week from the Log, who is resting, the week ahead, and a bar chart of
eight weeks in HTML tables and as text."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.config import load_config
from followup.core.digest import build_digest
from followup.core.log import LogEntry
from followup.core.model import Contact, HowMet, RuleSettings, Stage
from followup.core.needs_info import weekly_due
from followup.core.rules import follow_up
from followup.core.weekly import review_section

MONDAY = date(2026, 3, 16)
RULES = RuleSettings()
D = date.fromisoformat


def evaluated(*contacts: Contact):
    return [(c, follow_up(c, MONDAY, RULES)) for c in contacts]


LOG = (
    LogEntry(D("2026-03-09"), "Ann Lee", "ann@example.com", "email"),
    LogEntry(D("2026-03-11"), "Bo Chen", "", "meeting"),
    LogEntry(D("2026-03-12"), "Bo Chen", "", "reply"),
    LogEntry(D("2026-03-15"), "Cy Diaz", "", "workbook edit"),
    LogEntry(D("2026-03-16"), "Ann Lee", "", "email"),  # today: next week's
    LogEntry(D("2026-03-08"), "Ann Lee", "", "email"),  # the week before
    LogEntry(D("2026-01-19"), "Ann Lee", "", "email"),  # the first day of the eighth week
    LogEntry(D("2026-01-18"), "Ann Lee", "", "email"),  # before the chart
)
PEOPLE = evaluated(
    Contact(row=2, name="Ann Lee", met_on=D("2026-03-01"), last_contact=D("2026-03-13")),
    Contact(
        row=3,
        name="Di Egan",
        how_met=HowMet.JOB_APPLICATION,
        met_on=D("2026-02-01"),
        last_contact=D("2026-03-01"),
        follow_ups=2,
        stage=Stage.WAITING,
    ),
    Contact(row=4, name="Ed Fox", met_on=D("2026-03-14"), how_met=HowMet.NETWORKING_EVENT),
)


def test_the_review_tells_last_weeks_story_and_the_week_ahead() -> None:
    section = review_section(LOG, PEOPLE, MONDAY, RULES)
    (card,) = section.cards
    assert card.title == "The week to 15 Mar"
    assert card.lines == (
        "3 follow-ups made in the last seven days (9 Mar to 15 Mar)",
        "1 meeting and 1 reply: Bo Chen",
        "Resting after unanswered follow-ups: Di Egan until 1 Jun",
        "The week ahead: 1 follow-up due now, and none more by 22 Mar",
    )
    assert section.chart == (
        ("19 Jan", 1),
        ("26 Jan", 0),
        ("2 Feb", 0),
        ("9 Feb", 0),
        ("16 Feb", 0),
        ("23 Feb", 0),
        ("2 Mar", 1),
        ("9 Mar", 3),
    )


def test_the_chart_is_html_tables_without_images_and_a_text_twin() -> None:
    review = review_section(LOG, PEOPLE, MONDAY, RULES)
    digest = build_digest(PEOPLE, [], MONDAY, mentions=[review])
    assert "\nYOUR WEEK\n" in digest.text and "YOUR WEEK (" not in digest.text
    assert ">Your week</h2>" in digest.html
    assert "  Follow-ups made, week by week:\n  19 Jan  ######## 1\n  26 Jan  0\n" in digest.text
    assert "   9 Mar  ######################## 3\n" in digest.text
    assert "<img" not in digest.html and "url(" not in digest.html
    bar = (
        r'<table role="presentation" width="(\d+)%" cellpadding="0" cellspacing="0"><tr><td bgcolor'
    )
    widths = re.findall(bar, digest.html)
    assert widths == ["33", "33", "100"], "one bar per week with follow-ups, scaled to the most"


def test_a_quiet_week_says_so() -> None:
    earlier = [LogEntry(D("2026-02-24"), "Bo Chen", "", "email")]  # three weeks before
    section = review_section(earlier, (), MONDAY, RULES)
    assert section is not None
    assert section.cards[0].lines == (
        "No follow-ups made in the last seven days (9 Mar to 15 Mar)",
        "Nobody is resting after unanswered follow-ups",
        "The week ahead: nothing due by 22 Mar",
    )
    assert [count for _, count in section.chart] == [0, 0, 0, 0, 0, 1, 0, 0]


def test_eight_weeks_without_a_follow_up_or_a_reply_are_no_story() -> None:
    """A new user's first digest once carried a review of eight empty weeks."""
    older = [LogEntry(D("2026-01-05"), "Bo Chen", "", "email")]  # before the chart's weeks
    assert review_section((), (), MONDAY, RULES) is None
    assert review_section(older, (), MONDAY, RULES) is None
    reply = [LogEntry(D("2026-03-02"), "Bo Chen", "", "reply")]
    assert review_section(reply, (), MONDAY, RULES) is not None


@pytest.mark.parametrize(
    ("channels", "heard", "ahead"),
    [
        (["meeting", "meeting"], "2 meetings", "The week ahead: 1 follow-up due by 22 Mar"),
        (["reply"], "1 reply: Bo Chen", "The week ahead: 1 follow-up due by 22 Mar"),
    ],
)
def test_a_count_of_none_is_left_out_not_printed_as_zero(
    channels: list[str], heard: str, ahead: str
) -> None:
    log = [LogEntry(D("2026-03-12"), "Bo Chen", "", channel) for channel in channels]
    soon = evaluated(Contact(row=2, name="Cy Dunn", met_on=D("2026-03-13"),
                             how_met=HowMet.JOB_APPLICATION))  # fmt: skip
    lines = review_section(log, soon, MONDAY, RULES).cards[0].lines
    assert heard in lines
    assert ahead in lines
    assert not any(" 0 " in f" {line} " for line in lines), lines


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.builds(
            LogEntry,
            st.dates(date(2025, 12, 1), date(2026, 4, 1)),
            st.text(max_size=8),
            st.just(""),
            st.sampled_from(["email", "meeting", "reply", "workbook edit", ""]),
        ),
        max_size=40,
    )
)
def test_the_chart_counts_every_follow_up_of_the_eight_weeks_once(log: list[LogEntry]) -> None:
    section = review_section(log, (), MONDAY, RULES)
    first = MONDAY - timedelta(days=56)
    weeks = [e for e in log if first <= e.day < MONDAY]
    made = [e for e in weeks if e.channel != "reply"]
    if section is None:
        assert weeks == []
        return
    assert sum(count for _, count in section.chart) == len(made)
    assert len(section.chart) == 8


@pytest.mark.parametrize(
    ("setting", "day", "expected"),
    [
        ("", MONDAY, True),  # the default: Monday
        ("", MONDAY + timedelta(days=1), False),
        ('review_day = "Friday"', D("2026-03-20"), True),
        ('review_day = "off"', MONDAY, False),
    ],
)
def test_the_review_day_is_monday_unless_configured(
    tmp_path: Path, setting: str, day: date, expected: bool
) -> None:
    (tmp_path / "config.toml").write_text(f"[digest]\n{setting}\n", encoding="utf-8")
    review_day = load_config(tmp_path / "config.toml").digest.review_day
    assert weekly_due(day, review_day, day - timedelta(days=1)) is expected


def test_a_bad_review_day_is_a_config_error(tmp_path: Path) -> None:
    from followup.errors import ConfigError

    (tmp_path / "config.toml").write_text('[digest]\nreview_day = "someday"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="review_day"):
        load_config(tmp_path / "config.toml")


def test_mondays_digest_carries_the_review_and_other_days_do_not(tmp_path: Path) -> None:
    from cli_helpers import write_config
    from edit_helpers import invoke
    from workbooks import make_workbook

    rows = [["Name", "Email", "Met on"], ["Ann Lee", "ann@example.com", D("2026-03-01")]]
    make_workbook(tmp_path / "contacts.xlsx", rows)
    write_config(tmp_path, "[digest]\nsend_when_empty = true\n")
    assert invoke(tmp_path, "done", "ann", today="2026-03-12").exit_code == 0
    monday = invoke(tmp_path, "run", "--dry-run", today="2026-03-16")
    assert monday.exit_code == 0, monday.output
    assert "YOUR WEEK\n\nThe week to 15 Mar\n  1 follow-up made in the last seven days" in (
        monday.output
    )
    assert invoke(tmp_path, "run", today="2026-03-16").exit_code == 0  # shown, once a week
    tuesday = invoke(tmp_path, "run", "--dry-run", today="2026-03-17")
    assert "YOUR WEEK" not in tuesday.output
