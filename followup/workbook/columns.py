"""The workbook's columns: canonical names, accepted header spellings, and which ones we own.

A header matches case-insensitively, ignoring spaces, punctuation and a trailing unit in
brackets ("Cadence (days)" and "cadence" are the same header).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One known column: `key` is the field name in code, `header` the spelling we write."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    owned: bool = False


USER_COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", ("Full name", "Contact")),
    Column("company", "Company", ("Organisation", "Organization", "Employer")),
    Column("role", "Role", ("Title", "Position", "Job title")),
    Column("email", "Email", ("E-mail", "Email address")),
    Column("phone", "Phone", ("Mobile", "Telephone")),
    Column("linkedin", "LinkedIn", ("LinkedIn URL", "Profile")),
    Column("how_met", "How we met", ("Context", "Relationship", "Type")),
    Column("met_on", "Met on", ("Date met", "Applied on", "Meeting date")),
    Column("last_contact", "Last contact", ("Last contacted", "Last touch")),
    Column("follow_ups", "Follow-ups", ("Touches", "Follow-ups sent")),
    Column("priority", "Priority", ("Tier",)),
    Column("cadence", "Cadence (days)", ("Cadence", "Every (days)")),
    Column("follow_up_on", "Follow up on", ("Snooze until", "Remind on")),
    Column("stage", "Status", ("Stage",)),
    Column("referred_by", "Referred by"),
    Column("notes", "Notes"),
)

OPTIONAL_COLUMNS: tuple[Column, ...] = (
    Column("where_met", "Where we met", ("Event", "Occasion")),
    Column("birthday", "Birthday", ("Date of birth", "DOB", "Birthdate")),
)
"""Columns a user adds when they want them; the starter workbook leaves them out."""

OWNED_COLUMNS: tuple[Column, ...] = (
    Column("next_follow_up", "Next follow-up", owned=True),
    Column("follow_up_status", "Follow-up status", owned=True),
    Column("suggested_action", "Suggested action", owned=True),
    Column("last_reminded", "Last reminded", owned=True),
)

ALL_COLUMNS: tuple[Column, ...] = USER_COLUMNS + OPTIONAL_COLUMNS + OWNED_COLUMNS

MAX_ROW, MAX_COLUMN = 1_048_576, 16_384
"""The last row and column of an Excel sheet (XFD1048576)."""

_UNIT = re.compile(r"\s*[(\[][^)\]]*[)\]]\s*$")
_NOT_ALNUM = re.compile(r"[\W_]+")


def normalize_header(text: str) -> str:
    """The comparison key of a header: lower case, no trailing (unit), letters and digits only."""
    return _NOT_ALNUM.sub("", _UNIT.sub("", text.strip()).casefold())


_BY_SPELLING: dict[str, Column] = {
    normalize_header(spelling): column
    for column in ALL_COLUMNS
    for spelling in (column.header, *column.aliases)
}


def match_header(text: str) -> Column | None:
    """The known column a header cell names, or None for a column the program leaves alone."""
    return _BY_SPELLING.get(normalize_header(text))


def column_letter(index: int) -> str:
    """1-based column number to its letters: 1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    """Column letters to their 1-based number: A -> 1, AA -> 27 (any case; no check)."""
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def cell_address(row: int, col: int) -> str:
    """1-based row and column to an A1 address."""
    return f"{column_letter(col)}{row}"
