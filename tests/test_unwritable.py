"""Places followup cannot write: a read-only workbook folder, a read-only outbox, a full disk.

Each ends in one sentence naming the place and what to do, with the documented exit code, and
nothing is lost: the workbook keeps its bytes, a delivered digest is remembered, no temporary
file is left. The program runs as a real process. Root writes wherever it likes, so when the
tests run as root the program runs without that power (CAP_DAC_OVERRIDE, dropped from its
capability bounding set), as a user's program would; a full disk is a file size limit
(RLIMIT_FSIZE: every write past it fails, as on a full disk).
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import sheet_values, write_config
from workbooks import make_workbook

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux permissions and limits")

TODAY = "2026-03-11"
ROWS = [
    ["Name", "Email", "How we met", "Met on"],
    ["Ann Lee", "ann@example.com", "Networking event", date(2026, 3, 2)],
    ["Bo Chen", "bo@example.com", "Job application", date(2026, 3, 4)],
]
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """config.toml, and the workbook in book/."""
    (tmp_path / "book").mkdir()
    make_workbook(tmp_path / "book" / "contacts.xlsx", ROWS)
    write_config(tmp_path, workbook="book/contacts.xlsx")
    yield tmp_path
    for path in (tmp_path / "book", tmp_path / "outbox"):
        if path.is_dir():
            path.chmod(0o755)  # so that pytest can clean up


def _as_a_user(file_size: int | None) -> None:
    """In the child, before followup starts: a user's powers, and the file size limit."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "cannot drop root's override of permissions")
    if file_size is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))


def run(folder: Path, *args: str, file_size: int | None = None) -> subprocess.CompletedProcess:
    """`python -m followup ARGS --today TODAY` in `folder` with a user's permissions, and writes
    past `file_size` bytes failing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    try:
        return subprocess.run(
            [sys.executable, "-m", "followup", *args, "--today", TODAY],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            preexec_fn=lambda: _as_a_user(file_size),
            check=False,
        )
    except subprocess.SubprocessError as err:  # root without CAP_SETPCAP: cannot test this
        pytest.skip(f"cannot run followup without root's powers here: {err}")


def one_line(done: subprocess.CompletedProcess) -> str:
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("followup: ") and "unexpected" not in line, line
    return line


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_a_read_only_workbook_folder_keeps_the_digest_and_writes_next_time(folder: Path) -> None:
    """The temp file was created outside the error handling: 'unexpected error' after the
    digest had gone out, and the delivery was not even remembered."""
    book = folder / "book" / "contacts.xlsx"
    before = book.read_bytes()
    (folder / "book").chmod(0o555)

    done = run(folder, "run")
    assert done.returncode == 3, done.stderr
    assert one_line(done) == (
        f"followup: Could not save contacts.xlsx (Permission denied); it is unchanged. Check "
        f"that the folder {folder / 'book'} is writable and has free space; statuses are "
        "written on the next run."
    )
    assert f"Digest written to {folder / 'outbox' / TODAY} Follow-ups.html" in done.stdout
    assert book.read_bytes() == before and names(folder / "book") == {"contacts.xlsx"}
    state = json.loads((folder / "outbox" / "state.json").read_text())
    assert state["last_delivered_day"] == TODAY

    (folder / "book").chmod(0o755)
    again = run(folder, "run")
    assert again.returncode == 0, again.stderr
    assert "Today's digest was already delivered" in again.stdout
    assert "Wrote" in again.stdout
    header, ann = sheet_values(book, "Contacts")[:2]
    assert dict(zip(header, ann, strict=True))["Last reminded"] == date(2026, 3, 11)


def test_done_in_a_read_only_workbook_folder_changes_nothing_and_says_where(folder: Path) -> None:
    before = (folder / "book" / "contacts.xlsx").read_bytes()
    (folder / "book").chmod(0o555)
    done = run(folder, "done", "ann", "--note", "Sent the article")
    assert done.returncode == 3, done.stderr
    assert one_line(done) == (
        "followup: Could not save contacts.xlsx (Permission denied), so nothing was changed. "
        f"Check that {folder / 'book'} is writable and has free space."
    )
    assert (folder / "book" / "contacts.xlsx").read_bytes() == before


@pytest.mark.parametrize(
    ("command", "code"), [("run", 4), ("done", 2), ("snooze", 2), ("status", 0)]
)
def test_a_read_only_outbox_stops_at_the_lock_with_one_sentence(
    folder: Path, command: str, code: int
) -> None:
    """run, done and preview failed on .followup.lock or a temp file with 'unexpected error'."""
    before = (folder / "book" / "contacts.xlsx").read_bytes()
    (folder / "outbox").mkdir()
    (folder / "outbox").chmod(0o555)
    args = {"done": ["done", "ann"], "snooze": ["snooze", "ann", "7"]}.get(command, [command])
    done = run(folder, *args)
    assert done.returncode == code, done.stderr
    if code:
        assert one_line(done) == (
            f"followup: Cannot write in {folder / 'outbox'} (Permission denied), so nothing was "
            "done. Make it writable and check that the disk has free space, or set [digest] "
            "outbox in config.toml to a folder you can write."
        )
    assert (folder / "book" / "contacts.xlsx").read_bytes() == before
    assert names(folder / "outbox") == set()


@pytest.mark.parametrize("command", ["preview", "calendar"])
def test_a_file_made_in_a_read_only_outbox_is_bad_usage_naming_it(
    folder: Path, command: str
) -> None:
    (folder / "outbox").mkdir()
    (folder / "outbox").chmod(0o555)
    done = run(folder, command)
    assert done.returncode == 2, done.stderr
    line = one_line(done)
    assert line.startswith(f"followup: Cannot write {folder / 'outbox'}/")
    assert "Permission denied" in line


def test_a_full_disk_keeps_the_digest_out_of_state_and_the_workbook_whole(folder: Path) -> None:
    before = (folder / "book" / "contacts.xlsx").read_bytes()
    done = run(folder, "run", file_size=2048)
    assert done.returncode == 4, done.stderr
    assert one_line(done) == (
        f"followup: Could not write the digest in {folder / 'outbox'} (File too large). Make "
        "that folder writable and check that the disk has free space, or set [digest] outbox "
        "in config.toml to another folder."
    )
    assert "Could not save contacts.xlsx (File too large); it is unchanged." in done.stdout
    assert (folder / "book" / "contacts.xlsx").read_bytes() == before
    assert names(folder / "book") == {"contacts.xlsx"}
    assert not any(n.endswith(".tmp") for n in names(folder / "outbox"))
    assert "state.json" not in names(folder / "outbox")  # nothing was delivered

    again = run(folder, "run")
    assert again.returncode == 0, again.stderr
    assert "Digest written to" in again.stdout and "Wrote" in again.stdout


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["done", "ann"], 3, "Could not save contacts.xlsx (File too large), so nothing was"),
        (["preview"], 2, "preview-2026-03-11.html: File too large. Make that folder writable"),
    ],
)
def test_a_full_disk_for_a_command_says_so_in_one_line(
    folder: Path, args: list[str], code: int, says: str
) -> None:
    before = (folder / "book" / "contacts.xlsx").read_bytes()
    done = run(folder, *args, file_size=2048)
    assert done.returncode == code, done.stderr
    assert says in one_line(done)
    assert (folder / "book" / "contacts.xlsx").read_bytes() == before
    assert names(folder / "book") == {"contacts.xlsx"}
