"""A value typed far from the contacts neither kills a run nor swamps it.

python-calamine lays a sheet out as one dense grid, so one cell at XFD1048576 used to abort the
process (a failed allocation: exit 134, no message) and one at XFD2000 took a gigabyte. These
tests run the real program in a child process, since an abort would take pytest with it, and
look at its exit code, its output and its peak memory.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import ROOT, in_openpyxl, write_config, zip_parts
from edit_helpers import invoke
from reading import read_contacts
from sheet_xml import edit_sheet, sheet_entries
from workbooks import make_workbook
from xlsx_helpers import soffice_convert

from followup.errors import WorkbookError
from followup.workbook.columns import column_number
from followup.workbook.sheet_guard import _SheetEntries, open_workbook
from followup.workbook.sheet_layout import MIN_CELLS, Layout, fits
from followup.workbook.xlsx import patch_sheet
from followup.workbook.xlsx.package import Book, Package

TODAY = "2026-03-11"
CONTACTS = [
    ["Name", "Email", "How we met", "Met on"],
    ["Ann Lee", "ann@example.com", "Networking event", date(2026, 3, 5)],
    ["Bo Chen", "bo@example.com", "Referral", date(2026, 3, 10)],
]
OWNED = ["Next follow-up", "Follow-up status", "Suggested action", "Last reminded"]


# Runs followup and then reports its own peak memory (VmHWM: that of the program, where the
# rusage of a child also counts the memory of the pytest process it was forked from).
CHILD = """
import atexit, os, runpy, sys
def peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM"))
    os.write(2, f"\\npeak-kb {kb}\\n".encode())
if os.path.exists("/proc/self/status"):
    atexit.register(peak)
sys.argv[0] = "followup"
runpy.run_module("followup", run_name="__main__")
"""


def run_child(folder: Path, *args: str) -> tuple[int, str, float]:
    """`python -m followup ARGS` in `folder`: exit code (-6: aborted), output, peak memory in MB
    (0 where /proc is not there to say)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args, "--today", TODAY],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    peak = re.search(r"\npeak-kb (\d+)\n", output)
    return done.returncode, output, int(peak[1]) / 1024 if peak else 0


def contacts_with(folder: Path, far: dict[str, str], sheet: str = "Contacts") -> Path:
    """The contacts workbook (and a config) with values typed at the cells of `far`."""
    folder.mkdir(parents=True, exist_ok=True)
    book = make_workbook(folder / "contacts.xlsx", CONTACTS, before={"Notes": [["Ideas"]]})
    cells = {_cell(ref): value for ref, value in far.items()}
    edit_sheet(book, sheet_entries(book)[sheet], cells)
    write_config(folder)
    return book


def _cell(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters) :]), column_number(letters)


@pytest.mark.parametrize("ref", ["XFD1048576", "XFD2000", "C1048576", "XFD100"])
def test_a_value_far_below_or_right_of_the_contacts_is_left_out_and_named(
    tmp_path: Path, ref: str
) -> None:
    book = contacts_with(tmp_path, {ref: " "})
    assert book.stat().st_size < 10_000

    code, output, peak = run_child(tmp_path, "run")
    assert code == 0, output
    assert "Wrote 12 cells in 3 rows" in output
    assert peak < 100, f"{peak:.0f} MB"  # 1 GB for XFD2000 before, an abort for XFD1048576

    code, output, peak = run_child(tmp_path, "status")
    assert code == 0, output
    assert f"Contacts!{ref} (' '): This cell is far outside your contacts" in output
    assert peak < 100, f"{peak:.0f} MB"
    with zipfile.ZipFile(book) as archive:  # the value is still there: only the reading skips it
        assert f'r="{ref}"' in archive.read("xl/worksheets/sheet2.xml").decode()


