"""The commands that show the workbook's follow-ups without changing it: `status` (a table or
JSON), `preview` (today's digest as an HTML file) and `calendar` (the coming follow-ups as .ics).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from followup.atomic import write_atomic
from followup.commands.evaluation import Evaluation, evaluate
from followup.core.model import Status
from followup.errors import UsageError
from followup.settings import Config

_URGENCY = list(Status)


def status_text(config: Config, today: date, *, as_json: bool) -> str:
    """Who is due, as a table or JSON, with the workbook's problems."""
    evaluation = evaluate(config, today)
    if as_json:
        return json.dumps(_as_json(evaluation, today), indent=2, ensure_ascii=False)
    return _as_table(evaluation)


def write_preview(config: Config, today: date) -> Path:
    """Today's digest as an HTML file in the outbox; its path."""
    from followup.commands import daily  # not loaded by `status`, which needs no digest
    from followup.delivery.state import STATE_FILE, State

    evaluation = evaluate(config, today)
    shown = State.read(config.state_dir / STATE_FILE).last_shown
    digest = daily.digest_for(config, evaluation, today, shown=shown)
    out = config.digest.outbox / f"preview-{today.isoformat()}.html"
    _write_file(
        out,
        digest.html.encode("utf-8"),
        "Make that folder writable (and check that the disk has free space), or set [digest] "
        "outbox in config.toml to another folder.",
    )
    return out


def write_calendar(config: Config, today: date, now: datetime, out: Path | None) -> Path:
    """The follow-ups of the next lookahead_days as an .ics file (`out`, else in the outbox);
    its path."""
    from followup.delivery.calendar import FILENAME, build_calendar  # nor is this by `status`

    evaluation = evaluate(config, today)
    ics = build_calendar(evaluation.entries, today, config.rules.lookahead_days, now)
    path = out or config.digest.outbox / FILENAME
    _write_file(path, ics, "Choose another place with --out.")
    return path


def _write_file(path: Path, data: bytes, fix: str) -> None:
    """Write a file a command makes where the user said, or say in one sentence why it cannot
    be written there (exit 2: the fix is another place, or making that one writable)."""
    try:
        write_atomic(path, data)
    except FileExistsError:  # from creating the folders: one of them is a file
        raise UsageError(f"Cannot write {path}: {path.parent} is not a folder. {fix}") from None
    except OSError as err:
        raise UsageError(f"Cannot write {path}: {err.strerror or err}. {fix}") from None


def _as_json(evaluation: Evaluation, today: date) -> dict[str, Any]:
    return {
        "today": today.isoformat(),
        "contacts": [
            {
                "row": c.row,
                "name": c.name,
                "company": c.company,
                "email": c.email,
                "how_met": c.how_met.value,
                "status": f.status.value,
                "next_follow_up": f.next_date.isoformat() if f.next_date else None,
                "days_overdue": f.days_overdue,
                "action": f.action,
            }
            for c, f in evaluation.entries
        ],
        "problems": [
            {"sheet": p.sheet, "cell": p.cell, "value": p.value, "message": p.message}
            for p in evaluation.contents.problems
        ],
    }


def _as_table(evaluation: Evaluation) -> str:
    rows = sorted(
        evaluation.entries,
        key=lambda e: (_URGENCY.index(e[1].status), -e[1].days_overdue, e[1].next_date or date.max),
    )
    table = [("Row", "Name", "Status", "Next", "Action")]
    for c, f in rows:
        label = f.status.label + (f" ({f.days_overdue}d)" if f.days_overdue else "")
        table.append((str(c.row), c.name, label, str(f.next_date or ""), f.action))
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)) + "  " + r[4]
        for r in table
    ]
    problems = evaluation.contents.problems
    if problems:
        lines += ["", f"{len(problems)} workbook problem{'s' * (len(problems) != 1)}:"]
        lines += [f"  {p}" for p in problems]
    return "\n".join(lines)
