"""The vocabulary every layer shares: contacts, follow-up results, problems and rule settings.

Plain frozen dataclasses and enums only, so the pure core, the adapters and the tests can all
import this module without pulling in any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)
"""The days followup works with, in cells, options and --today: any date a person means is
between them, and the rules' arithmetic on them can never leave the calendar."""

MAX_DAYS = 3650
"""The longest span, in days (about ten years), that a setting, a cell or `snooze` may give."""


MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
"""The months in English, whatever the machine's locale: drafts, the digest and cells use these."""

MONTH_NUMBERS: dict[str, int] = {
    spelling: number
    for number, name in enumerate(MONTHS, start=1)
    for spelling in (name.lower(), name[:3].lower())
} | {"sept": 9}
"""A month's number by its name or first three letters in lower case ("sept" too), as typed."""


def day_month(day: date) -> str:
    """Like "11 Mar", in English whatever the machine's locale."""
    return f"{day.day} {MONTHS[day.month - 1][:3]}"


def day_name(day: date) -> str:
    """Like "Wed 11 Mar", in English whatever the machine's locale."""
    return f"{WEEKDAYS[day.weekday()][:3]} {day_month(day)}"


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""The days of the week in English, whatever the machine's locale (`strftime("%A")` is not)."""


class HowMet(StrEnum):
    """The relationship a contact started from; it picks the follow-up steps."""

    NETWORKING_EVENT = "networking event"
    JOB_APPLICATION = "job application"
    INFORMATIONAL_INTERVIEW = "informational interview"
    REFERRAL = "referral"
    KEEP_IN_TOUCH = "keep in touch"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Stage(StrEnum):
    """What the user typed in the Status column (blank means ACTIVE)."""

    ACTIVE = "active"
    WAITING = "waiting for reply"
    DECLINED = "declined"
    PAUSED = "paused"
    CLOSED = "closed"
    DO_NOT_CONTACT = "do not contact"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Status(StrEnum):
    """The computed follow-up status; the value is the JSON spelling."""

    OVERDUE = "overdue"
    DUE_TODAY = "due-today"
    UPCOMING = "upcoming"
    SCHEDULED = "scheduled"
    WAITING = "waiting"
    PAUSED = "paused"
    CLOSED = "closed"
    NEEDS_INFO = "needs-info"

    @property
    def label(self) -> str:
        """The spelling written into the workbook's Follow-up status column."""
        return _STATUS_LABELS[self]


# Status.label is read for every contact of every run: spelled out once here.
_STATUS_LABELS = {status: status.value.replace("-", " ").capitalize() for status in Status}


@dataclass(frozen=True, slots=True)
class Birthday:
    """A day of the year someone was born on, with the year when it is known."""

    month: int
    day: int
    year: int | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """One row of the contacts sheet, already parsed; bad cells fell back to defaults."""

    row: int
    name: str
    company: str = ""
    role: str = ""
    email: str = ""
    phone: str = ""
    linkedin: str = ""
    how_met: HowMet = HowMet.KEEP_IN_TOUCH
    met_on: date | None = None
    last_contact: date | None = None
    follow_ups: int = 0
    priority: str = "B"
    cadence: int | None = None
    follow_up_on: date | None = None
    stage: Stage = Stage.ACTIVE
    referred_by: str = ""
    notes: str = ""
    last_reminded: date | None = None
    logged_touches: int = 0
    """Follow-ups the Log sheet records since Met on; the job fills it in, it is no column."""
    replied_on: date | None = None
    """Their latest reply the Log records since Met on (sync logs it); no column either."""
    where_met: str = ""
    """The event or occasion ("PyData Berlin"), which makes a draft specific."""
    birthday: Birthday | None = None


@dataclass(frozen=True, slots=True)
class FollowUp:
    """What the rules decided for one contact on one day."""

    next_date: date | None
    status: Status
    days_overdue: int
    action: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A cell the program could not use: where it is, what it holds and how to fix it. One
    without a cell is about the file as a whole, named in `sheet` (a part Excel would refuse)."""

    sheet: str
    cell: str
    value: str
    message: str

    def __str__(self) -> str:
        if not self.cell:
            return f"{self.sheet}: {self.message}"
        shown = f" ({self.value!r})" if self.value else ""
        return f"{self.sheet}!{self.cell}{shown}: {self.message}"


def _default_steps() -> dict[HowMet, tuple[int, ...]]:
    return {
        HowMet.NETWORKING_EVENT: (2,),
        HowMet.JOB_APPLICATION: (7, 7),
        HowMet.INFORMATIONAL_INTERVIEW: (1, 21),
        HowMet.REFERRAL: (2,),
        HowMet.KEEP_IN_TOUCH: (),
    }


@dataclass(frozen=True)
class RuleSettings:
    """Every number the rules use; config.toml's [rules] (and lookahead_days) fill it in."""

    steps: dict[HowMet, tuple[int, ...]] = field(default_factory=_default_steps)
    cadence: dict[str, int] = field(default_factory=lambda: {"A": 30, "B": 90, "C": 180})
    stop_after_steps: frozenset[HowMet] = frozenset({HowMet.JOB_APPLICATION})
    nudge_days: int = 7
    declined_days: int = 180
    max_unanswered: int = 2
    rest_days: int = 90
    skip_weekends: bool = True
    lookahead_days: int = 7
