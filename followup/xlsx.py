"""Surgical write-back: change a few cells of one sheet of an .xlsx and copy everything else.

Loading and re-saving with openpyxl silently drops images, data bars, sparklines, slicers and
text boxes, flattens rich text and forgets every formula's cached value. So this module never
re-saves a workbook: it copies every zip entry byte for byte and rewrites only the text of the
sheet's XML part, plus styles.xml when a date style must be added and a table part when a table
grows to cover new header cells. The sheet part is scanned row by row as text (rows never nest),
so a sheet of 100,000 rows costs one linear pass and the rows without changes stay byte-identical.
"""

from __future__ import annotations

import codecs
import html
import math
import posixpath
import re
import zipfile
import zlib
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache, lru_cache
from itertools import count
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

from followup.columns import cell_address
from followup.errors import WorkbookError

CellValue = str | int | float | date | None
"""What a cell can be set to; None (or "") makes the cell empty but keeps its formatting."""


@dataclass(frozen=True)
class PatchResult:
    """What `patch_sheet` did not do."""

    skipped: tuple[str, ...]
    """A1 addresses left alone: the cell holds a formula (or is part of an array formula), or it
    is a table's header cell and writing it would rename the table's column. Cells of the
    `OwnSheet` are named with their sheet ("Log!A3")."""


@dataclass(frozen=True)
class OwnSheet:
    """Cells for a sheet the program keeps for itself (its Log), written in the same save.

    When the workbook has no sheet by that name (case-insensitively), it is added after the
    last sheet, so no sheet index that defined names or formulas use moves.
    """

    name: str
    cells: Mapping[tuple[int, int], CellValue]
    widths: tuple[float, ...] = ()
    """Widths of columns A, B... when the sheet is created (Excel shows a date too wide for its
    column as ####)."""


def patch_sheet(
    src: Path,
    dst: Path,
    sheet: str,
    cells: Mapping[tuple[int, int], CellValue],
    own: OwnSheet | None = None,
) -> PatchResult:
    """Write `cells` ((row, column), 1-based) into `sheet` of `src`, saving the result as `dst`.

    Everything but the sheet part (and, when needed, styles.xml and a growing table part) is
    copied unchanged; `own` also changes (or adds) that sheet's part, and a new sheet is listed
    in workbook.xml, its relationships, [Content_Types].xml and docProps/app.xml. `dst` is
    removed again if anything fails.
    """
    if dst.resolve() == src.resolve():
        raise ValueError("patch_sheet writes a new file; dst must not be the workbook itself")
    if own is not None and own.name.casefold() == sheet.casefold():
        raise ValueError("the own sheet must not be the sheet being patched")
    edits = _group_by_row(cells)
    own_edits = _group_by_row(own.cells) if own is not None else {}
    try:
        with _open_zip(src) as archive:
            package = _Package(archive)
            changes, skipped = _plan(package, sheet, edits, own, own_edits)
            _write_zip(archive, dst, changes)
    except _Malformed as error:
        raise WorkbookError(
            f"{src.name} could not be updated because {error}. Open it in Excel or LibreOffice, "
            "save it again and rerun."
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise WorkbookError(
            f"{src.name} is damaged or uses a zip feature Excel does not ({error}). Open it in "
            "Excel or LibreOffice, save it again and rerun."
        ) from None
    return PatchResult(skipped)


class _Malformed(Exception):
    """The workbook's XML is not what Excel writes; say what, and touch nothing."""


# --- edits -----------------------------------------------------------------------------------

_MAX_ROW, _MAX_COL = 1_048_576, 16_384
_MAX_TEXT = 32_767  # Excel refuses longer cell text and "repairs" the file


def _group_by_row(cells: Mapping[tuple[int, int], CellValue]) -> dict[int, dict[int, CellValue]]:
    """The edits as {row: {column: value}}, after checking what Excel could never hold."""
    rows: dict[int, dict[int, CellValue]] = {}
    for (row, col), value in cells.items():
        if not (1 <= row <= _MAX_ROW and 1 <= col <= _MAX_COL):
            raise ValueError(f"cell ({row}, {col}) is outside an Excel sheet")
        if isinstance(value, bool) or not isinstance(value, str | int | float | date | None):
            raise TypeError(f"cannot write {type(value).__name__} to cell ({row}, {col})")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cannot write {value} to cell ({row}, {col})")
        rows.setdefault(row, {})[col] = None if value == "" else value
    return rows


# --- reading the package ---------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _open_zip(src: Path) -> zipfile.ZipFile:
    """The workbook as a zip, or a WorkbookError that says what the file is instead."""
    try:
        with src.open("rb") as file:
            head = file.read(len(_OLE_MAGIC))
            ole = file.read() if head == _OLE_MAGIC else b""
        return zipfile.ZipFile(src)
    except OSError as error:
        raise WorkbookError(
            f"Cannot open the workbook {src}: {error.strerror or error}. Check [workbook] path "
            "in config.toml."
        ) from None
    except zipfile.BadZipFile:
        raise WorkbookError(_not_a_zip(src.name, head, ole)) from None


def _not_a_zip(name: str, head: bytes, ole: bytes) -> str:
    """Why a file that is not a zip cannot be the workbook, and what to do about it."""
    if head != _OLE_MAGIC:
        return (
            f"{name} is not an Excel workbook (.xlsx or .xlsm), or it is damaged. Save it from "
            "Excel or LibreOffice as an Excel workbook and point [workbook] path at it."
        )
    # Excel stores a password-protected workbook encrypted inside an OLE compound file.
    if "EncryptedPackage".encode("utf-16-le") in ole:
        return (
            f"{name} is password-protected, so it cannot be read or updated. Remove the password "
            "in Excel (File > Info > Protect Workbook) and save, or point [workbook] path at an "
            "unprotected copy."
        )
    return (
        f"{name} is an old-style .xls workbook. Open it in Excel or LibreOffice, save it as "
        ".xlsx and point [workbook] path at the new file."
    )


class _Package:
    """The zip's parts by their OPC name (case-insensitive, '/' even when the zip says '\\')."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.name = Path(archive.filename or "workbook").name
        self._entries = {_norm(info.filename): info.filename for info in archive.infolist()}
        if any(info.flag_bits & 0x1 for info in archive.infolist()):
            raise WorkbookError(
                f"{self.name} is password-protected (its zip entries are encrypted). Save an "
                "unprotected copy and point [workbook] path at it."
            )

    def entry(self, part: str) -> str | None:
        """The zip entry holding `part`, if there is one."""
        return self._entries.get(_norm(part)) or self._entries.get(_norm(unquote(part)))

    def read_text(self, entry: str) -> tuple[str, str]:
        """An XML part's text and the codec to write it back with."""
        return _decode(self.archive.read(entry), entry)


def _norm(part: str) -> str:
    return part.replace("\\", "/").lstrip("/").casefold()


def _decode(data: bytes, entry: str) -> tuple[str, str]:
    """Text plus codec, keeping a byte-order mark so unchanged text re-encodes to the same bytes."""
    if data.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16"
    else:
        declared = re.match(rb"<\?xml[^>]*encoding\s*=\s*[\"']([\w.:-]+)", data)
        codec = declared[1].decode("ascii") if declared else "utf-8"
    try:
        return data.decode(codec), codec
    except (LookupError, UnicodeDecodeError):
        raise _Malformed(f"{entry} is not valid {codec} text") from None


def _encode(text: str, codec: str) -> bytes:
    return text.encode(codec, errors="xmlcharrefreplace")


class _Rel(NamedTuple):
    id: str
    type: str
    target: str | None  # part path; None for external targets


def _rels(package: _Package, part: str, kind: str = "") -> list[_Rel]:
    """The relationships of `part` ("" for the package), with targets resolved to part paths.

    `kind` ("/table") skips the others early: a sheet can have 65,000 hyperlink relationships.
    """
    folder, name = posixpath.split(part)
    entry = package.entry(posixpath.join(folder, "_rels", f"{name}.rels"))
    if entry is None:
        return []
    text, _ = package.read_text(entry)
    rels = []
    for match in _tag_pattern("Relationship").finditer(text):
        if kind not in match[1]:
            continue
        attrs = dict(_attr_items(match[1]))
        target = attrs.get("Target", "")
        if attrs.get("TargetMode") == "External":
            path = None
        elif target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join(folder, target.replace("\\", "/")))
        rels.append(_Rel(attrs.get("Id", ""), attrs.get("Type", ""), path))
    return rels


