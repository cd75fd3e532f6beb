"""Parsers from one raw cell value, as python-calamine returns it, to a typed contact field.

Bad data is a value here, not an exception: every parser returns the parsed value, `None` for a
blank cell (the field's default applies) or an `Invalid` whose message says, in plain English,
what is wrong and how to fix it. The reader turns an `Invalid` into a `Problem` with the cell's
address, so one odd cell never stops a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, TypeVar

from followup.core.birthdays import HOW_TO_TYPE as _BIRTHDAY_HOW
from followup.core.birthdays import birthday_of, parse_birthday
from followup.core.model import (
    FIRST_DAY,
    LAST_DAY,
    MAX_DAYS,
    MONTH_NUMBERS,
    Birthday,
    HowMet,
    Stage,
)

ReadValue = str | int | float | bool | date | time | timedelta
"""A cell's value as python-calamine reads it (a datetime is a date); an empty cell is ""."""
WriteValue = str | int | float | date | None
"""A value the program writes into a cell (None empties it)."""
Cells = dict[tuple[int, int], WriteValue]
"""Values to write, by (row, column)."""

DateOrder = Literal["MDY", "DMY"]


@dataclass(frozen=True)
class Invalid:
    """A cell that could not be read; `message` says what is wrong and how to fix it."""

    message: str


T = TypeVar("T")
Parsed = T | Invalid | None


def is_blank(value: ReadValue | None) -> bool:
    """An empty cell, or one holding only spaces (which looks empty in Excel too)."""
    return value is None or (isinstance(value, str) and not value.strip())


def parse_text(value: ReadValue) -> str | None:
    """A text field as the user sees it: a whole number without ".0", text as typed.

    Text is only stripped at both ends, so a phone number or ID stored as text keeps its
    leading zeros.
    """
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # Whole numbers without ".0"; others to Excel's 15 significant digits (0.3, not 0.30…04;
        # 1e+300, not 301 digits).
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# --- text written into a cell ------------------------------------------------------------------

MAX_CELL_TEXT = 32_767
"""The most a cell holds, in UTF-16 units as Excel counts: longer text makes Excel "repair" the
file."""

_NO_CELL_HOLDS = re.compile("[\ud800-\udfff\ufffe\uffff]")
"""Characters no cell can hold, not even as Excel's _xHHHH_: a lone half of a surrogate pair
(from undecodable bytes) and the two non-characters U+FFFE and U+FFFF."""

_LINE_BREAK = re.compile(r"\r\n?")


def storable_text(text: str) -> str:
    """`text` as a cell holds it: without the characters no cell can hold, cut to
    MAX_CELL_TEXT. The writer stores exactly this, so it is also what the cell reads back."""
    if _NO_CELL_HOLDS.search(text):
        text = _NO_CELL_HOLDS.sub("", text)
    if len(text) > MAX_CELL_TEXT // 2:  # else even all-emoji text fits
        units = text.encode("utf-16-le")
        if len(units) > 2 * MAX_CELL_TEXT:  # "ignore": a pair cut in half loses both halves
            text = units[: 2 * MAX_CELL_TEXT].decode("utf-16-le", errors="ignore")
    return text


def new_cell_text(text: str) -> tuple[str, str]:
    """Text from outside (a note, an imported field) as its cell will hold it, and what had to
    change for that, in words that follow "was" ("" when nothing the user would miss did).

    Line breaks become the cell's own (a line feed, what Alt+Enter types in Excel); control
    characters stay, written as Excel writes them (_x0001_). Space that a cut or a dropped
    character leaves at either end goes too: a cell's text is read without it, and the save
    checks that each cell reads back as written.
    """
    text = _LINE_BREAK.sub("\n", text)
    stored = storable_text(text)
    if stored == text:
        return text, ""
    changes = []
    dropped = len(_NO_CELL_HOLDS.findall(text))
    if dropped:
        changes.append(f"stripped of {dropped} character{'s' * (dropped != 1)} no cell can hold")
    if len(stored) < len(text) - dropped:
        changes.append(f"cut to {MAX_CELL_TEXT:,} characters, the most a cell holds")
    return stored.strip(), " and ".join(changes)


