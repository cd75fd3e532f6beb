"""Build contacts_template.xlsx, the empty workbook new users start from.

Usage: python scripts/make_template.py [OUT]
(default: followup/workbook/contacts_template.xlsx, the package data every install carries)

The committed template must be what this script makes (tests/test_template.py checks), so
change the script and regenerate rather than editing the workbook by hand.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from followup.core.model import HowMet, Stage, Status
from followup.workbook.columns import OWNED_COLUMNS, USER_COLUMNS
from followup.workbook.template import TEMPLATE as DEFAULT_OUT

LAST_ROW = 5000  # dropdowns, colours and the filter cover rows 2..LAST_ROW
CREATED = datetime(2026, 1, 1)  # a fixed date makes the file byte-for-byte reproducible

WIDTHS = {
    "name": 24,
    "company": 22,
    "role": 22,
    "email": 28,
    "phone": 16,
    "linkedin": 30,
    "how_met": 22,
    "met_on": 13,
    "last_contact": 14,
    "follow_ups": 12,
    "priority": 10,
    "cadence": 16,
    "follow_up_on": 15,
    "stage": 18,
    "referred_by": 18,
    "notes": 40,
    "next_follow_up": 16,
    "follow_up_status": 17,
    "suggested_action": 60,
    "last_reminded": 15,
}
DATE_KEYS = {"met_on", "last_contact", "follow_up_on", "next_follow_up", "last_reminded"}
WHOLE_NUMBER_KEYS = {"follow_ups", "cadence"}


def _choices(values: list[str]) -> dict[str, Any]:
    # A warning, not a stop: a typed variant such as "event" is still understood by followup.
    return {
        "validate": "list",
        "source": values,
        "error_type": "warning",
        "error_title": "Not one of the usual values",
        "error_message": "followup understands common variants and lists anything it cannot "
        "read in your digest. Keep this value?",
    }


VALIDATIONS: dict[str, dict[str, Any]] = {
    "how_met": _choices([how.label for how in HowMet]),
    "priority": _choices(["A", "B", "C"]),
    "stage": _choices([stage.label for stage in Stage]),
    "cadence": {
        "validate": "integer",
        "criteria": ">=",
        "value": 1,
        "error_type": "warning",
        "error_title": "Not a number of days",
        "error_message": "Cadence is a whole number of days, 1 or more. Keep this value?",
    },
}

# Fill and font colours for the Follow-up status column.
STATUS_COLOURS = {
    Status.OVERDUE: ("#FFC7CE", "#9C0006"),
    Status.DUE_TODAY: ("#FFEB9C", "#9C5700"),
    Status.UPCOMING: ("#DDEBF7", "#1F4E78"),
    Status.NEEDS_INFO: ("#E7E6E6", "#3A3A3A"),
}

OWNED_NOTE = "Written by followup every run; your edits here are overwritten."

HOW_TO_USE = (
    "How to use this workbook",
    "",
    "One row per person on the Contacts sheet. Only Name is required; fill in what you know.",
    "How we met, Met on and Last contact decide when the next follow-up is due.",
    "Priority sets the rhythm after the first follow-ups (by default A every 30 days, B every "
    "90, C every 180); Cadence (days) overrides it for one person.",
    "Type dates as 2026-03-11 or 11 Mar 2026.",
    "After you follow up: set Last contact to that day and add 1 to Follow-ups (or run: "
    'followup done "Name").',
    'To be reminded on a particular day, put it in Follow up on (or run: followup snooze "Name" '
    "14).",
    "Status: Waiting for reply gets one polite nudge after a week, Declined a light touch after "
    "six months; Paused, Closed and Do not contact get no reminders.",
    "The grey columns (Next follow-up, Follow-up status, Suggested action, Last reminded) are "
    "written by followup every run: your edits there are overwritten.",
    "Follow-up status colours: red overdue, amber due today, blue coming up, grey needs a date.",
    "You may add your own columns and reorder them; followup finds its columns by their header.",
    "If the workbook is open when followup runs, you still get your email; the statuses are "
    "written on the next run.",
)


def build_template(out: Path) -> None:
    """Write the empty, formatted contacts workbook to `out`."""
    workbook = xlsxwriter.Workbook(out)
    workbook.set_properties({"title": "Networking contacts", "created": CREATED})
    header = {"bold": True, "text_wrap": True, "valign": "vcenter", "bottom": 1}
    user_header = workbook.add_format({**header, "bg_color": "#1F4E78", "font_color": "#FFFFFF"})
    owned_header = workbook.add_format({**header, "bg_color": "#BFBFBF", "italic": True})
    date = workbook.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
    whole = workbook.add_format({"num_format": "0", "align": "center"})
    text = workbook.add_format({"num_format": "@"})  # keeps a phone's leading zero
    centred = workbook.add_format({"align": "center"})
    formats = {"phone": text, "priority": centred}

    sheet = workbook.add_worksheet("Contacts")
    sheet.set_row(0, 32)
    for col, column in enumerate(USER_COLUMNS + OWNED_COLUMNS):
        if column.key in DATE_KEYS:
            cell_format = date
        elif column.key in WHOLE_NUMBER_KEYS:
            cell_format = whole
        else:
            cell_format = formats.get(column.key)
        sheet.set_column(col, col, WIDTHS[column.key], cell_format)
        sheet.write_string(0, col, column.header, owned_header if column.owned else user_header)
        if column.owned:
            sheet.write_comment(0, col, OWNED_NOTE, {"author": "followup", "x_scale": 1.6})
        if column.key in VALIDATIONS:
            sheet.data_validation(1, col, LAST_ROW - 1, col, VALIDATIONS[column.key])
        if column.key == "follow_up_status":
            for status, (fill, font) in STATUS_COLOURS.items():
                colour = workbook.add_format({"bg_color": fill, "font_color": font})
                rule = {"type": "cell", "criteria": "==", "value": f'"{status.label}"'}
                sheet.conditional_format(1, col, LAST_ROW - 1, col, {**rule, "format": colour})
    last_col = len(USER_COLUMNS) + len(OWNED_COLUMNS) - 1
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, LAST_ROW - 1, last_col)

    guide = workbook.add_worksheet("How to use")
    guide.hide_gridlines(2)
    guide.set_column(0, 0, 110, workbook.add_format({"text_wrap": True, "valign": "top"}))
    guide.write_string(0, 0, HOW_TO_USE[0], workbook.add_format({"bold": True, "font_size": 14}))
    for row, line in enumerate(HOW_TO_USE[1:], start=1):
        guide.write_string(row, 0, line)
    workbook.close()


if __name__ == "__main__":
    build_template(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
