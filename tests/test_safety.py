"""The workbook guard: open-file detection, atomic replacement, backups and the run lock."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from followup.workbook.guards import (
    AnotherRunInProgress,
    SaveFailed,
    WorkbookChanged,
    WorkbookOpen,
    fingerprint,
    open_by_user,
    run_lock,
    safe_replace,
)

POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and signals")


NOW = datetime(2026, 3, 11, 7, 30)


def make_workbook(path: Path, name: str) -> None:
    """A small real workbook whose A2 says which version it is."""
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("Contacts")
    sheet.write_row(0, 0, ["Name", "Company"])
    sheet.write_row(1, 0, [name, "Acme"])
    workbook.close()


def first_name(path: Path) -> str:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()[1][0]


def writer(name: str) -> Callable[[Path], None]:
    return lambda temp: make_workbook(temp, name)


def readable(temp: Path) -> None:
    """The verify step: the new file must open and hold a name."""
    assert first_name(temp)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.xlsx"
    make_workbook(path, "Original")
    return path


def replace(
    path: Path, name: str, *, backups: int = 0, verify: Callable[[Path], None] = readable
) -> None:
    safe_replace(
        path, writer(name), expected=fingerprint(path), backups=backups, verify=verify, now=NOW
    )


def folder_names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


# --- open by the user ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lock_name", "app"),
    [
        ("~$contacts.xlsx", "Excel"),
        ("~$ntacts.xlsx", "Excel"),  # Excel's form for long names: first two characters cut
        (".~lock.contacts.xlsx#", "LibreOffice"),
    ],
)
def test_lock_file_means_open_and_nothing_is_written(book: Path, lock_name: str, app: str) -> None:
    before = book.read_bytes()
    (book.parent / lock_name).write_bytes(b"user")
    assert open_by_user(book) == app
    with pytest.raises(WorkbookOpen) as caught:
        replace(book, "New")
    assert app in str(caught.value) and lock_name in str(caught.value)
    assert book.read_bytes() == before
    assert folder_names(book.parent) == {"contacts.xlsx", lock_name}


def test_no_lock_file_means_not_open(book: Path) -> None:
    (book.parent / "~$other.xlsx").write_bytes(b"user")
    assert open_by_user(book) is None


def test_lock_file_beside_a_symlink_or_its_target_counts(tmp_path: Path, book: Path) -> None:
    link = tmp_path / "elsewhere" / "mine.xlsx"
    link.parent.mkdir()
    link.symlink_to(book)
    assert open_by_user(link) is None
    (link.parent / ".~lock.mine.xlsx#").write_text("user")
    assert open_by_user(link) == "LibreOffice"
    assert open_by_user(book) is None
    (tmp_path / "~$contacts.xlsx").write_text("user")
    (link.parent / ".~lock.mine.xlsx#").unlink()
    assert open_by_user(link) == "Excel"


# --- changed since read --------------------------------------------------------------------------


def test_saved_by_the_user_since_reading_is_refused(book: Path) -> None:
    expected = fingerprint(book)
    make_workbook(book, "User saved this")
    os.utime(book, ns=(expected.mtime_ns + 10**9, expected.mtime_ns + 10**9))
    users_version = book.read_bytes()
    with pytest.raises(WorkbookChanged):
        safe_replace(book, writer("New"), expected=expected, backups=2, verify=readable, now=NOW)
    assert book.read_bytes() == users_version
    assert folder_names(book.parent) == {"contacts.xlsx"}


def test_change_during_the_save_is_refused_at_the_last_moment(book: Path) -> None:
    expected = fingerprint(book)

    def verify_while_user_saves(temp: Path) -> None:
        make_workbook(book, "User saved this")
        os.utime(book, ns=(expected.mtime_ns + 10**9, expected.mtime_ns + 10**9))

    with pytest.raises(WorkbookChanged):
        safe_replace(
            book,
            writer("New"),
            expected=expected,
            backups=0,
            verify=verify_while_user_saves,
            now=NOW,
        )
    assert first_name(book) == "User saved this"
    assert folder_names(book.parent) == {"contacts.xlsx"}


def test_a_deleted_workbook_counts_as_changed(book: Path) -> None:
    expected = fingerprint(book)
    book.unlink()
    with pytest.raises(WorkbookChanged):
        safe_replace(book, writer("New"), expected=expected, backups=0, verify=readable, now=NOW)
    assert not book.exists()


# --- the replacement itself -----------------------------------------------------------------


def test_replace_writes_the_new_version_and_leaves_no_temp(book: Path) -> None:
    replace(book, "New")
    assert first_name(book) == "New"
    assert folder_names(book.parent) == {"contacts.xlsx"}


@POSIX_ONLY
def test_replace_keeps_permission_bits(book: Path) -> None:
    book.chmod(0o600)
    replace(book, "New")
    assert book.stat().st_mode & 0o777 == 0o600
    book.chmod(0o640)
    replace(book, "Newer")
    assert book.stat().st_mode & 0o777 == 0o640


def test_symlink_stays_a_link_and_its_target_is_replaced(tmp_path: Path, book: Path) -> None:
    link = tmp_path / "link.xlsx"
    link.symlink_to(book)
    replace(link, "Through the link")
    assert link.is_symlink()
    assert link.resolve() == book.resolve()
    assert first_name(book) == "Through the link"


def test_backups_rotate_keeping_the_newest(book: Path) -> None:
    for name in ("First", "Second", "Third"):
        replace(book, name, backups=2)
    backups = sorted((book.parent / ".followup-backups").iterdir())
    assert [first_name(p) for p in backups] == ["First", "Second"]
    for backup in backups:
        assert re.fullmatch(r"contacts\.\d{4}-\d\d-\d\dT\d{6}(_\d\d)?\.xlsx", backup.name)
    assert first_name(book) == "Third"


def test_no_backups_when_asked_for_none(book: Path) -> None:
    replace(book, "New", backups=0)
    assert not (book.parent / ".followup-backups").exists()


def test_verify_failure_leaves_the_original_byte_identical(book: Path) -> None:
    before = book.read_bytes()

    def reject(temp: Path) -> None:
        raise ValueError("not readable")

    with pytest.raises(ValueError, match="not readable"):
        replace(book, "New", backups=3, verify=reject)
    assert book.read_bytes() == before
    assert folder_names(book.parent) == {"contacts.xlsx"}


def test_write_failure_leaves_the_original_and_no_temp(book: Path) -> None:
    before = book.read_bytes()

    def half_then_fail(temp: Path) -> None:
        temp.write_bytes(before[: len(before) // 2])
        raise OSError(28, "No space left on device")

    with pytest.raises(SaveFailed, match="No space left on device"):
        safe_replace(
            book, half_then_fail, expected=fingerprint(book), backups=1, verify=readable, now=NOW
        )
    assert book.read_bytes() == before
    assert folder_names(book.parent) == {"contacts.xlsx"}


def test_stale_temp_from_a_killed_save_is_cleaned_up(book: Path) -> None:
    stale = book.parent / ".contacts.followup-tmp-abcd1234.xlsx"
    stale.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    replace(book, "New")
    assert folder_names(book.parent) == {"contacts.xlsx"}


KILLED_SAVE = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime
    from pathlib import Path
    from followup.workbook.guards import fingerprint, safe_replace

    book, phase = Path(sys.argv[1]), sys.argv[2]

    def write(temp):
        data = book.read_bytes()
        temp.write_bytes(data[: len(data) // 2])
        if phase == "write":
            print("ready", flush=True)
            time.sleep(60)
        temp.write_bytes(data)

    def verify(temp):
        print("ready", flush=True)
        time.sleep(60)

    when = datetime(2026, 3, 11)
    safe_replace(book, write, expected=fingerprint(book), backups=2, verify=verify, now=when)
    """
)


