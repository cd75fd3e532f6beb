"""Editing a worksheet's XML the way its own writer would: with the prefixes it already uses.

Tests use this to put cells into workbooks saved by Excel, LibreOffice, openpyxl or anyone else
(a contacts table, a stray value far away) without re-saving them with a library that would
rewrite every part. Cells go in as inline strings or numbers, so no other part changes.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

from followup.workbook.columns import cell_address, column_number

Value = str | int | float

_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def attributes(tag: str) -> dict[str, str]:
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTR.finditer(tag)}


def sheet_entries(path: Path) -> dict[str, str]:
    """Each worksheet's name -> its zip entry (chart and macro sheets left out)."""
    with zipfile.ZipFile(path) as archive:
        names = {n.replace("\\", "/").lstrip("/").casefold(): n for n in archive.namelist()}
        package_rels = archive.read(names["_rels/.rels"]).decode("utf-8", "replace")
        office = next(
            attributes(tag)["Target"].lstrip("/")
            for tag in re.findall(r"<(?:[\w.-]+:)?Relationship\b[^>]*>", package_rels)
            if attributes(tag).get("Type", "").endswith("/officeDocument")
        )
        folder, part = posixpath.split(office)
        book = archive.read(names[office.casefold()]).decode("utf-8", "replace")
        rels_entry = names[posixpath.join(folder, "_rels", part + ".rels").casefold()]
        rels = {
            attrs["Id"]: attrs
            for tag in re.findall(
                r"<(?:[\w.-]+:)?Relationship\b[^>]*>", archive.read(rels_entry).decode()
            )
            if (attrs := attributes(tag))
        }
        found = {}
        for tag in re.findall(r"<(?:[\w.-]+:)?sheet\b[^>]*>", book):
            attrs = attributes(tag)
            rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
            rel = rels.get(rid)
            if rel is None or not rel["Type"].endswith("/worksheet"):
                continue
            target = rel["Target"].replace("\\", "/")
            if not target.startswith("/"):
                target = posixpath.join(folder, target)
            entry = names.get(posixpath.normpath(target).lstrip("/").casefold())
            if entry is not None:
                found[html.unescape(attrs["name"])] = entry
        return found


def _sheet_data(xml: str) -> re.Match[str] | None:
    return re.search(
        r"<((?:[\w.-]+:)?)sheetData\b[^>]*?(?:/>|>(.*?)</\1sheetData>)", xml, flags=re.S
    )


def has_sheet_data(xml: str) -> bool:
    return _sheet_data(xml) is not None


_ROW = r"<{p}row\b([^>]*?)(/>|>(.*?)</{p}row>)"


def rows_and_widths(xml: str) -> dict[int, int]:
    """Each row's number -> the last column holding a cell in it."""
    match = _sheet_data(xml)
    assert match is not None, "no sheetData"
    prefix = match[1]
    widths: dict[int, int] = {}
    number = 0
    for row in re.finditer(_ROW.format(p=re.escape(prefix)), match[2] or "", flags=re.S):
        number = int(attributes(row[1]).get("r", number + 1))
        col = 0
        for cell in re.finditer(rf"<{re.escape(prefix)}c\b([^>]*?)/?>", row[3] or ""):
            ref = attributes(cell[1]).get("r")
            col = column_number(re.match(r"[A-Za-z]+", ref)[0]) if ref else col + 1
        widths[number] = max(widths.get(number, 0), col)
    return widths


def cell_xml(prefix: str, row: int, col: int, value: Value) -> str:
    ref = cell_address(row, col)
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value != value.strip() else ""
        text = html.escape(value, quote=False)
        return (
            f'<{prefix}c r="{ref}" t="inlineStr"><{prefix}is><{prefix}t{space}>{text}'
            f"</{prefix}t></{prefix}is></{prefix}c>"
        )
    return f'<{prefix}c r="{ref}"><{prefix}v>{value!r}</{prefix}v></{prefix}c>'


def add_cells(xml: str, cells: Mapping[tuple[int, int], Value]) -> str:
    """The sheet with `cells` ((row, col), 1-based) added, in the sheet's own prefix.

    Each must lie right of every cell already in its row; a row that is not there yet is
    inserted in order. Rows that get cells lose their `spans` hint.
    """
    match = _sheet_data(xml)
    assert match is not None, "no sheetData"
    prefix = match[1]
    by_row: dict[int, dict[int, Value]] = {}
    for (row, col), value in sorted(cells.items()):
        by_row.setdefault(row, {})[col] = value
    widths = rows_and_widths(xml)
    for row, found in by_row.items():
        assert min(found) > widths.get(row, 0), f"row {row} already has cells there"
    content = match[2] or ""
    pieces: list[str] = []
    at = 0
    number = 0
    pattern = re.compile(_ROW.format(p=re.escape(prefix)), flags=re.S)
    for row in pattern.finditer(content):
        number = int(attributes(row[1]).get("r", number + 1))
        for new in [n for n in by_row if n < number]:
            pieces.append(content[at : row.start()] + _row_xml(prefix, new, by_row.pop(new), ""))
            at = row.start()
        if number in by_row:
            attrs = re.sub(r"\s+spans\s*=\s*(\"[^\"]*\"|'[^']*')", "", row[1])
            added = "".join(cell_xml(prefix, number, c, v) for c, v in by_row.pop(number).items())
            pieces.append(
                content[at : row.start()]
                + f"<{prefix}row{attrs}>{row[3] or ''}{added}</{prefix}row>"
            )
            at = row.end()
    pieces.append(content[at:])
    pieces.extend(_row_xml(prefix, n, found, "") for n, found in sorted(by_row.items()))
    data = (
        f"<{prefix}sheetData"
        + re.match(rf"<{re.escape(prefix)}sheetData\b([^>]*?)/?>", match[0])[1]
        + ">"
        + "".join(pieces)
        + f"</{prefix}sheetData>"
    )
    return xml[: match.start()] + data + xml[match.end() :]


def _row_xml(prefix: str, row: int, cells: Mapping[int, Value], attrs: str) -> str:
    inner = "".join(cell_xml(prefix, row, col, value) for col, value in sorted(cells.items()))
    return f'<{prefix}row r="{row}"{attrs}>{inner}</{prefix}row>'


def edit_sheet(path: Path, entry: str, cells: Mapping[tuple[int, int], Value]) -> None:
    """Add `cells` to the sheet part `entry` of the workbook at `path`, keeping every other
    entry's bytes, order and compression."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        data = {info.filename: archive.read(info) for info in infos}
    text, codec = _decode(data[entry])
    data[entry] = add_cells(text, cells).encode(codec)
    rewritten = path.with_name(f".{path.name}.editing")
    with zipfile.ZipFile(rewritten, "w") as archive:
        for info in infos:
            archive.writestr(info, data[info.filename], compress_type=info.compress_type)
    rewritten.replace(path)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    return data.decode("utf-8"), "utf-8"
