"""How a value becomes a cell's XML, and how python-calamine will read that cell back."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from functools import cache, lru_cache

from followup.workbook.cells import WriteValue
from followup.workbook.columns import column_letter
from followup.workbook.xlsx.markup import escape, xstring
from followup.workbook.xlsx.styles import Styles

# --- cell values -----------------------------------------------------------------------------


class CellWriter:
    """Renders a cell: text as an inline string, numbers as numbers, dates as styled serials."""

    def __init__(self, date1904: bool, styles: Callable[[], Styles]) -> None:
        self.date1904 = date1904
        self.styles = styles
        self.rendered: dict[tuple[str, int, str | date], str] = {}
        """What follows the `r` of a cell, by prefix, style and text or date: a sheet repeats
        the same statuses and dates, and a run may write a cell in each of 100,000 rows."""

    def cell(self, prefix: str, ref: str, style: int, value: WriteValue) -> str:
        """The cell's XML; `style` is its own style, which a date may need changed."""
        kind = type(value)
        if kind is str or kind is date:  # values that are equal only if they render alike
            key = (prefix, style, value)
            rest = self.rendered.get(key)
            if rest is None:
                rest = self._rest(prefix, style, value)
                if len(self.rendered) < _RENDERED:
                    self.rendered[key] = rest
        else:
            rest = self._rest(prefix, style, value)
        return f'<{prefix}c r="{ref}"{rest}'

    def _rest(self, prefix: str, style: int, value: WriteValue) -> str:
        """The cell's XML after its `r` attribute."""
        if isinstance(value, date):
            serial = _serial(value, self.date1904)
            if serial is None:  # before the workbook's first date: keep it readable as text
                value = value.isoformat()
            else:
                style, value = self.styles().date_style(style), serial
        kind, body = "", ""
        if isinstance(value, str):
            kind = ' t="inlineStr"'
            text = _cell_text(value)
            body = f'<{prefix}is><{prefix}t xml:space="preserve">{text}</{prefix}t></{prefix}is>'
        elif value is not None:
            body = f"<{prefix}v>{value!r}</{prefix}v>"
        styled = f' s="{style}"' if style else ""
        if not body:
            return f"{styled}/>"
        return f"{styled}{kind}>{body}</{prefix}c>"


_RENDERED = 4096
"""Cells a CellWriter remembers: the distinct statuses and dates of a run, not every note."""

column_letters = cache(column_letter)


@lru_cache(maxsize=4096)
def _cell_text(value: str) -> str:
    """Escaped cell text; cached because a sheet repeats the same statuses and actions."""
    return escape(xstring(value))


_XML_NEWLINE = re.compile(r"\r\n?")
_XML_REFERENCE = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(amp|lt|gt|quot|apos));")
_XML_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_ESCAPED_CHAR = re.compile(r"_x([0-9A-Fa-f]{4})_")


def read_back(value: WriteValue, date1904: bool) -> str | float | date:
    """What a reader (python-calamine) reads from a cell `patch_sheet` wrote `value` into, in a
    workbook that counts days from 1904 or not: the save checks each cell it wrote by this.

    Text reads back as its XML decodes: what XML cannot hold is gone and line ends are "\n".
    Numbers read back as floats, dates as dates (as text before the workbook's first day),
    and None as "".
    """
    if isinstance(value, str):
        return _text_read_back(value)
    if type(value) is date:  # not a datetime: a run writes one or two in every row
        return value if value >= _FIRST_DAY[date1904] else _text_read_back(value.isoformat())
    if value is None:
        return ""
    if isinstance(value, date):
        if _serial(value, date1904) is None:
            return _text_read_back(value.isoformat())
        return value.date() if isinstance(value, datetime) and value.time() == time() else value
    return float(value)


_FIRST_DAY = {False: date(1900, 1, 1), True: date(1904, 1, 1)}
"""The first day each date system can show (`_serial`)."""


@lru_cache(maxsize=4096)
def _text_read_back(value: str) -> str:
    """The text a reader decodes from the XML `_cell_text` makes of `value`."""
    xml = _XML_NEWLINE.sub("\n", _cell_text(value))
    text = _XML_REFERENCE.sub(_xml_reference, xml)
    return _ESCAPED_CHAR.sub(lambda match: chr(int(match[1], 16)), text)


def _xml_reference(match: re.Match[str]) -> str:
    hexadecimal, decimal, name = match.groups()
    if name:
        return _XML_ENTITIES[name]
    return chr(int(hexadecimal, 16) if hexadecimal else int(decimal))


def _serial(value: date, date1904: bool) -> int | float | None:
    """Excel's day number for `value`, or None when the date system cannot show it."""
    fraction = 0.0
    if isinstance(value, datetime):
        fraction = (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        value = value.date()
    days = (value - date(1904, 1, 1)).days if date1904 else (value - date(1899, 12, 31)).days
    if not date1904 and days >= 60:
        days += 1  # Excel counts the 29 February 1900 that never was
    if days < (0 if date1904 else 1):
        return None
    return days + fraction if fraction else days