# --- dates -------------------------------------------------------------------------------------


_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_NUMERIC = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})")
_DAY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?")
_YEAR = re.compile(r"\d{4}|\d{2}")
_SEPARATORS = re.compile(r"[\s,./-]+")

_HOW_TO_TYPE = "Type it as 2026-03-11 or 11 Mar 2026, or format the cell as a date."
_ORDER_NAMES = {"MDY": "month/day/year", "DMY": "day/month/year"}


def _year(text: str) -> int:
    """A written year; two digits mean this century (26 -> 2026)."""
    return 2000 + int(text) if len(text) == 2 else int(text)


def _make_date(year: int, month: int, day: int, text: str) -> date | Invalid:
    try:
        return _in_range(date(year, month, day), text)
    except ValueError:
        return Invalid(f"{text} is not a real date (check the day and month). {_HOW_TO_TYPE}")


def _in_range(day: date, text: str) -> date | Invalid:
    """The date, unless its year is one no follow-up can mean (a typo like 9999 or 1026)."""
    if FIRST_DAY <= day <= LAST_DAY:
        return day
    return Invalid(
        f"{text} is not between {FIRST_DAY.year} and {LAST_DAY.year}: check the year. "
        f"{_HOW_TO_TYPE}"
    )


def _numeric_date(match: re.Match[str], date_order: DateOrder, text: str) -> date | Invalid:
    """3/11/2026 in the configured order; says so when only the other order would make sense."""
    first, second, year = int(match[1]), int(match[2]), _year(match[3])
    month, day = (first, second) if date_order == "MDY" else (second, first)
    parsed = _make_date(year, month, day, text)
    if isinstance(parsed, Invalid) and not isinstance(_make_date(year, day, month, text), Invalid):
        other = "DMY" if date_order == "MDY" else "MDY"
        return Invalid(
            f"{text} is not a date in {_ORDER_NAMES[date_order]} order. {_HOW_TO_TYPE} "
            f'If your dates are {_ORDER_NAMES[other]}, set date_order = "{other}" under '
            "[workbook] in config.toml."
        )
    return parsed


def _month_name_date(text: str) -> date | Invalid | None:
    """11 Mar 2026, March 11, 2026, Mar 11 2026, 11-Mar-26 and the like; None if not that shape."""
    parts = [part for part in _SEPARATORS.split(text.casefold()) if part]
    if len(parts) != 3 or not _YEAR.fullmatch(parts[2]):
        return None
    if parts[0] in MONTH_NUMBERS:
        month_part, day_part = parts[0], parts[1]
    elif parts[1] in MONTH_NUMBERS:
        day_part, month_part = parts[0], parts[1]
    else:
        return None
    day = _DAY.fullmatch(day_part)
    if day is None:
        return None
    return _make_date(_year(parts[2]), MONTH_NUMBERS[month_part], int(day[1]), text)


def parse_date(value: ReadValue, date_order: DateOrder = "MDY") -> Parsed[date]:
    """A date from a date cell (either date system; calamine converts), ISO text, numeric text in
    `date_order`, or month-name text. A bare number is refused: it is more likely a typo than a
    date serial, and guessing would hide it.
    """
    if isinstance(value, date):  # the usual case first: a date cell
        day = value.date() if isinstance(value, datetime) else value
        return day if FIRST_DAY <= day <= LAST_DAY else _in_range(day, day.isoformat())
    if is_blank(value):
        return None
    if not isinstance(value, str):
        return Invalid(f"Not a date. {_HOW_TO_TYPE}")
    text = value.strip()
    if match := _ISO.fullmatch(text):
        return _make_date(int(match[1]), int(match[2]), int(match[3]), text)
    if match := _NUMERIC.fullmatch(text):
        return _numeric_date(match, date_order, text)
    return _month_name_date(text) or Invalid(f"Not a date. {_HOW_TO_TYPE}")


