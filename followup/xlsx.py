"""Surgical write-back: change a few cells of one sheet of an .xlsx and copy everything else.

Loading and re-saving with openpyxl silently drops images, data bars, sparklines, slicers and
text boxes, flattens rich text and forgets every formula's cached value. So this module never
re-saves a workbook: it copies every zip entry byte for byte and rewrites only the text of the
sheet's XML part, plus styles.xml when a date style must be added and a table part when a table
grows to cover new header cells. The sheet part is streamed: unzipped, patched and zipped again
a run of whole rows at a time (rows never nest), so a sheet of 100,000 rows costs one linear
pass, is never in memory whole, and the rows without changes stay byte-identical.
"""

from __future__ import annotations

import codecs
import html
import io
import math
import posixpath
import re
import shutil
import tempfile
import zipfile
import zlib
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from functools import cache, lru_cache
from itertools import count
from operator import itemgetter
from pathlib import Path
from queue import Queue
from threading import Thread
from typing import IO, NamedTuple
from urllib.parse import unquote

from followup import xmlcheck
from followup.cells import storable_text
from followup.columns import cell_address, column_letter
from followup.errors import WorkbookError

CellValue = str | int | float | date | None
"""What a cell can be set to; None (or "") makes the cell empty but keeps its formatting."""


@dataclass(frozen=True)
class PatchResult:
    """What `patch_sheet` did not do, and how to tell that what it did reads back."""

    skipped: tuple[str, ...]
    """A1 addresses left alone: the cell holds a formula (or is part of an array formula), or it
    is a table's header cell and writing it would rename the table's column. Cells of the
    `OwnSheet` are named with their sheet ("Log!A3")."""
    date1904: bool = False
    """Whether the workbook counts days from 1904 (see `read_back`)."""


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
            plan = _Plan(_Package(archive), sheet, edits, own, own_edits)
            _write_zip(archive, dst, plan)
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
    return PatchResult(plan.skipped, plan.book.date1904)


class _Malformed(Exception):
    """The workbook's XML is not what Excel writes; say what, and touch nothing."""


# --- edits -----------------------------------------------------------------------------------

_MAX_ROW, _MAX_COL = 1_048_576, 16_384


_PLAIN_VALUES = frozenset({str, int, date, datetime, type(None)})
"""Types of CellValue that need no closer look (bool is an int, a float may be nan)."""


def _group_by_row(cells: Mapping[tuple[int, int], CellValue]) -> dict[int, dict[int, CellValue]]:
    """The edits as {row: {column: value}}, after checking what Excel could never hold.

    It runs once per cell of the whole sheet, so the usual types are checked by a set lookup
    and a row's cells, which usually come together, share one look-up of their row."""
    rows: dict[int, dict[int, CellValue]] = {}
    last, row_cells = 0, {}
    for (row, col), value in cells.items():
        if not (1 <= row <= _MAX_ROW and 1 <= col <= _MAX_COL):
            raise ValueError(f"cell ({row}, {col}) is outside an Excel sheet")
        if type(value) not in _PLAIN_VALUES:
            if isinstance(value, bool) or not isinstance(value, str | int | float | date | None):
                raise TypeError(f"cannot write {type(value).__name__} to cell ({row}, {col})")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"cannot write {value} to cell ({row}, {col})")
        if row != last:
            last, row_cells = row, rows.setdefault(row, {})
        row_cells[col] = None if value == "" else value
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
        infos = archive.infolist()
        xmlcheck.refuse_duplicate_parts(Path(self.name), [info.filename for info in infos])
        self._entries = {_norm(info.filename): info.filename for info in infos}
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

    def read_doc(self, entry: str) -> tuple[_Doc, str]:
        """An XML part to search and edit, and the codec to write it back with."""
        text, codec = self.read_text(entry)
        return _Doc(text), codec


def _norm(part: str) -> str:
    return part.replace("\\", "/").lstrip("/").casefold()


def _decode(data: bytes, entry: str) -> tuple[str, str]:
    """Text plus codec, keeping a byte-order mark so unchanged text re-encodes to the same bytes."""
    codec = _codec(data)
    try:
        return data.decode(codec), codec
    except (LookupError, UnicodeDecodeError):
        raise _Malformed(f"{entry} is not valid {codec} text") from None


def _codec(head: bytes) -> str:
    """The codec of an XML part that starts with `head`: its byte-order mark or declaration."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    declared = re.match(rb"<\?xml[^>]*encoding\s*=\s*[\"']([\w.:-]+)", head)
    return declared[1].decode("ascii") if declared else "utf-8"


def _encode(text: str, codec: str) -> bytes:
    return text.encode(codec, errors="xmlcharrefreplace")


_CHUNK = 1 << 20
"""Bytes of a sheet part unzipped per step: enough that the steps' overhead vanishes, and little
next to a sheet of 100,000 rows (40 MB of XML)."""


def _text_chunks(archive: zipfile.ZipFile, entry: str) -> tuple[str, Iterator[str]]:
    """An XML part's codec, and its text in pieces of at most _CHUNK characters as it unzips."""
    stream = archive.open(entry)
    head = b""
    while len(head) < 1024 and (more := stream.read(_CHUNK)):
        head += more  # the declaration, whatever _CHUNK is
    codec = _codec(head)
    try:
        decoder = codecs.getincrementaldecoder(codec)()
    except LookupError:
        stream.close()
        raise _Malformed(f"{entry} is not valid {codec} text") from None

    def pieces(data: bytes) -> Iterator[str]:
        with stream:
            while True:
                try:
                    text = decoder.decode(data, final=not data)
                except UnicodeDecodeError:
                    raise _Malformed(f"{entry} is not valid {codec} text") from None
                yield from (text[i : i + _CHUNK] for i in range(0, len(text), _CHUNK))
                if not data:
                    return
                data = stream.read(_CHUNK)

    return codec, pieces(head)


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
    doc, _ = package.read_doc(entry)
    rels = []
    for match in _tag_pattern("Relationship").finditer(doc.scan):
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
        doc, _ = package.read_doc(entry)
        rels = {rel.id: rel for rel in _rels(package, _norm_path(entry))}
        sheets = {}
        for attrs in _listed_sheets(doc):
            rid = attrs.get(_REL_ID, "")
            if rid in rels:
                sheets[attrs.get("name", "")] = rels[rid]
        styles = next((r for r in rels.values() if r.type.endswith("/styles") and r.target), None)
        props = next(doc.tag_attrs("workbookPr"), {})
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


_REL_NAMESPACES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_REL_ID = "{relationships}id"
"""The key `_listed_sheets` gives a sheet's relationship id, whatever its prefix."""


def _listed_sheets(doc: _Doc) -> Iterator[dict[str, str]]:
    """The attributes of each <sheet> in the workbook part, its relationship id under _REL_ID.

    Where the id's namespace is declared varies (the root, as Excel does, or each <sheet>, as
    openpyxl does); its prefix is whatever the file binds it to.
    """
    sheets = doc.first("sheets")
    if sheets is None:
        return
    outer = doc.scope(sheets)
    for sheet in doc.children(sheets):
        if sheet.local != "sheet":
            continue
        attrs = dict(_attr_items(sheet.attrs))
        scope = _declared(sheet.attrs, outer)
        for key, value in list(attrs.items()):
            prefix, _, local = key.rpartition(":")
            if local == "id" and prefix and scope.get(prefix) in _REL_NAMESPACES:
                attrs[_REL_ID] = value
        yield attrs


# --- planning the changes --------------------------------------------------------------------


