"""What `followup undo` needs to take back the last `done` or `snooze`: `undo.json` in the state
folder, beside the delivery state and the memory.

It holds one change: whose it was (the contact key, since rows move), each cell's value before
and after, and the Log row a `done` added. Undo refuses when any of them no longer holds what
the command wrote, so it never takes back an edit the user made since. A damaged file is set
aside like the other state files; the worst that can happen is "nothing to undo".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from followup.atomic import set_aside, write_atomic
from followup.core.log import LogEntry

UNDO_FILE = "undo.json"

FieldValue = date | int | None
FIELDS = ("last_contact", "follow_ups", "follow_up_on")
"""The contact fields `done` and `snooze` write, as named on `Contact`."""


@dataclass(frozen=True)
class Undoable:
    """The last change a command made to the user's cells, as it must still read to be undone."""

    command: str  # "done" or "snooze"
    made: date
    key: str  # identity.contact_key of the contact
    name: str
    fields: dict[str, tuple[FieldValue, FieldValue]] = field(default_factory=dict)
    """Field -> (before, after)."""
    log_row: int = 0  # the Log row a `done` added, 0 for none
    entry: LogEntry | None = None


def save_undoable(record: Undoable, folder: Path) -> None:
    """Remember `record` as the change `followup undo` takes back (raises OSError)."""
    data = {
        "version": 1,
        "command": record.command,
        "made": record.made.isoformat(),
        "key": record.key,
        "name": record.name,
        "fields": {name: [_dump(b), _dump(a)] for name, (b, a) in record.fields.items()},
        "log_row": record.log_row,
        "entry": None
        if record.entry is None
        else [record.entry.day.isoformat(), *_entry_texts(record.entry)],
    }
    write_atomic(folder / UNDO_FILE, (json.dumps(data, ensure_ascii=False) + "\n").encode())


def load_undoable(folder: Path) -> tuple[Undoable | None, str]:
    """The change to undo, or None; and a warning when a damaged file was set aside."""
    path = folder / UNDO_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        entry = raw["entry"]
        return Undoable(
            command=_choice(raw["command"]),
            made=date.fromisoformat(raw["made"]),
            key=_text(raw["key"]),
            name=_text(raw["name"]),
            fields={
                _field(name): (_load(name, b), _load(name, a))
                for name, (b, a) in raw["fields"].items()
            },
            log_row=int(raw["log_row"]),
            entry=None
            if entry is None
            else LogEntry(date.fromisoformat(entry[0]), *map(_text, entry[1:5])),
        ), ""
    except FileNotFoundError:
        return None, ""
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
        return None, set_aside(path, err, "there is nothing to undo")


def forget_undoable(folder: Path) -> None:
    """Undone once: a second `undo` must not take back an older change blindly."""
    (folder / UNDO_FILE).unlink(missing_ok=True)


def _entry_texts(entry: LogEntry) -> list[str]:
    return [entry.name, entry.email, entry.channel, entry.note]


def _dump(value: FieldValue) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _load(name: str, value: Any) -> FieldValue:
    if value is None:
        return None
    if name == "follow_ups":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"follow_ups {value!r} is not a count")
        return value
    return date.fromisoformat(value)


def _field(name: Any) -> str:
    if name not in FIELDS:
        raise ValueError(f"unknown field {name!r}")
    return str(name)


def _choice(command: Any) -> str:
    if command not in ("done", "snooze"):
        raise ValueError(f"unknown command {command!r}")
    return str(command)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not text")
    return value