def test_every_command_reads_past_a_far_value(tmp_path: Path) -> None:
    """done (and its new Log sheet), snooze, import, doctor and a second run all read the
    workbook, and the save's read-back reads it again."""
    contacts_with(tmp_path, {"XFD1048576": "x"})
    csv = tmp_path / "Connections.csv"
    csv.write_text(
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Cy,Park,https://www.linkedin.com/in/cy,cy@example.com,Initech,CTO,04 Mar 2026\n",
        encoding="utf-8",
    )
    for args in (
        ["run"],
        ["done", "ann"],
        ["snooze", "bo", "7"],
        ["import", "linkedin", str(csv)],
        ["doctor"],
        ["run", "--force"],
    ):
        code, output, peak = run_child(tmp_path, *args)
        assert "Traceback" not in output, output
        assert peak < 100, (args, f"{peak:.0f} MB")
        if args == ["doctor"]:  # it fails on the mail settings this folder has not got
            assert "✓ Workbook" in output and "Contacts!XFD1048576" in output, output
        else:
            assert code == 0, (args, output)
    with open_workbook(tmp_path / "contacts.xlsx") as workbook:  # python-calamine alone: abort
        rows = workbook.sheet("Contacts").to_python()
        assert [row[0] for row in rows[1:4]] == ["Ann Lee", "Bo Chen", "Cy Park"]
        assert workbook.sheet("Log").to_python()[1][1] == "Ann Lee"


def test_a_far_value_on_a_sheet_before_the_contacts_does_not_stop_the_search(
    tmp_path: Path,
) -> None:
    contacts_with(tmp_path, {"XFD1048576": "forgotten"}, sheet="Notes")
    code, output, _ = run_child(tmp_path, "run")
    assert code == 0, output
    assert "Wrote 12 cells" in output


def test_the_far_value_is_shown_as_the_cell_holds_it(tmp_path: Path) -> None:
    book = contacts_with(tmp_path, {"ZZ900000": 46000, "AB3": "near enough"})
    contents = read_contacts(book)
    assert [str(p) for p in contents.problems] == [
        "Contacts!ZZ900000 ('46000'): This cell is far outside your contacts, so followup "
        "leaves it out. Clear it (Ctrl+End goes to the last cell in use) and save: the "
        "workbook opens faster too."
    ]
    assert [c.name for c in contents.contacts] == ["Ann Lee", "Bo Chen"]


def test_a_wide_sparse_sheet_is_read_whole(tmp_path: Path) -> None:
    """Values that are data, not strays, are all read, even when the grid is mostly empty."""
    rows = [["Name", *[""] * 58, "Notes"]]
    rows += [[f"Person {n}", *[""] * 58, f"note {n}"] for n in range(20_000)]
    book = make_workbook(tmp_path / "wide.xlsx", rows)
    with open_workbook(book) as workbook:
        sheet = workbook.sheet("Contacts")
        assert sheet.height * sheet.width > MIN_CELLS  # not small enough to skip the close look
        assert workbook.left_out("Contacts") == () and workbook.strays("Contacts") == ()
    contents = read_contacts(book)
    assert len(contents.contacts) == 20_000
    assert contents.contacts[-1].notes == "note 19999"


def test_a_reference_written_oddly_is_looked_at_closely(tmp_path: Path) -> None:
    """python-calamine also takes lower-case references; the quick measure does not, so the
    close look finds the far value."""
    book = make_workbook(tmp_path / "contacts.xlsx", CONTACTS)
    entry = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(book) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts[entry] = parts[entry].replace(
        b"</sheetData>", b'<row r="1048576"><c r="xfd1048576"><v>1</v></c></row></sheetData>'
    )
    with zipfile.ZipFile(book, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    contents = read_contacts(book)
    assert [p.cell for p in contents.problems] == ["XFD1048576"]
    assert len(contents.contacts) == 2


def test_a_large_sheet_as_users_keep_it_goes_through_as_it_is(tmp_path: Path) -> None:
    rows = [["Name", "Company", "Email", "Met on"]]
    rows += [[f"P{n}", "Acme", f"p{n}@example.com", date(2026, 1, 1)] for n in range(60_000)]
    book = make_workbook(tmp_path / "big.xlsx", rows)
    with zipfile.ZipFile(book) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        with archive.open(info) as part:
            assert fits(part, info.file_size)


# --- Excel 4.0 macro sheets --------------------------------------------------------------------

MACRO_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<xm:macrosheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<dimension ref="A1:A2"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
    b'<sheetFormatPr defaultRowHeight="15"/><sheetData>'
    b'<row r="1"><c r="A1" t="b"><f>ALERT("Hello")</f><v>1</v></c></row>'
    b'<row r="2"><c r="A2" t="b"><f>RETURN()</f><v>1</v></c></row>'
    b'</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
    b'footer="0.3"/></xm:macrosheet>'
)


