"""The surgical writer: new cell values land, and nothing else in the workbook moves.

The workbooks are built with xlsxwriter (and re-saved by LibreOffice), and the real-world corpus
is patched file by file: every other zip part must stay byte-identical, unchanged rows must keep
their exact XML, and calamine, openpyxl and LibreOffice must read the values back.
"""

from __future__ import annotations

import re
import shutil
import threading
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from cli_helpers import followup
from corpus import corpus_file, corpus_params
from python_calamine import CalamineWorkbook
from workbooks import make_workbook
from xlsx_helpers import (
    FIRST_FREE_COL,
    LAST_ROW,
    NAMESPACE_STYLES,
    assert_namespace_well_formed,
    changed_parts,
    entry_facts,
    handmade_workbook,
    parts,
    replace_part,
    rich_workbook,
    sheet_rows,
    soffice_convert,
)

from followup.errors import WorkbookError
from followup.workbook.cells import WriteValue
from followup.workbook.xlsx import OwnSheet, patch_sheet
from followup.workbook.xlsx import package as xlsx_package
from followup.workbook.xlsx import patch as xlsx_patch
from followup.workbook.xlsx import sheet as xlsx_sheet

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")

SHEET = "xl/worksheets/sheet1.xml"
OWNED = ["Next follow-up", "Follow-up status", "Suggested action", "Last reminded"]
INJECTION = '=HYPERLINK("http://x")'


def owned_cells() -> dict[tuple[int, int], WriteValue]:
    """What a run writes: the four headers, then a date, text (one of them formula-like), blank."""
    cells: dict[tuple[int, int], WriteValue] = {
        (1, FIRST_FREE_COL + i): header for i, header in enumerate(OWNED)
    }
    for row in range(2, LAST_ROW + 1):
        cells[(row, FIRST_FREE_COL)] = date(2026, 3, 9 + row)
        cells[(row, FIRST_FREE_COL + 1)] = "Overdue"
        cells[(row, FIRST_FREE_COL + 2)] = INJECTION if row == 2 else f"Write to #{row} <&>"
        cells[(row, FIRST_FREE_COL + 3)] = None
    return cells


def read(path: Path, sheet: str | int = 0) -> list[list[object]]:
    """The sheet as calamine reads it, from A1."""
    book = CalamineWorkbook.from_path(str(path))
    found = (
        book.get_sheet_by_index(sheet) if isinstance(sheet, int) else book.get_sheet_by_name(sheet)
    )
    return found.to_python(skip_empty_area=False)


def cell(rows: list[list[object]], row: int, col: int) -> object:
    """1-based lookup that is None outside the read area."""
    try:
        return rows[row - 1][col - 1]
    except IndexError:
        return None


def corpus_copy(name: str, folder: Path) -> Path:
    """A writable copy of a corpus workbook (the corpus itself is read-only)."""
    return Path(shutil.copy(corpus_file(name), folder / name))


def patched(src: Path, cells: dict[tuple[int, int], WriteValue], sheet: str = "Contacts") -> Path:
    dst = src.with_name(f"{src.stem}-patched{src.suffix}")
    patch_sheet(src, dst, sheet, cells)
    return dst