class _Plan:
    """What patch_sheet changes: the sheet part, streamed, then the parts that depend on how that
    went (a date style added to styles.xml, a table grown over new headers) and the own sheet."""

    def __init__(
        self,
        package: _Package,
        sheet: str,
        edits: dict[int, dict[int, CellValue]],
        own: OwnSheet | None,
        own_edits: dict[int, dict[int, CellValue]],
    ) -> None:
        self.package, self.own, self.own_edits = package, own, own_edits
        self.book = _Book.load(package)
        self.sheet_rel, sheet_entry = self.book.sheet_part(package, sheet)
        self.styles_file = _StylesFile(package, self.book, self.sheet_rel)
        self.writer = _CellWriter(self.book.date1904, self.styles_file.styles)
        self.new_parts = _NewParts(package, self.book)
        self.main = _PartPatch(package, sheet_entry, edits, self.writer)
        self.own_part: _PartPatch | None = None  # None: no own sheet, or none in the file yet
        if own is not None:
            name = next((n for n in self.book.sheets if n.casefold() == own.name.casefold()), None)
            if name is not None:
                _, own_entry = self.book.sheet_part(package, name)
                self.own_part = _PartPatch(package, own_entry, own_edits, self.writer)
        self.skipped: tuple[str, ...] = ()
        """The cells left alone, as A1 addresses (known after `finish`)."""

    def late(self) -> set[str] | None:
        """The entries `finish` may change; None when it adds a sheet, which changes the
        workbook part and the part lists that come before every sheet in the zip."""
        if self.own is not None and self.own_part is None:
            return None
        parts = [part for part in (self.main, self.own_part) if part]
        late = {table.entry for part in parts for table in part.tables}
        late |= {part.entry for part in parts[1:]}
        # A new styles part would be listed in the workbook's relationships and content types.
        new_parts = self.new_parts
        styles = self.styles_file.entry
        late |= {styles} if styles else {new_parts.rels_entry, new_parts.types_entry} - {None}
        return late

    def finish(self) -> dict[str, bytes]:
        """New bytes for the other entries that change (new entries too), after the sheet part."""
        changes = self.main.grown_tables()
        addresses = [cell_address(row, col) for row, col in sorted(self.main.skipped)]
        if self.own is not None:
            own_changes, own_skipped = _patch_own_sheet(self, self.own)
            changes.update(own_changes)
            addresses += [f"{self.own.name}!{cell_address(r, c)}" for r, c in sorted(own_skipped)]
        changes.update(self.styles_file.changes(self.new_parts))
        changes.update(self.new_parts.changes())
        self.skipped = tuple(addresses)
        return changes


class _PartPatch:
    """One worksheet part being patched, and the tables on it that may grow with it."""

    def __init__(
        self,
        package: _Package,
        entry: str,
        edits: dict[int, dict[int, CellValue]],
        writer: _CellWriter,
    ) -> None:
        self.package, self.entry, self.edits = package, entry, edits
        self.tables = _load_tables(package, _norm_path(entry))
        self.guarded = _guard_table_headers(edits, self.tables)
        self.sheet = _SheetPatch(edits, writer)

    @property
    def skipped(self) -> list[tuple[int, int]]:
        return self.guarded + self.sheet.skipped

    def write(self, file: IO[bytes]) -> None:
        """Stream the patched part into `file`, in the encoding the part had."""
        codec, pieces = _text_chunks(self.package.archive, self.entry)
        encode = codecs.getincrementalencoder(codec)(errors="xmlcharrefreplace").encode
        with _in_background(file.write) as write:
            self.sheet.run(pieces, lambda text: write(encode(text)))
        file.write(encode("", final=True))

    def size_bound(self, size: int) -> int:
        """More bytes than the part of `size` bytes can have once patched, so that zipfile writes
        zip64 headers only when they may be needed (Excel mistrusts them on small parts)."""
        chars = sum(len(v) for row in self.edits.values() for v in row.values() if type(v) is str)
        cells = sum(map(len, self.edits.values()))
        return size + 20 * chars + 1_000 * cells  # "&" is "&amp;", 20 bytes in UTF-32

    def grown_tables(self) -> dict[str, bytes]:
        """New bytes for the tables that grow over header cells written right of them."""
        obstacles = [table.area for table in self.tables] + self.sheet.obstacles
        skipped = set(self.sheet.skipped)
        written = {  # the header rows' cells that got a value
            (table.area.top, col): value
            for table in self.tables
            for col, value in self.edits.get(table.area.top, {}).items()
            if value is not None and (table.area.top, col) not in skipped
        }
        changes = {}
        for table in self.tables:
            grown = table.grown(written, [a for a in obstacles if a != table.area])
            if grown is not None:
                changes[table.entry] = _encode(grown, table.codec)
        return changes


def _write_zip(archive: zipfile.ZipFile, dst: Path, plan: _Plan) -> None:
    """Copy every entry in order with its name, time, compression and attributes, or its change.

    The sheet part is patched straight into its entry when no entry before it depends on how
    that went (Excel and xlsxwriter write styles and tables after the sheets); otherwise it is
    patched into a temporary file first. Entries are streamed, so none is in memory whole.
    """
    infos = archive.infolist()
    names = [info.filename for info in infos]
    late = plan.late()
    sheet_at = names.index(plan.main.entry)
    direct = late is not None and not late.intersection(names[:sheet_at])
    changes: dict[str, bytes] = {}
    try:
        with (
            zipfile.ZipFile(dst, "w") as out,
            nullcontext() if direct else tempfile.TemporaryFile() as spill,
        ):
            if spill is not None:
                plan.main.write(spill)
                changes, size = plan.finish(), spill.tell()
                spill.seek(0)
            for at, info in enumerate(infos):
                copy = _copy_info(info)
                if at == sheet_at:
                    # zipfile has no public way to set one entry's level before Python 3.13,
                    # which names it compress_level and keeps this name as its alias.
                    copy._compresslevel = _SHEET_LEVEL
                if at == sheet_at and spill is None:
                    copy.file_size = plan.main.size_bound(info.file_size)
                    with out.open(copy, "w") as sink:
                        plan.main.write(sink)
                    changes = plan.finish()
                elif at == sheet_at:
                    _copy_stream(spill, out, copy, size)
                elif (data := changes.pop(info.filename, None)) is not None:
                    out.writestr(copy, data)
                else:
                    with archive.open(info) as source:
                        _copy_stream(source, out, copy, info.file_size)
                # zipfile turns attributes of 0 into rw-------; they only go in the directory
                # written on close, so this puts back what the original said.
                copy.external_attr = info.external_attr
            stamp = max(
                (info.date_time for info in archive.infolist()), default=(1980, 1, 1, 0, 0, 0)
            )
            for name, data in changes.items():  # parts that did not exist yet
                assert name not in names, f"{name} changed after it was copied"
                out.writestr(
                    zipfile.ZipInfo(name, stamp),  # the package's own newest time, not the clock
                    data,
                    compress_type=zipfile.ZIP_DEFLATED,
                )
            out.comment = archive.comment
    except BaseException:
        dst.unlink(missing_ok=True)
        raise


_SHEET_LEVEL = 3
"""Deflate level of the patched sheet part. At 100,000 rows (63 MB of XML) level 6, zlib's
default, takes 0.60 s for 6.7 MB; level 3 0.25 s for 7.9 MB; level 1 0.17 s for 9.1 MB."""