def with_macro_sheet(xlsx: Path, xlsm: Path) -> Path:
    """The workbook as an .xlsm with an Excel 4.0 macro sheet "Macro1" listed first, its
    part, relationship and content type written as Excel writes them."""
    with zipfile.ZipFile(xlsx) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts["xl/macrosheets/sheet1.xml"] = MACRO_SHEET
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"<sheets>", b'<sheets><sheet name="Macro1" sheetId="9" r:id="rId90"/>'
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rId90" Type="http://schemas.microsoft.com/office/2006/relationships/'
        b'xlMacrosheet" Target="macrosheets/sheet1.xml"/></Relationships>',
    )
    types = parts["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    parts["[Content_Types].xml"] = types.replace(
        b"</Types>",
        b'<Override PartName="/xl/macrosheets/sheet1.xml" '
        b'ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>',
    )
    with zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return xlsm


def test_a_workbook_with_an_excel_4_macro_sheet_is_read_and_written(tmp_path: Path) -> None:
    made = make_workbook(tmp_path / "made.xlsx", CONTACTS)
    book = with_macro_sheet(made, tmp_path / "contacts.xlsm")
    write_config(tmp_path, workbook="contacts.xlsm")
    before = zip_parts(book)

    ran = invoke(tmp_path, "run")
    assert ran.exit_code == 0, ran.output
    assert "Wrote 12 cells in 3 rows" in ran.output
    logged = invoke(tmp_path, "done", "ann")
    assert logged.exit_code == 0, logged.output
    after = zip_parts(book)
    assert after["xl/macrosheets/sheet1.xml"] == MACRO_SHEET
    assert b'<sheet name="Macro1" sheetId="9" r:id="rId90"/>' in after["xl/workbook.xml"]
    with open_workbook(book) as workbook:
        assert workbook.sheet("Contacts").to_python()[0][4:8] == OWNED
        assert workbook.sheet("Log").to_python()[1][1] == "Ann Lee"
    with in_openpyxl(book) as opened:
        assert opened.sheetnames == ["Macro1", "Contacts", "Log"]
    converted = soffice_convert([book], "csv", tmp_path / "csv")
    if converted is not None:
        assert converted[0].is_file()
    assert set(before) <= set(after)


def test_a_macro_sheet_is_left_out_for_the_reader_and_refused_as_the_sheet_to_write(
    tmp_path: Path,
) -> None:
    book = with_macro_sheet(make_workbook(tmp_path / "made.xlsx", CONTACTS), tmp_path / "m.xlsm")
    with zipfile.ZipFile(book) as archive:
        entries = _SheetEntries.read(archive)
    assert entries is not None and "Macro1" not in entries.sheets
    assert b"Macro1" not in entries.without_macro_sheets()
    with pytest.raises(WorkbookError, match=r"'Macro1' in m\.xlsm is a macro sheet"):
        patch_sheet(book, tmp_path / "out.xlsm", "Macro1", {(1, 1): "x"})


def with_parts(xlsx: Path, out: Path, changed: dict[str, bytes]) -> Path:
    """A copy of the workbook with some parts replaced."""
    with zipfile.ZipFile(xlsx) as archive, zipfile.ZipFile(out, "w") as copy:
        for info in archive.infolist():
            copy.writestr(info.filename, changed.get(info.filename) or archive.read(info))
    return out