@pytest.fixture(params=["table", "autofilter"])
def rich(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return rich_workbook(tmp_path / "rich.xlsx", table=request.param == "table")


@pytest.fixture(scope="module")
def resaved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rich workbook after LibreOffice opened and saved it."""
    folder = tmp_path_factory.mktemp("resaved")
    original = rich_workbook(folder / "rich.xlsx")
    converted = soffice_convert([original], "xlsx", folder / "lo")
    if converted is None:
        pytest.skip("LibreOffice is not installed")
    return converted[0]


# --- fidelity --------------------------------------------------------------------------------


def test_only_the_sheet_and_needed_parts_change(rich: Path) -> None:
    after = patched(rich, owned_cells())
    table_grows = {"xl/tables/table1.xml"} if "xl/tables/table1.xml" in parts(rich) else set()
    # The workbook's date style is reused, so styles.xml stays as it was.
    assert changed_parts(rich, after) == {SHEET, *table_grows}
    assert entry_facts(after) == entry_facts(rich)


def test_unchanged_rows_and_the_rest_of_the_sheet_keep_their_bytes(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "rich.xlsx")
    after = patched(src, {(3, FIRST_FREE_COL): "Due today"})
    old, new = parts(src)[SHEET].decode(), parts(after)[SHEET].decode()
    old_rows, new_rows = sheet_rows(old), sheet_rows(new)
    widened = old_rows.pop(3).replace('spans="1:7"', 'spans="1:8"')
    assert new_rows.pop(3).startswith(widened.removesuffix("</row>"))
    assert new_rows == old_rows
    # Sheet views, conditional formats (the 2010 data bar), validation, sparkline: all kept.
    assert new[new.index("</sheetData>") :] == old[old.index("</sheetData>") :]
    head = old[: old.index("<sheetData>")].replace('ref="A1:G5"', 'ref="A1:H5"')
    assert new[: new.index("<sheetData>")] == head


def test_values_read_back_as_written(rich: Path) -> None:
    rows = read(patched(rich, owned_cells()), "Contacts")
    assert rows[0][FIRST_FREE_COL - 1 :] == OWNED
    assert cell(rows, 2, FIRST_FREE_COL) == date(2026, 3, 11)
    assert cell(rows, 5, FIRST_FREE_COL) == date(2026, 3, 14)
    assert cell(rows, 2, FIRST_FREE_COL + 2) == INJECTION
    assert cell(rows, 3, FIRST_FREE_COL + 2) == "Write to #3 <&>"
    assert cell(rows, 4, FIRST_FREE_COL + 1) == "Overdue"
    assert cell(rows, 2, FIRST_FREE_COL + 3) in ("", None)
    assert cell(rows, 2, 1) == "Ann Lee"
    assert cell(rows, 3, 7) == 0.0


def test_user_cells_keep_formula_cached_value_and_style(rich: Path) -> None:
    after = patched(rich, owned_cells())
    for data_only in (False, True):
        before_book = openpyxl.load_workbook(rich, data_only=data_only)
        after_book = openpyxl.load_workbook(after, data_only=data_only)
        for name in ("Contacts", "Summary"):
            old, new = before_book[name], after_book[name]
            for row in old.iter_rows():
                for old_cell in row:
                    new_cell = new[old_cell.coordinate]
                    assert new_cell.value == old_cell.value, old_cell.coordinate
                    assert new_cell.number_format == old_cell.number_format
                    assert new_cell._style == old_cell._style  # same font, fill, border...
        assert after_book["Contacts"].freeze_panes == "B2"
        assert after_book["Contacts"]["A2"].comment.text == "Met at the spring meetup"
        assert len(after_book["Contacts"].data_validations.dataValidation) == 1
        assert "Everyone" in after_book.defined_names
    formulas = openpyxl.load_workbook(after)
    assert formulas["Summary"]["B2"].value == "=SUM(Contacts!F2:F5)"
    assert formulas["Contacts"][f"C{LAST_ROW}"].value == "di@example.com"
    written = formulas["Contacts"].cell(2, FIRST_FREE_COL + 2)
    assert (written.value, written.data_type) == (INJECTION, "s")
    assert formulas["Contacts"].cell(2, FIRST_FREE_COL).is_date


def test_the_table_grows_over_the_new_headers(tmp_path: Path) -> None:
    after = patched(rich_workbook(tmp_path / "rich.xlsx"), owned_cells())
    table = openpyxl.load_workbook(after)["Contacts"].tables["People"]
    assert table.ref == "A1:K5"
    assert table.autoFilter.ref == "A1:K5"
    assert [c.name for c in table.tableColumns][-4:] == OWNED
    assert [c.id for c in table.tableColumns] == list(range(1, 12))


def test_a_table_is_left_alone_unless_headers_touch_it(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "rich.xlsx")
    after = patched(src, {(1, FIRST_FREE_COL + 1): "Gap first", (2, FIRST_FREE_COL): "x"})
    assert changed_parts(src, after) == {SHEET}


def test_renaming_a_table_header_is_skipped(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "rich.xlsx")
    dst = tmp_path / "out.xlsx"
    result = patch_sheet(src, dst, "Contacts", {(1, 2): "Employer", (1, 3): "Email"})
    assert result.skipped == ("B1",)
    assert read(dst)[0][:3] == ["Name", "Company", "Email"]


def test_formula_cells_are_not_overwritten(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "rich.xlsx", table=False)
    dst = tmp_path / "out.xlsx"
    result = patch_sheet(src, dst, "Contacts", {(2, 7): "typed over", (2, 6): 5})
    assert result.skipped == ("G2",)
    book = openpyxl.load_workbook(dst)
    assert (book["Contacts"]["G2"].value, book["Contacts"]["F2"].value) == ("=F2*10", 5)


def test_cells_inside_an_array_formula_are_not_overwritten(tmp_path: Path) -> None:
    import xlsxwriter

    src = tmp_path / "array.xlsx"
    workbook = xlsxwriter.Workbook(src)
    sheet = workbook.add_worksheet("Contacts")
    sheet.write_column(0, 0, [1, 2, 3])
    sheet.write_array_formula("B1:B3", "{=A1:A3*2}")
    workbook.close()
    dst = tmp_path / "out.xlsx"
    result = patch_sheet(src, dst, "Contacts", {(1, 2): "x", (2, 2): "y", (2, 3): "ok"})
    assert result.skipped == ("B1", "B2")
    assert cell(read(dst), 2, 3) == "ok"


def test_libreoffice_resaved_workbook_patches_cleanly(resaved: Path) -> None:
    after = patched(resaved, owned_cells())
    assert changed_parts(resaved, after) <= {SHEET, "xl/styles.xml", "xl/tables/table1.xml"}
    assert entry_facts(after) == entry_facts(resaved)
    rows = read(after, "Contacts")
    assert rows[0][FIRST_FREE_COL - 1 :] == OWNED
    assert cell(rows, 3, FIRST_FREE_COL) == date(2026, 3, 12)
    assert cell(rows, 2, FIRST_FREE_COL + 2) == INJECTION
    assert openpyxl.load_workbook(after)["Summary"]["A2"].value == "=COUNTA(Contacts!A2:A5)"


def test_libreoffice_shows_the_written_values(tmp_path: Path, resaved: Path) -> None:
    ours = patched(rich_workbook(tmp_path / "rich.xlsx"), owned_cells())
    theirs = shutil.copy(patched(resaved, owned_cells()), tmp_path / "resaved-patched.xlsx")
    csvs = soffice_convert([ours, Path(theirs)], "csv", tmp_path / "csv")
    assert csvs is not None
    for csv in csvs:
        lines = csv.read_text(encoding="utf-8").splitlines()
        assert lines[0].split(",")[FIRST_FREE_COL - 1 :] == OWNED
        assert lines[1].startswith("Ann Lee,Acme,ann@example.com,2026-03-02,A,1,10,2026-03-11,")
        assert '"=HYPERLINK(""http://x"")"' in lines[1]
        assert "Write to #3 <&>" in lines[2]


# --- cells, rows and styles ------------------------------------------------------------------


def test_rows_are_inserted_in_order_and_the_dimension_grows(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "rich.xlsx", table=False)
    cells: dict[tuple[int, int], WriteValue] = {(9, 1): "after a gap", (7, 2): 7, (12, 3): 1.5}
    dst = patched(src, cells)
    xml = parts(dst)[SHEET].decode()
    assert list(sheet_rows(xml)) == [1, 2, 3, 4, 5, 7, 9, 12]
    assert '<dimension ref="A1:G12"/>' in xml
    rows = read(dst)
    assert (cell(rows, 9, 1), cell(rows, 7, 2), cell(rows, 12, 3)) == ("after a gap", 7.0, 1.5)


def test_cells_are_inserted_between_existing_ones_and_spans_widen(tmp_path: Path) -> None:
    src = tmp_path / "gaps.xlsx"
    shutil.copy(rich_workbook(tmp_path / "rich.xlsx", table=False), src)
    dst = patched(src, {(2, 8): "H", (2, 30): "AD", (3, 2): "replaced"})
    xml = sheet_rows(parts(dst)[SHEET].decode())
    assert xml[2].index('r="G2"') < xml[2].index('r="H2"') < xml[2].index('r="AD2"')
    assert 'spans="1:30"' in xml[2]
    assert 'spans="1:7"' in xml[3]
    rows = read(dst)
    assert (cell(rows, 2, 8), cell(rows, 2, 30), cell(rows, 3, 2)) == ("H", "AD", "replaced")


def test_none_empties_a_cell_but_keeps_its_style(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "rich.xlsx", table=False)
    dst = patched(src, {(2, 4): None, (3, 4): "", (40, 4): None})
    book = openpyxl.load_workbook(dst)["Contacts"]
    assert (book["D2"].value, book["D3"].value) == (None, None)
    assert book["D2"].number_format == "yyyy-mm-dd"
    assert 'r="D2" s="2"/>' in parts(dst)[SHEET].decode()
    assert 40 not in sheet_rows(parts(dst)[SHEET].decode())


def test_text_is_escaped_as_excel_does_and_reads_back_the_same(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "rich.xlsx", table=False)
    nasty = "a\x00b\x1f <tag> & \"q\" 'x' _x000D_ _x0041\x01 ü 🙂 +1 -2 @me\r\nline\rtwo"
    unholdable = "\ufffe\uffff\udc80"
    dst = patched(src, {(2, 8): nasty + unholdable, (3, 8): "=1+1", (4, 8): "  padded  "})
    sheet = parts(dst)[SHEET].decode()
    assert "a_x0000_b_x001F_" in sheet and "_x005F_x000D_ _x005F_x0041_x0001_" in sheet
    rows = read(dst)
    assert cell(rows, 2, 8) == nasty
    assert (cell(rows, 3, 8), cell(rows, 4, 8)) == ("=1+1", "  padded  ")
    assert openpyxl.load_workbook(dst)["Contacts"]["H3"].data_type == "s"


def test_text_longer_than_a_cell_holds_is_cut_where_excel_cuts_it(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "rich.xlsx", table=False)
    dst = patched(src, {(2, 8): "x" * 40_000, (3, 8): "🙂" * 20_000})
    rows = read(dst)
    assert cell(rows, 2, 8) == "x" * 32_767
    assert cell(rows, 3, 8) == "🙂" * 16_383  # two UTF-16 units each, as Excel counts


def test_new_date_cells_keep_the_columns_look(tmp_path: Path) -> None:
    import xlsxwriter

    src = tmp_path / "styled.xlsx"
    workbook = xlsxwriter.Workbook(src)
    sheet = workbook.add_worksheet("Contacts")
    sheet.set_column(1, 1, 14, workbook.add_format({"bg_color": "#FFFF00", "bold": True}))
    sheet.write_column(0, 0, ["Name", "Ann", "Bo"])
    workbook.close()
    dst = patched(src, {(2, 2): date(2026, 3, 11), (3, 2): date(2026, 3, 12), (3, 3): "plain"})
    sheet_after = openpyxl.load_workbook(dst)["Contacts"]
    for ref in ("B2", "B3"):
        assert sheet_after[ref].is_date
        assert sheet_after[ref].number_format == "yyyy-mm-dd"
        assert sheet_after[ref].fill.fgColor.rgb == "FFFFFF00"
        assert sheet_after[ref].font.b
    assert sheet_after["C3"].number_format == "General"
    styles = parts(dst)["xl/styles.xml"].decode()
    assert styles.count('formatCode="yyyy-mm-dd"') == 1
    # A second run reuses the style it added instead of adding another.
    again = tmp_path / "again.xlsx"
    patch_sheet(dst, again, "Contacts", {(4, 2): date(2026, 3, 13)})
    assert changed_parts(dst, again) == {SHEET}


def test_a_date_over_a_non_date_cell_gets_a_date_format(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "rich.xlsx", table=False)
    dst = patched(src, {(2, 1): date(2026, 3, 11)})  # A2 held text with the default style
    assert openpyxl.load_workbook(dst)["Contacts"]["A2"].number_format == "yyyy-mm-dd"
    assert cell(read(dst), 2, 1) == date(2026, 3, 11)


def test_dates_use_the_1904_system_when_the_workbook_does(tmp_path: Path) -> None:
    src = corpus_copy("date_1904.xlsx", tmp_path)
    dst = tmp_path / "out.xlsx"
    patch_sheet(src, dst, "Sheet1", {(1, 4): date(2026, 3, 11), (2, 4): date(1904, 1, 2)})
    rows = read(dst)
    assert (cell(rows, 1, 4), cell(rows, 2, 4)) == (date(2026, 3, 11), date(1904, 1, 2))
    assert "<v>44630</v>" in parts(dst)[SHEET].decode()  # 2026-03-11 counted from 1904


def test_dates_excel_cannot_hold_are_written_as_text(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "rich.xlsx", table=False)
    dst = patched(src, {(2, 8): date(1899, 12, 31), (3, 8): date(1900, 3, 1)})
    assert "<v>61</v>" in parts(dst)[SHEET].decode()  # Excel's phantom 29 Feb 1900
    assert cell(read(dst), 2, 8) == "1899-12-31"


def test_a_workbook_without_styles_gets_one(tmp_path: Path) -> None:
    src = corpus_copy("inlineStr_cdata.xlsx", tmp_path)
    dst = patched(src, {(3, 1): date(2026, 3, 11)}, "Sheet1")
    added = changed_parts(src, dst)
    assert added == {
        SHEET,
        "xl/styles.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
    }
    assert cell(read(dst), 3, 1) == date(2026, 3, 11)
    assert openpyxl.load_workbook(dst)["Sheet1"]["A3"].number_format == "yyyy-mm-dd"


def test_cdata_comments_and_cells_without_references(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "odd.xlsx", table=False)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<dimension ref="A1:B3"/><sheetData><!-- <row r="7"> -->'
        '<row r="1"><c t="inlineStr"><is><t><![CDATA[</c></row><row r="5">]]></t></is></c>'
        "<c><v>2</v></c></row>"
        "<row><c><v>3</v></c></row>"
        '<row r="3" spans="1:2"/>'
        "</sheetData></worksheet>"
    )
    replace_part(src, SHEET, xml.encode())
    dst = patched(src, {(1, 3): "C1", (2, 1): "A2", (3, 2): "B3", (5, 1): "A5"})
    rows = read(dst)
    assert rows[:3] == [['</c></row><row r="5">', 2.0, "C1"], ["A2", "", ""], ["", "B3", ""]]
    assert cell(rows, 5, 1) == "A5"
    text = parts(dst)[SHEET].decode()
    assert text.count("<row") == 4 + 2  # plus the look-alikes in the comment and the CDATA
    assert '<dimension ref="A1:C5"/>' in text


def test_namespace_prefixes_are_kept(tmp_path: Path) -> None:
    src = corpus_copy("richtext-namespaced.xlsx", tmp_path)
    dst = patched(src, {(5, 2): "new", (2, 14): date(2026, 3, 11)}, "Sheet1")
    xml = parts(dst)[SHEET].decode()
    assert '<x:row r="5"><x:c r="B5" t="inlineStr"><x:is><x:t xml:space="preserve">new' in xml
    assert cell(read(dst), 2, 14) == date(2026, 3, 11)


# --- streaming --------------------------------------------------------------------------------

# Look-alike tags in a comment and in CDATA, a row without `r`, an empty row, an array formula,
# and merged cells after the data: each of them is cut somewhere by one of the piece sizes below.
STREAMED_XML = (
    '<?xml version="1.0" encoding="{encoding}"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="A1:C4"/><cols><col min="3" max="3" width="9" style="1"/></cols><sheetData>'
    '<!-- </sheetData> <row r="7"> </row> -->'
    '<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[</c></row></sheetData>]]></t></is></c>'
    '<c r="B1"><f t="array" ref="B1:B2">A1:A2</f><v>1</v></c></row>'
    '<row><c><v>2</v></c><c r="B2"><v>1</v></c></row>'
    '<row r="3" spans="1:2"/>'
    '<row r="4" spans="1:2"><c r="A4"><f>A3+1</f><v>3</v></c><c r="B4" t="inlineStr">'
    "<is><t>Zoë ✓</t></is></c></row>"
    '</sheetData><mergeCells count="1"><mergeCell ref="A9:B9"/></mergeCells></worksheet>'
)
STREAMED_EDITS: dict[tuple[int, int], WriteValue] = {
    (1, 3): "C1 <&>",
    (2, 2): "inside the array formula",
    (2, 4): date(2026, 3, 11),
    (3, 1): 3.5,
    (4, 1): "over a formula",
    (4, 2): None,
    (6, 1): "new row",
}


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-8-sig", "UTF-16"])
def test_pieces_cut_anywhere_patch_as_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    """The sheet streams in pieces of package.CHUNK characters: wherever a piece ends (inside a
    row, a tag, a comment, CDATA or a UTF-16 character), the result is what one piece gives."""
    src = rich_workbook(tmp_path / "odd.xlsx", table=False)
    text = STREAMED_XML.format(encoding=encoding.removesuffix("-sig"))
    replace_part(src, SHEET, text.encode(encoding))
    whole = patched(src, STREAMED_EDITS)
    expected = parts(whole)
    assert expected[SHEET].startswith(text.encode(encoding)[:8])  # the BOM, if any, stays
    assert 'ref="A1:D6"' in expected[SHEET].decode(encoding)
    for chunk in (*range(1, 40), 97, 256):
        monkeypatch.setattr(xlsx_package, "CHUNK", chunk)
        dst = tmp_path / f"pieces-{chunk}.xlsx"
        result = patch_sheet(src, dst, "Contacts", STREAMED_EDITS)
        assert result.skipped == ("B2", "A4"), chunk
        assert parts(dst) == expected, chunk


def test_a_table_does_not_grow_over_merged_cells_wherever_a_piece_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Merged ranges are noted as the part after the rows streams by, even when a piece ends
    inside a <mergeCell> tag."""
    import xlsxwriter

    src = tmp_path / "merged.xlsx"
    workbook = xlsxwriter.Workbook(src)
    sheet = workbook.add_worksheet("Contacts")
    sheet.add_table("A1:B3", {"columns": [{"header": "Name"}, {"header": "Email"}]})
    sheet.merge_range("C3:D3", "merged")
    workbook.close()
    for chunk in (xlsx_package.CHUNK, *range(5, 60)):
        monkeypatch.setattr(xlsx_package, "CHUNK", chunk)
        dst = tmp_path / f"pieces-{chunk}.xlsx"
        patch_sheet(src, dst, "Contacts", {(1, 3): "Status"})
        assert changed_parts(src, dst) == {SHEET}, chunk  # the table part is as it was


def test_a_big_sheet_is_patched_a_run_of_rows_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet many pieces long is never in memory whole: each run of rows patched is at most a
    piece plus the row it cut, and the rows are the same as when patched in one piece."""
    import xlsxwriter

    src = tmp_path / "big.xlsx"
    workbook = xlsxwriter.Workbook(src)
    sheet = workbook.add_worksheet("Contacts")
    for row in range(300):
        sheet.write_row(row, 0, [f"Person {row}", row, f"p{row}@example.com"])
    workbook.close()
    cells: dict[tuple[int, int], WriteValue] = {(r, 4): f"status {r}" for r in range(1, 301, 7)}
    expected = parts(patched(src, cells))[SHEET]
    runs: list[int] = []
    patch_rows = xlsx_sheet.SheetPatch._patched_rows

    def spy(self: xlsx_sheet.SheetPatch, text: str, scan: str, end: int) -> str:
        runs.append(end)
        return patch_rows(self, text, scan, end)

    monkeypatch.setattr(xlsx_sheet.SheetPatch, "_patched_rows", spy)
    monkeypatch.setattr(xlsx_package, "CHUNK", 1000)
    dst = tmp_path / "pieces.xlsx"
    patch_sheet(src, dst, "Contacts", cells)
    longest_row = max(len(row) for row in sheet_rows(expected.decode()).values())
    assert len(expected) > 10 * 1000 and len(runs) > 10
    assert max(runs) <= 1000 + longest_row
    assert parts(dst)[SHEET] == expected


def test_whitespace_anywhere_in_the_sheet_is_patched_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet part can hold megabytes of whitespace between rows, inside a row or a comment
    (one user's 400 KB file unzipped to hundreds of MB). Text held back for the next piece is
    read on with as much again each time, so the pass stays linear. With 4 KB pieces, 8 MB of
    padding in each place took over a minute when every piece meant searching all the text
    held back again; now it takes about a second, and 30 s is a generous bound."""
    monkeypatch.setattr(xlsx_package, "CHUNK", 4096)
    pad = " " * 8_000_000
    xml = (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1"><v>1</v></c></row>{pad}'
        f'<row r="2">{pad}<c r="A2"><v>2</v></c></row><!--{pad}-->'
        f'<row r="3"><c r="A3"><v>3</v></c></row>{pad}</sheetData>{pad}'
        '<mergeCells count="1"><mergeCell ref="A9:B9"/></mergeCells></worksheet>'
    )
    src = rich_workbook(tmp_path / "padded.xlsx", table=False)
    replace_part(src, SHEET, xml.encode())
    dst = tmp_path / "out.xlsx"
    edits: dict[tuple[int, int], WriteValue] = {(2, 2): "B2", (3, 2): "B3", (4, 1): "A4"}
    worker = threading.Thread(target=patch_sheet, args=(src, dst, "Contacts", edits), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "patching took more than 30 s"
    rows = read(dst)
    assert [rows[1][1], rows[2][1], rows[3][0]] == ["B2", "B3", "A4"]
    assert parts(dst)[SHEET].decode().count(pad) == 5  # all the padding, as it was


def test_a_sheet_after_the_parts_it_changes_goes_through_a_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When an entry before the sheet (styles, a table) may change with the patch, the sheet is
    patched into a temporary file first; the workbook comes out the same."""
    src = rich_workbook(tmp_path / "rich.xlsx")
    cells = {**owned_cells(), (2, 1): date(2026, 3, 11)}  # a new date style, a grown table
    direct = parts(patched(src, cells))
    monkeypatch.setattr(xlsx_patch.Plan, "late", lambda self: None)
    spilled = tmp_path / "spilled.xlsx"
    patch_sheet(src, spilled, "Contacts", cells)
    assert parts(spilled) == direct
    assert entry_facts(spilled) == entry_facts(src)


def test_the_sheet_is_deflated_at_its_own_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """zipfile has no public way to set one entry's level (before Python 3.13); level 0 stores
    the deflate blocks uncompressed, which shows that the level set is the one used."""
    src = rich_workbook(tmp_path / "rich.xlsx")
    monkeypatch.setattr(xlsx_patch, "_SHEET_LEVEL", 0)
    with zipfile.ZipFile(patched(src, owned_cells())) as archive:
        sheet, other = archive.getinfo(SHEET), archive.getinfo("xl/worksheets/sheet2.xml")
    assert sheet.compress_size > sheet.file_size
    assert other.compress_size < other.file_size  # copied at zipfile's own level


def test_an_error_in_the_thread_that_zips_the_sheet_stops_the_patch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sheet is deflated in a thread of its own: its error (a full disk) comes out of
    patch_sheet, the file is removed and the thread is gone."""
    src = rich_workbook(tmp_path / "rich.xlsx")
    write = zipfile._ZipWriteFile.write

    def disk_full(self: zipfile._ZipWriteFile, data: bytes) -> int:
        if threading.current_thread() is not threading.main_thread():
            raise OSError(28, "No space left on device")
        return write(self, data)

    monkeypatch.setattr(zipfile._ZipWriteFile, "write", disk_full)
    threads = threading.active_count()
    dst = tmp_path / "out.xlsx"
    with pytest.raises(OSError, match="No space left"):
        patch_sheet(src, dst, "Contacts", owned_cells())
    assert not dst.exists()
    assert threading.active_count() == threads


def test_the_background_writer_writes_in_order_and_always_ends_its_thread() -> None:
    threads = threading.active_count()
    written: list[str] = []
    with xlsx_patch._in_background(written.append) as write:
        for n in range(100):
            write(str(n))
    assert written == [str(n) for n in range(100)]
    with pytest.raises(KeyError), xlsx_patch._in_background(written.append) as write:
        write("last")
        raise KeyError("the patch failed")
    assert written[-1] == "last"

    def fail(text: str) -> None:
        raise OSError(f"cannot write {text}")

    with pytest.raises(OSError, match="cannot write 0"), xlsx_patch._in_background(fail) as write:
        for n in range(100):  # more than the queue holds: no write waits for the gone thread
            write(str(n))
    assert threading.active_count() == threads


# --- refusing what cannot be patched ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Name,Email\nAnn,a@x\n", "not an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old-style .xls"),
    ],
)
def test_files_that_are_not_workbooks(tmp_path: Path, content: bytes, message: str) -> None:
    src = tmp_path / "contacts.xlsx"
    src.write_bytes(content)
    with pytest.raises(WorkbookError, match=message):
        patch_sheet(src, tmp_path / "out.xlsx", "Contacts", {(1, 1): "x"})
    assert not (tmp_path / "out.xlsx").exists()


