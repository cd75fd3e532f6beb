"""The memory between runs, `contacts.json` in the state folder (see core/history.py): loaded
at the start of a run and saved at its end."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from followup.atomic import set_aside, write_atomic
from followup.core.history import Memory

MEMORY_FILE = "contacts.json"


def load_memory(path: Path) -> Memory:
    """The saved memory. A missing file is a fresh start; so is a damaged one, which is set
    aside as `<name>.bad` (it would otherwise be refused again by every run)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Memory(
            {k: date.fromisoformat(v) if v else None for k, v in raw["last_contact"].items()},
            {k: date.fromisoformat(v) for k, v in raw["referrer_thanked"].items()},
        )
    except FileNotFoundError:
        return Memory()
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
        return Memory(
            warning=set_aside(
                path,
                err,
                "followup starts afresh: hand edits to Last contact since the last run "
                "are not logged",
            )
        )


def save_memory(memory: Memory, path: Path) -> None:
    """Write the file atomically (raises OSError when the state folder is not writable)."""
    data = {
        "version": 1,
        "last_contact": {
            key: day.isoformat() if day else None
            for key, day in (memory.last_contact or {}).items()
        },
        "referrer_thanked": {key: day.isoformat() for key, day in memory.referrer_thanked.items()},
    }
    # Without `indent` json uses its C encoder, which is much faster at 100,000 contacts.
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    write_atomic(path, (text + "\n").encode("utf-8"))
