"""The verified save: a rewritten workbook that does not read back as planned is not saved.

`patch_sheet` is wrapped here to misbehave on purpose (write a cell it was not asked to, turn a
TRUE into 1, add a row), and each time the original must stay byte for byte as it was.
"""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path

import pytest
from cli_helpers import followup, outbox_messages, sheet_values, write_config
from test_xlsx import in_alternatives
from workbooks import make_workbook
from xlsx_helpers import parts, replace_part

from followup.commands.evaluation import evaluate
from followup.config import load_config
from followup.core.log import LogEntry
from followup.errors import WorkbookError
from followup.settings import Config
from followup.workbook import guards, saving
from followup.workbook.cells import WriteValue
from followup.workbook.status_cells import planned_cells
from followup.workbook.xlsx import OwnSheet, PatchResult, patch_sheet

TODAY = date(2026, 3, 11)
NOW = datetime(2026, 3, 11, 8, 0)
HEADER = ["Name", "Email", "Met on", "Opted in", "Next follow-up", "Follow-up status"]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    rows = [
        HEADER,
        ["Ann Lee", "ann@example.com", date(2026, 3, 2), True],
        ["Bo Chen", "bo@example.com", date(2026, 1, 5), False],
    ]
    make_workbook(tmp_path / "contacts.xlsx", rows)
    return load_config(write_config(tmp_path, "backups = 0\n"))


def misbehaving(
    monkeypatch: pytest.MonkeyPatch, extra: Mapping[tuple[int, int], WriteValue]
) -> None:
    """Make every save also write `extra`, as a writer with a bug would."""
    patch = saving.patch_sheet

    def patched(
        src: Path,
        dst: Path,
        sheet: str,
        cells: Mapping[tuple[int, int], WriteValue],
        own: OwnSheet | None = None,
    ) -> PatchResult:
        return patch(src, dst, sheet, {**cells, **extra}, own)

    monkeypatch.setattr(saving, "patch_sheet", patched)


def save_run(config: Config) -> None:
    """What the daily run saves: the status cells the rules plan."""
    before = guards.fingerprint(config.workbook.path)
    evaluation = evaluate(config, TODAY)
    cells = planned_cells(evaluation.contents, evaluation.entries, (), TODAY)
    saving.save_workbook(config.workbook, evaluation.contents, cells, before, NOW)


def test_the_run_saves_its_own_cells(config: Config) -> None:
    save_run(config)

    values = sheet_values(config.workbook.path, "Contacts")
    assert values[1][:4] == ["Ann Lee", "ann@example.com", date(2026, 3, 2), True]
    assert values[1][5] in {"Overdue", "Due today", "Upcoming", "Scheduled"}


@pytest.mark.parametrize(
    ("extra", "what"),
    [
        ({(3, 1): "Bo Chan"}, "a user's text"),
        ({(2, 4): 1}, "TRUE that comes back as the number 1 (equal in Python, not the same)"),
        ({(2, 9): "stray"}, "a cell right of every column (7 and 8 are the run's new ones)"),
        ({(9, 2): "stray"}, "a row below the last one"),
    ],
)
def test_a_cell_nobody_asked_for_stops_the_save(
    config: Config, monkeypatch: pytest.MonkeyPatch, extra: dict, what: str
) -> None:
    original = config.workbook.path.read_bytes()
    misbehaving(monkeypatch, extra)

    with pytest.raises(WorkbookError, match="did not read back as written"):
        save_run(config)

    assert config.workbook.path.read_bytes() == original, what


def test_the_run_may_not_write_a_user_column(config: Config) -> None:
    original = config.workbook.path.read_bytes()
    before = guards.fingerprint(config.workbook.path)
    contents = evaluate(config, TODAY).contents

    with pytest.raises(WorkbookError):
        saving.save_workbook(config.workbook, contents, {(2, 2): "ann@example.org"}, before, NOW)

    assert config.workbook.path.read_bytes() == original


