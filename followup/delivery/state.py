"""The program's memory between runs: which day a digest was last delivered, and when.

It is what keeps delivery to at most one digest a day, whether cron, the schedule loop or a
person runs the job. The file is small JSON written atomically:

    {"last_delivered_day": "2026-03-11", "last_delivered_at": "2026-03-11T07:30:02+00:00",
     "last_listed": ["email:ann@example.com", ...], "last_shown": {"Need a date": "2026-03-09"},
     "last_failure": ""}

`last_listed` holds the contact keys (identity.contact_key) of the people that digest listed,
so their Last reminded can be written by a later run when the workbook was open at delivery.
`last_shown` holds, by title, the day each weekly section last reached the user, so a week
whose section day was skipped shows it in the next digest (needs_info.weekly_due).
`last_failure` says why the last attempt to send failed ("" once one succeeds), so the digest
that finally goes out can say why the earlier ones did not.

An unreadable file never stops a run: it is renamed to `<name>.bad` and the run starts afresh.
The worst that can happen is a second digest that day, never a lost one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from followup.atomic import set_aside, write_atomic

STATE_FILE = "state.json"


@dataclass
class State:
    """What the last delivery was; `warning` says why a broken state file was set aside."""

    path: Path
    last_day: date | None = None
    last_at: datetime | None = None
    last_listed: frozenset[str] = frozenset()
    last_shown: Mapping[str, date] = field(default_factory=dict)
    last_failure: str = ""
    warning: str = ""

    @classmethod
    def load(cls, path: Path) -> State:
        """Read the state file; a missing one is a fresh start, a broken one is set aside."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, *_parse(raw))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError, RecursionError) as err:  # RecursionError: [[[[[...
            return cls(
                path,
                warning=set_aside(
                    path, err, "followup starts afresh and today's digest may be sent twice"
                ),
            )

    @classmethod
    def read(cls, path: Path) -> State:
        """Read the state without setting a broken file aside (a dry run or a preview changes
        nothing): a missing or broken one reads as a fresh start."""
        try:
            return cls(path, *_parse(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, RecursionError):
            return cls(path)

    def delivered_on(self, day: date) -> bool:
        """True when a digest for `day` was already delivered."""
        return self.last_day == day

    def record_delivery(
        self, day: date, when: datetime, listed: Iterable[str] = (), shown: Iterable[str] = ()
    ) -> None:
        """Remember that the digest for `day`, listing the contacts with keys `listed` and
        carrying the weekly sections titled `shown`, was delivered at `when` (call save()
        after)."""
        self.last_day = day
        self.last_at = when
        self.last_listed = frozenset(listed)
        self.last_shown = {**self.last_shown, **dict.fromkeys(shown, day)}

    def save(self) -> None:
        """Write the state atomically; raises OSError if the folder cannot be written."""
        data = {
            "last_delivered_day": self.last_day.isoformat() if self.last_day else None,
            "last_delivered_at": self.last_at.isoformat() if self.last_at else None,
            "last_listed": sorted(self.last_listed),
            "last_shown": {
                title: day.isoformat() for title, day in sorted(self.last_shown.items())
            },
            "last_failure": self.last_failure,
        }
        write_atomic(self.path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def _parse(
    raw: Any,
) -> tuple[date | None, datetime | None, frozenset[str], dict[str, date], str]:
    """The five values, or ValueError when the file is not what save() writes."""
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    day, at = raw.get("last_delivered_day"), raw.get("last_delivered_at")
    if not isinstance(day, str | None) or not isinstance(at, str | None):
        raise ValueError("dates must be text")
    listed = raw.get("last_listed", [])
    if not isinstance(listed, list) or not all(isinstance(key, str) for key in listed):
        raise ValueError("last_listed must be a list of text")
    shown = raw.get("last_shown", {})
    if not isinstance(shown, dict) or not all(isinstance(day, str) for day in shown.values()):
        raise ValueError("last_shown must map titles to dates")
    failure = raw.get("last_failure", "")
    if not isinstance(failure, str):
        raise ValueError("last_failure must be text")
    return (
        date.fromisoformat(day) if day else None,
        datetime.fromisoformat(at) if at else None,
        frozenset(listed),
        {title: date.fromisoformat(day) for title, day in shown.items()},
        failure,
    )
