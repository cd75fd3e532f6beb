"""The verified save: a rewritten workbook that does not read back as planned is not saved.

`patch_sheet` is wrapped here to misbehave on purpose (write a cell it was not asked to, turn a
TRUE into 1, add a row), and each time the original must stay byte for byte as it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import pytest
from cli_helpers import sheet_values, write_config
from workbooks import make_workbook

from followup import safety, saving
from followup.config import Config, load_config
from followup.errors import WorkbookError
from followup.job import evaluate
from followup.log import LogEntry
from followup.writeback import planned_cells
from followup.xlsx import CellValue, OwnSheet, PatchResult

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
    monkeypatch: pytest.MonkeyPatch, extra: Mapping[tuple[int, int], CellValue]
) -> None:
    """Make every save also write `extra`, as a writer with a bug would."""
    patch = saving.patch_sheet

    def patched(
        src: Path,
        dst: Path,
        sheet: str,
        cells: Mapping[tuple[int, int], CellValue],
        own: OwnSheet | None = None,
    ) -> PatchResult:
        return patch(src, dst, sheet, {**cells, **extra}, own)

    monkeypatch.setattr(saving, "patch_sheet", patched)


def save_run(config: Config) -> None:
    """What the daily run saves: the status cells the rules plan."""
    before = safety.fingerprint(config.workbook)
    evaluation = evaluate(config, TODAY)
    cells = planned_cells(evaluation.contents, evaluation.entries, (), TODAY)
    saving.save_workbook(config, evaluation.contents, cells, before, NOW)


def test_the_run_saves_its_own_cells(config: Config) -> None:
    save_run(config)

    values = sheet_values(config.workbook, "Contacts")
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
    original = config.workbook.read_bytes()
    misbehaving(monkeypatch, extra)

    with pytest.raises(WorkbookError, match="did not read back the same"):
        save_run(config)

    assert config.workbook.read_bytes() == original, what


def test_the_run_may_not_write_a_user_column(config: Config) -> None:
    original = config.workbook.read_bytes()
    before = safety.fingerprint(config.workbook)
    contents = evaluate(config, TODAY).contents

    with pytest.raises(WorkbookError):
        saving.save_workbook(config, contents, {(2, 2): "ann@example.org"}, before, NOW)

    assert config.workbook.read_bytes() == original


def test_a_command_writes_user_cells_that_read_back_as_expected(config: Config) -> None:
    before = safety.fingerprint(config.workbook)
    evaluation = evaluate(config, TODAY)
    ann, bo = evaluation.contents.contacts
    expected = (dataclasses.replace(ann, email="ann@example.org"), bo)
    entry = LogEntry(TODAY, "Ann Lee", "ann@example.org", "email")

    saving.save_workbook(
        config,
        evaluation.contents,
        {(2, 2): "ann@example.org"},
        before,
        NOW,
        expected=expected,
        log=evaluation.history.log,
        new_entries=(entry,),
    )

    assert sheet_values(config.workbook, "Contacts")[1][1] == "ann@example.org"
    assert sheet_values(config.workbook, "Log")[1][:4] == [
        TODAY,
        "Ann Lee",
        "ann@example.org",
        "email",
    ]


def test_a_command_whose_cells_do_not_read_as_expected_is_not_saved(config: Config) -> None:
    original = config.workbook.read_bytes()
    before = safety.fingerprint(config.workbook)
    contents = evaluate(config, TODAY).contents
    expected = (dataclasses.replace(contents.contacts[0], email="ann@example.org"),)

    with pytest.raises(WorkbookError):  # Bo's row is missing from what the command expects
        saving.save_workbook(
            config, contents, {(2, 2): "ann@example.org"}, before, NOW, expected=expected
        )

    assert config.workbook.read_bytes() == original
