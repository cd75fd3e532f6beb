"""Birthdays: typed any way (the year optional), when they next fall, and the digest's section,
which asks nothing and moves no follow-up."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.commands.draft_files import load_templates
from followup.core.birthdays import (
    cell_value,
    coming_birthdays,
    next_birthday,
    parse_birthday,
)
from followup.core.digest import build_digest, worth_sending
from followup.core.model import Birthday, Contact, FollowUp, HowMet, RuleSettings, Stage, Status
from followup.core.rules import follow_up
from followup.workbook.cells import Invalid, parse_birthday_cell

TODAY = date(2026, 3, 10)
TEMPLATES = load_templates(None).by_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14 Mar", Birthday(3, 14)),
        ("14 March", Birthday(3, 14)),
        ("March 14", Birthday(3, 14)),
        ("14th March 1990", Birthday(3, 14, 1990)),
        ("Mar 14, 1990", Birthday(3, 14, 1990)),
        ("--03-14", Birthday(3, 14)),
        ("--0314", Birthday(3, 14)),
        ("1990-03-14", Birthday(3, 14, 1990)),
        ("19900314", Birthday(3, 14, 1990)),
        ("1990-03-14T00:00:00Z", Birthday(3, 14, 1990)),
        ("3/14", Birthday(3, 14)),
        ("29 Feb", Birthday(2, 29)),
        ("  14   SEPT ", Birthday(9, 14)),
    ],
)
def test_a_birthday_is_read_however_it_is_typed(text: str, expected: Birthday) -> None:
    assert parse_birthday(text) == expected


def test_day_first_numbers_follow_the_date_order() -> None:
    assert parse_birthday("14.03.", "DMY") == Birthday(3, 14)
    assert parse_birthday("14/03/1990", "DMY") == Birthday(3, 14, 1990)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("31 Feb", "31 Feb is not a real day (check the day and month)."),
        ("29 Feb 2023", "29 Feb 2023 is not a real day"),
        ("14 Mar 1026", "14 Mar 1026 has the year 1026: check it."),
        ("someday", "Not a birthday. Type it like 14 Mar, 14 Mar 1990 or 1990-03-14"),
    ],
)
def test_a_bad_birthday_says_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_birthday(text)


def test_a_birthday_cell_may_be_a_date_text_or_blank() -> None:
    assert parse_birthday_cell(date(1980, 3, 10)) == Birthday(3, 10, 1980)
    assert parse_birthday_cell("  ") is None
    assert isinstance(parse_birthday_cell(3.5), Invalid)


@given(st.text(max_size=40), st.sampled_from(["MDY", "DMY"]))
def test_any_text_is_a_birthday_or_a_reason(text: str, order: str) -> None:
    try:
        birthday = parse_birthday(text, order)
    except ValueError as error:
        assert str(error)
    else:
        assert date(birthday.year or 2000, birthday.month, birthday.day)


birthdays = st.dates(date(1900, 1, 1), date(2100, 12, 31)).flatmap(
    lambda day: st.sampled_from(
        [Birthday(day.month, day.day, day.year), Birthday(day.month, day.day)]
    )
)


@settings(max_examples=300)
@given(birthdays, st.dates(date(1900, 1, 1), date(2199, 12, 31)))
def test_the_next_birthday_is_soon_and_on_the_day(birthday: Birthday, today: date) -> None:
    when = next_birthday(birthday, today)
    assert today <= when < today + timedelta(days=366)
    if (birthday.month, birthday.day) == (2, 29) and when.day == 28:
        assert when.month == 2 and not _leap(when.year)
    else:
        assert (when.month, when.day) == (birthday.month, birthday.day)
    assert parse_birthday_cell(cell_value(birthday)) == birthday


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def test_29_february_falls_on_28_february_in_other_years() -> None:
    assert next_birthday(Birthday(2, 29), date(2027, 2, 1)) == date(2027, 2, 28)
    assert next_birthday(Birthday(2, 29), date(2028, 2, 1)) == date(2028, 2, 29)
    assert next_birthday(Birthday(3, 1), date(2026, 3, 2)) == date(2027, 3, 1)


def entry(name: str, birthday: Birthday | None, **fields) -> tuple[Contact, FollowUp]:
    contact = Contact(row=2, name=name, birthday=birthday, met_on=date(2026, 1, 1), **fields)
    return contact, follow_up(contact, TODAY, RuleSettings())


def test_a_birthday_within_the_lookahead_gets_a_greeting_that_asks_nothing() -> None:
    people = [
        entry("Ann Lee", Birthday(3, 10), email="ann@example.com"),
        entry("Bo Chen", Birthday(3, 17, 1980), linkedin="linkedin.com/in/bo"),
        entry("Cy Diaz", Birthday(3, 18)),  # past the 7 days ahead
        entry("Di Egan", Birthday(3, 11), stage=Stage.DO_NOT_CONTACT),
        entry("Ed Fox", Birthday(3, 12), stage=Stage.DECLINED),
    ]
    digest = build_digest(people, [], TODAY, your_name="Sam", templates=TEMPLATES)
    assert digest.subject == "Follow-ups for Tue 10 Mar: 1 birthday today"  # not "nothing due"
    section = digest.text[digest.text.index("BIRTHDAYS (2)") :]
    assert section.startswith(
        "BIRTHDAYS (2)\n\nAnn Lee\n  Birthday today\n"
        "  Send a short birthday greeting that asks for nothing; it is not counted as a "
        "follow-up.\n  Email: ann@example.com\n  Draft email:\n    Subject: Happy birthday\n\n"
        "    Hi Ann,\n\n    Happy birthday! I hope you have a wonderful day and a great year "
        "ahead.\n\n    Best wishes,\n    Sam\n\nBo Chen\n  Birthday on Tue 17 Mar\n"
    )
    assert "Cy Diaz" not in digest.text and "Di Egan" not in digest.text
    assert "Ed Fox" not in section
    assert "Happy birthday! I hope you have a wonderful day" in digest.html
    greeting = section[section.index("Hi Ann") : section.index("Best wishes")]
    assert "?" not in greeting, "a greeting asks nothing"


def test_a_birthday_moves_no_follow_up_but_is_worth_a_digest() -> None:
    plain = Contact(row=2, name="Ann", met_on=date(2026, 1, 1), how_met=HowMet.KEEP_IN_TOUCH)
    born = Contact(**{**_fields(plain), "birthday": Birthday(3, 10)})
    assert follow_up(born, TODAY, RuleSettings()) == follow_up(plain, TODAY, RuleSettings())
    entries = [entry("Ann", Birthday(3, 10))]
    assert entries[0][1].status is Status.SCHEDULED
    assert worth_sending(entries, [], TODAY)
    assert not worth_sending(entries, [])
    assert not worth_sending([entry("Ann", Birthday(3, 11))], [], TODAY)
    assert coming_birthdays([born], TODAY, 0) == [(born, TODAY)]


def _fields(contact: Contact) -> dict:
    return {name: getattr(contact, name) for name in Contact.__dataclass_fields__}