@contextmanager
def _in_background(write: Callable[[bytes], object]) -> Iterator[Callable[[bytes], None]]:
    """A `write` that returns at once while another thread does the work, so that zlib, which
    lets go of the GIL, compresses the part while the next rows are patched. The queue is short
    to keep little in memory; an error in the thread comes out of the next write or the end."""
    queue: Queue[bytes | None] = Queue(maxsize=4)
    failed: list[BaseException] = []

    def work() -> None:
        try:
            while (data := queue.get()) is not None:
                write(data)
        except BaseException as error:
            failed.append(error)
            while queue.get() is not None:  # so that no put waits for a gone thread
                pass

    def put(data: bytes) -> None:
        if failed:
            raise failed[0]
        queue.put(data)

    thread = Thread(target=work, name="followup-zip-writer")
    thread.start()
    try:
        yield put
    finally:
        queue.put(None)
        thread.join()
    if failed:
        raise failed[0]


def _copy_stream(source: IO[bytes], out: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> None:
    info.file_size = size  # so that zipfile knows whether the entry needs zip64 headers
    with out.open(info, "w") as sink:
        shutil.copyfileobj(source, sink, _CHUNK)


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.create_system = info.create_system
    copy.comment = info.comment
    return copy


# --- XML scanning ----------------------------------------------------------------------------
#
# The parts are handled as text so that everything not edited keeps its exact bytes. Every
# search runs on a twin of the text in which comments, CDATA sections and processing
# instructions are blanked out (`_blanked`): a look-alike tag inside them is never found, and
# every edit is made to the text itself at the same offsets. These helpers find elements whose
# name rarely nests inside itself (row, c, xf, table parts...), counting when it does.

_ATTRS = r"((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
"""A tag's attributes (a group), any space, and a slash if it closes itself (a group)."""
_START_TAG = re.compile(rf"<([^\s/>=<!?\"']+){_ATTRS}")
_ANY_TAG = re.compile(rf"<(/?)([^\s/>=<!?\"']+){_ATTRS}")  # start and end tags
_ATTR = re.compile(r"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_MARKUP = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"))
_XML_NS = "http://www.w3.org/XML/1998/namespace"


def _blanked(text: str) -> tuple[str, int]:
    """`text` with its comments, CDATA sections and processing instructions (the XML declaration
    too) turned into spaces, and the offset where one that the text cuts off begins (the
    text's length when none is cut off). Without any of them, `text` itself comes back."""
    bang, question = text.find("<!"), text.find("<?")
    if bang < 0 and question < 0:
        return text, len(text)
    pieces: list[str] = []
    pos = 0
    while bang >= 0 or question >= 0:
        at = question if bang < 0 or 0 <= question < bang else bang
        end = _markup_end(text, at)
        if end is None:
            pieces += (text[pos:at], " " * (len(text) - at))
            return "".join(pieces), at
        pieces += (text[pos:at], " " * (end - at))
        pos = end
        if bang < end:
            bang = text.find("<!", end)
        if question < end:
            question = text.find("<?", end)
    pieces.append(text[pos:])
    return "".join(pieces), len(text)


def _markup_end(text: str, pos: int) -> int | None:
    """The end of the comment, CDATA section or processing instruction starting at `pos`, or
    None when it goes on past the end of `text`."""
    for opener, closer in _MARKUP:
        if text.startswith(opener, pos):
            end = text.find(closer, pos + len(opener))
            return None if end < 0 else end + len(closer)
    if text.startswith("<!DOCTYPE", pos):
        raise _Malformed("one of its parts declares a document type, which workbooks must not")
    if len(text) - pos < len("<![CDATA["):
        return None  # too short yet to tell which markup it is
    raise _Malformed(f"of unexpected XML near {text[pos : pos + 40]!r}")


class _Doc:
    """A small XML part being edited: its text, and the twin (`scan`) every search runs on."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.scan, open_at = _blanked(text)
        if open_at < len(text):
            raise _Malformed(f"of unterminated XML markup near {text[open_at : open_at + 40]!r}")

    def root(self) -> _Element:
        return _root(self.scan)

    def first(self, local: str, pos: int = 0, end: int | None = None) -> _Element | None:
        """The first element named `local` (any prefix) between `pos` and `end`."""
        end = len(self.scan) if end is None else end
        match = _tag_pattern(local).search(self.scan, pos, end)
        return next(_elements(self.scan, match.start(), end)) if match else None

    def tag_attrs(
        self, local: str, pos: int = 0, end: int | None = None
    ) -> Iterator[dict[str, str]]:
        return _tag_attrs(self.scan, local, pos, end)

    def children(self, element: _Element) -> Iterator[_Element]:
        return _elements(self.scan, element.inner_start, element.inner_end)

    def inner(self, element: _Element) -> str:
        """The element's content as written (comments and CDATA included)."""
        return self.text[element.inner_start : element.inner_end]

    def scope(self, element: _Element) -> dict[str, str]:
        return _scope(self.scan, element)

    def spliced(self, edits: list[tuple[int, int, str]]) -> str:
        return _splice(self.text, 0, len(self.text), edits)


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


def _elements(scan: str, pos: int, end: int) -> Iterator[_Element]:
    """The child elements between `pos` and `end`, in order."""
    while (lt := scan.find("<", pos, end)) >= 0:
        match = _START_TAG.match(scan, lt, end)
        if match is None:
            raise _Malformed(f"of unexpected XML near {scan[lt : lt + 40]!r}")
        element = _element(scan, match[1], match, end)
        yield element
        pos = element.end


def _element(scan: str, name: str, match: re.Match[str], end: int) -> _Element:
    """The element whose start tag `match` found (attributes and slash are its last two groups)."""
    attrs, slash = match.group(match.re.groups - 1, match.re.groups)
    prefix = name[: name.find(":") + 1]
    start, tag_end = match.span()
    if slash:
        return _Element(name, attrs, start, tag_end, tag_end, tag_end, True, prefix)
    close_start, close_end = _find_close(scan, name, tag_end, end)
    return _Element(name, attrs, start, tag_end, close_start, close_end, False, prefix)


@cache
def _start_tag_of(name: str) -> re.Pattern[str]:
    """Start tags named exactly `name` (prefix included)."""
    return re.compile(rf"<{re.escape(name)}(?=[\s/>]){_ATTRS}")


@cache
def _cell_tag(prefix: str) -> re.Pattern[str]:
    """The start of each cell's tag, with its `r` value when it has one."""
    return re.compile(rf"<{re.escape(prefix)}c(?=[\s/>])(?:[^>]*?\sr\s*=\s*([\"'])(.*?)\1)?")