@dataclass
class _Book:
    """What the workbook part says: where the sheets and styles are, and the date system."""

    part: str
    sheets: dict[str, _Rel]
    styles: _Rel | None
    date1904: bool

    @classmethod
    def load(cls, package: _Package) -> _Book:
        office = [r.target for r in _rels(package, "") if r.type.endswith("/officeDocument")]
        part = next((p for p in office if p and package.entry(p)), "xl/workbook.xml")
        entry = package.entry(part)
        if entry is None:
            raise WorkbookError(
                f"{package.name} is a zip file but not an Excel workbook (it has no workbook "
                "part; .ods and .xlsb files are not supported). Save it from Excel or "
                "LibreOffice as .xlsx and point [workbook] path at it."
            )
        text, _ = package.read_text(entry)
        rels = {rel.id: rel for rel in _rels(package, _norm_path(entry))}
        sheets = {}
        for attrs in _tag_attrs(text, "sheet"):
            rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
            if rid in rels:
                sheets[attrs.get("name", "")] = rels[rid]
        styles = next((r for r in rels.values() if r.type.endswith("/styles") and r.target), None)
        props = next(_tag_attrs(text, "workbookPr"), {})
        date1904 = props.get("date1904", "").lower() in ("1", "true")
        return cls(_norm_path(entry), sheets, styles, date1904)

    def sheet_part(self, package: _Package, sheet: str) -> tuple[_Rel, str]:
        """The sheet's relationship and zip entry, or a WorkbookError naming the sheets there."""
        rel = self.sheets.get(sheet) or next(
            (r for name, r in self.sheets.items() if name.casefold() == sheet.casefold()), None
        )
        if rel is None:
            names = ", ".join(repr(name) for name in self.sheets) or "none"
            raise WorkbookError(
                f"{package.name} has no sheet named {sheet!r} (its sheets: {names}). Fix "
                "[workbook] sheet in config.toml or rename the sheet."
            )
        kind = rel.type.rpartition("/")[2]
        entry = package.entry(rel.target or "")
        if kind != "worksheet" or entry is None:
            what = _SHEET_KINDS.get(kind, "a broken sheet") if entry else "missing from the file"
            raise WorkbookError(
                f"Sheet {sheet!r} in {package.name} is {what}, not a sheet of cells. Fix "
                "[workbook] sheet in config.toml to name the contacts sheet."
            )
        return rel, entry


_SHEET_KINDS = {
    "chartsheet": "a chart sheet",
    "dialogsheet": "a dialog sheet",
    "xlMacrosheet": "a macro sheet",
    "xlIntlMacrosheet": "a macro sheet",
}


def _norm_path(entry: str) -> str:
    return entry.replace("\\", "/").lstrip("/")


# --- planning the changes --------------------------------------------------------------------


def _plan(
    package: _Package,
    sheet: str,
    edits: dict[int, dict[int, CellValue]],
    own: OwnSheet | None,
    own_edits: dict[int, dict[int, CellValue]],
) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """New bytes per zip entry (new entries included) and the addresses of cells left alone."""
    book = _Book.load(package)
    sheet_rel, sheet_entry = book.sheet_part(package, sheet)
    styles_file = _StylesFile(package, book, sheet_rel)
    writer = _CellWriter(book.date1904, styles_file.styles)
    new_parts = _NewParts(package, book)
    changes, skipped = _patch_part(package, sheet_entry, edits, writer)
    addresses = [cell_address(row, col) for row, col in sorted(skipped)]
    if own is not None:
        own_changes, own_skipped = _patch_own_sheet(
            package, book, sheet_rel, own, own_edits, writer, new_parts
        )
        changes.update(own_changes)
        addresses += [f"{own.name}!{cell_address(row, col)}" for row, col in sorted(own_skipped)]
    changes.update(styles_file.changes(new_parts))
    changes.update(new_parts.changes())
    return changes, tuple(addresses)


def _patch_part(
    package: _Package, entry: str, edits: dict[int, dict[int, CellValue]], writer: _CellWriter
) -> tuple[dict[str, bytes], list[tuple[int, int]]]:
    """New bytes for one worksheet part (and the tables that grow with it); the cells skipped."""
    tables = _load_tables(package, _norm_path(entry))
    skipped = _guard_table_headers(edits, tables)
    text, codec = package.read_text(entry)
    patch = _SheetPatch(text, edits, writer)
    changes = {entry: _encode(patch.run(), codec)}
    skipped += patch.skipped

    obstacles = [t.area for t in tables] + patch.obstacles()
    for table in tables:
        grown = table.grown(patch.written, [a for a in obstacles if a != table.area])
        if grown is not None:
            changes[table.entry] = _encode(grown, table.codec)
    return changes, skipped


def _write_zip(archive: zipfile.ZipFile, dst: Path, changes: dict[str, bytes]) -> None:
    """Copy every entry in order with its name, time, compression and attributes, or its change."""
    pending = dict(changes)
    try:
        with zipfile.ZipFile(dst, "w") as out:
            for info in archive.infolist():
                data = pending.pop(info.filename, None)
                copy = _copy_info(info)
                out.writestr(copy, archive.read(info) if data is None else data)
                # zipfile turns attributes of 0 into rw-------; they only go in the directory
                # written on close, so this puts back what the original said.
                copy.external_attr = info.external_attr
            for name, data in pending.items():  # parts that did not exist yet
                out.writestr(
                    zipfile.ZipInfo(name, datetime.now().timetuple()[:6]),
                    data,
                    compress_type=zipfile.ZIP_DEFLATED,
                )
            out.comment = archive.comment
    except BaseException:
        dst.unlink(missing_ok=True)
        raise


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.create_system = info.create_system
    copy.comment = info.comment
    return copy


