"""Guarding the user's workbook: never write while it is open, never over a newer save, never
leave it half-written, always keep a way back, and never let two runs interleave.

The caller reads the workbook, takes a `fingerprint` first, and hands `safe_replace` a function
that writes the new version; everything that can go wrong happens on a temporary copy.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import filelock

from followup.atomic import remove_stale_temps, set_aside
from followup.errors import FollowupError

BACKUP_FOLDER = ".followup-backups"
TEMP_MARK = ".followup-tmp-"
RUN_LOCK_NAME = ".followup.lock"


class WorkbookNotWritten(FollowupError):
    """The workbook was left exactly as it was; the run can still deliver its digest."""


class WorkbookOpen(WorkbookNotWritten):
    """Excel or LibreOffice has the workbook open (its lock file is beside it)."""

    def __init__(self, path: Path, app: str, lock_file: Path) -> None:
        self.app = app
        self.lock_file = lock_file
        super().__init__(
            f"{path.name} is open in {app}, so followup did not write to it. Statuses are "
            f"written on the next run after you close it. If {app} is not running, delete the "
            f"leftover lock file {lock_file}."
        )


class WorkbookChanged(WorkbookNotWritten):
    """The workbook was saved (or moved) after followup read it; writing would lose that save."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path.name} changed while followup was working on it (someone saved it), so "
            "followup did not write to it and your changes are safe. Statuses are written on "
            "the next run."
        )


class SaveFailed(WorkbookNotWritten):
    """The new version could not be put in place (disk full, no permission, file in use)."""

    exit_code = 3

    def __init__(self, path: Path, error: OSError) -> None:
        reason = error.strerror or str(error)
        super().__init__(
            f"Could not save {path.name} ({reason}); it is unchanged. Check that the folder "
            f"{path.parent} is writable and has free space; statuses are written on the next run."
        )


class FolderNotWritable(FollowupError):
    """The folder of the program's own files (the outbox) cannot be written, so no run or
    command may start: it could keep no lock, no state and no digest. Exit 2, as for other
    settings that do not work here; `run` makes it a DeliveryError (4)."""

    exit_code = 2

    def __init__(self, folder: Path, error: OSError) -> None:
        reason = error.strerror or str(error)
        super().__init__(
            f"Cannot write in {folder} ({reason}), so nothing was done. Make it writable and "
            "check that the disk has free space, or set [digest] outbox in config.toml to a "
            "folder you can write."
        )


class AnotherRunInProgress(FollowupError):
    """Another followup process holds the run lock; this run must not touch anything."""

    exit_code = 0

    def __init__(self) -> None:
        super().__init__(
            "Another followup run is in progress; this one stops without doing anything."
        )


def dangling_link(path: Path) -> str | None:
    """What to tell the user when the workbook path is a symbolic link to nothing, else None.

    Such a link usually points into a folder that was moved or a drive that is not connected;
    a workbook created at the path would replace the link with a file of its own.
    """
    if not path.is_symlink() or path.exists():
        return None
    return (
        f"{path} is a link to {path.readlink()}, which does not exist (a folder moved, or a "
        "drive not connected?). followup does not create a workbook in its place: point the "
        "link at your workbook, or fix [workbook] path in config.toml."
    )


def _lock_files(path: Path) -> Iterator[tuple[str, Path]]:
    """Where Excel and LibreOffice put their 'file is open' marker for this workbook."""
    name = path.name
    yield "Excel", path.with_name(f"~${name}")
    # Excel cuts the first two characters of long names (~$ntacts.xlsx for contacts.xlsx).
    yield "Excel", path.with_name(f"~${name[2:]}")
    yield "LibreOffice", path.with_name(f".~lock.{name}#")


def _open_lock(path: Path) -> tuple[str, Path] | None:
    """The app and lock file marking the workbook as open, seen from the link and its target."""
    for place in dict.fromkeys((path.absolute(), path.resolve())):
        for app, lock in _lock_files(place):
            if lock.exists():
                return app, lock
    return None


def open_by_user(path: Path) -> str | None:
    """The app ("Excel" or "LibreOffice") that has the workbook open, or None."""
    found = _open_lock(path)
    return found[0] if found else None


@dataclass(frozen=True)
class Fingerprint:
    """Enough of a file's identity to notice that the user saved it since we read it."""

    size: int
    mtime_ns: int


def fingerprint(path: Path) -> Fingerprint:
    """The workbook's fingerprint now (following a symlink to the real file)."""
    st = path.stat()
    return Fingerprint(st.st_size, st.st_mtime_ns)


def _refuse_if_unsafe(path: Path, expected: Fingerprint) -> None:
    found = _open_lock(path)
    if found:
        raise WorkbookOpen(path, *found)
    try:
        unchanged = fingerprint(path) == expected
    except FileNotFoundError:
        unchanged = False
    if not unchanged:
        raise WorkbookChanged(path)