@cache
def _closer(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{re.escape(name)}\s*>")


def _find_close(scan: str, name: str, pos: int, end: int) -> tuple[int, int]:
    """Start and end of the end tag of the element `name` whose content starts at `pos`,
    past any element of the same name inside it (rows and cells never nest, so the search for
    a nested start tag is a quick look that finds nothing)."""
    closer, opener, depth = _closer(name), f"<{name}", 0
    while match := closer.search(scan, pos, end):
        nested = scan.find(opener, pos, match.start())
        while nested >= 0:
            tag = _START_TAG.match(scan, nested, end)
            if tag is not None and tag[1] == name:
                depth += not tag[3]
                nested = scan.find(opener, tag.end(), match.start())
            else:
                nested = scan.find(opener, nested + 1, match.start())
        if depth == 0:
            return match.span()
        depth -= 1
        pos = match.end()
    raise _Malformed(f"an XML element <{name}> is never closed")


def _root(scan: str) -> _Element:
    root = next(_elements(scan, 0, len(scan)), None)
    if root is None:
        raise _Malformed("an XML part is empty")
    return root


def _scope(scan: str, element: _Element) -> dict[str, str]:
    """The namespaces in force inside `element`, {prefix: URI} ("" for the default namespace):
    what its ancestors and the element itself declare."""
    return _declared(element.attrs, _scope_at(scan, element.start))


def _scope_at(scan: str, pos: int) -> dict[str, str]:
    """The namespaces in force at `pos`, which is outside any tag, from the tags before it."""
    stack = [{"xml": _XML_NS}]
    for tag in _ANY_TAG.finditer(scan, 0, pos):
        if tag[1]:
            if len(stack) > 1:
                stack.pop()
        elif not tag[4]:
            stack.append(_declared(tag[3], stack[-1]))
    return stack[-1]


def _declared(attrs: str, outer: dict[str, str]) -> dict[str, str]:
    """The namespaces in force inside an element with `attrs` whose parent has `outer`."""
    if "xmlns" not in attrs:
        return outer
    scope = dict(outer)
    for name, value in _attr_items(attrs):
        if name == "xmlns":
            scope[""] = value
        elif name.startswith("xmlns:"):
            scope[name[len("xmlns:") :]] = value
    return scope


def _namespace(scope: dict[str, str], prefix: str) -> str | None:
    """The URI a prefix ("x:" or "") stands for in `scope`."""
    return scope.get(prefix[:-1] if prefix else "")


def _attr_prefix(scope: dict[str, str], uri: str, usual: str) -> tuple[str, str]:
    """How to write an attribute of namespace `uri` on a new element in `scope`: a prefix bound
    to it there, the `usual` one first; else `usual`, declared on the new element itself (as
    the second value, an attribute to add)."""
    bound = [p for p, u in scope.items() if u == uri and p]
    if bound:
        return (usual if usual in bound else bound[0]) + ":", ""
    return usual + ":", f' xmlns:{usual}="{_escape(uri, quote=True)}"'


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
    scan: str, local: str, pos: int = 0, end: int | None = None
) -> Iterator[dict[str, str]]:
    """The attributes of every start tag named `local` (any prefix) between `pos` and `end`."""
    for match in _tag_pattern(local).finditer(scan, pos, len(scan) if end is None else end):
        yield dict(_attr_items(match[1]))


def _attr_items(attrs: str) -> Iterator[tuple[str, str]]:
    """(name, unescaped value) of each attribute in raw attribute text, in order."""
    for match in _ATTR.finditer(attrs):
        raw = match[2] if match[2] is not None else match[3]
        yield match[1], html.unescape(raw) if "&" in raw else raw


@cache
def _tag_pattern(local: str) -> re.Pattern[str]:
    return re.compile(rf"<(?:[\w.-]+:)?{local}(?=[\s/>]){_ATTRS}")


def _splice(text: str, start: int, end: int, edits: list[tuple[int, int, str]]) -> str:
    """text[start:end] with each (from, to, replacement) applied; edits must not overlap."""
    pieces, pos = [], start
    for edit_start, edit_end, replacement in sorted(edits, key=itemgetter(0)):
        pieces += (text[pos:edit_start], replacement)
        pos = edit_end
    pieces.append(text[pos:end])
    return "".join(pieces)


_EXCEL_ESCAPED = re.compile("_(?=x[0-9A-Fa-f]{4}[_\x00-\x08\x0b-\x1f])|[\x00-\x08\x0b-\x1f]")
"""What Excel writes as _xHHHH_: control characters, which XML 1.0 cannot hold (and CR, which
XML would read as a line feed), and the "_" that would make literal text look like one."""


