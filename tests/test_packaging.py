"""What an installed wheel carries, and that CI runs what the README says."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "followup"


def test_every_file_the_program_reads_is_package_data() -> None:
    """A wheel holds the package's modules and only the other files package-data names: the
    starter workbook was once left out, so an installed followup could not create one."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["followup"]
    data = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
    ]
    assert "workbook/contacts_template.xlsx" in data
    left_out = [name for name in data if not any(fnmatch.fnmatch(name, p) for p in patterns)]
    assert left_out == []


def test_the_runtime_dependencies_hold_no_test_tool() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = {
        dep.split(">")[0].split("<")[0].split(";")[0].strip().lower()
        for dep in pyproject["project"]["dependencies"]
    }
    assert names.isdisjoint(
        {
            "pytest",
            "pytest-xdist",
            "ruff",
            "aiosmtpd",
            "hypothesis",
            "openpyxl",
            "pandas",
            "xlsxwriter",
            "imapclient",
        }
    )