def test_password_protected_workbook(tmp_path: Path) -> None:
    with pytest.raises(WorkbookError, match="password-protected") as error:
        patch_sheet(corpus_copy("pass_protected.xlsx", tmp_path), tmp_path / "o.xlsx", "S", {})
    assert error.value.exit_code == 3


def test_missing_sheet_and_chart_sheet(tmp_path: Path) -> None:
    src = corpus_copy("any_sheets.xlsx", tmp_path)
    with pytest.raises(WorkbookError, match=r"no sheet named 'People'.*'Visible', 'Hidden'"):
        patch_sheet(src, tmp_path / "out.xlsx", "People", {(1, 1): "x"})
    with pytest.raises(WorkbookError, match="is a chart sheet"):
        patch_sheet(src, tmp_path / "out.xlsx", "Chart", {(1, 1): "x"})
    with pytest.raises(WorkbookError, match="Cannot open"):
        patch_sheet(tmp_path / "nope.xlsx", tmp_path / "out.xlsx", "Sheet1", {})


def test_the_workbook_is_never_its_own_destination(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "rich.xlsx")
    before = src.read_bytes()
    with pytest.raises(ValueError, match="new file"):
        patch_sheet(src, tmp_path / "." / "rich.xlsx", "Contacts", {(1, 1): "x"})
    assert src.read_bytes() == before