def _escape(text: str, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def _xstring(text: str) -> str:
    """Text as Excel stores it: what a cell can hold (`storable_text`), with control characters
    as _x0001_ and a literal "_x000D_" as "_x005F_x000D_", so that it reads back as it was."""
    return _EXCEL_ESCAPED.sub(_excel_escape, storable_text(text))


def _excel_escape(match: re.Match[str]) -> str:
    return f"_x{ord(match[0]):04X}_"


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
    """One streaming pass over a worksheet's XML that replaces or inserts the edited cells.

    The text comes and goes in pieces. What precedes <sheetData> is read whole (it is small);
    then each run of whole rows, up to the last "</row>" outside comments, CDATA sections and
    processing instructions, is patched and written while the rest waits for the next piece;
    what follows </sheetData> is copied. Text held back for the next piece (a row or comment
    longer than a piece) is read on with as much again each time (`_refill`), so whatever the
    layout, each character is looked at a bounded number of times: the pass stays linear.
    Array formulas are noted as they pass: each sits in the first cell of its range.
    """

    def __init__(self, edits: dict[int, dict[int, CellValue]], writer: _CellWriter) -> None:
        self.edits = edits
        self.writer = writer
        self.skipped: list[tuple[int, int]] = []
        self.obstacles: list[_Area] = []
        """Merged ranges and the sheet's autofilter: a table must not grow over them."""
        self.pending = sorted(edits)
        self.next = 0  # pending[self.next] is the first edited row not reached yet
        self.previous = 0  # the number of the last row passed
        self.arrays: list[_Area] = []
        self.column_styles: list[tuple[int, int, int]] = []
        self.styles_by_column: dict[int, int] = {}
        self.prefix = ""
        """The shortest prefix ("" or "x:") bound to the spreadsheet namespace in <sheetData>:
        the one its rows and cells are searched by and written with."""
        self.namespace = ""
        self.scope: dict[str, str] = {}  # the namespaces in force inside <sheetData>
        self.aliases = False  # whether other prefixes are bound to the namespace there too
        self.text = self.scan = ""  # the run of rows being patched, and its twin to search
        self.first_checked = False

    def run(self, pieces: Iterable[str], write: Callable[[str], None]) -> None:
        """Write the new sheet XML, given the old one in pieces."""
        pieces = iter(pieces)
        text, scan, tag = self._head(pieces)
        name, attrs, self_closing = tag[1], tag[2], bool(tag[3])
        self.scope = _declared(attrs, _scope_at(scan, tag.start()))
        self.namespace = _namespace(self.scope, name[: name.find(":") + 1]) or ""
        if self.namespace not in _MAIN_NS.values():
            raise _Malformed(f"its sheet's <{name}> is not in the spreadsheet namespace")
        bound = sorted((p for p, uri in self.scope.items() if uri == self.namespace), key=len)
        self.prefix, self.aliases = f"{bound[0]}:" if bound[0] else "", len(bound) > 1
        head, head_scan = text[: tag.start()], scan[: tag.start()]
        self.column_styles = [
            (_int(a.get("min"), 0), _int(a.get("max"), 0), _style_index(a.get("style")))
            for a in _tag_attrs(head_scan, "col")
        ]
        write(self._widened_dimension(head, head_scan))
        if self_closing:
            write(f"<{name}{attrs}>{self._new_rows()}</{name}>")
            rest = text[tag.end() :]
        else:
            write(tag[0])
            rest = self._rows(pieces, text[tag.end() :], write, name)
        self._tail(pieces, rest, write)

    def _head(self, pieces: Iterator[str]) -> tuple[str, str, re.Match[str]]:
        """The text up to the end of the <sheetData> start tag (and perhaps beyond), its twin,
        and the tag as found in the twin."""
        text: str | None = ""
        pos = 0
        while (text := _refill(text, pieces)) is not None:
            scan, limit = _blanked(text)
            match = _tag_pattern("sheetData").search(scan, pos, limit)
            if match and (tag := _START_TAG.match(scan, match.start(), limit)):
                return text, scan, tag
            pos = max(scan.rfind("<", pos, limit), min(pos, limit))  # a tag may be cut off
        raise _Malformed("its sheet has no cell data (no <sheetData>)")

    def _rows(
        self, pieces: Iterator[str], text: str, write: Callable[[str], None], name: str
    ) -> str:
        """Patch and write runs of whole rows as they arrive; the text from </sheetData> on."""
        row_name, data_end = f"{self.prefix}row", _closer(name)
        while True:
            scan, limit = _blanked(text)
            scan = self._canonical(scan, limit)
            cut, last = _whole_rows(scan, limit, row_name, data_end)
            if cut:
                write(self._patched_rows(text, scan, cut))
            if last:
                write(self._new_rows())
                return text[cut:]
            more = _refill(text[cut:], pieces)
            if more is None:
                raise _Malformed(f"an XML element <{name}> is never closed")
            text = more

    def _canonical(self, scan: str, limit: int) -> str:
        """The twin of a run of rows in which every row, cell and formula of the spreadsheet
        namespace is named with `self.prefix` (padded with spaces to the same length), and any
        other namespace's element of such a name is renamed out of the way: the run's elements
        are then found by that one prefix however the file declares them. Usually (no
        declaration inside the rows, one prefix for the namespace) nothing needs renaming."""
        if not self.aliases and scan.find("xmlns", 0, limit) < 0:
            return scan
        ours, stack = self.prefix[:-1], [self.scope]
        edits = []
        for tag in _ANY_TAG.finditer(scan, 0, limit):
            closing, name, attrs, slash = tag.groups()
            if closing:
                scope = stack.pop() if len(stack) > 1 else stack[0]
            else:
                scope = _declared(attrs, stack[-1])
                if not slash:
                    stack.append(scope)
            prefix, _, local = name.rpartition(":")
            if local not in ("row", "c", "f"):
                continue
            if scope.get(prefix) == self.namespace:
                new = f"{self.prefix}{local}"
                if len(new) > len(name) or (local == "row" and scope.get(ours) != self.namespace):
                    raise _Malformed(
                        "its sheet declares namespaces among its rows in a way followup cannot "
                        "update safely"
                    )
            elif prefix == ours:
                new = "_" * len(name)  # another namespace's element: never taken for ours
            else:
                continue
            if new != name:
                at = tag.start() + 1 + len(closing)
                edits.append((at, at + len(name), new.ljust(len(name))))
        return _splice(scan, 0, len(scan), edits) if edits else scan

    def _tail(self, pieces: Iterator[str], rest: str, write: Callable[[str], None]) -> None:
        """Copy what follows the rows as it comes, noting merged ranges and the autofilter."""
        write(rest)
        text: str | None = rest
        while text is not None:
            scan, limit = _blanked(text)
            cut = limit
            last = scan.rfind("<", 0, limit)
            if last >= 0 and scan.find(">", last, limit) < 0:
                cut = last  # a tag the piece cuts off
            for local in ("mergeCell", "autoFilter"):
                areas = (_parse_area(attrs.get("ref")) for attrs in _tag_attrs(scan, local, 0, cut))
                self.obstacles += filter(None, areas)
            text = _refill(text[cut:], pieces, write)

    def _patched_rows(self, text: str, scan: str, end: int) -> str:
        """text[:end], a run of whole rows, with the edits made and new rows before the next
        higher one; `scan` is its twin."""
        self.text, self.scan, name = text, scan, f"{self.prefix}row"
        if not self.first_checked and (first := next(_elements(scan, 0, end), None)):
            if first.name != name:
                raise _Malformed(f"its sheet data holds an unexpected <{first.name}>")
            self.first_checked = True
        self.arrays += _array_formula_areas(scan, end, _start_tag_of(f"{self.prefix}f"))
        pending, index, previous = self.pending, self.next, self.previous
        edits: list[tuple[int, int, str]] = []
        for match in _start_tag_of(name).finditer(scan, 0, end):
            number = _int(_attr(match[1], "r"), previous + 1)
            if number <= previous:
                raise _Malformed(f"row {number} of its sheet comes after row {previous}")
            while index < len(pending) and pending[index] < number:
                edits.append((match.start(), match.start(), self._new_row(pending[index])))
                index += 1
            if index < len(pending) and pending[index] == number:
                edits += self._row_edits(_element(scan, name, match, end), number)
                index += 1
            previous = number
        self.next, self.previous = index, previous
        return _splice(text, 0, end, edits)

    def _new_rows(self) -> str:
        """The edited rows after the last row of the sheet."""
        rows = "".join(self._new_row(number) for number in self.pending[self.next :])
        self.next = len(self.pending)
        return rows

    def _new_row(self, number: int) -> str:
        prefix = self.prefix
        cells = "".join(
            self._new_cell(prefix, number, col, value, None)
            for col, value in sorted(self.edits[number].items())
        )
        return f'<{prefix}row r="{number}">{cells}</{prefix}row>' if cells else ""

    def _row_edits(self, row: _Element, number: int) -> list[tuple[int, int, str]]:
        """Edits of the run's text, in order, that replace the row's edited cells and insert the
        missing ones in column order (made in one splice of the run, not one per row).

        Every cell written takes the row's prefix, which is bound inside the row; a cell's own
        prefix may be declared on that cell, whose attributes are not kept."""
        edits = self.edits[number]
        custom = "customFormat" in row.attrs and _truthy(row, "customFormat")
        row_style = _style_index(_attr(row.attrs, "s")) if custom else None
        starts, cols = self._cells(row, number, min(edits))
        splices: list[tuple[int, int, str]] = []
        inserted: list[int] = []
        after = -1  # where cells right of all others go, once needed
        for col in sorted(edits):
            i = bisect_left(cols, col)
            if i < len(cols) and cols[i] == col:
                cell = self._cell_at(row, starts[i])
                splices.append((cell.start, cell.end, self._replaced_cell(row, cell, number, col)))
            elif new := self._new_cell(row.prefix, number, col, edits[col], row_style):
                if i == len(starts) and after < 0:
                    after = self._after_cells(row, starts)
                at = starts[i] if i < len(starts) else after
                splices.append((at, at, new))
                inserted.append(col)
        attrs = _widened_spans(row.attrs, inserted) if inserted else row.attrs
        if attrs != row.attrs or row.self_closing:
            splices.insert(0, (row.start, row.inner_start, f"<{row.name}{attrs}>"))
        if row.self_closing:
            splices.append((row.end, row.end, f"</{row.name}>"))
        return splices

    def _cell_at(self, row: _Element, start: int) -> _Element:
        name = f"{row.prefix}c"
        return _element(self.scan, name, _start_tag_of(name).match(self.scan, start), row.inner_end)

    def _after_cells(self, row: _Element, starts: list[int]) -> int:
        """Where a cell right of all others goes: after the last cell, before any <extLst>."""
        if not starts:
            return row.inner_start
        if self.scan.endswith(f"</{row.prefix}c>", starts[-1], row.inner_end):
            return row.inner_end  # the usual row, whose last cell ends it
        return self._cell_at(row, starts[-1]).end

    def _cells(self, row: _Element, number: int, first_col: int) -> tuple[list[int], list[int]]:
        """Where the row's cells start and their columns, walking back from the last cell.

        The walk stops at the first cell left of `first_col`: the edits are usually the last
        columns, so the cells before them need not be read at all.
        """
        scan, tag, pattern = self.scan, f"<{row.prefix}c", _cell_tag(row.prefix)
        starts: list[int] = []
        cols: list[int] = []
        end = row.inner_end
        while (at := scan.rfind(tag, row.inner_start, end)) >= 0:
            end = at
            match = pattern.match(scan, at)
            if match is None:
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
        for match in _cell_tag(row.prefix).finditer(self.scan, row.inner_start, row.inner_end):
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
        style = row_style if row_style is not None else self._column_style(col)
        return self.writer.cell(prefix, f"{_letters(col)}{row}", style, value)

    def _replaced_cell(self, row: _Element, cell: _Element, number: int, col: int) -> str:
        """The cell with the new value and its own style, or unchanged if it holds a formula."""
        if self._has_formula(cell) or any(area.contains(number, col) for area in self.arrays):
            self.skipped.append((number, col))
            return self.text[cell.start : cell.end]
        value = self.edits[number][col]
        style = _style_index(_attr(cell.attrs, "s"))
        return self.writer.cell(row.prefix, f"{_letters(col)}{number}", style, value)

    def _has_formula(self, cell: _Element) -> bool:
        tag = f"<{cell.prefix}f"
        if self.scan.find(tag, cell.inner_start, cell.inner_end) < 0:
            return False
        formula = _start_tag_of(tag[1:])
        return formula.search(self.scan, cell.inner_start, cell.inner_end) is not None

    def _column_style(self, col: int) -> int:
        """The style Excel gives a new cell in this column: the column's own format, if any."""
        if col not in self.styles_by_column:
            styles = (s for low, high, s in self.column_styles if low <= col <= high)
            self.styles_by_column[col] = next(styles, 0)
        return self.styles_by_column[col]

    def _widened_dimension(self, head: str, scan: str) -> str:
        """The text before <sheetData>, its <dimension ref> widened to cover the cells written.

        It is written before any cell, so it covers every cell given a value: one left alone
        (a formula) is in the sheet already, where the dimension should cover it anyway.
        """
        match = _tag_pattern("dimension").search(scan)
        tag = next(_elements(scan, match.start(), len(scan))) if match else None
        old = _parse_area(_attr(tag.attrs, "ref")) if tag else None
        edits = self.edits
        if tag is None or old is None or not edits:
            return head
        lefts, rights = map(min, edits.values()), map(max, edits.values())
        if old.contains(min(edits), min(lefts)) and old.contains(max(edits), max(rights)):
            return head  # the usual case, found without looking at each value
        rows = [r for r, values in edits.items() if any(v is not None for v in values.values())]
        cols = {c for values in edits.values() for c, v in values.items() if v is not None}
        if not rows:
            return head
        new = _Area(
            min(old.top, *rows), min(old.left, *cols), max(old.bottom, *rows), max(old.right, *cols)
        )
        if new == old:
            return head
        start_tag = tag.start_tag(_set_attr(tag.attrs, "ref", new.ref()))
        return head[: tag.start] + start_tag + head[tag.inner_start :]


def _refill(
    rest: str, pieces: Iterator[str], on_read: Callable[[str], object] | None = None
) -> str | None:
    """`rest` followed by at least as much again from `pieces` (or what is left of them);
    None when nothing is left. `on_read` sees each piece read.

    Text held back to be searched again with the next piece (a row, a comment or whitespace
    longer than a piece) has thus doubled each time it is searched again, so the searches
    add up to a small multiple of the part: reading on one piece at a time would make a
    part whose rows are padded with megabytes of whitespace cost minutes.
    """
    more, added = [rest], 0
    for piece in pieces:
        more.append(piece)
        added += len(piece)
        if on_read is not None:
            on_read(piece)
        if added >= max(len(rest), 1):
            break
    return "".join(more) if added else None


def _whole_rows(scan: str, limit: int, row: str, data_end: re.Pattern[str]) -> tuple[int, bool]:
    """How much of a run of the sheet data is whole (the run starts between two rows, `scan` is
    its twin, and comments or the like cut off at its end begin at `limit`), and whether the
    sheet data ends there: up to </sheetData>, else up to the last </row> and on to the next
    tag (whitespace between rows is never held back)."""
    match = data_end.search(scan, 0, limit)
    if match:
        return match.start(), True
    cut, end, row_end = 0, limit, _closer(row)
    while (at := scan.rfind(f"</{row}", 0, end)) >= 0:
        if close := row_end.match(scan, at, limit):
            cut = close.end()
            break
        end = at
    tag = scan.find("<", cut, limit)
    return (limit if tag < 0 else tag), False


def _widened_spans(attrs: str, inserted: list[int]) -> str:
    """Row attributes whose `spans` hint ("1:18") still covers the inserted columns."""
    match = _attr_pattern("spans").search(attrs) if "spans" in attrs else None
    if match is None:
        return attrs
    group = 1 if match[1] is not None else 2
    spans = _wider_spans(match[group], tuple(inserted))
    if spans is None:
        return attrs
    return f'{attrs[: match.start(group) - 1]}"{spans}"{attrs[match.end(group) + 1 :]}'


@lru_cache(maxsize=256)
def _wider_spans(spans: str, inserted: tuple[int, ...]) -> str | None:
    """A `spans` hint widened over the inserted columns, None if it covers them (cached: the
    rows of a sheet share a few hints, and the run inserts the same columns in each)."""
    bounds = [int(n) for n in re.findall(r"\d+", spans)]
    pairs = list(zip(bounds[::2], bounds[1::2], strict=False))
    if all(any(low <= col <= high for low, high in pairs) for col in inserted):
        return None
    return f"{min(bounds + list(inserted))}:{max(bounds + list(inserted))}"


def _array_formula_areas(scan: str, end: int, formula: re.Pattern[str]) -> list[_Area]:
    """Ranges filled by array formulas or data tables: writing inside one would break it."""
    areas = []
    for match in formula.finditer(scan, 0, end):
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
        self.rendered: dict[tuple[str, int, str | date], str] = {}
        """What follows the `r` of a cell, by prefix, style and text or date: a sheet repeats
        the same statuses and dates, and a run may write a cell in each of 100,000 rows."""

    def cell(self, prefix: str, ref: str, style: int, value: CellValue) -> str:
        """The cell's XML; `style` is its own style, which a date may need changed."""
        kind = type(value)
        if kind is str or kind is date:  # values that are equal only if they render alike
            key = (prefix, style, value)
            rest = self.rendered.get(key)
            if rest is None:
                rest = self._rest(prefix, style, value)
                if len(self.rendered) < _RENDERED:
                    self.rendered[key] = rest
        else:
            rest = self._rest(prefix, style, value)
        return f'<{prefix}c r="{ref}"{rest}'

    def _rest(self, prefix: str, style: int, value: CellValue) -> str:
        """The cell's XML after its `r` attribute."""
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
            return f"{styled}/>"
        return f"{styled}{kind}>{body}</{prefix}c>"


_RENDERED = 4096
"""Cells a _CellWriter remembers: the distinct statuses and dates of a run, not every note."""

_letters = cache(column_letter)


@lru_cache(maxsize=4096)
def _cell_text(value: str) -> str:
    """Escaped cell text; cached because a sheet repeats the same statuses and actions."""
    return _escape(_xstring(value))


_XML_NEWLINE = re.compile(r"\r\n?")
_XML_REFERENCE = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(amp|lt|gt|quot|apos));")
_XML_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_ESCAPED_CHAR = re.compile(r"_x([0-9A-Fa-f]{4})_")