@pytest.mark.parametrize(
    "target",
    [
        "worksheets/sheet1.xml",
        "/xl/worksheets/sheet1.xml",
        "worksheets\\sheet1.xml",
        "Worksheets/SHEET1.xml",
        "./worksheets/../worksheets/sheet1.xml",
        "/xl/worksheets/%73heet1.xml",
    ],
)
def test_the_reader_and_the_patcher_find_the_same_part_for_a_sheet(
    tmp_path: Path, target: str
) -> None:
    """Both find parts by the rules of xlsx/parts.py: a sheet the reader measures is the part
    the patcher writes, however its relationship names it."""
    made = make_workbook(tmp_path / "made.xlsx", CONTACTS)
    rels = zip_parts(made)["xl/_rels/workbook.xml.rels"]
    written = f'Target="{target}"'.encode()
    odd = re.sub(rb'Target="[^"]*sheet1.xml"', lambda _: written, rels)
    assert written in odd
    book = with_parts(made, tmp_path / "odd.xlsx", {"xl/_rels/workbook.xml.rels": odd})
    with zipfile.ZipFile(book) as archive:
        entries = _SheetEntries.read(archive)
        package = Package(archive)
        _, patched = Book.load(package).sheet_part(package, "Contacts")
    assert entries is not None and entries.sheets["Contacts"] == patched
    assert patched == "xl/worksheets/sheet1.xml"


def test_a_workbook_part_that_does_not_parse_stops_the_reader_quietly_and_the_patcher_aloud(
    tmp_path: Path,
) -> None:
    """The reader's map gives up (python-calamine or the reader then names the fault); the
    patcher says itself what it cannot patch."""
    made = make_workbook(tmp_path / "made.xlsx", CONTACTS)
    broken = zip_parts(made)["xl/workbook.xml"].replace(b"</sheets>", b"")
    book = with_parts(made, tmp_path / "broken.xlsx", {"xl/workbook.xml": broken})
    with zipfile.ZipFile(book) as archive:
        assert _SheetEntries.read(archive) is None
    with pytest.raises(WorkbookError, match=r"broken\.xlsx"):
        read_contacts(book)
    with pytest.raises(WorkbookError, match=r"broken\.xlsx could not be updated because"):
        patch_sheet(book, tmp_path / "out.xlsx", "Contacts", {(1, 1): "x"})


def test_a_sheet_too_big_even_without_its_strays_is_refused_naming_its_last_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No stray to leave out (every value is saved by none), yet more grid than the limit:
    refused with a message, never handed to python-calamine."""
    monkeypatch.setattr("followup.workbook.sheet_guard.MAX_CELLS", 100)
    monkeypatch.setattr("followup.workbook.sheet_layout.MIN_CELLS", 10)
    monkeypatch.setattr("followup.workbook.sheet_layout.XML_BYTES_PER_CELL", 10**9)
    book = make_workbook(tmp_path / "contacts.xlsx", [*CONTACTS, *[[f"P{n}"] for n in range(40)]])
    with pytest.raises(WorkbookError, match=r"Sheet 'Contacts' of contacts.xlsx reaches cell D43"):
        read_contacts(book)


def test_columns_holding_only_a_header_are_kept_when_a_far_value_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a first run the program's four columns hold nothing but their headers; with a far
    value to leave out, those headers must stay, or every run would add the columns again.
    (The sheet is scaled down, and so are the bounds.)"""
    monkeypatch.setattr("followup.workbook.sheet_layout.MIN_CELLS", 1000)
    monkeypatch.setattr("followup.workbook.sheet_layout.STRAY_COST", 100)
    rows = [[*CONTACTS[0], "Next follow-up", "Follow-up status"]]
    rows += [[f"P{n}", f"p{n}@example.com", "Referral", date(2026, 3, 1)] for n in range(300)]
    book = make_workbook(tmp_path / "contacts.xlsx", rows)
    edit_sheet(book, "xl/worksheets/sheet1.xml", {(500_000, 16_384): " "})
    contents = read_contacts(book)
    assert contents.owned["next_follow_up"] == 5 and contents.owned["follow_up_status"] == 6
    assert "follow_up_status" in contents.columns
    assert [p.cell for p in contents.problems] == ["XFD500000"]


