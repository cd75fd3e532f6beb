"""The rules core against the worked examples and the edge cases around them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from followup.config import load_config
from followup.core.model import Contact, FollowUp, HowMet, RuleSettings, Stage, Status
from followup.core.rules import clears_follow_up_on, follow_up, step_index
from followup.errors import ConfigError

TODAY = date(2026, 3, 11)  # a Wednesday, as in the worked examples
DEFAULTS = RuleSettings()

NE = HowMet.NETWORKING_EVENT
JA = HowMet.JOB_APPLICATION
II = HowMet.INFORMATIONAL_INTERVIEW
RE = HowMet.REFERRAL
KT = HowMet.KEEP_IN_TOUCH


def d(text: str) -> date:
    return date.fromisoformat(text)


def contact(**fields: object) -> Contact:
    return Contact(row=2, name="Ada Lovelace", **fields)  # type: ignore[arg-type]


def run(today: date = TODAY, settings: RuleSettings = DEFAULTS, **fields: object) -> FollowUp:
    return follow_up(contact(**fields), today, settings)


# The worked examples: fields, next follow-up, status, days overdue.
WORKED_EXAMPLES = [
    ({"how_met": NE, "met_on": d("2026-03-09")}, "2026-03-11", Status.DUE_TODAY, 0),
    ({"how_met": NE, "met_on": d("2026-03-05")}, "2026-03-09", Status.OVERDUE, 2),
    (
        {"how_met": NE, "met_on": d("2026-01-10"), "last_contact": d("2026-01-12")},
        "2026-04-13",
        Status.SCHEDULED,
        0,
    ),
    ({"how_met": JA, "met_on": d("2026-03-06")}, "2026-03-13", Status.UPCOMING, 0),
    (
        {"how_met": JA, "met_on": d("2026-02-20"), "last_contact": d("2026-02-27")},
        "2026-03-06",
        Status.OVERDUE,
        5,
    ),
    (
        {
            "how_met": JA,
            "met_on": d("2026-02-01"),
            "last_contact": d("2026-02-15"),
            "follow_ups": 2,
        },
        None,
        Status.CLOSED,
        0,
    ),
    ({"how_met": II, "met_on": d("2026-03-10")}, "2026-03-11", Status.DUE_TODAY, 0),
    (
        {"how_met": II, "met_on": d("2026-02-01"), "last_contact": d("2026-02-02")},
        "2026-02-23",
        Status.OVERDUE,
        16,
    ),
    (
        {"how_met": KT, "last_contact": d("2026-02-01"), "priority": "A"},
        "2026-03-03",
        Status.OVERDUE,
        8,
    ),
    (
        {"how_met": KT, "last_contact": d("2026-01-01"), "priority": "C"},
        "2026-06-30",
        Status.SCHEDULED,
        0,
    ),
    (
        {"how_met": KT, "last_contact": d("2026-03-01"), "cadence": 14},
        "2026-03-16",
        Status.UPCOMING,
        0,
    ),
    ({"how_met": RE, "met_on": d("2026-03-10")}, "2026-03-12", Status.UPCOMING, 0),
    (
        {"how_met": KT, "last_contact": d("2026-01-05"), "follow_up_on": d("2026-03-20")},
        "2026-03-20",
        Status.SCHEDULED,
        0,
    ),
    (
        {"how_met": NE, "met_on": d("2026-03-01"), "stage": Stage.PAUSED},
        None,
        Status.PAUSED,
        0,
    ),
    (
        {"how_met": JA, "met_on": d("2026-03-01"), "stage": Stage.CLOSED},
        None,
        Status.CLOSED,
        0,
    ),
    ({"how_met": NE}, None, Status.NEEDS_INFO, 0),
    (
        {"how_met": KT, "last_contact": d("2025-09-01"), "stage": Stage.DECLINED},
        "2026-03-02",
        Status.OVERDUE,
        9,
    ),
    (
        {
            "how_met": NE,
            "met_on": d("2026-03-02"),
            "last_contact": d("2026-03-06"),
            "stage": Stage.WAITING,
        },
        "2026-03-13",
        Status.WAITING,
        0,
    ),
]


@pytest.mark.parametrize(
    ("fields", "next_date", "status", "days_overdue"),
    WORKED_EXAMPLES,
    ids=[f"row{i + 1}" for i in range(len(WORKED_EXAMPLES))],
)
def test_spec_worked_examples(
    fields: dict[str, object], next_date: str | None, status: Status, days_overdue: int
) -> None:
    result = run(**fields)
    assert result.next_date == (d(next_date) if next_date else None)
    assert result.status is status
    assert result.days_overdue == days_overdue
    assert result.action


def test_last_contact_before_met_on_anchors_on_met_on() -> None:
    # Last contact 2026-03-01 predates Met on, so the first step counts from Met on.
    result = run(how_met=NE, met_on=d("2026-03-10"), last_contact=d("2026-03-01"))
    assert result.next_date == d("2026-03-12")
    assert result.status is Status.UPCOMING
    assert "thank-you" in result.action


def test_follow_ups_column_beyond_implied_touches_moves_to_next_step() -> None:
    # Dates imply one touch; the column says two, so the application is done.
    job = run(how_met=JA, met_on=d("2026-03-02"), last_contact=d("2026-03-09"), follow_ups=2)
    assert (job.next_date, job.status) == (None, Status.CLOSED)
    # Informational interview with no Last contact but one recorded touch: step 2 (21 days).
    info = run(how_met=II, met_on=d("2026-03-02"), follow_ups=1)
    assert info.next_date == d("2026-03-23")
    assert info.action == (
        "Send a short update on how you used their advice"
        " with a handwritten note (or find their email)."
    )


def test_without_skip_weekends_a_saturday_stays() -> None:
    settings = replace(DEFAULTS, skip_weekends=False)
    result = run(settings=settings, how_met=NE, met_on=d("2026-03-05"))
    assert result.next_date == d("2026-03-07")  # Saturday
    assert (result.status, result.days_overdue) == (Status.OVERDUE, 4)


def test_explicit_sunday_follow_up_on_is_not_moved() -> None:
    result = run(how_met=KT, last_contact=d("2026-03-01"), follow_up_on=d("2026-03-15"))
    assert result.next_date == d("2026-03-15")  # Sunday
    assert result.status is Status.UPCOMING


def test_explicit_follow_up_on_wins_over_stop_after_steps() -> None:
    result = run(how_met=JA, met_on=d("2026-02-01"), follow_ups=2, follow_up_on=d("2026-03-10"))
    assert (result.next_date, result.status, result.days_overdue) == (
        d("2026-03-10"),
        Status.OVERDUE,
        1,
    )
    assert result.action.startswith("Check in")


def test_cadence_overrides_priority() -> None:
    result = run(how_met=KT, last_contact=d("2026-03-02"), priority="C", cadence=10)
    assert result.next_date == d("2026-03-12")
    assert result.status is Status.UPCOMING


def test_blank_priority_uses_b_cadence() -> None:
    result = run(how_met=KT, last_contact=d("2026-01-05"))
    assert result.next_date == d("2026-04-06")  # 2026-01-05 + 90 days is a Sunday
    assert result.status is Status.SCHEDULED


def test_custom_settings() -> None:
    settings = RuleSettings(
        steps={NE: (3, 10), KT: ()},
        cadence={"A": 14, "B": 45, "C": 60},
        stop_after_steps=frozenset(),
        nudge_days=3,
        declined_days=30,
        skip_weekends=True,
        lookahead_days=14,
    )
    # Second networking step is 10 days: 2026-03-09 + 10 = Thu 2026-03-19, inside 14 days.
    second = run(
        settings=settings, how_met=NE, met_on=d("2026-03-01"), last_contact=d("2026-03-09")
    )
    assert (second.next_date, second.status) == (d("2026-03-19"), Status.UPCOMING)
    # After both steps (column says 2), the B cadence of 45 days applies.
    done = run(
        settings=settings,
        how_met=NE,
        met_on=d("2026-02-01"),
        last_contact=d("2026-03-02"),
        follow_ups=2,
    )
    assert (done.next_date, done.status) == (d("2026-04-16"), Status.SCHEDULED)
    # How we met with no configured steps goes straight to cadence.
    info = run(settings=settings, how_met=II, met_on=d("2026-03-10"), priority="A")
    assert info.next_date == d("2026-03-24")
    # Nudge and declined days come from the settings too.
    nudge = run(settings=settings, last_contact=d("2026-03-09"), stage=Stage.WAITING)
    assert (nudge.next_date, nudge.status) == (d("2026-03-12"), Status.WAITING)
    declined = run(settings=settings, last_contact=d("2026-02-09"), stage=Stage.DECLINED)
    assert (declined.next_date, declined.status, declined.days_overdue) == (
        d("2026-03-11"),
        Status.DUE_TODAY,
        0,
    )


def test_lookahead_boundary() -> None:
    settings = replace(DEFAULTS, lookahead_days=2)
    inside = run(settings=settings, how_met=KT, last_contact=d("2026-03-01"), cadence=12)
    outside = run(settings=settings, how_met=KT, last_contact=d("2026-03-01"), cadence=13)
    assert (inside.next_date, inside.status) == (d("2026-03-13"), Status.UPCOMING)
    assert (outside.next_date, outside.status) == (d("2026-03-16"), Status.SCHEDULED)


def test_waiting_far_ahead_is_still_waiting() -> None:
    settings = replace(DEFAULTS, nudge_days=30)
    result = run(settings=settings, last_contact=d("2026-03-10"), stage=Stage.WAITING)
    assert (result.next_date, result.status) == (d("2026-04-09"), Status.WAITING)


def test_waiting_overdue_shows_overdue() -> None:
    result = run(
        how_met=NE,
        met_on=d("2026-02-20"),
        last_contact=d("2026-02-25"),
        stage=Stage.WAITING,
        email="ada@example.com",
    )
    assert result.next_date == d("2026-03-04")
    assert (result.status, result.days_overdue) == (Status.OVERDUE, 7)
    assert result.action == "Send one polite nudge by email, then give them space."


def test_waiting_due_today_is_due_today() -> None:
    result = run(last_contact=d("2026-03-04"), stage=Stage.WAITING)
    assert (result.next_date, result.status) == (TODAY, Status.DUE_TODAY)


def test_do_not_contact_is_closed_even_with_a_date() -> None:
    result = run(
        how_met=NE,
        met_on=d("2026-03-09"),
        follow_up_on=d("2026-03-11"),
        stage=Stage.DO_NOT_CONTACT,
        email="ada@example.com",
    )
    assert (result.next_date, result.status, result.days_overdue) == (None, Status.CLOSED, 0)
    assert "Do not contact" in result.action
    assert "email" not in result.action


def test_paused_ignores_follow_up_on() -> None:
    result = run(last_contact=d("2026-03-01"), follow_up_on=d("2026-03-11"), stage=Stage.PAUSED)
    assert (result.next_date, result.status) == (None, Status.PAUSED)


def test_needs_info_action_asks_for_a_date() -> None:
    result = run(how_met=RE, stage=Stage.WAITING)
    assert (result.next_date, result.status, result.days_overdue) == (None, Status.NEEDS_INFO, 0)
    assert result.action == (
        "Add a Met on or Last contact date so followup can schedule this contact."
    )


@pytest.mark.parametrize(
    ("fields", "channel"),
    [
        (
            {"email": "ada@example.com", "linkedin": "linkedin.com/in/ada", "phone": "555"},
            "by email",
        ),
        ({"linkedin": "linkedin.com/in/ada", "phone": "555"}, "by LinkedIn message"),
        ({"phone": "+44 20 7946 0000"}, "by phone"),
        ({"email": "   "}, "with a handwritten note (or find their email)"),
    ],
    ids=["email", "linkedin", "phone", "none"],
)
def test_action_channel_follows_the_data(fields: dict[str, str], channel: str) -> None:
    result = run(how_met=NE, met_on=d("2026-03-09"), **fields)
    assert result.action == (
        f"Send a short thank-you {channel}: say you enjoyed meeting and offer to help."
    )


def test_actions_follow_relationship_and_step() -> None:
    email = {"email": "ada@example.com"}
    first = run(how_met=JA, met_on=d("2026-03-06"), **email).action
    second = run(how_met=JA, met_on=d("2026-03-02"), last_contact=d("2026-03-09"), **email).action
    info = run(how_met=II, met_on=d("2026-03-10"), **email).action
    cadence = run(how_met=KT, last_contact=d("2026-03-01"), **email).action
    declined = run(last_contact=d("2026-03-01"), stage=Stage.DECLINED, **email).action
    assert first.startswith("Send a polite follow-up by email: restate your interest")
    assert second.startswith("One last brief check-in by email;")
    assert info == "Send a thank-you by email: name one piece of advice you will act on."
    assert cadence.startswith("Check in by email with something useful")
    assert declined == "A light touch by email with something useful for them; no ask."
    assert len({first, second, info, cadence, declined}) == 5


def test_referral_action_names_the_referrer() -> None:
    named = run(how_met=RE, met_on=d("2026-03-10"), referred_by="Grace Hopper", email="a@b.c")
    unnamed = run(how_met=RE, met_on=d("2026-03-10"))
    assert named.action == (
        "Thank Grace Hopper for the introduction, then send a short introduction note by email."
    )
    assert unnamed.action.startswith("Thank whoever referred you")


def test_job_application_closed_after_steps_says_give_them_space() -> None:
    result = run(how_met=JA, met_on=d("2026-02-01"), last_contact=d("2026-02-15"), follow_ups=2)
    assert "give them space" in result.action


def test_empty_stop_after_steps_sends_job_application_to_cadence() -> None:
    settings = replace(DEFAULTS, stop_after_steps=frozenset())
    result = run(
        settings=settings,
        how_met=JA,
        met_on=d("2026-02-01"),
        last_contact=d("2026-02-15"),
        follow_ups=2,
        priority="A",
    )
    assert result.next_date == d("2026-03-17")  # 2026-02-15 + 30 days, a Tuesday
    assert result.status is Status.UPCOMING
    assert result.action.startswith("Check in")


def test_year_boundary() -> None:
    # 2025-12-29 + 7 = 2026-01-05 (Monday); today in early January.
    result = run(
        today=d("2026-01-02"), how_met=JA, met_on=d("2025-12-22"), last_contact=d("2025-12-29")
    )
    assert (result.next_date, result.status) == (d("2026-01-05"), Status.UPCOMING)
    # 2025-12-31 + 2 = Fri 2026-01-02, overdue by 5 on 2026-01-07.
    late = run(today=d("2026-01-07"), how_met=NE, met_on=d("2025-12-31"))
    assert (late.next_date, late.status, late.days_overdue) == (
        d("2026-01-02"),
        Status.OVERDUE,
        5,
    )
    # A Saturday 2027-01-02 computed across the year moves to Monday 2027-01-04.
    weekend = run(today=d("2026-12-20"), how_met=KT, last_contact=d("2026-12-03"), cadence=30)
    assert weekend.next_date == d("2027-01-04")
    assert weekend.status is Status.SCHEDULED


def test_no_met_on_counts_steps_as_done() -> None:
    # Only a Last contact: the networking step is taken as done, so the B cadence (90) applies.
    result = run(how_met=NE, last_contact=d("2026-03-09"))
    assert result.next_date == d("2026-06-08")  # 2026-06-07 is a Sunday
    assert result.status is Status.SCHEDULED
    assert result.action.startswith("Check in")
    # The same for a job application: its steps are done, so it is Closed.
    job = run(how_met=JA, last_contact=d("2026-03-09"))
    assert (job.next_date, job.status) == (None, Status.CLOSED)


# The courtesy guard: Waiting for reply, no nudge after max_unanswered.
WAITING = {"stage": Stage.WAITING, "email": "ada@example.com"}
LIGHT = "A light check-in by email with something useful; no ask."


def test_one_unanswered_follow_up_still_gets_its_nudge() -> None:
    result = run(met_on=d("2026-03-02"), last_contact=d("2026-03-06"), follow_ups=1, **WAITING)
    assert (result.next_date, result.status) == (d("2026-03-13"), Status.WAITING)
    assert result.action == "Send one polite nudge by email, then give them space."


def test_two_unanswered_follow_ups_close_until_the_reopen_date() -> None:
    # 2026-03-04 + 90 days = Tue 2026-06-02: Closed until then, with that date shown.
    result = run(last_contact=d("2026-03-04"), follow_ups=2, **WAITING)
    assert (result.next_date, result.status, result.days_overdue) == (
        d("2026-06-02"),
        Status.CLOSED,
        0,
    )
    assert result.action == "No reply after 2 follow-ups: give them space until 2026-06-02."
    # The day before the reopen date it is still resting.
    eve = run(today=d("2026-06-01"), last_contact=d("2026-03-04"), follow_ups=2, **WAITING)
    assert (eve.next_date, eve.status) == (d("2026-06-02"), Status.CLOSED)


def test_reopen_date_reached_is_due_with_a_light_no_ask_action() -> None:
    due = run(today=d("2026-06-02"), last_contact=d("2026-03-04"), follow_ups=2, **WAITING)
    assert (due.next_date, due.status, due.days_overdue) == (d("2026-06-02"), Status.DUE_TODAY, 0)
    assert due.action == LIGHT
    late = run(today=d("2026-06-05"), last_contact=d("2026-03-04"), follow_ups=2, **WAITING)
    assert (late.status, late.days_overdue, late.action) == (Status.OVERDUE, 3, LIGHT)


def test_reopen_date_moves_off_the_weekend() -> None:
    # 2026-03-08 + 90 days = Sat 2026-06-06, moved to Mon 2026-06-08.
    result = run(last_contact=d("2026-03-08"), follow_ups=2, **WAITING)
    assert result.next_date == d("2026-06-08")
    assert result.action.endswith("give them space until 2026-06-08.")


def test_the_action_counts_the_follow_ups_actually_made() -> None:
    result = run(last_contact=d("2026-03-04"), follow_ups=4, **WAITING)
    assert result.action.startswith("No reply after 4 follow-ups: give them space")


def test_custom_max_unanswered_and_rest_days() -> None:
    settings = replace(DEFAULTS, max_unanswered=3, rest_days=30)
    nudge = run(settings=settings, last_contact=d("2026-03-06"), follow_ups=2, **WAITING)
    assert (nudge.next_date, nudge.status) == (d("2026-03-13"), Status.WAITING)
    rest = run(settings=settings, last_contact=d("2026-03-06"), follow_ups=3, **WAITING)
    assert (rest.next_date, rest.status) == (d("2026-04-06"), Status.CLOSED)  # Sun 04-05 moved
    assert rest.action == "No reply after 3 follow-ups: give them space until 2026-04-06."


def test_one_allowed_follow_up_counts_the_touch_the_dates_imply() -> None:
    # Last contact after Met on is one follow-up even with the column blank.
    settings = replace(DEFAULTS, max_unanswered=1, rest_days=30)
    result = run(settings=settings, met_on=d("2026-03-02"), last_contact=d("2026-03-06"), **WAITING)
    assert (result.next_date, result.status) == (d("2026-04-06"), Status.CLOSED)
    assert result.action.startswith("No reply after 1 follow-up: give them space")


def test_follow_up_on_replaces_the_reopen_date() -> None:
    resting = {"last_contact": d("2026-03-04"), "follow_ups": 2, **WAITING}
    later = run(follow_up_on=d("2026-04-20"), **resting)
    assert (later.next_date, later.status) == (d("2026-04-20"), Status.CLOSED)
    assert later.action.endswith("give them space until 2026-04-20.")
    due = run(follow_up_on=d("2026-03-11"), **resting)
    assert (due.next_date, due.status, due.action) == (TODAY, Status.DUE_TODAY, LIGHT)


def test_the_guard_leaves_everyone_but_waiting_alone() -> None:
    # Many follow-ups on an Active keep-in-touch contact: the cadence applies as usual.
    active = run(how_met=KT, last_contact=d("2026-03-01"), follow_ups=5, cadence=14)
    assert (active.next_date, active.status) == (d("2026-03-16"), Status.UPCOMING)
    declined = run(last_contact=d("2025-09-01"), follow_ups=5, stage=Stage.DECLINED)
    assert (declined.next_date, declined.status) == (d("2026-03-02"), Status.OVERDUE)


def test_light_touches_never_ask() -> None:
    declined = run(last_contact=d("2025-09-01"), stage=Stage.DECLINED, email="a@b.c").action
    reopened = run(today=d("2026-06-02"), last_contact=d("2026-03-04"), follow_ups=2, **WAITING)
    for action in (declined, reopened.action):
        assert action.endswith("no ask.")
        assert "?" not in action


def test_courtesy_settings_come_from_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[rules]\nmax_unanswered = 3\nrest_days = 60\n", encoding="utf-8")
    rules = load_config(path).rules
    assert (rules.max_unanswered, rules.rest_days) == (3, 60)
    assert (RuleSettings().max_unanswered, RuleSettings().rest_days) == (2, 90)
    path.write_text("[rules]\nmax_unanswered = 0\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"\[rules\] max_unanswered must be a whole number from 1 to 1,000"
    ):
        load_config(path)


@pytest.mark.parametrize(
    ("follow_up_on", "event_thanks"),
    [
        (date(2026, 3, 24), True),  # a thank-you put off two weeks is still a thank-you
        (date(2026, 9, 7), True),  # 180 days (priority C's cadence) after it was due
        (date(2026, 9, 8), False),  # later than that: a check-in, and its draft agrees
        (date(2034, 3, 9), False),  # an old connection an import gave a first date
    ],
)
def test_a_step_whose_moment_has_passed_becomes_a_check_in(
    follow_up_on: date, event_thanks: bool
) -> None:
    from followup.core.drafts import choose_template

    fields = {"how_met": HowMet.NETWORKING_EVENT, "met_on": date(2026, 3, 9), "priority": "C"}
    contact = Contact(row=2, name="Ann", follow_up_on=follow_up_on, **fields)  # due 11 Mar
    action = follow_up(contact, follow_up_on, DEFAULTS).action
    assert action.startswith("Send a short thank-you") is event_thanks
    assert action.startswith("Check in") is not event_thanks
    expected = "event_thanks" if event_thanks else "keep_in_touch"
    assert choose_template(contact, DEFAULTS) == expected


@pytest.mark.parametrize(
    ("follow_up_on", "cadence", "cleared"),
    [
        ("2026-03-01", None, True),  # reached long ago: overdue no more
        ("2026-03-11", None, True),  # the day itself
        ("2026-03-12", None, True),  # a day early, as a "coming up" reminder invites
        ("2026-06-09", None, True),  # B's 90 days away: still this follow-up's reminder
        ("2026-06-10", None, False),  # further than the cadence: a reminder for later
        ("2026-04-11", 30, False),  # the row's own Cadence decides
    ],
)
def test_a_follow_up_clears_follow_up_on_unless_it_lies_beyond_the_cadence(
    follow_up_on: str, cadence: int | None, cleared: bool
) -> None:
    ahead = contact(how_met=KT, follow_up_on=d(follow_up_on), cadence=cadence)
    assert clears_follow_up_on(ahead, TODAY, DEFAULTS) is cleared
    assert not clears_follow_up_on(contact(how_met=KT), TODAY, DEFAULTS)


def test_a_reply_means_the_introduction_happened_and_the_clock_starts_from_it() -> None:
    """A referral who answered is no longer sent a first introduction: the step counts as made
    and the next touch is the cadence's, counted from their reply."""
    referral = {"how_met": RE, "met_on": d("2026-03-02"), "last_contact": d("2026-03-02")}
    before = run(**referral)
    assert (before.next_date, before.status) == (d("2026-03-04"), Status.OVERDUE)
    assert "introduction note" in before.action
    answered = contact(**referral, replied_on=d("2026-03-09"))
    after = follow_up(answered, TODAY, DEFAULTS)
    assert (after.next_date, after.status) == (d("2026-06-08"), Status.SCHEDULED)  # B: 90 days
    assert "introduction note" not in after.action
    assert step_index(answered, DEFAULTS) is None


@pytest.mark.parametrize(
    ("fields", "next_date", "step"),
    [
        # An application answered: the last check-in, a week after their answer.
        ({"how_met": JA, "met_on": d("2026-03-02")}, "2026-03-12", 1),
        # A reply counts as being in touch, not as a follow-up you made: the steps still run.
        ({"how_met": II, "met_on": d("2026-02-01"), "follow_ups": 1}, "2026-03-26", 1),
        # Keep in touch: the cadence runs from the reply, not from Last contact.
        ({"how_met": KT, "last_contact": d("2026-01-05")}, "2026-06-03", None),
        # A reply older than Last contact changes nothing.
        ({"how_met": KT, "last_contact": d("2026-03-10")}, "2026-06-08", None),
    ],
)
def test_a_reply_moves_past_the_first_step_and_restarts_the_clock(
    fields: dict[str, object], next_date: str, step: int | None
) -> None:
    answered = contact(**fields, replied_on=d("2026-03-05"))
    assert follow_up(answered, TODAY, DEFAULTS).next_date == d(next_date)
    assert step_index(answered, DEFAULTS) == step