def read_back(value: CellValue, date1904: bool) -> str | float | date:
    """What a reader (python-calamine) reads from a cell `patch_sheet` wrote `value` into, in a
    workbook that counts days from 1904 or not: the save checks each cell it wrote by this.

    Text reads back as its XML decodes: what XML cannot hold is gone and line ends are "\n".
    Numbers read back as floats, dates as dates (as text before the workbook's first day),
    and None as "".
    """
    if isinstance(value, str):
        return _text_read_back(value)
    if type(value) is date:  # not a datetime: a run writes one or two in every row
        return value if value >= _FIRST_DAY[date1904] else _text_read_back(value.isoformat())
    if value is None:
        return ""
    if isinstance(value, date):
        if _serial(value, date1904) is None:
            return _text_read_back(value.isoformat())
        return value.date() if isinstance(value, datetime) and value.time() == time() else value
    return float(value)


_FIRST_DAY = {False: date(1900, 1, 1), True: date(1904, 1, 1)}
"""The first day each date system can show (`_serial`)."""


@lru_cache(maxsize=4096)
def _text_read_back(value: str) -> str:
    """The text a reader decodes from the XML `_cell_text` makes of `value`."""
    xml = _XML_NEWLINE.sub("\n", _cell_text(value))
    text = _XML_REFERENCE.sub(_xml_reference, xml)
    return _ESCAPED_CHAR.sub(lambda match: chr(int(match[1], 16)), text)


