"""The checks config.toml's values pass: each returns the value as the program uses it, or
raises ValueError saying what it must be (the schema pairs every key with one of these)."""

from __future__ import annotations

import email.utils
import ipaddress
import re
from collections.abc import Callable
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from followup.core.model import MAX_DAYS, WEEKDAYS, HowMet, RuleSettings

_WEEKDAYS = tuple(day.lower() for day in WEEKDAYS)
_RULES = RuleSettings()
MAX_TIMEOUT = 600


def expect(kind: type, what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise ValueError(f"must be {what}")
        return value

    return check


def whole(low: int, high: int, unit: str = "") -> Callable[[Any], int]:
    """A whole number from `low` to `high`: every number the program uses has a sane range."""

    def check(value: Any) -> int:
        if not _is_whole(value, low, high):
            raise ValueError(f"must be a whole number{unit} from {low:,} to {high:,}")
        return value

    return check


def _is_whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def seconds(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 1 <= value <= MAX_TIMEOUT  # NaN fails this too
    ):
        raise ValueError(f"must be a number of seconds from 1 to {MAX_TIMEOUT}")
    return float(value)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def text(what: str) -> Callable[[Any], str]:
    """Text without control characters: in a setting they are typos, and they would break a
    mail header (CR LF), a file name (NUL) or the config.toml that `init` writes."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"must be {what} in quotes")
        if _CONTROL.search(value):
            raise ValueError(f"must be {what}, without control characters")
        return value

    return check


one_line = text("one line of text")
path_text = text("a file or folder name")


def file_name(value: Any) -> str:
    if not path_text(value).strip():
        raise ValueError("must name a file")
    return value


def address(value: Any) -> str:
    if one_line(value) and "@" not in email.utils.parseaddr(value)[1]:
        raise ValueError('must be an email address like "you@example.com", or ""')
    return value


def host(value: Any) -> str:
    """A name the network can look up: no spaces, labels of 1 to 63 characters."""
    refusal = 'must be a server name like "smtp.gmail.com", or ""'
    if one_line(value) and (len(value) > 253 or any(c.isspace() for c in value)):
        raise ValueError(refusal)
    try:
        value.encode("idna")
    except UnicodeError:
        raise ValueError(refusal) from None
    return value


def is_loopback(name: str) -> bool:
    """Whether a host is this computer: localhost, 127.0.0.0/8 or ::1 (bracketed or not)."""
    if name.strip().rstrip(".").casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def weekday(value: Any) -> int | None:
    """A day of the week by name ("Monday", "mon", any case) as 0-6; "off" or empty: None."""
    if isinstance(value, str):
        name = value.strip().lower()
        if name in ("", "off"):
            return None
        for number, day in enumerate(_WEEKDAYS):
            if len(name) >= 3 and day.startswith(name):
                return number
    raise ValueError("must be a day of the week, such as monday, or off")


def one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in choices:
            raise ValueError(f"must be one of {', '.join(repr(c) for c in choices)}")
        return value.lower()

    return check


def clock_time(value: Any) -> time:
    try:
        clock = time.fromisoformat(str(value))
    except ValueError:
        clock = None
    if clock is None or clock.tzinfo is not None:  # the timezone is [digest] timezone's
        raise ValueError('must be a time of day like "07:30"')
    return clock


def timezone(value: Any) -> ZoneInfo | None:
    if value == "":
        return None
    try:
        return ZoneInfo(one_line(value))
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder of zones
        raise ValueError(
            'must be a timezone name like "Europe/London", or "" for the machine\'s'
        ) from None


def _how_met(value: str) -> HowMet:
    try:
        return HowMet(value.strip().lower())
    except ValueError:
        names = ", ".join(repr(h.value) for h in HowMet)
        raise ValueError(f"{value!r} is not a relationship; use one of {names}") from None


def rule_steps(value: Any) -> dict[HowMet, tuple[int, ...]]:
    if not isinstance(value, dict):
        raise ValueError('must be a table like {"networking event" = [2]}')
    steps = dict(_RULES.steps)
    for name, days in value.items():
        if not isinstance(days, list) or not all(_is_whole(d, 1, MAX_DAYS) for d in days):
            raise ValueError(
                f"{name!r} must be a list of whole numbers of days, each from 1 to {MAX_DAYS:,}"
            )
        steps[_how_met(name)] = tuple(days)
    return steps


def rule_cadence(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError("must be a table like {A = 30, B = 90, C = 180}")
    cadence = dict(_RULES.cadence)
    for tier, days in value.items():
        if tier.upper() not in cadence:
            raise ValueError(f"{tier!r} is not a priority; use A, B or C")
        if not _is_whole(days, 1, MAX_DAYS):
            raise ValueError(f"{tier} must be a whole number of days from 1 to {MAX_DAYS:,}")
        cadence[tier.upper()] = days
    return cadence


def relationships(value: Any) -> frozenset[HowMet]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError('must be a list like ["job application"]')
    return frozenset(_how_met(v) for v in value)


def folders(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError('must be a list of folder names like ["INBOX"]')
    return tuple(one_line(v) for v in value)