# --- XML scanning ----------------------------------------------------------------------------
#
# The parts are handled as text so that everything not edited keeps its exact bytes. These
# helpers find elements whose name does not nest inside itself (row, c, xf, table parts...),
# skipping comments, CDATA and processing instructions.

_START_TAG = re.compile(
    r"<([^\s/>=<!?\"']+)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
)
_ATTR = re.compile(r"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_MARKUP = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"), ("<!", ">"))


@dataclass(frozen=True, slots=True)
class _Element:
    """Where one element sits in the text: start tag, content and end."""

    name: str
    attrs: str  # the raw attribute text, leading space included
    start: int
    inner_start: int
    inner_end: int
    end: int
    self_closing: bool
    prefix: str = ""  # the namespace prefix with its colon ("x:"), or ""

    @property
    def local(self) -> str:
        return self.name[len(self.prefix) :]

    def start_tag(self, attrs: str) -> str:
        """This element's start tag with other attributes (self-closing if it was)."""
        return f"<{self.name}{attrs}{'/' if self.self_closing else ''}>"


def _elements(text: str, pos: int, end: int) -> Iterator[_Element]:
    """The child elements between `pos` and `end`, in order."""
    while (lt := text.find("<", pos, end)) >= 0:
        if text.startswith(("<!", "<?"), lt):
            pos = _skip_markup(text, lt)
            continue
        match = _START_TAG.match(text, lt, end)
        if match is None:
            raise _Malformed(f"of unexpected XML near {text[lt : lt + 40]!r}")
        element = _element(text, match[1], match, end)
        yield element
        pos = element.end


def _element(text: str, name: str, match: re.Match[str], end: int) -> _Element:
    """The element whose start tag `match` found (attributes and slash are its last two groups)."""
    attrs, slash = match.group(match.re.groups - 1, match.re.groups)
    prefix = name[: name.find(":") + 1]
    start, tag_end = match.span()
    if slash:
        return _Element(name, attrs, start, tag_end, tag_end, tag_end, True, prefix)
    close_start, close_end = _find_close(text, name, tag_end, end)
    return _Element(name, attrs, start, tag_end, close_start, close_end, False, prefix)


@cache
def _start_tag_of(name: str) -> re.Pattern[str]:
    """Start tags named exactly `name` (prefix included)."""
    return re.compile(
        rf"<{re.escape(name)}(?=[\s/>])((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
    )


@cache
def _cell_tag(prefix: str) -> re.Pattern[str]:
    """The start of each cell's tag, with its `r` value when it has one."""
    return re.compile(rf"<{re.escape(prefix)}c(?=[\s/>])(?:[^>]*?\sr\s*=\s*([\"'])(.*?)\1)?")


def _outside_markup(
    text: str, pattern: re.Pattern[str], start: int, end: int
) -> Iterator[re.Match[str]]:
    """Matches of `pattern` between `start` and `end` that are not inside comments or CDATA."""
    if text.find("<!", start, end) < 0:
        yield from pattern.finditer(text, start, end)
        return
    spans = _markup_spans(text, start, end)
    span_start, span_end = next(spans, (end, end))
    while match := pattern.search(text, start, end):
        while span_end <= match.start():
            span_start, span_end = next(spans, (end, end))
        if span_start <= match.start():
            start = span_end
            continue
        yield match
        start = match.end()


def _markup_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while (lt := text.find("<!", start, end)) >= 0:
        start = _skip_markup(text, lt)
        yield lt, start


def _skip_markup(text: str, pos: int) -> int:
    """The end of the comment, CDATA section or processing instruction starting at `pos`."""
    for opener, closer in _MARKUP:
        if text.startswith(opener, pos):
            end = text.find(closer, pos + len(opener))
            if end < 0:
                break
            return end + len(closer)
    raise _Malformed(f"of unterminated XML markup near {text[pos : pos + 40]!r}")


@cache
def _closer(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{re.escape(name)}\s*>")


def _find_close(text: str, name: str, pos: int, end: int) -> tuple[int, int]:
    """Start and end of the end tag of `name`, ignoring look-alikes inside CDATA or comments."""
    closer = _closer(name)
    match = closer.search(text, pos, end)
    while match:
        markup = text.find("<!", pos, match.start())
        if markup < 0:
            return match.span()
        pos = _skip_markup(text, markup)
        if pos > match.start():
            match = closer.search(text, pos, end)
    raise _Malformed(f"an XML element <{name}> is never closed")


def _root(text: str) -> _Element:
    root = next(_elements(text, 0, len(text)), None)
    if root is None:
        raise _Malformed("an XML part is empty")
    return root


@cache
def _attr_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|\s){re.escape(name)}\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def _attr(attrs: str, name: str) -> str | None:
    """One attribute's unescaped value from raw attribute text."""
    match = _attr_pattern(name).search(attrs)
    if match is None:
        return None
    raw = match[1] if match[1] is not None else match[2]
    return html.unescape(raw) if "&" in raw else raw


def _set_attr(attrs: str, name: str, value: str) -> str:
    """Raw attribute text with `name` set to `value` (in place if present, else appended)."""
    quoted = f'"{_escape(value, quote=True)}"'
    match = _attr_pattern(name).search(attrs)
    if match is None:
        return f"{attrs} {name}={quoted}"
    group = 1 if match[1] is not None else 2
    return attrs[: match.start(group) - 1] + quoted + attrs[match.end(group) + 1 :]


def _tag_attrs(
    text: str, local: str, pos: int = 0, end: int | None = None
) -> Iterator[dict[str, str]]:
    """The attributes of every start tag named `local` (any prefix) between `pos` and `end`."""
    for match in _tag_pattern(local).finditer(text, pos, len(text) if end is None else end):
        yield dict(_attr_items(match[1]))


def _attr_items(attrs: str) -> Iterator[tuple[str, str]]:
    """(name, unescaped value) of each attribute in raw attribute text, in order."""
    for match in _ATTR.finditer(attrs):
        raw = match[2] if match[2] is not None else match[3]
        yield match[1], html.unescape(raw) if "&" in raw else raw


@cache
def _tag_pattern(local: str) -> re.Pattern[str]:
    return re.compile(
        rf"<(?:[\w.-]+:)?{local}(?=[\s/>])((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*/?>"
    )


def _splice(text: str, start: int, end: int, edits: list[tuple[int, int, str]]) -> str:
    """text[start:end] with each (from, to, replacement) applied; edits must not overlap."""
    pieces, pos = [], start
    for edit_start, edit_end, replacement in sorted(edits, key=lambda edit: edit[0]):
        pieces += (text[pos:edit_start], replacement)
        pos = edit_end
    pieces.append(text[pos:end])
    return "".join(pieces)