def _xml_reference(match: re.Match[str]) -> str:
    hexadecimal, decimal, name = match.groups()
    if name:
        return _XML_ENTITIES[name]
    return chr(int(hexadecimal, 16) if hexadecimal else int(decimal))


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
    """styles.xml, and the date styles to add to it.

    Hancom Office puts the cell formats inside mc:AlternateContent: a list in each alternative
    (mc:Choice, mc:Fallback), of which a reader takes one (python-calamine: the first). A new
    style goes into every list, made from that list's own entry for its base style, so that its
    number means the same date style whichever list is read.
    """

    text: str
    new_formats: list[tuple[int, str]] = field(default_factory=list)
    new_xfs: list[tuple[int, int]] = field(default_factory=list)
    """The styles added, as (the style each is like, its number format)."""
    date_styles: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        doc = _Doc(self.text)
        root = doc.root()
        if root.self_closing:
            opened = f"<{root.name}{root.attrs}></{root.name}>"
            doc = _Doc(doc.spliced([(root.start, root.end, opened)]))
            root = doc.root()
        self.doc, self.root = doc, root
        self.sections: dict[str, list[_Element]] = {}
        """Each section by name, where it is: a child of the root, or of an alternative."""
        self.places: dict[str, int] = {}
        """Where the root's child holding each section starts (the section or its mc:...)."""
        for child in doc.children(root):
            for section in self._alternatives(child) or [child]:
                self.sections.setdefault(section.local, []).append(section)
                self.places.setdefault(section.local, child.start)
        self.formats: dict[int, str] = {}
        for numfmts in self.sections.get("numFmts", []):
            for attrs in doc.tag_attrs("numFmt", numfmts.start, numfmts.end):
                fmt = _style_index(attrs.get("numFmtId"))
                self.formats.setdefault(fmt, attrs.get("formatCode", ""))
        used = [_style_index(a.get("numFmtId")) for a in doc.tag_attrs("numFmt")]  # dxfs too
        self.next_format = max([163, *used]) + 1
        self.lists = [
            [_Xf(tuple(_attr_items(el.attrs)), doc.inner(el)) for el in doc.children(section)]
            for section in self.sections.get("cellXfs", [])
        ]
        if len({len(xfs) for xfs in self.lists}) > 1:
            raise _Malformed("its styles part has alternative lists of cell formats that differ")
        # Without any cellXfs every cell shows as a plain xf 0, which render() must then add.
        self.adds_default = not self.lists
        self.xfs = self.lists[0] if self.lists else [_DEFAULT_XF]

    def _alternatives(self, element: _Element) -> list[_Element]:
        """The sections inside an mc:AlternateContent's alternatives; [] for anything else."""
        if element.local != "AlternateContent" or element.self_closing:
            return []
        if _namespace(self.doc.scope(element), element.prefix) != _MC_NS:
            return []
        return [
            section
            for alternative in self.doc.children(element)
            for section in self.doc.children(alternative)
        ]

    def all_xfs(self) -> list[_Xf]:
        return self.xfs + [self.xfs[base].with_num_fmt(fmt) for base, fmt in self.new_xfs]

    def date_style(self, style: int) -> int:
        """A style that shows dates and otherwise looks like `style` (added if there is none)."""
        if style not in self.date_styles:
            self.date_styles[style] = self._date_style(style)
        return self.date_styles[style]

    def _date_style(self, style: int) -> int:
        xfs = self.all_xfs()
        style = style if style < len(self.xfs) else 0
        base = xfs[style]
        if self._is_date(base.num_fmt):
            return style
        for index, xf in enumerate(xfs):
            if xf.look() == base.look() and self._is_plain_date(xf.num_fmt):
                return index
        self.new_xfs.append((style, self._date_format()))
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
        # What each section gets: (children, new count) from the section (None: a new one)
        # and the prefix bound to the main namespace inside it.
        additions: dict[str, Callable[[int, str], tuple[str, int]]] = {}
        if self.new_formats:

            def formats(at: int, p: str) -> tuple[str, int]:
                old = len(list(self.doc.children(self.sections["numFmts"][at]))) if at >= 0 else 0
                return "".join(
                    f'<{p}numFmt numFmtId="{fmt}" formatCode="{_escape(code, quote=True)}"/>'
                    for fmt, code in self.new_formats
                ), old + len(self.new_formats)

            additions["numFmts"] = formats
        if self.adds_default:
            for name, (children, count) in _DEFAULT_SECTIONS.items():
                if name not in self.sections:
                    additions[name] = lambda _at, p, c=children, n=count: (c.format(p=p), n)

        def cell_formats(at: int, p: str) -> tuple[str, int]:
            xfs = self.lists[at] if at >= 0 else self.xfs
            added = [xfs[base].with_num_fmt(fmt) for base, fmt in self.new_xfs]
            new = added if at >= 0 else [*xfs, *added]
            return "".join(xf.xml(p) for xf in new), len(xfs) + len(added)

        additions["cellXfs"] = cell_formats
        edits = [
            edit
            for section in _STYLE_SECTIONS
            if section in additions
            for edit in self._append(section, additions[section])
        ]
        return self.doc.spliced(edits)

    def _append(
        self, section: str, content: Callable[[int, str], tuple[str, int]]
    ) -> list[tuple[int, int, str]]:
        """Edits that add `content` to every copy of a section, or create it in schema order.

        New children take their section's prefix, which is bound inside it; a new section takes
        the root's."""
        elements = self.sections.get(section)
        if not elements:
            later = _STYLE_SECTIONS[_STYLE_SECTIONS.index(section) + 1 :]
            at = min((self.places[s] for s in later if s in self.places), default=None)
            at = self.root.inner_end if at is None else at
            name = f"{self.root.prefix}{section}"
            children, count = content(-1, self.root.prefix)
            return [(at, at, f'<{name} count="{count}">{children}</{name}>')]
        edits = []
        for index, element in enumerate(elements):
            children, count = content(index, element.prefix)
            attrs = _set_attr(element.attrs, "count", str(count))
            if element.self_closing:
                tag = f"<{element.name}{attrs}>{children}</{element.name}>"
                edits.append((element.start, element.end, tag))
            else:
                edits += [
                    (element.start, element.inner_start, f"<{element.name}{attrs}>"),
                    (element.inner_end, element.inner_end, children),
                ]
        return edits


_STYLES_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_MAIN_NS = {
    True: "http://purl.oclc.org/ooxml/spreadsheetml/main",
    False: "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
}
_MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


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
        self.edited: dict[str, tuple[_Doc, str]] = {}  # entry -> (document, codec)
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
        rels = self._doc(self.rels_entry)
        ids = {attrs.get("Id") for attrs in rels.tag_attrs("Relationship")}
        rid = next(f"rId{n}" for n in count(1) if f"rId{n}" not in ids)
        target = posixpath.relpath(part, self.folder or ".")
        self._edit(
            self.rels_entry,
            _append_child(rels, "Relationship", Id=rid, Type=rel_type, Target=target),
        )
        types = self._doc(self.types_entry)
        self._edit(
            self.types_entry,
            _append_child(types, "Override", PartName=f"/{part}", ContentType=content_type),
        )
        self.added.add(_norm(part))
        return rid

    def _doc(self, entry: str) -> _Doc:
        if entry not in self.edited:
            self.edited[entry] = self.package.read_doc(entry)
        return self.edited[entry][0]

    def _edit(self, entry: str, text: str) -> None:
        self.edited[entry] = (_Doc(text), self.edited[entry][1])

    def changes(self) -> dict[str, bytes]:
        return {entry: _encode(doc.text, codec) for entry, (doc, codec) in self.edited.items()}