def test_a_command_writes_user_cells_that_read_back_as_expected(config: Config) -> None:
    before = guards.fingerprint(config.workbook.path)
    evaluation = evaluate(config, TODAY)
    ann, bo = evaluation.contents.contacts
    expected = (dataclasses.replace(ann, email="ann@example.org"), bo)
    entry = LogEntry(TODAY, "Ann Lee", "ann@example.org", "email")

    saving.save_workbook(
        config.workbook,
        evaluation.contents,
        {(2, 2): "ann@example.org"},
        before,
        NOW,
        expected=expected,
        log=evaluation.history.log,
        new_entries=(entry,),
    )

    assert sheet_values(config.workbook.path, "Contacts")[1][1] == "ann@example.org"
    assert sheet_values(config.workbook.path, "Log")[1][:4] == [
        TODAY,
        "Ann Lee",
        "ann@example.org",
        "email",
    ]


def test_a_command_whose_cells_do_not_read_as_expected_is_not_saved(config: Config) -> None:
    original = config.workbook.path.read_bytes()
    before = guards.fingerprint(config.workbook.path)
    contents = evaluate(config, TODAY).contents
    expected = (dataclasses.replace(contents.contacts[0], email="ann@example.org"),)

    with pytest.raises(WorkbookError):  # Bo's row is missing from what the command expects
        saving.save_workbook(
            config.workbook, contents, {(2, 2): "ann@example.org"}, before, NOW, expected=expected
        )

    assert config.workbook.path.read_bytes() == original


# --- the strict check of every part rewritten -------------------------------------------------


def corrupting(monkeypatch: pytest.MonkeyPatch, part: str, old: bytes, new: bytes) -> None:
    """Make every save also replace `old` by `new` in one part, as a writer with a bug would."""
    patch = saving.patch_sheet

    def patched(src: Path, dst: Path, *args: object) -> PatchResult:
        result = patch(src, dst, *args)  # type: ignore[arg-type]
        replace_part(dst, part, parts(dst)[part].replace(old, new, 1))
        return result

    monkeypatch.setattr(saving, "patch_sheet", patched)


def test_a_part_excel_could_not_parse_is_never_swapped_in(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """python-calamine reads a prefix nobody declared without complaint; Excel refuses the
    file. The save names the part and says why."""
    original = config.workbook.path.read_bytes()
    corrupting(monkeypatch, "xl/workbook.xml", b"<sheets>", b'<sheets x:hidden="1">')

    with pytest.raises(WorkbookError, match=r"xl/workbook\.xml.*unbound prefix") as raised:
        save_run(config)

    assert "bug in followup" in str(raised.value)
    assert raised.value.exit_code == 3
    assert config.workbook.path.read_bytes() == original


def test_a_part_that_was_broken_already_is_named_with_what_to_do(config: Config) -> None:
    sheet = "xl/worksheets/sheet1.xml"
    replace_part(
        config.workbook.path,
        sheet,
        parts(config.workbook.path)[sheet].replace(b"<row ", b'<row o:x="1" ', 1),
    )
    original = config.workbook.path.read_bytes()

    with pytest.raises(WorkbookError, match=r"its part xl/worksheets/sheet1\.xml is not well-"):
        save_run(config)

    assert config.workbook.path.read_bytes() == original


def test_a_failed_check_stops_the_run_after_the_digest_went_out(tmp_path: Path) -> None:
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, ["Ann Lee", "ann@example.com"]])
    write_config(tmp_path, "[digest]\nsend_when_empty = true\n")
    book = tmp_path / "contacts.xlsx"
    sheet = "xl/worksheets/sheet1.xml"
    replace_part(book, sheet, parts(book)[sheet].replace(b"<row ", b'<row o:x="1" ', 1))
    original = book.read_bytes()

    done = followup(tmp_path, "run", "--today", TODAY.isoformat())

    assert done.returncode == 3, done.stderr
    assert "xl/worksheets/sheet1.xml" in done.stderr and "Traceback" not in done.stderr
    assert book.read_bytes() == original
    assert len(outbox_messages(tmp_path / "outbox")) == 1  # today's digest went out


# --- the read-back proves the write -----------------------------------------------------------


