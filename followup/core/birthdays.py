"""Birthdays: reading one however it is typed, when it next falls, and the digest's section.

A birthday is a reason to get in touch that asks nothing, so it never moves the relationship's
schedule and is no follow-up (unless the user records one with `done`). The year is often
unknown ("14 Mar", vCard's "--03-14"); 29 February falls on 28 February in other years.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from followup.core.digest_render import Card, Reach, Section
from followup.core.drafts import Draft
from followup.core.model import (
    FIRST_DAY,
    LAST_DAY,
    MONTH_NUMBERS,
    MONTHS,
    Birthday,
    Contact,
    Stage,
    day_name,
)

_ISO = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?")  # 1990-03-14, 19900314, with a time
_NO_YEAR = re.compile(r"--(\d{2})-?(\d{2})")  # vCard: --03-14, --0314
_NUMERIC = re.compile(r"(\d{1,2})[./](\d{1,2})(?:[./](\d{4}))?\.?")  # 14.03., 3/14, 14/03/1990
_WORDS = re.compile(r"[\s,.\-/]+")
_DAY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?")
HOW_TO_TYPE = "Type it like 14 Mar, 14 Mar 1990 or 1990-03-14 (the year may be left out)."
# Stages whose people a greeting would not respect: a no, a pause, an end.
_NO_GREETING = frozenset({Stage.DECLINED, Stage.PAUSED, Stage.CLOSED, Stage.DO_NOT_CONTACT})


def parse_birthday(text: str, date_order: str = "MDY") -> Birthday:
    """The birthday `text` says; ValueError with a sentence saying why when it says none."""
    typed = " ".join(text.split())
    found = _ISO.fullmatch(typed)
    if found:
        return _checked(int(found[2]), int(found[3]), int(found[1]), typed)
    if found := _NO_YEAR.fullmatch(typed):
        return _checked(int(found[1]), int(found[2]), None, typed)
    if found := _NUMERIC.fullmatch(typed):
        first, second = int(found[1]), int(found[2])
        month, day = (first, second) if date_order == "MDY" else (second, first)
        return _checked(month, day, int(found[3]) if found[3] else None, typed)
    return _named(typed)


def _named(typed: str) -> Birthday:
    """14 Mar, March 14, 14th March 1990, Mar 14, 1990."""
    words = [w for w in _WORDS.split(typed.casefold()) if w]
    if len(words) in (2, 3):
        if words[0] in MONTH_NUMBERS and (day := _DAY.fullmatch(words[1])):
            month = MONTH_NUMBERS[words[0]]
        elif words[1] in MONTH_NUMBERS and (day := _DAY.fullmatch(words[0])):
            month = MONTH_NUMBERS[words[1]]
        else:
            day = None
        year = words[2] if len(words) == 3 else None
        if day is not None and (year is None or re.fullmatch(r"\d{4}", year)):
            return _checked(month, int(day[1]), int(year) if year else None, typed)
    raise ValueError(f"Not a birthday. {HOW_TO_TYPE}")


def _checked(month: int, day: int, year: int | None, typed: str) -> Birthday:
    if year is not None and not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise ValueError(f"{typed} has the year {year}: check it. {HOW_TO_TYPE}")
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: 29 February is a birthday
    except ValueError:
        raise ValueError(
            f"{typed} is not a real day (check the day and month). {HOW_TO_TYPE}"
        ) from None
    return Birthday(month, day, year)


def birthday_of(day: date) -> Birthday:
    """The birthday a date cell holds."""
    return Birthday(day.month, day.day, day.year)


def cell_value(birthday: Birthday) -> date | str:
    """What an import writes into the Birthday cell: a date when the year is known, else text
    like "14 March" (a date cell cannot leave the year out)."""
    if birthday.year is not None:
        return date(birthday.year, birthday.month, birthday.day)
    return f"{birthday.day} {MONTHS[birthday.month - 1]}"


def next_birthday(birthday: Birthday, today: date) -> date:
    """The first day from `today` on that is the birthday (28 February for 29 February in a
    year without one); past the last day followup works with, that day."""
    for year in (today.year, today.year + 1):
        if year > LAST_DAY.year:
            break
        day = birthday.day
        if (birthday.month, day) == (2, 29) and not _leap(year):
            day = 28
        when = date(year, birthday.month, day)
        if when >= today:
            return when
    return LAST_DAY


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def coming_birthdays(
    contacts: Sequence[Contact], today: date, lookahead_days: int
) -> list[tuple[Contact, date]]:
    """Who has a birthday from today to `lookahead_days` ahead, soonest first; never people
    who said no, are paused or closed."""
    last = today + timedelta(days=lookahead_days)
    found = [
        (contact, next_birthday(contact.birthday, today))
        for contact in contacts
        if contact.birthday is not None and contact.stage not in _NO_GREETING
    ]
    return sorted(
        ((c, day) for c, day in found if day <= last),
        key=lambda pair: (pair[1], pair[0].name.casefold(), pair[0].row),
    )


def birthday_section(
    coming: Sequence[tuple[Contact, date]],
    today: date,
    greeting: Callable[[Contact], Draft | None],
    reach: Callable[[Contact, Draft | None], Reach],
) -> Section | None:
    """The digest's Birthdays section: one card per person, with a greeting that asks nothing."""
    if not coming:
        return None
    cards = tuple(
        Card(
            title=contact.name,
            lines=(birthday_line(when, today),),
            action=_ACTION,
            reach=reach(contact, greeting(contact)),
        )
        for contact, when in coming
    )
    return Section(SECTION_TITLE, _COLOUR, len(cards), cards)


def birthday_line(when: date, today: date) -> str:
    """Like "Birthday today", "Birthday tomorrow" or "Birthday on Sat 5 Dec"."""
    days = (when - today).days
    return f"Birthday {({0: 'today', 1: 'tomorrow'}).get(days, f'on {day_name(when)}')}"


SECTION_TITLE = "Birthdays"
_COLOUR = "#047857"
_ACTION = "Send a short birthday greeting that asks for nothing; it is not counted as a follow-up."