# --- the program's own sheet -----------------------------------------------------------------

_WORKSHEET_CONTENT_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
)


def _patch_own_sheet(plan: _Plan, own: OwnSheet) -> tuple[dict[str, bytes], list[tuple[int, int]]]:
    """Patch the own sheet, or create it as the last sheet, beside the contacts sheet's part."""
    if plan.own_part is not None:
        buffer = io.BytesIO()
        plan.own_part.write(buffer)
        changes = {plan.own_part.entry: buffer.getvalue(), **plan.own_part.grown_tables()}
        return changes, plan.own_part.skipped
    sheet_rel, new_parts = plan.sheet_rel, plan.new_parts
    strict = sheet_rel.type.startswith("http://purl.oclc.org/")
    folder = posixpath.dirname(sheet_rel.target or "xl/worksheets/sheet1.xml")
    part = new_parts.free_name(folder, (f"sheet{n}.xml" for n in count(1)))
    patch = _SheetPatch(plan.own_edits, plan.writer)
    text: list[str] = []
    patch.run([_new_sheet_xml(strict, own.widths)], text.append)
    changes = {part: _encode("".join(text), "utf-8")}
    rid = new_parts.add(part, sheet_rel.type, _WORKSHEET_CONTENT_TYPE)
    changes.update(_listed_in_workbook(plan.package, plan.book, own.name, rid))
    changes.update(_listed_in_app_titles(plan.package, own.name))
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
    """workbook.xml with the new sheet as the last <sheet> of <sheets>.

    Its relationship id needs a prefix bound to the relationships namespace where the new
    element lands. Excel declares that prefix on the root; openpyxl (so pandas) declares it
    on each <sheet>, where it does not reach a new one, which then declares it itself.
    """
    entry = package.entry(book.part)
    assert entry is not None  # _Book.load found it
    doc, codec = package.read_doc(entry)
    sheets = doc.first("sheets")
    if sheets is None:
        raise _Malformed("its workbook part lists no sheets")
    scope = doc.scope(sheets)
    strict = _namespace(scope, sheets.prefix) == _MAIN_NS[True]
    usual = "relationships" if sheets.prefix == "r:" else "r"
    prefix, declaration = _attr_prefix(scope, _REL_NAMESPACES[strict], usual)
    listed = list(_listed_sheets(doc))
    sheet_id = max((_style_index(attrs.get("sheetId")) for attrs in listed), default=0) + 1
    child = (
        f'<{sheets.prefix}sheet name="{_escape(name, quote=True)}" sheetId="{sheet_id}" '
        f'{prefix}id="{rid}"{declaration}/>'
    )
    return {entry: _encode(doc.spliced([_appended(sheets, child)]), codec)}


def _listed_in_app_titles(package: _Package, name: str) -> dict[str, bytes]:
    """docProps/app.xml with the new sheet among its worksheet titles, when it has that list.

    The list is only a summary Excel rebuilds on every save, so a file whose list is not laid
    out as Excel and LibreOffice write it keeps its app.xml unchanged.
    """
    app = [r.target for r in _rels(package, "") if r.type.endswith("/extended-properties")]
    entry = package.entry(next(filter(None, app), "docProps/app.xml"))
    if entry is None:
        return {}
    try:
        doc, codec = package.read_doc(entry)
        edits = _app_title_edits(doc, name)
    except (ValueError, _Malformed):
        return {}
    return {entry: _encode(doc.spliced(edits), codec)} if edits else {}


def _app_title_edits(doc: _Doc, name: str) -> list[tuple[int, int, str]]:
    """Edits that count one more worksheet in HeadingPairs and add `name` to TitlesOfParts."""
    pairs = doc.first("HeadingPairs")
    titles = doc.first("TitlesOfParts")
    if pairs is None or titles is None:
        return []
    pair_vector = doc.first("vector", pairs.inner_start, pairs.inner_end)
    title_vector = doc.first("vector", titles.inner_start, titles.inner_end)
    if pair_vector is None or title_vector is None or title_vector.self_closing:
        return []
    variants = [next(doc.children(variant)) for variant in doc.children(pair_vector)]
    before = 0
    for label, number in zip(variants[::2], variants[1::2], strict=False):
        sheets_count = int(doc.inner(number))
        if doc.inner(label) == "Worksheets":
            break
        before += sheets_count
    else:
        return []
    entries = list(doc.children(title_vector))
    index = before + sheets_count  # the worksheet titles come first, in the order of the pairs
    at = entries[index].start if index < len(entries) else title_vector.inner_end
    size = _set_attr(title_vector.attrs, "size", str(len(entries) + 1))
    tag = f"{title_vector.prefix}lpstr"  # the vector's own prefix, bound inside it
    return [
        (number.inner_start, number.inner_end, str(sheets_count + 1)),
        (title_vector.start, title_vector.inner_start, f"<{title_vector.name}{size}>"),
        (at, at, f"<{tag}>{_escape(name)}</{tag}>"),
    ]


def _appended(parent: _Element, child: str) -> tuple[int, int, str]:
    """The edit that adds `child` as the last child of `parent` (opening it if self-closing).

    A child in its parent's namespace takes the parent's prefix, which is bound wherever the
    parent's content is, whoever declared it."""
    if parent.self_closing:
        return parent.start, parent.end, f"<{parent.name}{parent.attrs}>{child}</{parent.name}>"
    return parent.inner_end, parent.inner_end, child


def _append_child(doc: _Doc, local: str, **attrs: str) -> str:
    """The document with an empty element added as the root element's last child."""
    root = doc.root()
    values = "".join(f' {k}="{_escape(v, quote=True)}"' for k, v in attrs.items())
    return doc.spliced([_appended(root, f"<{root.prefix}{local}{values}/>")])


# --- tables ----------------------------------------------------------------------------------


@dataclass
class _Table:
    """An Excel table (ListObject) on the sheet: where it is and its column names."""

    entry: str
    doc: _Doc
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
        doc, root = self.doc, self.root
        new_ref = self.area._replace(right=right).ref()
        edits = [
            (root.start, root.inner_start, f"<{root.name}{_set_attr(root.attrs, 'ref', new_ref)}>")
        ]
        for child in doc.children(root):
            if child.local == "autoFilter" and (area := _parse_area(_attr(child.attrs, "ref"))):
                attrs = _set_attr(child.attrs, "ref", area._replace(right=right).ref())
                edits.append((child.start, child.inner_start, child.start_tag(attrs)))
            elif child.local == "tableColumns" and not child.self_closing:
                existing = doc.tag_attrs("tableColumn", child.start, child.end)
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
        return doc.spliced(edits)


def _load_tables(package: _Package, sheet_part: str) -> list[_Table]:
    tables = []
    for rel in _rels(package, sheet_part, "/table"):
        entry = package.entry(rel.target or "") if rel.type.endswith("/table") else None
        if entry is None:
            continue
        doc, codec = package.read_doc(entry)
        root = doc.root()
        area = _parse_area(_attr(root.attrs, "ref"))
        if area is None:
            continue
        names = [a.get("name", "") for a in doc.tag_attrs("tableColumn")]
        tables.append(_Table(entry, doc, codec, root, area, names))
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
