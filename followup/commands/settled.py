"""Whether a run has nothing left to do today: the same workbook and settings as a settled run.

A run is settled when today's digest is delivered (or there was none to send), nothing waits
in the outbox and the workbook holds every status the rules give. It then records a token of
the day, the workbook's bytes and every setting. A later run that finds the same token would
read the whole workbook only to find every cell already written and the digest already sent,
so it stops at once (scripts/bench.py's "2nd run same day"), for cron jobs and the schedule
loop that run more often than the workbook changes. Anything different (another day,
a saved workbook, an edited config.toml) makes a different token and a full run.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import date

from followup.atomic import write_atomic
from followup.settings import Config

SETTLED_FILE = "settled"


def token(config: Config, today: date) -> str:
    """What a settled run leaves behind: a hash of the day, the settings and the workbook."""
    digest = hashlib.sha256(f"{today.isoformat()}\n{config!r}\n".encode())
    with config.workbook.path.open("rb") as workbook:
        digest.update(hashlib.file_digest(workbook, "sha256").digest())
    return digest.hexdigest()


def is_settled(config: Config, today: date) -> bool:
    """Whether a run settled today on this very workbook with these very settings."""
    try:  # bytes: a damaged file is simply not the token (a full run then removes it)
        recorded = (config.state_dir / SETTLED_FILE).read_bytes().strip()
        return recorded == token(config, today).encode()
    except OSError:
        return False


def settle(config: Config, today: date) -> None:
    """Record that today's run is done with the workbook as it is now.

    Best effort: when the token cannot be written the next run simply does the full work.
    """
    with contextlib.suppress(OSError):
        write_atomic(config.state_dir / SETTLED_FILE, f"{token(config, today)}\n".encode())


def unsettle(config: Config) -> None:
    """Forget the token when a full run starts: only the latest run's outcome may settle a day
    (a digest it left pending must be retried even if the workbook is back to older bytes)."""
    with contextlib.suppress(OSError):
        (config.state_dir / SETTLED_FILE).unlink(missing_ok=True)