def test_out_of_order_rows_are_refused_not_guessed(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "odd.xlsx", table=False)
    xml = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="4"><c r="A4"><v>4</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
        "</sheetData></worksheet>"
    )
    replace_part(src, SHEET, xml.encode())
    with pytest.raises(WorkbookError, match="row 2 of its sheet comes after row 4"):
        patch_sheet(src, tmp_path / "out.xlsx", "Contacts", {(2, 1): "x"})
    assert not (tmp_path / "out.xlsx").exists()


# --- the real-world corpus -------------------------------------------------------------------


@pytest.mark.parametrize("name", corpus_params(), ids=str)
def test_corpus_workbook_patches_or_is_refused_clearly(tmp_path: Path, name: str) -> None:
    src = corpus_copy(name, tmp_path)
    original = src.read_bytes()
    dst = tmp_path / f"patched-{name}"
    try:
        book = CalamineWorkbook.from_path(str(src))
        sheet = book.get_sheet_by_index(0)
        first, free = sheet.name, sheet.total_width + 2
    except Exception:  # calamine cannot read it either: the writer must refuse it cleanly
        first, free = "Sheet1", 2
    cells: dict[tuple[int, int], WriteValue] = {
        (1, free): "Next follow-up",
        (2, free): date(2026, 3, 11),
        (3, free): INJECTION,
    }
    try:
        result = patch_sheet(src, dst, first, cells)
    except WorkbookError as error:
        assert str(error) and "Traceback" not in str(error)
        assert not dst.exists()
        return
    finally:
        assert src.read_bytes() == original
    assert result.skipped == ()
    assert entry_facts(dst)[: len(entry_facts(src))] == entry_facts(src)
    names = {n.replace("\\", "/").rsplit("/", 1)[-1] for n in changed_parts(src, dst)}
    sheets = {n for n in names if re.fullmatch(r"sheet\d+\.xml", n)}
    added_styles = len(entry_facts(dst)) > len(entry_facts(src))
    pointers = {"workbook.xml.rels", "[Content_Types].xml"} if added_styles else set()
    assert len(sheets) == 1
    assert names - sheets <= {"styles.xml", "table1.xml", *pointers}
    rows = read(dst, first)
    assert [cell(rows, r, free) for r in (1, 2, 3)] == [cells[(r, free)] for r in (1, 2, 3)]