def _fsync_file(path: Path) -> None:
    with path.open("r+b") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable; only POSIX can open a folder for this."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_owner_and_mode(original: Path, temp: Path) -> None:
    """Give the new file the original's permission bits, and its owner where we may.

    A run as root (a system cron job) must not leave the user a workbook they cannot save.
    """
    st = original.stat()
    if hasattr(os, "chown"):
        with contextlib.suppress(OSError):
            os.chown(temp, st.st_uid, st.st_gid)
    temp.chmod(stat.S_IMODE(st.st_mode))


def _remove_stale_temps(target: Path) -> None:
    """Delete temp files a killed save left beside the workbook."""
    prefix = f".{target.stem}{TEMP_MARK}"
    remove_stale_temps(
        target.parent, lambda name: name.startswith(prefix) and name.endswith(target.suffix)
    )


def _backup(original: Path, folder: Path, keep: int, now: datetime) -> None:
    """Copy the current workbook into `folder` as stem.YYYY-MM-DDTHHMMSS[_N].suffix.

    Names sort in time order, so the oldest beyond `keep` are the first in sorted order.
    """
    folder.mkdir(mode=0o700, exist_ok=True)
    stamp = now.strftime("%Y-%m-%dT%H%M%S")
    name = f"{original.stem}.{stamp}{original.suffix}"
    counter = 1
    while (folder / name).exists():
        counter += 1
        name = f"{original.stem}.{stamp}_{counter:02d}{original.suffix}"
    partial = folder / f".{name}.partial"
    try:
        shutil.copy2(original, partial)
        partial.replace(folder / name)
    finally:
        partial.unlink(missing_ok=True)
    pattern = re.compile(
        rf"{re.escape(original.stem)}\.\d{{4}}-\d\d-\d\dT\d{{6}}(_\d+)?{re.escape(original.suffix)}"
    )
    ours = sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))
    for old in ours[: max(len(ours) - keep, 0)]:
        old.unlink()


def safe_replace(
    path: Path,
    write: Callable[[Path], None],
    *,
    expected: Fingerprint,
    backups: int,
    verify: Callable[[Path], None],
    now: datetime,
) -> None:
    """Replace the workbook with what `write` produces, or leave it byte for byte as it was.

    Refuses (WorkbookOpen, WorkbookChanged) when the user has the workbook open or saved it
    since `expected` was taken. Otherwise `write` fills a temporary file in the same folder,
    which is flushed to disk and checked with `verify` before the original is copied to
    `.followup-backups/` (named by `now`, keeping `backups` copies, 0 for none) and atomically
    replaced. A symlink stays a link: its target is replaced. Any OSError comes back as
    SaveFailed; other errors from `write` and `verify` propagate unchanged. The temp file never
    outlives a failure.
    """
    target = path.resolve()
    _refuse_if_unsafe(path, expected)
    _remove_stale_temps(target)
    temp: Path | None = None
    try:  # a read-only folder or a full disk fails here already
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{target.stem}{TEMP_MARK}", suffix=target.suffix, dir=target.parent
        )
        os.close(fd)
        temp = Path(temp_name)
        write(temp)
        _fsync_file(temp)
        _copy_owner_and_mode(target, temp)
        verify(temp)
        if backups > 0:
            _backup(target, path.absolute().parent / BACKUP_FOLDER, backups, now)
        _refuse_if_unsafe(path, expected)
        temp.replace(target)
    except OSError as error:
        raise SaveFailed(path, error) from error
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)  # already gone after a successful replace
    with contextlib.suppress(OSError):  # the new version is in place either way
        _fsync_folder(target.parent)


@contextlib.contextmanager
def run_lock(folder: Path, wait: float = 10) -> Iterator[str]:
    """Hold the one-run-at-a-time lock for a read-modify-write-deliver cycle.

    A second run waits up to `wait` seconds, then raises AnotherRunInProgress. The OS drops
    the lock when a process dies, so a killed run never blocks the next one. A folder where
    the lock file should be is set aside, and the notice that says so is what this yields
    ("" otherwise); a folder that cannot be written raises FolderNotWritable.
    """
    lock = filelock.FileLock(folder / RUN_LOCK_NAME, timeout=wait)
    try:
        notice = _acquire(lock)
    except filelock.Timeout:
        raise AnotherRunInProgress() from None
    except OSError as error:
        raise FolderNotWritable(folder, error) from None
    try:
        yield notice
    finally:
        lock.release()


def _acquire(lock: filelock.BaseFileLock) -> str:
    """Take the lock; a folder where its file belongs is set aside first (the notice)."""
    try:
        lock.acquire()
    except IsADirectoryError as error:
        notice = set_aside(Path(lock.lock_file), error, "nothing is lost")
        lock.acquire()
        return notice
    return ""
