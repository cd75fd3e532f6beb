"""The program's own small files: written so that anyone reading one sees the old content or
the new, never half of it, and set aside when they cannot be read, so that none blocks a run."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

STALE_AFTER_SECONDS = 3600
"""A temp file this old is left over from a killed write, never from a write in progress."""

_TEMP = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")  # what mkstemp makes of write_atomic's names


def remove_stale_temps(folder: Path, is_temp: Callable[[str], bool] | None = None) -> None:
    """Delete the temp files a killed write left in `folder` (`is_temp` says which names are
    ours; by default, write_atomic's). Best effort: one that cannot be deleted stays."""
    cutoff = time.time() - STALE_AFTER_SECONDS
    with contextlib.suppress(OSError):  # no folder yet, or one that cannot be listed
        for entry in folder.iterdir():
            if (is_temp or _TEMP.fullmatch)(entry.name):
                with contextlib.suppress(OSError):
                    if entry.lstat().st_mtime < cutoff:
                        entry.unlink()


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside `path`, flush to disk, then rename into place (os.replace is atomic).

    The file is private to its owner (mkstemp's 0600): digests and state hold personal data.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def set_aside(path: Path, err: BaseException, consequence: str) -> str:
    """Rename a file of the program's own that cannot be read to `<name>.bad`, so that it
    never blocks a run again; return the notice that says so, and that `consequence`."""
    aside = path.with_name(f"{path.name}.bad")
    try:
        path.replace(aside)
    except OSError:
        kept = "it will be replaced"
    else:
        kept = f"it was renamed to {aside.name}"
    return f"Could not use {path} ({_why(err)}); {kept}, so {consequence}."


def _why(err: BaseException) -> str:
    """Why a file could not be used, in words for its user rather than Python's."""
    if isinstance(err, OSError):
        return err.strerror or "it cannot be read"
    if isinstance(err, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(err, json.JSONDecodeError):
        return f"it is not valid JSON: {err.msg.lower()} at line {err.lineno}"
    if isinstance(err, RecursionError):
        return "it is nested too deeply to read"
    return "it does not hold what followup writes there"