# --- markup that only looks like markup ------------------------------------------------------
#
# A comment, a CDATA section or a processing instruction may hold text that looks like the
# elements the writer looks for. The writer must never take it for the real thing: not in the
# sheet, nor in the workbook part, its relationships, the styles or a table.

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def edit_part(path: Path, name: str, old: str, new: str) -> None:
    """Replace `old` (which must be there) by `new` in one part of the zip."""
    text = parts(path)[name].decode()
    assert old in text, f"{old!r} is not in {name}"
    replace_part(path, name, text.replace(old, new, 1).encode())


def test_cells_are_never_written_into_a_comment_or_instruction_that_looks_like_sheet_data(
    tmp_path: Path,
) -> None:
    src = rich_workbook(tmp_path / "odd.xlsx", table=False)
    decoys = (
        '<!-- a template: <sheetData><row r="2"></row></sheetData> -->'
        '<?keep <sheetData><row r="1"> ?>'
    )
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">{decoys}'
        '<dimension ref="A1:A2"/><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c>'
        '<?keep <c r="B1"><v>1</v></c> ?></row>'
        '<?keep <row r="2"></row> <row r="3"> ?>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>Ann</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    replace_part(src, SHEET, xml.encode())
    dst = patched(src, {(1, 2): "Status", (2, 2): "Due today", (3, 1): "Bo"})
    assert read(dst)[:3] == [["Name", "Status"], ["Ann", "Due today"], ["Bo", ""]]
    text = parts(dst)[SHEET].decode()
    assert decoys in text
    assert '<t>Name</t></is></c><c r="B1"' in text
    assert '<?keep <c r="B1"><v>1</v></c> ?></row>' in text
    assert '<?keep <row r="2"></row> <row r="3"> ?><row r="2">' in text


