"""Shared by the tests of done, snooze, import and the Log sheet: run a command in this process,
and compare two versions of a workbook cell by cell and part by part."""

from __future__ import annotations

import shutil
from pathlib import Path

from cli_helpers import collector_off, sheet_values, zip_parts
from click.testing import CliRunner, Result
from python_calamine import CalamineWorkbook

from followup.cli import cli

TODAY = "2026-03-11"
LOG_HEADER = ["Date", "Name", "Email", "Channel", "Note"]
# The parts that list sheets: they change (only) when the Log sheet is created.
SHEET_LISTS = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}


def invoke(folder: Path, *args: str, today: str = TODAY) -> Result:
    """`followup ARGS --config folder/config.toml --today TODAY`, in this process."""
    config = str(folder / "config.toml")
    with collector_off():
        return CliRunner().invoke(cli, [*args, "--config", config, "--today", today])


def keep_copy(path: Path) -> Path:
    """A copy of the workbook as it is now, to compare with after a command."""
    copy = path.with_name(f"before-{path.name}")
    shutil.copy2(path, copy)
    return copy


def grid(path: Path, sheet: str) -> dict[tuple[int, int], object]:
    """Every non-empty cell of a sheet by (row, column), 1-based, as python-calamine reads it."""
    return {
        (r, c): value
        for r, values in enumerate(sheet_values(path, sheet), start=1)
        for c, value in enumerate(values, start=1)
        if value != ""
    }


def changed_cells(before: Path, after: Path, sheet: str) -> dict[tuple[int, int], object]:
    """The cells whose value differs between two versions: (row, column) -> the new value."""
    old, new = grid(before, sheet), grid(after, sheet)
    return {
        cell: new.get(cell, "")
        for cell in old.keys() | new.keys()
        if old.get(cell) != new.get(cell)
    }


def changed_parts(before: Path, after: Path) -> set[str]:
    """Zip parts added, removed or with other bytes."""
    old, new = zip_parts(before), zip_parts(after)
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def sheet_names(path: Path) -> list[str]:
    with CalamineWorkbook.from_path(str(path)) as workbook:
        return list(workbook.sheet_names)


def log_rows(path: Path, sheet: str = "Log") -> list[list[object]]:
    """The log's rows, header first."""
    return sheet_values(path, sheet)
