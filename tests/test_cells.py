"""Cell parsers: every accepted spelling, every refusal, and that refusals say how to fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest

from followup.core.model import HowMet, Stage
from followup.workbook.cells import (
    MAX_CELL_TEXT,
    DateOrder,
    Invalid,
    Parsed,
    ReadValue,
    is_blank,
    new_cell_text,
    parse_cadence,
    parse_count,
    parse_date,
    parse_how_met,
    parse_priority,
    parse_stage,
    parse_text,
    storable_text,
)

MAR_11 = date(2026, 3, 11)


@pytest.mark.parametrize(
    ("value", "order", "expected"),
    [
        (MAR_11, "MDY", MAR_11),
        (datetime(2026, 3, 11, 14, 30), "MDY", MAR_11),
        ("2026-03-11", "MDY", MAR_11),
        ("2026-3-11", "DMY", MAR_11),
        ("2026/03/11", "MDY", MAR_11),
        ("2026-03-11 00:00:00", "MDY", MAR_11),
        ("2026-03-11T09:15", "MDY", MAR_11),
        ("  2026-03-11  ", "MDY", MAR_11),
        ("3/11/2026", "MDY", MAR_11),
        ("3-11-2026", "MDY", MAR_11),
        ("3.11.26", "MDY", MAR_11),
        ("03/11/26", "MDY", MAR_11),
        ("11/3/2026", "DMY", MAR_11),
        ("11.03.2026", "DMY", MAR_11),
        ("11-3-26", "DMY", MAR_11),
        ("11 Mar 2026", "MDY", MAR_11),
        ("11 March 2026", "DMY", MAR_11),
        ("March 11, 2026", "MDY", MAR_11),
        ("Mar 11 2026", "DMY", MAR_11),
        ("mar. 11, 2026", "MDY", MAR_11),
        ("11-MAR-26", "MDY", MAR_11),
        ("11th March 2026", "MDY", MAR_11),
        ("Sept 1 2026", "MDY", date(2026, 9, 1)),
        ("29 Feb 2028", "MDY", date(2028, 2, 29)),
        ("", "MDY", None),
        ("   ", "MDY", None),
    ],
)
def test_parse_date_accepts(value: ReadValue, order: DateOrder, expected: date | None) -> None:
    assert parse_date(value, order) == expected


@pytest.mark.parametrize(
    "value",
    [
        46092,  # a bare number is not a date, even though it is a date serial
        46092.0,
        "46092",
        True,
        time(10, 30),
        timedelta(days=3),
        "next Tuesday",
        "2026-02-30",
        "31 Feb 2026",
        "2026-13-01",
        "11 Mar",
        "Mar 2026",
        "11 Foo 2026",
        "1/2/3/4",
    ],
)
def test_parse_date_refuses_with_how_to_fix(value: ReadValue) -> None:
    result = parse_date(value)
    assert isinstance(result, Invalid)
    assert "2026-03-11" in result.message
    assert "11 Mar 2026" in result.message


@pytest.mark.parametrize(
    "value",
    [
        date(9999, 12, 31),  # serial 2958465, the last day Excel can show
        datetime(9999, 12, 31, 23, 59, 59),
        date(1899, 12, 30),
        date(2201, 1, 1),
        "9999-12-31",
        "31 Dec 9999",
        "12/31/9999",
        "1066-10-14",
    ],
)
def test_a_date_no_follow_up_can_mean_is_a_problem_not_a_crash(value: ReadValue) -> None:
    result = parse_date(value)
    assert isinstance(result, Invalid)
    assert "between 1900 and 2200: check the year" in result.message


def test_the_first_and_last_days_followup_works_with_are_dates() -> None:
    assert parse_date(date(1900, 1, 1)) == date(1900, 1, 1)
    assert parse_date("2200-12-31") == date(2200, 12, 31)


def test_parse_date_suggests_the_other_order_when_only_it_fits() -> None:
    result = parse_date("25/12/2026", "MDY")
    assert isinstance(result, Invalid)
    assert "month/day/year" in result.message
    assert 'date_order = "DMY"' in result.message
    assert parse_date("25/12/2026", "DMY") == date(2026, 12, 25)
    # Impossible in both orders: no misleading hint.
    result = parse_date("31/31/2026", "MDY")
    assert isinstance(result, Invalid)
    assert "date_order" not in result.message


@pytest.mark.parametrize(
    ("parse", "value", "expected"),
    [
        (parse_count, 2, 2),
        (parse_count, 2.0, 2),
        (parse_count, "2", 2),
        (parse_count, " 3.0 ", 3),
        (parse_count, 0, 0),
        (parse_count, "", None),
        (parse_cadence, 14, 14),
        (parse_cadence, "30", 30),
        (parse_cadence, 1.0, 1),
        (parse_cadence, " ", None),
    ],
)
def test_whole_numbers_accept(
    parse: Callable[[ReadValue], Parsed[int]], value: ReadValue, expected: int | None
) -> None:
    assert parse(value) == expected


@pytest.mark.parametrize(
    ("parse", "value"),
    [
        (parse_count, -1),
        (parse_count, 1.5),
        (parse_count, "two"),
        (parse_count, True),
        (parse_count, MAR_11),
        (parse_count, "nan"),
        (parse_cadence, 0),
        (parse_cadence, -3),
        (parse_cadence, "-3"),
        (parse_cadence, "weekly"),
        (parse_cadence, "1e400"),
        (parse_cadence, 999_999_999),
        (parse_cadence, 1e15),
        (parse_cadence, "3651"),
        (parse_count, 1e300),
        (parse_count, 10_000),
    ],
)
def test_whole_numbers_refuse(parse: Callable[[ReadValue], Parsed[int]], value: ReadValue) -> None:
    result = parse(value)
    assert isinstance(result, Invalid)
    assert "whole number" in result.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("A", "A"), ("b", "B"), (" c ", "C"), ("", None)],
)
def test_parse_priority(value: str, expected: str | None) -> None:
    assert parse_priority(value) == expected


@pytest.mark.parametrize("value", ["D", "AA", 1, 1.0, "high"])
def test_parse_priority_refuses(value: ReadValue) -> None:
    result = parse_priority(value)
    assert isinstance(result, Invalid)
    assert "A, B or C" in result.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Networking event", HowMet.NETWORKING_EVENT),
        ("NETWORKING  EVENT", HowMet.NETWORKING_EVENT),
        ("event", HowMet.NETWORKING_EVENT),
        ("Job application", HowMet.JOB_APPLICATION),
        ("Application", HowMet.JOB_APPLICATION),
        ("Informational interview", HowMet.INFORMATIONAL_INTERVIEW),
        ("info interview", HowMet.INFORMATIONAL_INTERVIEW),
        ("Info-interview", HowMet.INFORMATIONAL_INTERVIEW),
        ("informational", HowMet.INFORMATIONAL_INTERVIEW),
        ("Referral", HowMet.REFERRAL),
        ("Keep in touch", HowMet.KEEP_IN_TOUCH),
        ("keep-in-touch", HowMet.KEEP_IN_TOUCH),
        ("network", HowMet.KEEP_IN_TOUCH),
        ("", None),
    ],
)
def test_parse_how_met(value: str, expected: HowMet | None) -> None:
    assert parse_how_met(value) == expected


def test_parse_how_met_refuses_unknown() -> None:
    result = parse_how_met("conference")
    assert isinstance(result, Invalid)
    assert "Networking event" in result.message
    assert "Keep in touch" in result.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Active", Stage.ACTIVE),
        ("waiting for reply", Stage.WAITING),
        ("Waiting", Stage.WAITING),
        ("DECLINED", Stage.DECLINED),
        ("Paused", Stage.PAUSED),
        ("closed", Stage.CLOSED),
        ("Do not contact", Stage.DO_NOT_CONTACT),
        ("do-not-contact", Stage.DO_NOT_CONTACT),
        ("", None),
    ],
)
def test_parse_stage(value: str, expected: Stage | None) -> None:
    assert parse_stage(value) == expected


def test_parse_stage_refuses_unknown() -> None:
    result = parse_stage("maybe")
    assert isinstance(result, Invalid)
    assert "Waiting for reply" in result.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ada Lovelace", "Ada Lovelace"),
        ("  padded  ", "padded"),
        ("0612345678", "0612345678"),  # leading zeros stored as text stay
        ("007", "007"),
        (4915112345678.0, "4915112345678"),
        (999_999_999_999_999.0, "999999999999999"),  # 15 digits, as Excel shows them
        (1e300, "1e+300"),  # not 301 digits
        (-1e15, "-1e+15"),
        (42, "42"),
        (0.1 + 0.2, "0.3"),
        (1.5, "1.5"),
        (True, "TRUE"),
        (MAR_11, "2026-03-11"),
        ("", None),
        (" \t", None),
    ],
)
def test_parse_text(value: ReadValue, expected: str | None) -> None:
    assert parse_text(value) == expected


@pytest.mark.parametrize(("value", "blank"), [("", True), ("  ", True), (0, False), ("x", False)])
def test_is_blank_keeps_zero(value: ReadValue, blank: bool) -> None:
    assert is_blank(value) is blank


@pytest.mark.parametrize(
    ("parse", "value", "says"),
    [(parse_cadence, 999_999_999, "from 1 to 3,650"), (parse_count, 1e15, "from 0 to 9,999")],
)
def test_a_number_too_big_to_mean_anything_says_the_range(
    parse: Callable[[ReadValue], Parsed[int]], value: ReadValue, says: str
) -> None:
    result = parse(value)
    assert isinstance(result, Invalid)
    assert says in result.message


@pytest.mark.parametrize(
    ("text", "stored", "changed"),
    [
        ("plain", "plain", ""),
        ("a\r\nb\rc\nd", "a\nb\nc\nd", ""),  # line breaks become the cell's own
        ("bell\x01 and tab\t", "bell\x01 and tab\t", ""),  # kept, as Excel keeps them
        ("x" * 32_768, "x" * 32_767, "cut to 32,767 characters, the most a cell holds"),
        ("a\ufffeb\udc80", "ab", "stripped of 2 characters no cell can hold"),
    ],
)
def test_new_text_is_stored_the_way_excel_stores_it(text: str, stored: str, changed: str) -> None:
    assert new_cell_text(text) == (stored, changed)


def test_the_cell_limit_counts_utf16_units_like_excel() -> None:
    assert len(storable_text("🙂" * 20_000).encode("utf-16-le")) // 2 == MAX_CELL_TEXT - 1
    assert storable_text("a" + "🙂" * 16_383) == "a" + "🙂" * 16_383  # exactly 32,767 units