def test_a_relationship_in_a_comment_does_not_move_the_sheet(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "odd.xlsx", table=False)
    real = 'Target="worksheets/sheet1.xml"/>'
    ghost = (
        '<!-- <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/worksheet" Target="worksheets/sheet2.xml"/> -->'
    )
    edit_part(src, "xl/_rels/workbook.xml.rels", real, real + ghost)
    dst = patched(src, {(2, 9): "written"})
    assert changed_parts(src, dst) == {SHEET}
    assert cell(read(dst, "Contacts"), 2, 9) == "written"


def test_a_workbook_setting_in_a_comment_does_not_change_the_dates(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "odd.xlsx", table=False)
    edit_part(
        src,
        "xl/workbook.xml",
        "<workbookPr ",
        '<!-- <workbookPr date1904="1"/> --><workbookPr ',
    )
    dst = patched(src, {(2, 9): date(2026, 3, 11)})
    assert cell(read(dst), 2, 9) == date(2026, 3, 11)


def test_a_new_sheet_is_never_listed_inside_a_comment(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "odd.xlsx", table=False)
    edit_part(src, "xl/workbook.xml", "<sheets>", "<!-- <sheets></sheets> --><sheets>")
    dst = tmp_path / "out.xlsx"
    patch_sheet(src, dst, "Contacts", {}, OwnSheet("Log", {(1, 1): "Date"}))
    assert CalamineWorkbook.from_path(str(dst)).sheet_names == ["Contacts", "Summary", "Log"]
    assert read(dst, "Log") == [["Date"]]


