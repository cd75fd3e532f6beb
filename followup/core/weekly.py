"""The weekly review: the story of the last week, told once a week in the digest.

From the Log: the follow-ups made in the seven days before today, the meetings and the replies
among them, and a bar chart of the follow-ups of the last eight weeks (drawn by the renderer
in HTML and CSS, and as a plain-text twin). From the rules: who is now resting (the courtesy
guard), and what the week ahead holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from followup.core.digest_render import Card, Section
from followup.core.log import REPLY, LogEntry
from followup.core.model import Contact, FollowUp, RuleSettings, Status, day_month
from followup.core.rules import is_resting

TITLE = "Your week"
_COLOUR = "#0f766e"
_WEEKS = 8
_MEETING = "meeting"
_NAMES = 5  # names spelled out in a line before "and N more"


def review_section(
    log: Sequence[LogEntry],
    entries: Sequence[tuple[Contact, FollowUp]],
    today: date,
    rules: RuleSettings,
) -> Section | None:
    """The review for `today`: the week before it, the people resting, the week ahead. None
    while the eight weeks of the chart hold no follow-up and no reply: a new user's first
    digests would otherwise carry a review of nothing."""
    chart = _chart(made_before(log, today), today)
    first = today - timedelta(days=7 * _WEEKS)
    if not any(count for _, count in chart) and not any(
        e.channel == REPLY and first <= e.day < today for e in log
    ):
        return None
    start = today - timedelta(days=7)
    week = [e for e in log if start <= e.day < today]
    made = [e for e in week if e.channel != REPLY]  # a workbook edit is a follow-up too
    meetings = sum(e.channel == _MEETING for e in week)
    replies = sorted({e.name for e in week if e.channel == REPLY}, key=str.casefold)
    resting = sorted(
        (
            (contact, follow)
            for contact, follow in entries
            if follow.next_date is not None
            and follow.next_date > today
            and is_resting(contact, rules)
        ),
        key=lambda pair: pair[1].next_date or today,
    )
    ahead_end = today + timedelta(days=6)
    due = [f for _, f in entries if f.status in (Status.OVERDUE, Status.DUE_TODAY)]
    ahead = [
        f
        for c, f in entries
        if f.status in (Status.UPCOMING, Status.WAITING, Status.SCHEDULED)
        and f.next_date is not None
        and today < f.next_date <= ahead_end
        and not is_resting(c, rules)
    ]
    lines = [
        (_count(len(made), "follow-up") if made else "No follow-ups")
        + f" made in the last seven days ({_span(start, today)})",
        _heard_line(meetings, replies),
        _resting_line(resting),
        _ahead_line(len(due), len(ahead), ahead_end),
    ]
    title = f"The week to {day_month(today - timedelta(days=1))}"
    card = Card(title=title, lines=tuple(line for line in lines if line))
    return Section(TITLE, _COLOUR, None, (card,), chart=chart, subject="your week in review")


def made_before(log: Sequence[LogEntry], today: date) -> list[LogEntry]:
    """The Log's follow-ups (not the contacts' replies) before today."""
    return [e for e in log if e.day < today and e.channel != REPLY]


def _chart(made: Sequence[LogEntry], today: date) -> tuple[tuple[str, int], ...]:
    """Follow-ups per seven-day week, the eight weeks before today, oldest first, each labelled
    by its first day."""
    first = today - timedelta(days=7 * _WEEKS)
    counts = [0] * _WEEKS
    for entry in made:
        week = (entry.day - first).days // 7
        if 0 <= week < _WEEKS:
            counts[week] += 1
    return tuple((day_month(first + timedelta(days=7 * n)), counts[n]) for n in range(_WEEKS))


def _heard_line(meetings: int, replies: Sequence[str]) -> str:
    """ "1 meeting and 2 replies: Ann, Bo"; a count of none is left out, and so is the line."""
    parts = [_count(meetings, "meeting")] if meetings else []
    if replies:
        parts.append(_count(len(replies), "reply", "replies"))
    return " and ".join(parts) + (f": {_names(replies)}" if replies else "")


def _ahead_line(due: int, ahead: int, end: date) -> str:
    by = day_month(end)
    if due and ahead:
        return f"The week ahead: {_count(due, 'follow-up')} due now and {ahead} more by {by}"
    if due:
        return f"The week ahead: {_count(due, 'follow-up')} due now, and none more by {by}"
    if ahead:
        return f"The week ahead: {_count(ahead, 'follow-up')} due by {by}"
    return f"The week ahead: nothing due by {by}"


def _resting_line(resting: Sequence[tuple[Contact, FollowUp]]) -> str:
    if not resting:
        return "Nobody is resting after unanswered follow-ups"
    until = [f"{c.name} until {day_month(f.next_date)}" for c, f in resting if f.next_date]
    return f"Resting after unanswered follow-ups: {_names(until)}"


def _names(names: Sequence[str]) -> str:
    if len(names) <= _NAMES:
        return ", ".join(names)
    return f"{', '.join(names[:_NAMES])} and {len(names) - _NAMES} more"


def _count(number: int, one: str, many: str = "") -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def _span(start: date, today: date) -> str:
    return f"{day_month(start)} to {day_month(today - timedelta(days=1))}"
