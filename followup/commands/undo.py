"""`followup undo`: take back the last `done` or `snooze`, provided every cell it wrote (and
the Log row a `done` added) still holds what it wrote; the record is commands/undo_record.py.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from followup.commands.change import HEADERS, Change, Columns, apply, expected_after
from followup.commands.evaluation import Evaluation
from followup.commands.undo_record import Undoable, load_undoable
from followup.core.identity import contact_key
from followup.errors import FollowupError, UsageError
from followup.settings import Config


def plan_undo(evaluation: Evaluation, record: Undoable) -> Change:
    """Put back the cells the last `done` or `snooze` changed, and empty the Log row a `done`
    added, provided each still holds what the command wrote (else refuse, changing nothing)."""
    contents = evaluation.contents
    what = "follow-up with" if record.command == "done" else "snooze of"
    edited = f"it was edited after the `{record.command}`, so undo changed nothing"
    taken = f"the {what} {record.name} recorded on {record.made.isoformat()}"
    owners = [c for c in contents.contacts if contact_key(c) == record.key]
    if len(owners) != 1:
        raise FollowupError(
            f"Cannot undo {taken}: {record.name} is no longer in {contents.sheet} under the "
            "same email (or LinkedIn profile, or name and company), so nothing was changed."
        )
    contact = owners[0]
    columns = Columns(contents)
    # Text typed since reads as blank, like a cell the command cleared, but it is the user's.
    columns.keep_typed(contact, *record.fields)
    for name, (before, after) in record.fields.items():
        now = getattr(contact, name)
        if now != after:
            raise FollowupError(
                f"Cannot undo {taken}: {HEADERS[name]} in row {contact.row} now holds "
                f"{_shown(now)}, not the {_shown(after)} it wrote: {edited}. Correct the row by "
                "hand if you need to."
            )
        columns.cells[(contact.row, columns[name])] = None if before in (None, 0) else before
    cleared: tuple[int, ...] = ()
    if record.entry is not None:
        log = evaluation.history.log
        rows = [r for e, r in zip(log.entries, log.rows, strict=False) if e == record.entry]
        if not rows:
            raise FollowupError(
                f"Cannot undo {taken}: its row is no longer on the Log sheet as it wrote it: "
                f"{edited}."
            )
        cleared = (record.log_row if record.log_row in rows else rows[-1],)
    updated = dataclasses.replace(
        contact, **{name: before for name, (before, _) in record.fields.items()}
    )
    put_back = [
        f"{HEADERS[name]} back to {_shown(before)}" for name, (before, _) in record.fields.items()
    ]
    if cleared:
        put_back.append(f"Log row {cleared[0]} emptied")
    done = ", ".join(put_back) or "nothing needed changing"
    line = f"Undid {taken} (row {contact.row}): {done}."
    if cleared:  # the values are back; what stays is harmless and said, not hidden
        line += (
            " The Log sheet stays (an empty row in it is ignored), and cells back to blank"
            " keep the date or number format they were given."
        )
    return Change(
        columns.cells,
        expected_after(contents, updated),
        lines=(line,),
        cleared_log_rows=cleared,
        undone=True,
    )


def _shown(value: date | int | None) -> str:
    if value is None or value == 0:  # a count of 0 is written as a blank cell
        return "blank"
    return value.isoformat() if isinstance(value, date) else str(value)


def undo_last(config: Config, today: date, now: datetime) -> Change:
    """`followup undo`: take back the last `done` or `snooze`, if it can still be."""
    record, warning = load_undoable(config.state_dir)
    if record is None:
        raise UsageError(
            (warning + " " if warning else "")
            + "There is nothing to undo: followup takes back only the last `done` or "
            "`snooze`, once, and none is waiting to be undone."
        )
    return apply(config, today, now, lambda evaluation: plan_undo(evaluation, record))