def test_a_number_format_in_a_comment_is_not_used_for_dates(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "odd.xlsx", table=False)
    styles = parts(src)["xl/styles.xml"].decode()
    # No real date format, and one in a comment that a date style could point at.
    styles = styles.replace('<numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>', "")
    styles = styles.replace(
        '<numFmts count="1">',
        '<numFmts count="0"><!-- <numFmt numFmtId="165" formatCode="yyyy-mm-dd"/> -->',
    )
    styles = styles.replace('numFmtId="164"', 'numFmtId="0"')
    replace_part(src, "xl/styles.xml", styles.encode())
    dst = patched(src, {(2, 9): date(2026, 3, 11)})
    assert cell(read(dst), 2, 9) == date(2026, 3, 11)
    assert openpyxl.load_workbook(dst)["Contacts"]["I2"].number_format == "yyyy-mm-dd"


def test_a_table_column_in_a_comment_is_not_a_column(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "odd.xlsx")
    edit_part(
        src,
        "xl/tables/table1.xml",
        '<tableColumn id="1"',
        '<!-- <tableColumn id="9" name="Ghost"/> --><tableColumn id="1"',
    )
    dst = tmp_path / "out.xlsx"
    result = patch_sheet(src, dst, "Contacts", {(1, 2): "Company", (1, 8): "Next follow-up"})
    assert result.skipped == ()
    table = parts(dst)["xl/tables/table1.xml"].decode()
    assert 'ref="A1:H5"' in table
    assert '<tableColumns count="8">' in table
    assert '<tableColumn id="8" name="Next follow-up"/></tableColumns>' in table


# --- namespaces, whoever saved the workbook last ----------------------------------------------
#
# Each writer declares its namespaces its own way: Excel and xlsxwriter on the root element,
# openpyxl (and so pandas) the relationship prefix on each <sheet>, the Open XML SDK with an x:
# prefix on every element, others on each element. Whatever the program adds must be bound
# where it lands.

PEOPLE_ROWS = [
    ["Name", "Email", "Met on"],
    ["Ann Lee", "ann@example.com", date(2026, 3, 2)],
    ["Bo Chen", "bo@example.com", date(2026, 1, 5)],
]
PRODUCERS = ("openpyxl", "pandas", "xlsxwriter", "libreoffice", *NAMESPACE_STYLES)


@pytest.fixture(scope="module")
def producers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same contacts saved by each writer users' files come from."""
    import pandas

    folder = tmp_path_factory.mktemp("producers")
    books = {name: folder / f"{name}.xlsx" for name in PRODUCERS}
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Contacts"
    for values in PEOPLE_ROWS:
        sheet.append(values)
    book.save(books["openpyxl"])
    frame = pandas.DataFrame(PEOPLE_ROWS[1:], columns=PEOPLE_ROWS[0])
    # pandas writes with xlsxwriter when it is installed (as here), else with openpyxl.
    frame.to_excel(books["pandas"], sheet_name="Contacts", index=False, engine="openpyxl")
    make_workbook(books["xlsxwriter"], PEOPLE_ROWS)
    converted = soffice_convert([books["xlsxwriter"]], "xlsx", folder / "lo")
    if converted is None:
        pytest.skip("LibreOffice is not installed")
    shutil.copy(converted[0], books["libreoffice"])
    for style in NAMESPACE_STYLES:
        handmade_workbook(books[style], style)
    return books


def log_sheet() -> OwnSheet:
    cells: dict[tuple[int, int], WriteValue] = {
        (1, 1): "Date",
        (1, 2): "Name",
        (2, 1): date(2026, 3, 11),
        (2, 2): "Ann Lee",
    }
    return OwnSheet("Log", cells, (12, 20))


def everything_written(folder: Path, books: dict[str, Path]) -> dict[str, Path]:
    """Each workbook with the run's four headers, a date, a text and a new Log sheet."""
    results = {}
    for name, src in books.items():
        dst = folder / f"{name}-patched.xlsx"
        cells: dict[tuple[int, int], WriteValue] = {(1, 4 + i): h for i, h in enumerate(OWNED)}
        cells |= {(2, 4): date(2026, 3, 11), (2, 5): "Overdue", (3, 4): date(2026, 3, 12)}
        patch_sheet(src, dst, "Contacts", cells, log_sheet())
        results[name] = dst
    return results


@pytest.mark.parametrize("producer", PRODUCERS)
def test_what_is_written_is_bound_to_its_namespace_whoever_saved_the_file(
    tmp_path: Path, producers: dict[str, Path], producer: str
) -> None:
    dst = everything_written(tmp_path, {producer: producers[producer]})[producer]
    assert_namespace_well_formed(dst)
    book = openpyxl.load_workbook(dst)
    assert book.sheetnames[-1] == "Log"
    assert book["Contacts"]["D2"].is_date and book["Log"]["A2"].is_date
    rows = read(dst, "Contacts")
    assert rows[0][3:] == OWNED
    assert (cell(rows, 2, 4), cell(rows, 2, 5), cell(rows, 3, 4)) == (
        date(2026, 3, 11),
        "Overdue",
        date(2026, 3, 12),
    )
    assert read(dst, "Log") == [["Date", "Name"], [date(2026, 3, 11), "Ann Lee"]]


