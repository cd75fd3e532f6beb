"""The weekly mention of people followup cannot schedule: no Met on, Last contact or Follow up
on date ("Needs info"). Every vCard import makes some, and they never fall due, so once a week
(not every day: that would nag) the digest names the first few and the cell to fill.

`weekly_due` decides when any weekly section (this one, the weekly review) is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from followup.core.digest_render import Card, Section
from followup.core.model import Contact, FollowUp, Status

TITLE = "Need a date"
COLOUR = "#475569"
SHOWN = 5  # names spelled out; the rest are counted


def weekly_due(today: date, weekday: int | None, last_shown: date | None) -> bool:
    """Whether a weekly section set for `weekday` (0 Monday ... 6 Sunday; None: never) belongs
    in today's digest: the first digest on or after that weekday since the section was last
    shown (`last_shown`; None: never shown). Runs are skipped on some days (weekends, a machine
    that is off), so waiting for the weekday itself could skip whole weeks."""
    if weekday is None:
        return False
    latest = today - timedelta(days=(today.weekday() - weekday) % 7)  # today included
    return last_shown is None or last_shown < latest


def needing_info(entries: Sequence[tuple[Contact, FollowUp]]) -> list[Contact]:
    """The contacts the rules cannot schedule, in sheet order."""
    return [contact for contact, follow in entries if follow.status is Status.NEEDS_INFO]


def needs_info_section(
    entries: Sequence[tuple[Contact, FollowUp]],
    cells: Mapping[int, str],
) -> Section | None:
    """The people who need a date: the first few by name with the cell to fill (`cells`:
    row -> its Met on cell, such as Contacts!H7), the rest counted; None when there are none."""
    people = needing_info(entries)
    if not people:
        return None
    cards = tuple(
        Card(
            title=contact.name,
            action=(
                f"Type when you met them in {_cell(cells, contact.row)}, "
                "or the day you last spoke in Last contact."
            ),
        )
        for contact in people[:SHOWN]
    )
    count = len(people)
    subject = f"{count} need{'s' * (count == 1)} a date"
    return Section(TITLE, COLOUR, count, cards, more=count - len(cards), subject=subject)


def _cell(cells: Mapping[int, str], row: int) -> str:
    return f"{cells[row]} (Met on)" if row in cells else "a Met on column"