# --- numbers -----------------------------------------------------------------------------------


def _whole_number(value: ReadValue, minimum: int, maximum: int, refusal: str) -> Parsed[int]:
    """A whole number from minimum to maximum from a number cell or number text ("2", "2.0")."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif is_blank(value):
        return None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not minimum <= number <= maximum or not float(number).is_integer():
        return Invalid(refusal)
    return int(number)


MAX_COUNT = 9_999
"""The most follow-ups a Follow-ups cell may count: more is a typo, and `done` adds one."""


def parse_count(value: ReadValue) -> Parsed[int]:
    """Follow-ups made so far: a whole number from 0 to MAX_COUNT."""
    return _whole_number(
        value,
        0,
        MAX_COUNT,
        f"Needs the number of follow-ups made so far: a whole number from 0 to {MAX_COUNT:,}, "
        "like 2.",
    )


def parse_birthday_cell(value: ReadValue, date_order: DateOrder = "MDY") -> Parsed[Birthday]:
    """A birthday from a date cell or text, the year optional ("14 Mar", "--03-14")."""
    if isinstance(value, date):
        return birthday_of(value.date() if isinstance(value, datetime) else value)
    if is_blank(value):
        return None
    if not isinstance(value, str):
        return Invalid(f"Not a birthday. {_BIRTHDAY_HOW}")
    try:
        return parse_birthday(value, date_order)
    except ValueError as err:
        return Invalid(str(err))


def parse_cadence(value: ReadValue) -> Parsed[int]:
    """Days between follow-ups: a whole number from 1 to MAX_DAYS (about ten years)."""
    return _whole_number(
        value,
        1,
        MAX_DAYS,
        f"Needs a number of days: a whole number from 1 to {MAX_DAYS:,} (ten years), like 30; "
        "or leave it blank to use the priority's cadence.",
    )


# --- choices -----------------------------------------------------------------------------------


@lru_cache(maxsize=1024)  # a column holds a handful of distinct choices, typed again on every row
def _choice_key(text: str) -> str:
    """Compare choices ignoring case, punctuation and extra spaces ("Keep-in-touch")."""
    return " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())


def _choice(value: ReadValue, choices: dict[str, T], refusal: str) -> Parsed[T]:
    found = choices.get(_choice_key(value if isinstance(value, str) else str(value)))
    if found is not None:
        return found
    return None if is_blank(value) else Invalid(refusal)


_PRIORITIES = {"a": "A", "b": "B", "c": "C"}

_HOW_MET: dict[str, HowMet] = {
    **{how.value: how for how in HowMet},
    "event": HowMet.NETWORKING_EVENT,
    "application": HowMet.JOB_APPLICATION,
    "info interview": HowMet.INFORMATIONAL_INTERVIEW,
    "informational": HowMet.INFORMATIONAL_INTERVIEW,
    "referral": HowMet.REFERRAL,
    "network": HowMet.KEEP_IN_TOUCH,
}

_STAGES: dict[str, Stage] = {
    **{stage.value: stage for stage in Stage},
    "waiting": Stage.WAITING,
}


def parse_priority(value: ReadValue) -> Parsed[str]:
    """A, B or C in any case; blank (None) means the default, B."""
    return _choice(value, _PRIORITIES, "Not a priority. Use A, B or C, or leave it blank for B.")


def parse_how_met(value: ReadValue) -> Parsed[HowMet]:
    """The relationship, by its full name or its short forms; blank means Keep in touch."""
    return _choice(
        value,
        _HOW_MET,
        "Not a kind of contact. Use Networking event, Job application, Informational "
        "interview, Referral or Keep in touch (blank means Keep in touch).",
    )


def parse_stage(value: ReadValue) -> Parsed[Stage]:
    """The Status column; blank (None) means Active."""
    return _choice(
        value,
        _STAGES,
        "Not a status. Use Active, Waiting for reply, Declined, Paused, Closed or "
        "Do not contact, or leave it blank for Active.",
    )
