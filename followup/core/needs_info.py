"""The weekly mention of people followup cannot schedule: no Met on, Last contact or Follow up
on date ("Needs info"). Every vCard import makes some, and they never fall due, so once a week
(not every day: that would nag) the digest names the first few and the cell to fill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from followup.core.digest_render import Card, Section
from followup.core.model import Contact, FollowUp, Status, on_weekday

TITLE = "Need a date"
COLOUR = "#475569"
SHOWN = 5  # names spelled out; the rest are counted


def needing_info(entries: Sequence[tuple[Contact, FollowUp]]) -> list[Contact]:
    """The contacts the rules cannot schedule, in sheet order."""
    return [contact for contact, follow in entries if follow.status is Status.NEEDS_INFO]


def needs_info_section(
    entries: Sequence[tuple[Contact, FollowUp]],
    today: date,
    weekday: int | None,
    cells: Mapping[int, str],
) -> Section | None:
    """On `weekday`, the people who need a date: the first few by name with the cell to fill
    (`cells`: row -> its Met on cell, such as Contacts!H7), the rest counted."""
    people = needing_info(entries) if on_weekday(today, weekday) else []
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
    return Section(TITLE, COLOUR, len(people), cards, more=len(people) - len(cards))


def _cell(cells: Mapping[int, str], row: int) -> str:
    return f"{cells[row]} (Met on)" if row in cells else "a Met on column"