def rewriting(monkeypatch: pytest.MonkeyPatch, change: Callable[[WriteValue], WriteValue]) -> None:
    """Make every save write `change(value)` instead of each value, as a writer with a bug
    would (or a file whose styles turn a date into a number)."""
    patch = saving.patch_sheet

    def patched(
        src: Path,
        dst: Path,
        sheet: str,
        cells: Mapping[tuple[int, int], WriteValue],
        own: OwnSheet | None = None,
    ) -> PatchResult:
        return patch(src, dst, sheet, {cell: change(value) for cell, value in cells.items()}, own)

    monkeypatch.setattr(saving, "patch_sheet", patched)


def as_serial(value: WriteValue) -> WriteValue:
    return (value - date(1899, 12, 30)).days if isinstance(value, date) else value


@pytest.mark.parametrize(
    ("change", "row", "what"),
    [
        (lambda value: None, 1, "a cell left out (the new headers first)"),
        (lambda value: f"{value}!" if isinstance(value, str) else value, 1, "text changed"),
        (as_serial, 2, "a date that reads back as its day number"),
    ],
)
def test_the_runs_own_cells_must_read_back_as_planned(
    config: Config, monkeypatch: pytest.MonkeyPatch, change: Callable, row: int, what: str
) -> None:
    original = config.workbook.path.read_bytes()
    rewriting(monkeypatch, change)

    where = f"row {row} of the sheet 'Contacts' did not read back as written"
    with pytest.raises(WorkbookError, match=where):
        save_run(config)

    assert config.workbook.path.read_bytes() == original, what


def test_a_commands_cells_must_read_back_as_planned(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A count written as the text "2" still parses as 2 follow-ups, so the contacts read as
    the command expects; but the cell is not what the command wrote (a number)."""
    original = config.workbook.path.read_bytes()
    before = guards.fingerprint(config.workbook.path)
    contents = evaluate(config, TODAY).contents
    ann, bo = contents.contacts
    rewriting(monkeypatch, lambda value: str(value) if isinstance(value, int) else value)

    with pytest.raises(WorkbookError, match="did not read back as written"):
        saving.save_workbook(
            config.workbook,
            contents,
            {(1, 7): "Follow-ups", (2, 7): 2},
            before,
            NOW,
            expected=(dataclasses.replace(ann, follow_ups=2), bo),
        )

    assert config.workbook.path.read_bytes() == original


def test_a_zip_holding_a_part_twice_is_refused(tmp_path: Path) -> None:
    """Each program picks its own copy of a part held twice: a save patched the first copy of
    the sheet, every reader showed the second, and every run wrote its cells again."""
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, ["Ann Lee", "ann@example.com"]])
    write_config(tmp_path)
    book = tmp_path / "contacts.xlsx"
    entries = list(parts(book).items())
    with zipfile.ZipFile(book, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
            if name == "xl/worksheets/sheet1.xml":
                archive.writestr(name.replace("sheet1", "Sheet1"), data)
    original = book.read_bytes()

    for command in ("run", "status"):
        done = followup(tmp_path, command, "--today", TODAY.isoformat())
        assert done.returncode == 3, (command, done.stdout)
        assert "xl/worksheets/Sheet1.xml twice" in done.stderr
    with pytest.raises(WorkbookError, match="twice"):
        patch_sheet(book, tmp_path / "out.xlsx", "Contacts", {(2, 9): "x"})
    assert book.read_bytes() == original


def test_dates_in_styles_that_hancom_office_wrote_are_written_once(tmp_path: Path) -> None:
    """Hancom Office puts the cell formats inside mc:AlternateContent. A date style added to
    one list only read back as a number, so every run wrote every date again."""
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, ["Ann Lee", "ann@example.com", "3/2/2026"]])
    write_config(tmp_path)
    book = tmp_path / "contacts.xlsx"
    styles = in_alternatives(parts(book)["xl/styles.xml"].decode())
    replace_part(book, "xl/styles.xml", styles.encode())

    first = followup(tmp_path, "run", "--today", TODAY.isoformat())
    written = book.read_bytes()
    again = followup(tmp_path, "run", "--force", "--today", TODAY.isoformat())

    assert first.returncode == 0 and "Wrote" in first.stdout, first.stderr
    assert again.returncode == 0, again.stderr
    assert "up to date; not rewritten" in again.stdout
    assert book.read_bytes() == written
