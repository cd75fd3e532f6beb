"""The strict XML check a save makes of every part it rewrote, and doctor of every part."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.errors import WorkbookError
from followup.workbook.xlsx import xmlcheck

MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        (f"<workbook {MAIN}><sheets/></workbook>", None),
        (f'<workbook {MAIN}><sheet r:id="rId1"/></workbook>', "unbound prefix"),
        ("<x:worksheet/>", "unbound prefix"),
        (f"<workbook {MAIN}/><workbook {MAIN}/>", "junk after document element"),
        (f"<workbook {MAIN}><sheets></workbook>", "mismatched tag"),
        ('<a xmlns:p="u" xmlns:q="u" p:x="1" q:x="2"/>', "duplicate attribute"),
        ("<a>&nbsp;</a>", "undefined entity"),
        ('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', "<!DOCTYPE>"),
        ("", "no element found"),
    ],
)
def test_what_excel_would_refuse_is_named(xml: str, problem: str | None) -> None:
    found = xmlcheck.xml_problem(io.BytesIO(xml.encode()))
    assert (found is None) if problem is None else (problem in (found or ""))


def test_a_part_is_read_in_pieces_and_in_its_own_encoding() -> None:
    big = f'<?xml version="1.0" encoding="UTF-16"?><sheetData {MAIN}>' + "<row/>" * 300_000
    assert xmlcheck.xml_problem(io.BytesIO((big + "</sheetData>").encode("utf-16"))) is None
    problem = xmlcheck.xml_problem(io.BytesIO((big + "<x:row/></sheetData>").encode("utf-16")))
    assert problem is not None and problem.startswith("unbound prefix, line 1, column ")


@given(st.binary(max_size=300))
def test_any_bytes_get_an_answer_never_an_exception(data: bytes) -> None:
    found = xmlcheck.xml_problem(io.BytesIO(data))
    assert found is None or (isinstance(found, str) and found)


def test_only_parts_that_changed_are_listed_as_rewritten(tmp_path: Path) -> None:
    old, new = tmp_path / "old.zip", tmp_path / "new.zip"
    with zipfile.ZipFile(old, "w") as archive:
        archive.writestr("a.xml", "<a/>")
        archive.writestr("b.xml", "<b/>")
    with zipfile.ZipFile(new, "w") as archive:
        archive.writestr("a.xml", "<a/>")
        archive.writestr("b.xml", "<b x='1'/>")
        archive.writestr("c.xml", "<c/>")
    assert xmlcheck.rewritten_parts(old, new) == ["b.xml", "c.xml"]


@pytest.mark.parametrize(
    ("names", "twice"),
    [
        (["xl/workbook.xml", "xl/styles.xml"], None),
        (["xl/workbook.xml", "xl/workbook.xml"], "xl/workbook.xml"),
        (["xl/worksheets/sheet1.xml", "XL\\Worksheets\\Sheet1.xml"], "XL\\Worksheets\\Sheet1.xml"),
    ],
)
def test_a_part_held_twice_is_refused(names: list[str], twice: str | None) -> None:
    if twice is None:
        xmlcheck.refuse_duplicate_parts(Path("contacts.xlsx"), names)
        return
    with pytest.raises(WorkbookError, match=f"holds {twice.replace(chr(92), chr(92) * 2)} twice"):
        xmlcheck.refuse_duplicate_parts(Path("contacts.xlsx"), names)


def test_a_budget_checks_the_smallest_parts_first(tmp_path: Path) -> None:
    """What run and status afford every time: the small parts, never a sheet of many MB."""
    book = tmp_path / "book.xlsx"
    big = "<x:worksheet>" + " " * 200_000  # broken, and large
    with zipfile.ZipFile(book, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", big)
        archive.writestr("xl/workbook.xml", f'<workbook {MAIN}><sheet r:id="rId1"/></workbook>')
        archive.writestr("xl/styles.xml", f"<styleSheet {MAIN}/>")

    assert [p.name for p in xmlcheck.broken_parts(book)] == [
        "xl/worksheets/sheet1.xml",
        "xl/workbook.xml",
    ]
    assert [p.name for p in xmlcheck.broken_parts(book, most=100_000)] == ["xl/workbook.xml"]
    assert xmlcheck.broken_parts(book, most=10) == []
    assert xmlcheck.readable_broken_parts(tmp_path / "missing.xlsx", most=100_000) == []