_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _escape(text: str, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def _xstring(text: str) -> str:
    """Text as Excel stores it: no XML-illegal characters, and a literal "_x000D_" kept literal."""
    text = _ILLEGAL_XML.sub("", text)[:_MAX_TEXT]
    return _LOOKS_ESCAPED.sub(r"_x005F_\1", text)


# --- cell references -------------------------------------------------------------------------


class _Area(NamedTuple):
    top: int
    left: int
    bottom: int
    right: int

    def contains(self, row: int, col: int) -> bool:
        return self.top <= row <= self.bottom and self.left <= col <= self.right

    def overlaps(self, other: _Area) -> bool:
        return not (
            other.left > self.right
            or other.right < self.left
            or other.top > self.bottom
            or other.bottom < self.top
        )

    def ref(self) -> str:
        first, last = cell_address(self.top, self.left), cell_address(self.bottom, self.right)
        return first if first == last else f"{first}:{last}"


_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


@cache
def _column_number(letters: str) -> int:
    """'A' -> 1, 'AA' -> 27; a _Malformed for anything that is not a column."""
    if not (1 <= len(letters) <= 3 and letters.isascii() and letters.isalpha()):
        raise _Malformed(f"of a bad cell reference {letters!r} in its sheet")
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def _parse_cell(ref: str) -> tuple[int, int] | None:
    match = _CELL_REF.fullmatch(ref.strip())
    return (int(match[2]), _column_number(match[1])) if match else None


def _parse_area(ref: str | None) -> _Area | None:
    """'A1:D9' (or 'A1') as an area; None for anything else (whole columns, lists)."""
    first, _, last = (ref or "").partition(":")
    start, end = _parse_cell(first), _parse_cell(last or first)
    if start is None or end is None:
        return None
    (top, bottom), (left, right) = sorted((start[0], end[0])), sorted((start[1], end[1]))
    return _Area(top, left, bottom, right)


# --- the sheet part --------------------------------------------------------------------------


class _SheetPatch:
    """One pass over a worksheet's XML that replaces or inserts the edited cells."""

    def __init__(
        self, text: str, edits: dict[int, dict[int, CellValue]], writer: _CellWriter
    ) -> None:
        self.text = text
        self.edits = edits
        self.writer = writer
        self.skipped: list[tuple[int, int]] = []
        self.written: dict[tuple[int, int], CellValue] = {}
        match = _tag_pattern("sheetData").search(text)
        if match is None:
            raise _Malformed("its sheet has no cell data (no <sheetData>)")
        self.data = next(_elements(text, match.start(), len(text)))
        self.column_styles = [
            (_int(a.get("min"), 0), _int(a.get("max"), 0), _style_index(a.get("style")))
            for a in _tag_attrs(text, "col", 0, self.data.start)
        ]
        self.arrays = _array_formula_areas(text, self.data, _start_tag_of(f"{self.data.prefix}f"))

    def run(self) -> str:
        """The new sheet XML."""
        edits = self._row_edits()
        edits += self._dimension_edit()
        return _splice(self.text, 0, len(self.text), edits)

    def obstacles(self) -> list[_Area]:
        """Merged ranges and the sheet's autofilter: a table must not grow over them."""
        tail_start = self.data.end
        areas = [_parse_area(a.get("ref")) for a in _tag_attrs(self.text, "mergeCell", tail_start)]
        areas += [
            _parse_area(a.get("ref")) for a in _tag_attrs(self.text, "autoFilter", tail_start)
        ]
        return [area for area in areas if area]

    def _row_edits(self) -> list[tuple[int, int, str]]:
        text, data = self.text, self.data
        name = f"{data.prefix}row"
        first = next(_elements(text, data.inner_start, data.inner_end), None)
        if first is not None and first.name != name:
            raise _Malformed(f"its sheet data holds an unexpected <{first.name}>")
        pending = sorted(self.edits)
        edits: list[tuple[int, int, str]] = []
        index, previous = 0, 0
        for match in _outside_markup(text, _start_tag_of(name), data.inner_start, data.inner_end):
            number = _int(_attr(match[1], "r"), previous + 1)
            if number <= previous:
                raise _Malformed(f"row {number} of its sheet comes after row {previous}")
            while index < len(pending) and pending[index] < number:
                edits.append(
                    (match.start(), match.start(), self._new_row(data.prefix, pending[index]))
                )
                index += 1
            if index < len(pending) and pending[index] == number:
                row = _element(text, name, match, data.inner_end)
                edits.append((row.start, row.end, self._patched_row(row, number)))
                index += 1
            previous = number
        rest = "".join(self._new_row(data.prefix, number) for number in pending[index:])
        if data.self_closing:
            opened = f"<{data.name}{data.attrs}>{rest}</{data.name}>"
            edits.append((data.start, data.end, opened))
        elif rest:
            edits.append((data.inner_end, data.inner_end, rest))
        return edits

    def _new_row(self, prefix: str, number: int) -> str:
        cells = "".join(
            self._new_cell(prefix, number, col, value, None)
            for col, value in sorted(self.edits[number].items())
        )
        return f'<{prefix}row r="{number}">{cells}</{prefix}row>' if cells else ""

    def _patched_row(self, row: _Element, number: int) -> str:
        """The row with its edited cells replaced and the missing ones inserted in column order."""
        text, edits = self.text, self.edits[number]
        row_style = _style_index(_attr(row.attrs, "s")) if _truthy(row, "customFormat") else None
        starts, cols = self._cells(row, number, min(edits))
        splices: list[tuple[int, int, str]] = []
        inserted: list[int] = []
        for col in sorted(edits):
            i = bisect_left(cols, col)
            if i < len(cols) and cols[i] == col:
                cell = self._cell_at(row, starts[i])
                splices.append((cell.start, cell.end, self._replaced_cell(cell, number, col)))
            elif new := self._new_cell(row.prefix, number, col, edits[col], row_style):
                at = starts[i] if i < len(starts) else self._after_cells(row, starts)
                splices.append((at, at, new))
                inserted.append(col)
        attrs = _widened_spans(row.attrs, inserted)
        if attrs == row.attrs and not row.self_closing:
            start_tag = text[row.start : row.inner_start]
        else:
            start_tag = f"<{row.name}{attrs}>"
        end_tag = f"</{row.name}>" if row.self_closing else text[row.inner_end : row.end]
        return start_tag + _splice(text, row.inner_start, row.inner_end, splices) + end_tag

    def _cell_at(self, row: _Element, start: int) -> _Element:
        name = f"{row.prefix}c"
        return _element(self.text, name, _start_tag_of(name).match(self.text, start), row.inner_end)

    def _after_cells(self, row: _Element, starts: list[int]) -> int:
        """Where a cell right of all others goes: after the last cell, before any <extLst>."""
        return self._cell_at(row, starts[-1]).end if starts else row.inner_start

    def _cells(self, row: _Element, number: int, first_col: int) -> tuple[list[int], list[int]]:
        """Where the row's cells start and their columns, walking back from the last cell.

        The walk stops at the first cell left of `first_col`: the edits are usually the last
        columns, so the cells before them need not be read at all.
        """
        text, tag, pattern = self.text, f"<{row.prefix}c", _cell_tag(row.prefix)
        markup = list(_markup_spans(text, row.inner_start, row.inner_end))  # usually none
        starts: list[int] = []
        cols: list[int] = []
        end = row.inner_end
        while (at := text.rfind(tag, row.inner_start, end)) >= 0:
            end = at
            match = pattern.match(text, at)
            if match is None or any(a <= at < b for a, b in markup):
                continue
            if not match[2]:  # without `r` a cell's column depends on the cells before it
                return self._all_cells(row, number)
            col = _column_number(match[2].rstrip("0123456789"))
            if cols and col >= cols[-1]:
                raise _Malformed(f"the cells of row {number} of its sheet are out of order")
            starts.append(at)
            cols.append(col)
            if col < first_col:
                break
        return starts[::-1], cols[::-1]

    def _all_cells(self, row: _Element, number: int) -> tuple[list[int], list[int]]:
        """Where each cell of the row starts, and its column (from `r`, else the next column)."""
        starts: list[int] = []
        cols: list[int] = []
        previous = 0
        pattern = _cell_tag(row.prefix)
        for match in _outside_markup(self.text, pattern, row.inner_start, row.inner_end):
            ref = match[2]
            col = _column_number(ref.rstrip("0123456789")) if ref else previous + 1
            if col <= previous:
                raise _Malformed(f"the cells of row {number} of its sheet are out of order")
            starts.append(match.start())
            cols.append(col)
            previous = col
        return starts, cols

    def _new_cell(
        self, prefix: str, row: int, col: int, value: CellValue, row_style: int | None
    ) -> str:
        if value is None:
            return ""
        self.written[(row, col)] = value
        style = row_style if row_style is not None else self._column_style(col)
        return self.writer.cell(prefix, cell_address(row, col), style, value)

    def _replaced_cell(self, cell: _Element, row: int, col: int) -> str:
        """The cell with the new value and its own style, or unchanged if it holds a formula."""
        if self._has_formula(cell) or any(area.contains(row, col) for area in self.arrays):
            self.skipped.append((row, col))
            return self.text[cell.start : cell.end]
        value = self.edits[row][col]
        if value is not None:
            self.written[(row, col)] = value
        style = _style_index(_attr(cell.attrs, "s"))
        return self.writer.cell(cell.prefix, cell_address(row, col), style, value)

    def _has_formula(self, cell: _Element) -> bool:
        tag = f"<{cell.prefix}f"
        if self.text.find(tag, cell.inner_start, cell.inner_end) < 0:
            return False
        pattern = _start_tag_of(tag[1:])
        return (
            next(_outside_markup(self.text, pattern, cell.inner_start, cell.inner_end), None)
            is not None
        )

    def _column_style(self, col: int) -> int:
        """The style Excel gives a new cell in this column: the column's own format, if any."""
        return next((s for low, high, s in self.column_styles if low <= col <= high), 0)

    def _dimension_edit(self) -> list[tuple[int, int, str]]:
        """Widen <dimension ref> to cover the written cells."""
        match = _tag_pattern("dimension").search(self.text, 0, self.data.start)
        if match is None or not self.written:
            return []
        tag = next(_elements(self.text, match.start(), self.data.start))
        old = _parse_area(_attr(tag.attrs, "ref"))
        if old is None:
            return []
        rows = [row for row, _ in self.written] + [old.top, old.bottom]
        cols = [col for _, col in self.written] + [old.left, old.right]
        new = _Area(min(rows), min(cols), max(rows), max(cols))
        if new == old:
            return []
        return [(tag.start, tag.inner_start, tag.start_tag(_set_attr(tag.attrs, "ref", new.ref())))]


def _widened_spans(attrs: str, inserted: list[int]) -> str:
    """Row attributes whose `spans` hint ("1:18") still covers the inserted columns."""
    spans = _attr(attrs, "spans")
    if spans is None or not inserted:
        return attrs
    bounds = [int(n) for n in re.findall(r"\d+", spans)]
    pairs = list(zip(bounds[::2], bounds[1::2], strict=False))
    if all(any(low <= col <= high for low, high in pairs) for col in inserted):
        return attrs
    return _set_attr(attrs, "spans", f"{min(bounds + inserted)}:{max(bounds + inserted)}")


def _array_formula_areas(text: str, data: _Element, formula: re.Pattern[str]) -> list[_Area]:
    """Ranges filled by array formulas or data tables: writing inside one would break it."""
    areas = []
    for match in _outside_markup(text, formula, data.inner_start, data.inner_end):
        if match[1] and _attr(match[1], "t") in ("array", "dataTable"):
            area = _parse_area(_attr(match[1], "ref"))
            if area:
                areas.append(area)
    return areas


def _int(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise _Malformed(f"of a bad number {raw!r} in its sheet") from None


def _style_index(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() else 0


def _truthy(element: _Element, name: str) -> bool:
    return (_attr(element.attrs, name) or "").lower() in ("1", "true")


# --- cell values -----------------------------------------------------------------------------


class _CellWriter:
    """Renders a cell: text as an inline string, numbers as numbers, dates as styled serials."""

    def __init__(self, date1904: bool, styles: Callable[[], _Styles]) -> None:
        self.date1904 = date1904
        self.styles = styles

    def cell(self, prefix: str, ref: str, style: int, value: CellValue) -> str:
        if isinstance(value, date):
            serial = _serial(value, self.date1904)
            if serial is None:  # before the workbook's first date: keep it readable as text
                value = value.isoformat()
            else:
                style, value = self.styles().date_style(style), serial
        kind, body = "", ""
        if isinstance(value, str):
            kind = ' t="inlineStr"'
            text = _cell_text(value)
            body = f'<{prefix}is><{prefix}t xml:space="preserve">{text}</{prefix}t></{prefix}is>'
        elif value is not None:
            body = f"<{prefix}v>{value!r}</{prefix}v>"
        styled = f' s="{style}"' if style else ""
        if not body:
            return f'<{prefix}c r="{ref}"{styled}/>'
        return f'<{prefix}c r="{ref}"{styled}{kind}>{body}</{prefix}c>'


@lru_cache(maxsize=4096)
def _cell_text(value: str) -> str:
    """Escaped cell text; cached because a sheet repeats the same statuses and actions."""
    return _escape(_xstring(value))


def _serial(value: date, date1904: bool) -> int | float | None:
    """Excel's day number for `value`, or None when the date system cannot show it."""
    fraction = 0.0
    if isinstance(value, datetime):
        fraction = (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        value = value.date()
    days = (value - date(1904, 1, 1)).days if date1904 else (value - date(1899, 12, 31)).days
    if not date1904 and days >= 60:
        days += 1  # Excel counts the 29 February 1900 that never was
    if days < (0 if date1904 else 1):
        return None
    return days + fraction if fraction else days


# --- styles ----------------------------------------------------------------------------------

_STYLE_SECTIONS = (  # the order the schema requires
    *("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles"),
    *("dxfs", "tableStyles", "colors", "extLst"),
)
# What Excel writes into an empty workbook's styles.xml, as (children, count) per section.
_DEFAULT_SECTIONS = {
    "fonts": ('<{p}font><{p}sz val="11"/><{p}name val="Calibri"/></{p}font>', 1),
    "fills": (
        '<{p}fill><{p}patternFill patternType="none"/></{p}fill>'
        '<{p}fill><{p}patternFill patternType="gray125"/></{p}fill>',
        2,
    ),
    "borders": (
        "<{p}border><{p}left/><{p}right/><{p}top/><{p}bottom/><{p}diagonal/></{p}border>",
        1,
    ),
    "cellStyleXfs": ('<{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>', 1),
    "cellStyles": ('<{p}cellStyle name="Normal" xfId="0" builtinId="0"/>', 1),
}
_BUILTIN_DATE_FORMATS = {
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    22: "m/d/yy h:mm",
}
_BUILTIN_LOCAL_DATES = {*range(27, 37), *range(50, 59)}  # East-Asian date formats
_NEW_DATE_FORMAT = "yyyy-mm-dd"
_NOT_FORMAT_CODE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|[_*].')


def _format_letters(code: str) -> str:
    """The letters of a number format's first section that stand for parts of a date or time."""
    return _NOT_FORMAT_CODE.sub("", code).split(";")[0].lower()


@dataclass(frozen=True)
class _Xf:
    """One cellXfs entry: its attributes in order (unescaped) and its children as raw XML."""

    attrs: tuple[tuple[str, str], ...]
    inner: str = ""

    @property
    def num_fmt(self) -> int:
        return _style_index(dict(self.attrs).get("numFmtId"))

    def look(self) -> tuple[frozenset[tuple[str, str]], str]:
        """Everything but the number format: font, fill, border, alignment..."""
        ignore = ("numFmtId", "applyNumberFormat")
        return frozenset(a for a in self.attrs if a[0] not in ignore), self.inner

    def with_num_fmt(self, fmt: int) -> _Xf:
        attrs = dict(self.attrs)
        if "numFmtId" not in attrs:
            attrs = {"numFmtId": "", **attrs}
        attrs.update(numFmtId=str(fmt), applyNumberFormat="1")
        return replace(self, attrs=tuple(attrs.items()))

    def xml(self, prefix: str) -> str:
        attrs = "".join(f' {k}="{_escape(v, quote=True)}"' for k, v in self.attrs)
        if not self.inner:
            return f"<{prefix}xf{attrs}/>"
        return f"<{prefix}xf{attrs}>{self.inner}</{prefix}xf>"


_DEFAULT_XF = _Xf(
    (("numFmtId", "0"), ("fontId", "0"), ("fillId", "0"), ("borderId", "0"), ("xfId", "0"))
)


@dataclass
class _Styles:
    """styles.xml, and the date styles to add to it."""

    text: str
    new_formats: list[tuple[int, str]] = field(default_factory=list)
    new_xfs: list[_Xf] = field(default_factory=list)
    date_styles: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        root = _root(self.text)
        if root.self_closing:
            opened = f"<{root.name}{root.attrs}></{root.name}>"
            self.text = self.text[: root.start] + opened + self.text[root.end :]
            root = _root(self.text)
        self.root = root
        self.sections = {
            el.local: el for el in _elements(self.text, root.inner_start, root.inner_end)
        }
        self.formats: dict[int, str] = {}
        if numfmts := self.sections.get("numFmts"):
            for attrs in _tag_attrs(self.text, "numFmt", numfmts.start, numfmts.end):
                self.formats[_style_index(attrs.get("numFmtId"))] = attrs.get("formatCode", "")
        used = [_style_index(a.get("numFmtId")) for a in _tag_attrs(self.text, "numFmt")]
        self.next_format = max([163, *used]) + 1
        self.xfs = self._existing_xfs()
        # Without any cellXfs every cell shows as a plain xf 0, which render() must then add.
        self.adds_default = not self.xfs
        self.xfs = self.xfs or [_DEFAULT_XF]

    def _existing_xfs(self) -> list[_Xf]:
        section = self.sections.get("cellXfs")
        if section is None:
            return []
        return [
            _Xf(tuple(_attr_items(el.attrs)), self.text[el.inner_start : el.inner_end])
            for el in _elements(self.text, section.inner_start, section.inner_end)
        ]

    def all_xfs(self) -> list[_Xf]:
        return self.xfs + self.new_xfs

    def date_style(self, style: int) -> int:
        """A style that shows dates and otherwise looks like `style` (added if there is none)."""
        if style not in self.date_styles:
            self.date_styles[style] = self._date_style(style)
        return self.date_styles[style]

    def _date_style(self, style: int) -> int:
        xfs = self.all_xfs()
        style = style if style < len(xfs) else 0
        base = xfs[style]
        if self._is_date(base.num_fmt):
            return style
        for index, xf in enumerate(xfs):
            if xf.look() == base.look() and self._is_plain_date(xf.num_fmt):
                return index
        self.new_xfs.append(base.with_num_fmt(self._date_format()))
        return len(xfs)

    def _code(self, fmt: int) -> str | None:
        return self.formats.get(fmt, _BUILTIN_DATE_FORMATS.get(fmt))

    def _is_date(self, fmt: int) -> bool:
        code = self._code(fmt)
        if code is None:
            return fmt in _BUILTIN_LOCAL_DATES
        letters = _format_letters(code)
        return "d" in letters or "y" in letters

    def _is_plain_date(self, fmt: int) -> bool:
        """A format with day and year and no time of day: what a follow-up date should look like."""
        letters = _format_letters(self._code(fmt) or "")
        return all(c in letters for c in "dy") and not any(c in letters for c in "hs")

    def _date_format(self) -> int:
        """The workbook's own date format if it uses one, else yyyy-mm-dd."""
        for xf in self.all_xfs():
            if self._is_plain_date(xf.num_fmt):
                return xf.num_fmt
        for fmt, code in self.formats.items():
            if code.lower() == _NEW_DATE_FORMAT:
                return fmt
        fmt, self.next_format = self.next_format, self.next_format + 1
        self.formats[fmt] = _NEW_DATE_FORMAT
        self.new_formats.append((fmt, _NEW_DATE_FORMAT))
        return fmt

    def render(self) -> str | None:
        """The new styles.xml, or None when nothing was added."""
        if not self.new_xfs:
            return None
        p = self.root.prefix
        additions: dict[str, tuple[str, int]] = {}
        if self.new_formats:
            additions["numFmts"] = (
                "".join(
                    f'<{p}numFmt numFmtId="{fmt}" formatCode="{_escape(code, quote=True)}"/>'
                    for fmt, code in self.new_formats
                ),
                len(self.formats),
            )
        new_xfs = self.new_xfs
        if self.adds_default:
            for name, (children, count) in _DEFAULT_SECTIONS.items():
                if name not in self.sections:
                    additions[name] = (children.format(p=p), count)
            new_xfs = self.xfs + new_xfs
        additions["cellXfs"] = ("".join(xf.xml(p) for xf in new_xfs), len(self.all_xfs()))
        edits = [
            edit
            for section in _STYLE_SECTIONS
            if section in additions
            for edit in self._append(section, *additions[section])
        ]
        return _splice(self.text, 0, len(self.text), edits)

    def _append(self, section: str, children: str, count: int) -> list[tuple[int, int, str]]:
        """Edits that add `children` to a section, creating it in schema order if missing."""
        name = f"{self.root.prefix}{section}"
        element = self.sections.get(section)
        if element is None:
            later = _STYLE_SECTIONS[_STYLE_SECTIONS.index(section) + 1 :]
            at = next(
                (self.sections[s].start for s in later if s in self.sections),
                self.root.inner_end,
            )
            return [(at, at, f'<{name} count="{count}">{children}</{name}>')]
        attrs = _set_attr(element.attrs, "count", str(count))
        if element.self_closing:
            return [(element.start, element.end, f"<{element.name}{attrs}>{children}</{name}>")]
        return [
            (element.start, element.inner_start, f"<{element.name}{attrs}>"),
            (element.inner_end, element.inner_end, children),
        ]


_STYLES_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_MAIN_NS = {
    True: "http://purl.oclc.org/ooxml/spreadsheetml/main",
    False: "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
}


class _StylesFile:
    """The workbook's styles part, read only when a date is written, created if it is missing."""

    def __init__(self, package: _Package, book: _Book, sheet_rel: _Rel) -> None:
        self.package = package
        self.book = book
        self.sheet_rel = sheet_rel
        self.entry = package.entry(book.styles.target or "") if book.styles else None
        self._styles: _Styles | None = None
        self.codec = "utf-8"

    def styles(self) -> _Styles:
        if self._styles is None:
            if self.entry is None and self.book.styles is not None:
                raise _Malformed("its styles part is missing")
            if self.entry is None:
                strict = self.sheet_rel.type.startswith("http://purl.oclc.org/")
                text = (
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<styleSheet xmlns="{_MAIN_NS[strict]}"></styleSheet>'
                )
            else:
                text, self.codec = self.package.read_text(self.entry)
            self._styles = _Styles(text)
        return self._styles

    def changes(self, new_parts: _NewParts) -> dict[str, bytes]:
        """New bytes for styles.xml; a new one is registered with `new_parts`."""
        text = self._styles.render() if self._styles else None
        if text is None:
            return {}
        if self.entry is not None:
            return {self.entry: _encode(text, self.codec)}
        folder = posixpath.dirname(self.book.part)
        part = new_parts.free_name(
            folder, ("styles.xml", *(f"styles{i}.xml" for i in range(1, 100)))
        )
        rel_type = self.sheet_rel.type.rpartition("/")[0] + "/styles"
        new_parts.add(part, rel_type, _STYLES_CONTENT_TYPE)
        return {part: _encode(text, "utf-8")}


class _NewParts:
    """Parts added to the package: each gets a relationship from the workbook part and a
    content-type override, accumulated here so several new parts share one edit of each list."""

    def __init__(self, package: _Package, book: _Book) -> None:
        self.package = package
        self.folder = posixpath.dirname(book.part)
        self.rels_entry = package.entry(
            posixpath.join(self.folder, "_rels", posixpath.basename(book.part) + ".rels")
        )
        self.types_entry = package.entry("[Content_Types].xml")
        self.edited: dict[str, tuple[str, str]] = {}  # entry -> (text, codec)
        self.added: set[str] = set()

    def free_name(self, folder: str, names: Iterable[str]) -> str:
        """The first of `names` in `folder` that no part uses yet."""
        return next(
            part
            for part in (posixpath.join(folder, name) for name in names)
            if self.package.entry(part) is None and _norm(part) not in self.added
        )

    def add(self, part: str, rel_type: str, content_type: str) -> str:
        """Register a new part; returns the id of its relationship from the workbook part."""
        if self.rels_entry is None or self.types_entry is None:
            raise _Malformed("it has no relationship or content-type list")
        rels = self._text(self.rels_entry)
        ids = set(re.findall(r'\bId\s*=\s*["\']([^"\']*)', rels))
        rid = next(f"rId{n}" for n in count(1) if f"rId{n}" not in ids)
        target = posixpath.relpath(part, self.folder or ".")
        self._edit(
            self.rels_entry,
            _append_child(rels, "Relationship", Id=rid, Type=rel_type, Target=target),
        )
        types = self._text(self.types_entry)
        self._edit(
            self.types_entry,
            _append_child(types, "Override", PartName=f"/{part}", ContentType=content_type),
        )
        self.added.add(_norm(part))
        return rid

    def _text(self, entry: str) -> str:
        if entry not in self.edited:
            self.edited[entry] = self.package.read_text(entry)
        return self.edited[entry][0]

    def _edit(self, entry: str, text: str) -> None:
        self.edited[entry] = (text, self.edited[entry][1])

    def changes(self) -> dict[str, bytes]:
        return {entry: _encode(text, codec) for entry, (text, codec) in self.edited.items()}


# --- the program's own sheet -----------------------------------------------------------------

_WORKSHEET_CONTENT_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
)


def _patch_own_sheet(
    package: _Package,
    book: _Book,
    sheet_rel: _Rel,
    own: OwnSheet,
    edits: dict[int, dict[int, CellValue]],
    writer: _CellWriter,
    new_parts: _NewParts,
) -> tuple[dict[str, bytes], list[tuple[int, int]]]:
    """Patch the own sheet, or create it as the last sheet, beside the contacts sheet's part."""
    name = next((n for n in book.sheets if n.casefold() == own.name.casefold()), None)
    if name is not None:
        _, entry = book.sheet_part(package, name)
        return _patch_part(package, entry, edits, writer)
    strict = sheet_rel.type.startswith("http://purl.oclc.org/")
    folder = posixpath.dirname(sheet_rel.target or "xl/worksheets/sheet1.xml")
    part = new_parts.free_name(folder, (f"sheet{n}.xml" for n in count(1)))
    patch = _SheetPatch(_new_sheet_xml(strict, own.widths), edits, writer)
    changes = {part: _encode(patch.run(), "utf-8")}
    rid = new_parts.add(part, sheet_rel.type, _WORKSHEET_CONTENT_TYPE)
    changes.update(_listed_in_workbook(package, book, own.name, rid))
    changes.update(_listed_in_app_titles(package, own.name))
    return changes, patch.skipped


def _new_sheet_xml(strict: bool, widths: tuple[float, ...]) -> str:
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{width:g}" customWidth="1"/>'
        for n, width in enumerate(widths, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{_MAIN_NS[strict]}"><dimension ref="A1"/>'
        '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/>{f"<cols>{cols}</cols>" if cols else ""}'
        "<sheetData/></worksheet>"
    )


def _listed_in_workbook(package: _Package, book: _Book, name: str, rid: str) -> dict[str, bytes]:
    """workbook.xml with the new sheet as the last <sheet> of <sheets>."""
    entry = package.entry(book.part)
    assert entry is not None  # _Book.load found it
    text, codec = package.read_text(entry)
    sheets = _first_element(text, "sheets")
    if sheets is None:
        raise _Malformed("its workbook part lists no sheets")
    listed = list(_tag_attrs(text, "sheet", sheets.start, sheets.end))
    # The relationship attribute keeps the prefix the file already declares (r:id, or another).
    id_attr = next((key for attrs in listed for key in attrs if key.endswith(":id")), "r:id")
    sheet_id = max((_style_index(attrs.get("sheetId")) for attrs in listed), default=0) + 1
    child = (
        f'<{sheets.prefix}sheet name="{_escape(name, quote=True)}" sheetId="{sheet_id}" '
        f'{id_attr}="{rid}"/>'
    )
    if sheets.self_closing:
        edit = (sheets.start, sheets.end, f"<{sheets.name}{sheets.attrs}>{child}</{sheets.name}>")
    else:
        edit = (sheets.inner_end, sheets.inner_end, child)
    return {entry: _encode(_splice(text, 0, len(text), [edit]), codec)}


def _listed_in_app_titles(package: _Package, name: str) -> dict[str, bytes]:
    """docProps/app.xml with the new sheet among its worksheet titles, when it has that list.

    The list is only a summary Excel rebuilds on every save, so a file whose list is not laid
    out as Excel and LibreOffice write it keeps its app.xml unchanged.
    """
    app = [r.target for r in _rels(package, "") if r.type.endswith("/extended-properties")]
    entry = package.entry(next(filter(None, app), "docProps/app.xml"))
    if entry is None:
        return {}
    text, codec = package.read_text(entry)
    try:
        edits = _app_title_edits(text, name)
    except (ValueError, _Malformed):
        return {}
    return {entry: _encode(_splice(text, 0, len(text), edits), codec)} if edits else {}


def _app_title_edits(text: str, name: str) -> list[tuple[int, int, str]]:
    """Edits that count one more worksheet in HeadingPairs and add `name` to TitlesOfParts."""
    pairs = _first_element(text, "HeadingPairs")
    titles = _first_element(text, "TitlesOfParts")
    if pairs is None or titles is None:
        return []
    pair_vector = _first_element(text, "vector", pairs.inner_start, pairs.inner_end)
    title_vector = _first_element(text, "vector", titles.inner_start, titles.inner_end)
    if pair_vector is None or title_vector is None or title_vector.self_closing:
        return []
    variants = [
        next(_elements(text, v.inner_start, v.inner_end))
        for v in _elements(text, pair_vector.inner_start, pair_vector.inner_end)
    ]
    before = 0
    for label, number in zip(variants[::2], variants[1::2], strict=False):
        sheets_count = int(text[number.inner_start : number.inner_end])
        if text[label.inner_start : label.inner_end] == "Worksheets":
            break
        before += sheets_count
    else:
        return []
    entries = list(_elements(text, title_vector.inner_start, title_vector.inner_end))
    index = before + sheets_count  # the worksheet titles come first, in the order of the pairs
    at = entries[index].start if index < len(entries) else title_vector.inner_end
    size = _set_attr(title_vector.attrs, "size", str(len(entries) + 1))
    tag = f"{title_vector.prefix}lpstr"
    return [
        (number.inner_start, number.inner_end, str(sheets_count + 1)),
        (title_vector.start, title_vector.inner_start, f"<{title_vector.name}{size}>"),
        (at, at, f"<{tag}>{_escape(name)}</{tag}>"),
    ]


def _first_element(text: str, local: str, pos: int = 0, end: int | None = None) -> _Element | None:
    """The first element named `local` (any prefix) between `pos` and `end`."""
    end = len(text) if end is None else end
    match = _tag_pattern(local).search(text, pos, end)
    return next(_elements(text, match.start(), end)) if match else None


def _append_child(text: str, local: str, **attrs: str) -> str:
    """The document with an empty element added as the root element's last child."""
    root = _root(text)
    values = "".join(f' {k}="{_escape(v, quote=True)}"' for k, v in attrs.items())
    child = f"<{root.prefix}{local}{values}/>"
    if root.self_closing:
        edit = (root.start, root.end, f"<{root.name}{root.attrs}>{child}</{root.name}>")
    else:
        edit = (root.inner_end, root.inner_end, child)
    return _splice(text, 0, len(text), [edit])


# --- tables ----------------------------------------------------------------------------------


@dataclass
class _Table:
    """An Excel table (ListObject) on the sheet: where it is and its column names."""

    entry: str
    text: str
    codec: str
    root: _Element
    area: _Area
    names: list[str]

    @property
    def has_header(self) -> bool:
        return (_attr(self.root.attrs, "headerRowCount") or "1") != "0"

    def header_name(self, col: int) -> str | None:
        index = col - self.area.left
        return self.names[index] if 0 <= index < len(self.names) else None

    def grown(
        self, written: dict[tuple[int, int], CellValue], obstacles: list[_Area]
    ) -> str | None:
        """The table part widened over header cells written just right of it, if any."""
        if not self.has_header or _attr(self.root.attrs, "tableType") not in (None, "worksheet"):
            return None
        added: list[str] = []
        taken = {name.casefold() for name in self.names}
        for col in count(self.area.right + 1):
            value = written.get((self.area.top, col))
            name = _xstring(value) if isinstance(value, str) else ""
            if not name.strip() or name.casefold() in taken or any(c < " " for c in name):
                break
            taken.add(name.casefold())
            added.append(name)
        if not added:
            return None
        extension = self.area._replace(left=self.area.right + 1, right=self.area.right + len(added))
        if any(extension.overlaps(other) for other in obstacles):
            return None
        return self._widened(extension.right, added)

    def _widened(self, right: int, names: list[str]) -> str:
        text, root = self.text, self.root
        new_ref = self.area._replace(right=right).ref()
        edits = [
            (root.start, root.inner_start, f"<{root.name}{_set_attr(root.attrs, 'ref', new_ref)}>")
        ]
        for child in _elements(text, root.inner_start, root.inner_end):
            if child.local == "autoFilter" and (area := _parse_area(_attr(child.attrs, "ref"))):
                attrs = _set_attr(child.attrs, "ref", area._replace(right=right).ref())
                edits.append((child.start, child.inner_start, child.start_tag(attrs)))
            elif child.local == "tableColumns" and not child.self_closing:
                existing = _tag_attrs(text, "tableColumn", child.start, child.end)
                first = max((_style_index(a.get("id")) for a in existing), default=0) + 1
                added = "".join(
                    f'<{child.prefix}tableColumn id="{first + i}" '
                    f'name="{_escape(name, quote=True)}"/>'
                    for i, name in enumerate(names)
                )
                attrs = _set_attr(child.attrs, "count", str(len(self.names) + len(names)))
                edits += [
                    (child.start, child.inner_start, f"<{child.name}{attrs}>"),
                    (child.inner_end, child.inner_end, added),
                ]
        return _splice(text, 0, len(text), edits)


def _load_tables(package: _Package, sheet_part: str) -> list[_Table]:
    tables = []
    for rel in _rels(package, sheet_part, "/table"):
        entry = package.entry(rel.target or "") if rel.type.endswith("/table") else None
        if entry is None:
            continue
        text, codec = package.read_text(entry)
        root = _root(text)
        area = _parse_area(_attr(root.attrs, "ref"))
        if area is None:
            continue
        names = [a.get("name", "") for a in _tag_attrs(text, "tableColumn")]
        tables.append(_Table(entry, text, codec, root, area, names))
    return tables


def _guard_table_headers(
    edits: dict[int, dict[int, CellValue]], tables: list[_Table]
) -> list[tuple[int, int]]:
    """Drop edits that would change a table's header text (that renames the column); list them."""
    skipped = []
    for table in tables:
        row = edits.get(table.area.top) if table.has_header else None
        for col in sorted(row or ()):
            if table.area.left <= col <= table.area.right and row[col] != table.header_name(col):
                del row[col]
                skipped.append((table.area.top, col))
        if row == {}:
            del edits[table.area.top]
    return skipped