@POSIX_ONLY
@pytest.mark.parametrize("phase", ["write", "verify"])
def test_sigkill_in_the_middle_of_a_save_leaves_the_original_intact(book: Path, phase: str) -> None:
    before = book.read_bytes()
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_SAVE, str(book), phase],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        finally:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert book.read_bytes() == before
    assert first_name(book) == "Original"
    leftovers = folder_names(book.parent) - {"contacts.xlsx"}
    assert all(".followup-tmp-" in name for name in leftovers)


# --- one run at a time --------------------------------------------------------------------------


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime
    from pathlib import Path
    from followup.workbook.guards import run_lock

    with run_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(60)
    """
)


def test_second_run_gives_up_after_waiting(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "locked"
            started = time.monotonic()
            with pytest.raises(AnotherRunInProgress) as caught, run_lock(tmp_path, wait=0.3):
                pytest.fail("the lock was held by another process")
            assert time.monotonic() - started >= 0.3
            assert caught.value.exit_code == 0
            assert str(caught.value) == (
                "Another followup run is in progress; this one stops without doing anything."
            )
        finally:
            holder.kill()
            holder.wait()
    with run_lock(tmp_path, wait=5):  # the OS released the dead holder's lock
        pass


def test_run_lock_is_free_again_after_a_run(tmp_path: Path) -> None:
    # Held: a second run in the meantime is turned away.
    with (
        run_lock(tmp_path, wait=0),
        pytest.raises(AnotherRunInProgress),
        run_lock(tmp_path, wait=0),
    ):
        pytest.fail("the lock was taken twice")
    with run_lock(tmp_path, wait=0):  # free again after a run
        pass
    with pytest.raises(RuntimeError), run_lock(tmp_path, wait=0):
        raise RuntimeError("a run that fails")
    with run_lock(tmp_path, wait=0):  # and after a run that failed
        pass