def test_a_far_cell_with_only_a_format_is_no_problem(tmp_path: Path) -> None:
    """Formatting a cell far away (no value) costs python-calamine nothing: the quick measure
    cannot tell, but the close look does not count it, and nothing is named."""
    book = make_workbook(tmp_path / "contacts.xlsx", CONTACTS)
    entry = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(book) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    far = b'<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    parts[entry] = parts[entry].replace(b"</sheetData>", far + b"</sheetData>")
    with zipfile.ZipFile(book, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert Layout(parts[entry]).strays() == ([], 3, 4)
    contents = read_contacts(book)
    assert contents.problems == () and len(contents.contacts) == 2


DECOY = b'<!-- <row r="1048576"><c r="XFD1048576"><v>1</v></c></row> -->'


@pytest.mark.parametrize(
    ("far", "named"), [({}, []), ({"XFD2000": "x"}, ["XFD2000"])], ids=["decoy", "decoy+real"]
)
def test_a_far_cell_inside_a_comment_is_no_cell(
    tmp_path: Path, far: dict[str, str], named: list[str]
) -> None:
    """Markup in an XML comment is no cell: naming it as a far value would ask the user, every
    day, to clear a cell that is not there."""
    book = contacts_with(tmp_path, far)
    entry = sheet_entries(book)["Contacts"]
    with zipfile.ZipFile(book) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts[entry] = parts[entry].replace(b"</sheetData>", DECOY + b"</sheetData>")
    with zipfile.ZipFile(book, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    contents = read_contacts(book)
    assert [p.cell for p in contents.problems] == named
    assert len(contents.contacts) == 2
    assert invoke(tmp_path, "run").exit_code == 0
    with zipfile.ZipFile(book) as archive:  # the comment is kept as it was
        assert DECOY in archive.read(entry)


def test_a_copy_left_in_the_temp_folder_by_a_killed_run_is_removed_an_hour_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader's copy of a workbook with a far value (the user's contacts, unpacked) is
    deleted when it closes; a run killed meanwhile leaves it, and a later read removes it."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    stale, fresh, other = (temp / n for n in ("followup-a1b2_c3d.xlsx", "followup-zz99yy88.xlsx",
                                              "followup-notes.xlsx"))  # fmt: skip
    for path in (stale, fresh, other):
        path.write_bytes(b"PK")
    hours_ago = time.time() - 7200
    os.utime(stale, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    read_contacts(contacts_with(tmp_path / "book", {"XFD2000": "x"}))
    assert sorted(p.name for p in temp.iterdir()) == sorted([fresh.name, other.name])


def test_the_read_back_trusts_the_places_the_read_left_out_and_measures_when_they_are_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save's read-back opens the rewritten file trusting the original's measure: the same
    places are left out and the sheet is not measured again; a place that holds nothing there
    means the sheet is not what was measured, so it is measured after all."""
    book = contacts_with(tmp_path, {"XFD2000": "far"})
    with open_workbook(book) as workbook:
        workbook.sheet("Contacts")
        places = workbook.left_out("Contacts")
    assert places == ((2000, 16384),)

    def measured(*_args: object) -> bool:
        raise AssertionError("a trusted sheet was measured again")

    with monkeypatch.context() as patched:
        patched.setattr("followup.workbook.sheet_guard.fits", measured)
        with open_workbook(book, {"Contacts": places}) as workbook:
            sheet = workbook.sheet("Contacts")
            assert workbook.left_out("Contacts") == places
            assert [row[0] for row in sheet.to_python()] == ["Name", "Ann Lee", "Bo Chen"]
    with open_workbook(book, {"Contacts": ((9, 9),)}) as workbook:
        sheet = workbook.sheet("Contacts")
        assert workbook.left_out("Contacts") == places  # found by measuring
        assert [row[0] for row in sheet.to_python()] == ["Name", "Ann Lee", "Bo Chen"]