def test_libreoffice_opens_what_was_written_whoever_saved_the_file(
    tmp_path: Path, producers: dict[str, Path]
) -> None:
    written = everything_written(tmp_path, producers)
    csvs = soffice_convert(list(written.values()), "csv", tmp_path / "csv")
    assert csvs is not None
    for name, csv in zip(written, csvs, strict=True):
        lines = csv.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("Name,Email,Met on,Next follow-up,Follow-up status"), name
        assert lines[1].startswith("Ann Lee,ann@example.com,"), name
        assert ",Overdue," in lines[1], name


def test_a_log_added_to_a_workbook_openpyxl_saved_still_opens(tmp_path: Path) -> None:
    """The first time this went wrong: `done` after openpyxl re-saved the new workbook added a
    <sheet r:id=...> where openpyxl had declared r only on each existing <sheet>."""
    assert followup(tmp_path, "init", "--today", "2026-03-11").returncode == 0
    book = tmp_path / "contacts.xlsx"
    openpyxl.load_workbook(book).save(book)

    done = followup(tmp_path, "done", "tom", "--today", "2026-03-11")

    assert done.returncode == 0, done.stderr
    assert 'logged on a new sheet "Log"' in done.stdout
    assert_namespace_well_formed(book)
    assert "Log" in openpyxl.load_workbook(book).sheetnames


X_NS = f'xmlns:x="{MAIN_NS}"'
ODD_SHEETS = {
    "a cell declares its own prefix": (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">'
        f'<x:c {X_NS} r="A1" t="inlineStr"><x:is><x:t>Name</x:t></x:is></x:c>'
        f'<x:c {X_NS} r="B1"><x:v>1</x:v></x:c></row></sheetData></worksheet>'
    ),
    "a row declares its own prefix": (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><x:row {X_NS} r="1">'
        '<x:c r="A1" t="inlineStr"><x:is><x:t>Name</x:t></x:is></x:c>'
        '<x:c r="B1"><x:v>1</x:v></x:c></x:row></sheetData></worksheet>'
    ),
    "two prefixes for the namespace, and another namespace's <c>": (
        f'<x:worksheet {X_NS} xmlns="{MAIN_NS}"><x:sheetData><x:row r="1">'
        '<c r="A1" t="inlineStr"><is><t>Name</t></is></c><x:c r="B1"><v>1</v></x:c>'
        '<c xmlns="urn:elsewhere"/></x:row></x:sheetData></x:worksheet>'
    ),
}


@pytest.mark.parametrize("layout", ODD_SHEETS)
def test_cells_are_found_and_written_however_the_sheet_declares_its_namespace(
    tmp_path: Path, layout: str
) -> None:
    """A row or cell may declare its own prefix, or use another one bound to the same
    namespace: it is found all the same (not written twice), and what replaces it or joins it
    takes a prefix bound where it lands."""
    src = rich_workbook(tmp_path / "odd.xlsx", table=False)
    replace_part(src, SHEET, ODD_SHEETS[layout].encode())
    dst = patched(src, {(1, 2): "Status", (1, 3): "New", (2, 1): "Ann"})
    assert_namespace_well_formed(dst)
    assert read(dst) == [["Name", "Status", "New"], ["Ann", "", ""]]
    assert openpyxl.load_workbook(dst)["Contacts"]["B1"].value == "Status"


def test_a_row_that_rebinds_the_prefix_cells_would_take_is_refused(tmp_path: Path) -> None:
    src = rich_workbook(tmp_path / "odd.xlsx", table=False)
    xml = (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><x:row {X_NS} xmlns="urn:elsewhere" r="1">'
        '<x:c r="A1"><x:v>1</x:v></x:c></x:row></sheetData></worksheet>'
    )
    replace_part(src, SHEET, xml.encode())
    with pytest.raises(WorkbookError, match="declares namespaces among its rows"):
        patched(src, {(1, 2): "Status"})


# --- styles in alternatives -------------------------------------------------------------------

MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14AC_NS = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"


def in_alternatives(styles: str) -> str:
    """styles.xml with its cell formats inside mc:AlternateContent, once in mc:Choice and once
    in mc:Fallback, as Hancom Office writes them."""
    start, end = styles.index("<cellXfs"), styles.index("</cellXfs>") + len("</cellXfs>")
    formats = styles[start:end]
    wrapped = (
        f'<mc:AlternateContent xmlns:mc="{MC_NS}"><mc:Choice Requires="x14ac">{formats}'
        f"</mc:Choice><mc:Fallback>{formats}</mc:Fallback></mc:AlternateContent>"
    )
    root = styles.index("<styleSheet ") + len("<styleSheet ")
    styles = f'{styles[:root]}xmlns:x14ac="{X14AC_NS}" {styles[root:]}'
    return styles.replace(formats, wrapped)


def test_a_date_style_goes_into_every_alternative_list_of_cell_formats(tmp_path: Path) -> None:
    src = tmp_path / "hancom.xlsx"
    make_workbook(src, [["Name", "Met on"], ["Ann", "2026-03-02"]])  # no date style yet
    styles = in_alternatives(parts(src)["xl/styles.xml"].decode())
    replace_part(src, "xl/styles.xml", styles.encode())
    dst = patched(src, {(2, 3): date(2026, 3, 11)})
    assert cell(read(dst), 2, 3) == date(2026, 3, 11)
    assert_namespace_well_formed(dst)
    new = parts(dst)["xl/styles.xml"].decode()
    assert new.count("<cellXfs") == 2
    assert new.count('<cellXfs count="2">') == 2  # xf 1, the date style, in both lists
    assert new.count('formatCode="yyyy-mm-dd"') == 1
