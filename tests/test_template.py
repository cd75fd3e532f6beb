"""The shipped contacts_template.xlsx: reproducible from its script and usable as shipped."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import zipfile
from pathlib import Path
from types import ModuleType

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from followup.workbook.columns import OWNED_COLUMNS, USER_COLUMNS, match_header
from followup.workbook.template import TEMPLATE

ROOT = Path(__file__).resolve().parent.parent
HEADERS = [column.header for column in USER_COLUMNS + OWNED_COLUMNS]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_template", ROOT / "scripts/make_template.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def zip_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_committed_template_is_what_the_script_makes(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.xlsx"
    load_script().build_template(fresh)
    # Compared part by part (uncompressed), so a different zlib cannot fail the test.
    assert zip_parts(fresh) == zip_parts(TEMPLATE), (
        "contacts_template.xlsx is stale: run python scripts/make_template.py"
    )


def test_header_row_is_exactly_the_known_columns() -> None:
    sheets = CalamineWorkbook.from_path(str(TEMPLATE))
    assert sheets.sheet_names == ["Contacts", "How to use"]
    rows = sheets.get_sheet_by_name("Contacts").to_python()
    assert rows == [HEADERS]  # no example contacts in the template itself
    assert [match_header(header) for header in rows[0]] == list(USER_COLUMNS + OWNED_COLUMNS)


def test_how_to_use_sheet_is_short_and_mentions_the_grey_columns() -> None:
    rows = CalamineWorkbook.from_path(str(TEMPLATE)).get_sheet_by_name("How to use").to_python()
    lines = [row[0] for row in rows if row and row[0]]
    assert 8 <= len(lines) - 1 <= 12  # the title plus the guide
    text = " ".join(lines)
    assert "grey columns" in text and "2026-03-11" in text and "11 Mar 2026" in text


def test_layout_and_formats() -> None:
    sheet = openpyxl.load_workbook(TEMPLATE)["Contacts"]
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == "A1:T5000"
    assert not sheet.tables
    by_header = {cell.value: cell for cell in sheet[1]}
    assert all(cell.font.b for cell in sheet[1])
    for column in USER_COLUMNS + OWNED_COLUMNS:
        letter = by_header[column.header].column_letter
        assert sheet.column_dimensions[letter].width >= len(column.header)
    for header in ("Met on", "Last contact", "Follow up on", "Next follow-up", "Last reminded"):
        letter = by_header[header].column_letter
        assert sheet.column_dimensions[letter].number_format == "yyyy-mm-dd"
    assert sheet.column_dimensions[by_header["Phone"].column_letter].number_format == "@"


def test_owned_columns_are_marked_as_written_by_the_program() -> None:
    sheet = openpyxl.load_workbook(TEMPLATE)["Contacts"]
    user_fill = sheet["A1"].fill.fgColor.rgb
    for cell in sheet[1]:
        owned = cell.value in {column.header for column in OWNED_COLUMNS}
        assert (cell.fill.fgColor.rgb != user_fill) == owned, cell.value
        assert (cell.comment is not None) == owned, cell.value
        if owned:
            assert "overwritten" in cell.comment.text


def test_dropdowns_warn_instead_of_blocking() -> None:
    sheet = openpyxl.load_workbook(TEMPLATE)["Contacts"]
    lists = {
        str(rule.sqref): rule.formula1
        for rule in sheet.data_validations.dataValidation
        if rule.type == "list"
    }
    assert lists == {
        "G2:G5000": '"Networking event,Job application,Informational interview,Referral,'
        'Keep in touch"',
        "K2:K5000": '"A,B,C"',
        "N2:N5000": '"Active,Waiting for reply,Declined,Paused,Closed,Do not contact"',
    }
    assert all(rule.errorStyle == "warning" for rule in sheet.data_validations.dataValidation)


def test_follow_up_status_is_coloured() -> None:
    sheet = openpyxl.load_workbook(TEMPLATE)["Contacts"]
    rules = {
        str(target.sqref): [rule.formula[0] for rule in found]
        for target, found in sheet.conditional_formatting._cf_rules.items()
    }
    assert rules == {"R2:R5000": ['"Overdue"', '"Due today"', '"Upcoming"', '"Needs info"']}


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_template(tmp_path: Path) -> None:
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"  # no clash with others
    command = ["soffice", profile, "--headless", "--convert-to", "csv", "--outdir", str(tmp_path)]
    subprocess.run(
        [*command, str(TEMPLATE)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (tmp_path / "contacts_template.csv").read_text().strip() == ",".join(HEADERS)
