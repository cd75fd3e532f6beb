"""What python-calamine is given to read: never a sheet that would swamp the run or kill it.

python-calamine lays a sheet out as a dense grid, from its first value to its last, before
Python sees a row, and the reader pads each row back to column A. So one value typed far from
the rest costs its whole rectangle: a space in XFD2000 asks for 33 million cells (1 GB), one in
XFD1048576 for 17 billion, and the process dies of a failed allocation, an abort that no
`except` can catch. Every read of the workbook therefore opens it with `open_workbook`, whose
`Workbook.sheet` measures a sheet's XML before python-calamine may load it:

* The quick measure streams the part once and looks at cell references only: the row of the
  last one, and any column past the widest seen so far. A grid (from A1) of at most MIN_CELLS
  cells, or of at most one cell per XML_BYTES_PER_CELL bytes of XML, goes to python-calamine as
  it is. That is every sheet users keep, for the price of unzipping it once more.
* Anything else is parsed, to find where python-calamine would put each value. A value whose
  leaving out shrinks the grid by STRAY_COST cells or more is a stray: the strays are left out
  of a copy of the workbook made in memory, which python-calamine reads instead, so the
  contacts read as if they were not there, and `Workbook.strays` names each with its value.
  The file itself is never changed for this.
* A grid still beyond MAX_CELLS is refused with a WorkbookError naming its farthest cell.

The same copy leaves out Excel 4.0 macro sheets, which python-calamine cannot open at all.

The quick measure trusts two things every writer does: rows come in ascending order, and a
reference is written ` r="A1"`. A part made by hand to break both could hide a far cell from it.
"""

from __future__ import annotations

import codecs
import io
import posixpath
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO
from urllib.parse import unquote
from xml.parsers import expat

import python_calamine as calamine

from followup.cells import CellValue
from followup.columns import cell_address, column_letter, column_number
from followup.errors import WorkbookError
from followup.safety import dangling_link

MIN_CELLS = 1_000_000
"""A grid this small is read as it is, whatever its shape: 32 MB and a tenth of a second."""
XML_BYTES_PER_CELL = 8
"""A grid of one cell per this many bytes of the sheet's XML is read as it is: at most four
times the XML's size in python-calamine (100,000 contacts in 21 columns are 18 bytes a cell)."""
STRAY_COST = 10_000
"""A value is a stray when leaving it out saves this many grid cells or more."""
MAX_CELLS = 50_000_000
"""A grid beyond this (1.6 GB in python-calamine) is refused rather than read."""
MACRO_SHEETS = ("/xlMacrosheet", "/xlIntlMacrosheet")
"""Relationship types of Excel 4.0 macro sheets, which python-calamine cannot open."""

_CHUNK = 1 << 20
_OVERLAP = 64  # bytes kept from one chunk for the next: more than any reference


@dataclass(frozen=True)
class StrayCell:
    """A value far outside the rest of its sheet, which the reader leaves out."""

    sheet: str
    row: int
    col: int
    value: CellValue

    @property
    def address(self) -> str:
        return cell_address(self.row, self.col)


class Workbook:
    """The workbook as python-calamine reads it, each sheet measured before it is loaded."""

    def __init__(self, path: Path, trusted: Iterable[str] = ()) -> None:
        self.path = path
        self._replaced: dict[str, bytes] = {}  # zip entry -> what the in-memory copy holds
        self._strays: dict[str, tuple[StrayCell, ...]] = {}
        self._measured = set(trusted)
        self._as_is: set[str] = set()  # sheets the quick measure let through
        archive = _zip(path)
        try:
            package = _Package.read(archive) if archive is not None else None
            if archive is None or package is None:
                # python-calamine says what is wrong with it, or reads a kind of file (.xls,
                # .ods, .xlsb) whose sheets cannot be measured, nor saved by this program.
                calamine.CalamineWorkbook.from_path(path).close()
                raise WorkbookError(
                    f"{path.name} is not an .xlsx or .xlsm workbook. Open it in Excel or "
                    "LibreOffice, save it as an Excel workbook (.xlsx) and point [workbook] "
                    "path at the new file."
                )
            self._archive, self._package = archive, package
            if package.macro_sheets:
                self._replaced[package.entry] = package.without_macro_sheets()
            self._book = self._open()
        except BaseException:
            if archive is not None:
                archive.close()
            raise

    def _open(self) -> calamine.CalamineWorkbook:
        """python-calamine on the file, or on the copy when some part had to be left out."""
        if not self._replaced:
            return calamine.CalamineWorkbook.from_path(self.path)
        return _copy(self._archive, self._replaced)

    @property
    def sheet_names(self) -> list[str]:
        return self._book.sheet_names

    @property
    def sheets_metadata(self) -> list[calamine.SheetMetadata]:
        return self._book.sheets_metadata

    def sheet(self, name: str) -> calamine.CalamineSheet:
        """The sheet, loaded by python-calamine once it is known to fit (see the module)."""
        if name not in self._measured:
            self._measure(name)
            self._measured.add(name)
        return self._book.get_sheet_by_name(name)

    def read_as_is(self, name: str) -> bool:
        """Whether a loaded sheet went to python-calamine as it is, on the quick measure."""
        return name in self._as_is

    def strays(self, name: str) -> tuple[StrayCell, ...]:
        """The values of a loaded sheet that were left out, nearest first."""
        return self._strays.get(name, ())

    def close(self) -> None:
        self._book.close()
        self._archive.close()

    def _measure(self, name: str) -> None:
        entry = self._package.sheets.get(name)
        if entry is None:
            return  # not a sheet of cells (a chart sheet): nothing to lay out
        info = self._archive.getinfo(entry)
        with self._archive.open(info) as stream:
            if _fits(stream, info.file_size):
                self._as_is.add(name)
                return
        data = self._archive.read(info)
        layout = _Layout(data)
        strays = layout.strays()
        rows, cols = layout.extent(strays)
        if rows * cols > MAX_CELLS:
            raise WorkbookError(
                f"Sheet {name!r} of {self.path.name} reaches cell {cell_address(rows, cols)}, "
                "which would take more memory than this computer should give it. Delete the "
                "rows and columns beyond your data there (or clear that cell) and save."
            )
        if not strays:
            return
        values = self._stray_values(name, entry, layout.only(strays))
        self._strays[name] = tuple(
            StrayCell(name, row, col, values[index] if index < len(values) else "")
            for index, (row, col) in enumerate(layout.positions(strays))
        )
        self._replaced[entry] = layout.without(strays)
        self._book.close()
        self._book = self._open()

    def _stray_values(self, name: str, entry: str, part: bytes) -> list[CellValue]:
        """What the stray cells hold, read by python-calamine from a copy that moved them all
        into row 1, so that texts, dates and numbers come out as they would in place."""
        with suppress(calamine.CalamineError, IndexError):
            book = _copy(self._archive, {**self._replaced, entry: part})
            try:
                return book.get_sheet_by_name(name).to_python(skip_empty_area=False)[0]
            finally:
                book.close()
        return []  # the values are only for the message: the address is what matters


@contextmanager
def open_workbook(path: Path, trusted: Iterable[str] = ()) -> Iterator[Workbook]:
    """The workbook, opened once for all its readers; any failure to read it is a WorkbookError.

    The `trusted` sheets are not measured: the save's read-back trusts the sheet it rewrote when
    the original went to python-calamine as it was, since a save adds cells only among the
    contacts. That spares the read-back a second pass over the largest sheet.
    """
    try:
        workbook = Workbook(path, trusted)
    except calamine.PasswordError as error:
        raise WorkbookError(
            f"{path} is password-protected, so it cannot be read. Remove the password in Excel "
            "(File > Info > Protect Workbook > Encrypt with Password) and save it again."
        ) from error
    except OSError as error:
        raise WorkbookError(_unopened(path, error)) from error
    except calamine.CalamineError as error:
        raise WorkbookError(_damaged(path, error)) from error
    try:
        yield workbook
    except (calamine.CalamineError, zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise WorkbookError(_damaged(path, error)) from error
    finally:
        workbook.close()


def _unopened(path: Path, error: OSError) -> str:
    if message := dangling_link(path):
        return message
    if not path.exists():
        return (
            f"The workbook {path} does not exist. Check [workbook] path in config.toml, or run "
            "`followup init` to create one."
        )
    return (
        f"Cannot open the workbook {path}: {error.strerror or error}. Check that the file "
        "exists and that you may read it."
    )


def _damaged(path: Path, error: Exception) -> str:
    return (
        f"{path} is not an Excel workbook, or it is damaged ({error}). Open it in Excel or "
        "LibreOffice and save it as an .xlsx workbook."
    )


def _zip(path: Path) -> zipfile.ZipFile | None:
    """The workbook's zip, or None for a file that is not one (python-calamine says what it
    is); a missing file raises FileNotFoundError as python-calamine would."""
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return None


def _copy(archive: zipfile.ZipFile, replaced: Mapping[str, bytes]) -> calamine.CalamineWorkbook:
    """python-calamine reading a copy of the workbook, made in memory, with some parts replaced."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as copy:  # stored, not compressed: it is read at once
        for info in archive.infolist():
            data = replaced.get(info.filename)
            copy.writestr(info.filename, archive.read(info) if data is None else data)
    buffer.seek(0)
    return calamine.CalamineWorkbook.from_filelike(buffer)


# --- the package -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Package:
    """Where the workbook part is and each sheet's zip entry, as python-calamine finds them."""

    entry: str  # the workbook part's zip entry
    data: bytes  # its XML
    sheets: dict[str, str]  # sheet name -> zip entry, for the sheets whose part exists
    macro_sheets: frozenset[str]  # relationship ids of Excel 4.0 macro sheets

    @classmethod
    def read(cls, archive: zipfile.ZipFile) -> _Package | None:
        """The package map, or None when the workbook part cannot be found or parsed (then
        python-calamine cannot read the file either, and says so)."""
        entries = {_norm(info.filename): info.filename for info in archive.infolist()}
        try:
            office = [
                target
                for kind, target in _rels(archive, entries, "").values()
                if kind.endswith("/officeDocument")
            ]
            entry = next((entries[p] for p in office if p in entries), None)
            entry = entry or entries.get("xl/workbook.xml")
            if entry is None:
                return None
            data = archive.read(entry)
            rels = _rels(archive, entries, _norm(entry))
            sheets, macros = {}, set()
            for attrs in _elements(data, "sheet"):
                rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
                kind, target = rels.get(rid, ("", ""))
                if kind.endswith(MACRO_SHEETS):
                    macros.add(rid)
                elif found := entries.get(target) or entries.get(unquote(target)):
                    sheets[attrs.get("name", "")] = found
        except (expat.ExpatError, KeyError, zipfile.BadZipFile, ValueError, EOFError):
            return None
        return cls(entry, data, sheets, frozenset(macros))

    def without_macro_sheets(self) -> bytes:
        """The workbook part without the macro sheets' <sheet> elements."""

        def keep(match: re.Match[bytes]) -> bytes:
            rid = re.search(rb"""[\w.-]+:id\s*=\s*["']([^"']*)""", match[0])
            return b"" if rid and rid[1].decode() in self.macro_sheets else match[0]

        return _SHEET_ELEMENT.sub(keep, self.data)


_SHEET_ELEMENT = re.compile(rb"<(?:[\w.-]+:)?sheet\b[^>]*?(?:/>|>.*?</(?:[\w.-]+:)?sheet>)", re.S)


def _norm(entry: str) -> str:
    return entry.replace("\\", "/").lstrip("/").casefold()


def _rels(
    archive: zipfile.ZipFile, entries: Mapping[str, str], part: str
) -> dict[str, tuple[str, str]]:
    """The relationships of `part` ("" for the package): id -> (type, normalized target)."""
    folder, name = posixpath.split(part)
    entry = entries.get(_norm(posixpath.join(folder, "_rels", f"{name}.rels")))
    if entry is None:
        return {}
    found = {}
    for attrs in _elements(archive.read(entry), "Relationship"):
        target = attrs.get("Target", "").replace("\\", "/")
        path = target if target.startswith("/") else posixpath.join(folder, target)
        found[attrs.get("Id", "")] = (attrs.get("Type", ""), _norm(posixpath.normpath(path)))
    return found


def _elements(data: bytes, local: str) -> list[dict[str, str]]:
    """The attributes of every element called `local` (with any prefix) in an XML part."""
    found: list[dict[str, str]] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == local:
            found.append(attrs)

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.Parse(data, True)
    return found


# --- the quick measure -----------------------------------------------------------------------

_REF = re.compile(rb'([A-Z]*)([1-9][0-9]{0,8})"')
"""A reference as writers write it, after its ` r="`: column letters (none on a row) and row."""


@lru_cache
def _flag(cols: int) -> re.Pattern[bytes]:
    """A reference worth a look: one whose column is past `cols`, or that does not start like
    A1 or 12 (lower case, $...). The column letters that may pass are taken possessively, so
    that A1 is not looked at again as a column of no letters followed by "A"."""
    if cols == 0:
        return re.compile(rb' r="[^0-9]')
    letters = column_letter(cols).encode()
    shorter = rb"|[A-Z]{1,%d}" % (len(letters) - 1) if len(letters) > 1 else b""
    return re.compile(rb' r="(?:' + _up_to(letters) + shorter + rb")?+[^0-9]")


def _up_to(letters: bytes) -> bytes:
    """A regular expression for the column letters of the same length up to `letters`."""
    first, rest = letters[:1], letters[1:]
    if not rest:
        return b"[A-%s]" % first
    before = b"[A-%c]" % (first[0] - 1) + rb"[A-Z]" * len(rest) + b"|" if first != b"A" else b""
    return b"(?:" + before + first + _up_to(rest) + b")"


def _fits(stream: IO[bytes], size: int) -> bool:
    """Whether a sheet part's grid, by its references, is small enough to read as it is.

    One pass: the regular expression skips every reference within the widest column seen so
    far, so a sheet is usually looked at closely once per column, on its first row.
    """
    rows = cols = 0
    flag = _flag(cols)
    carry = b""
    chunk = stream.read(_CHUNK)
    while chunk:
        following = stream.read(_CHUNK)
        text = carry + chunk
        end = len(text) - _OVERLAP if following else len(text)
        at = 0
        while (match := flag.search(text, at)) is not None and match.start() < end:
            ref = _REF.match(text, match.start() + 4)
            if ref is None:
                return False  # not written the usual way: look closely
            if ref[1] and (col := column_number(ref[1].decode())) > cols:
                cols, flag = col, _flag(col)
            rows = max(rows, int(ref[2]))
            at = match.end()
        if (last := text.rfind(b' r="', 0, end)) >= 0 and (ref := _REF.match(text, last + 4)):
            rows = max(rows, int(ref[2]))  # rows ascend, so the last reference is the lowest
        carry = text[end:]
        chunk = following
    if not rows:
        return size < 1024  # no references: cells sit where they come; small parts are empty
    return rows * max(cols, 1) <= max(MIN_CELLS, size // XML_BYTES_PER_CELL)


# --- the close look --------------------------------------------------------------------------

_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_R_ATTR = re.compile(rb"""(\sr\s*=\s*)(["'])[^"']*\2""")
_CELL_REF = re.compile(r"([A-Za-z]{0,3})0*([1-9][0-9]*)")


class _Layout:
    """Where python-calamine would put each value of a sheet part, and its cell's bytes.

    Positions follow python-calamine: a cell's own reference, else the next column of its row;
    a row's own number, else the next row. A cell holds a value when it has a <v> or <is>.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data = _utf8(data)
        self.cells: list[tuple[int, int, int, int]] = []  # row, col, start, end of its bytes
        self.row_tag = b"row"
        self.sheet_data = (0, 0)  # where <sheetData>'s content starts and ends
        row = col = 0
        cell: list[int] | None = None  # row, col, start, end of start tag, self-closing, value
        parser = expat.ParserCreate()

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal row, col, cell
            local = name.rpartition(":")[2]
            if local == "row":
                row = _number(attrs.get("r", "")) or row + 1
                col = 0
                self.row_tag = name.encode()
            elif local == "c":
                at = parser.CurrentByteIndex
                tag = _START_TAG.match(data, at)
                letters, number = _cell_ref(attrs.get("r", ""))
                col = column_number(letters) if letters else col + 1
                cell = [number or row, col, at, tag.end() if tag else at, bool(tag and tag[1]), 0]
            elif local in ("v", "is") and cell is not None:
                cell[5] = 1
            elif local == "sheetData":
                tag = _START_TAG.match(data, parser.CurrentByteIndex)
                self.sheet_data = (tag.end() if tag else 0, len(data))

        def end(name: str) -> None:
            nonlocal cell
            local = name.rpartition(":")[2]
            if local == "c" and cell is not None:
                if cell[5]:
                    stop = cell[3] if cell[4] else data.index(b">", parser.CurrentByteIndex) + 1
                    self.cells.append((cell[0], cell[1], cell[2], stop))
                cell = None
            elif local == "sheetData":
                self.sheet_data = (self.sheet_data[0], parser.CurrentByteIndex)

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        try:
            parser.Parse(data, True)
        except expat.ExpatError as error:
            raise WorkbookError(
                f"A sheet's XML is damaged ({error}). Open the workbook in Excel or "
                "LibreOffice and save it again."
            ) from None

    def strays(self) -> list[int]:
        """The indexes in `cells` of the values far from the rest, in reading order.

        Again and again the values of the last row, or those of the last column, are left out,
        whichever saves more grid a value, as long as that is STRAY_COST cells a value or more.
        """
        lines: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
        for index, cell in enumerate(self.cells):
            for axis in (0, 1):
                lines[axis].setdefault(cell[axis], []).append(index)
        left = [
            Counter({line: len(found) for line, found in lines[axis].items()}) for axis in (0, 1)
        ]
        ends = [sorted(lines[0]), sorted(lines[1])]  # the rows and columns with values, ascending
        gone: list[int] = []
        removed: set[int] = set()
        while ends[0] and ends[0][-1] * ends[1][-1] > MIN_CELLS:
            area = ends[0][-1] * ends[1][-1]
            best, group = 0.0, []
            for axis in (0, 1):
                found = [i for i in lines[axis][ends[axis][-1]] if i not in removed]
                taken = [Counter(self.cells[i][a] for i in found) for a in (0, 1)]
                last = [
                    next((n for n in reversed(ends[a]) if left[a][n] > taken[a][n]), 0)
                    for a in (0, 1)
                ]
                saving = (area - last[0] * last[1]) / len(found)
                if saving > best:
                    best, group = saving, found
            if best < STRAY_COST:
                break
            gone.extend(group)
            removed.update(group)
            for index in group:
                for axis in (0, 1):
                    left[axis][self.cells[index][axis]] -= 1
            for axis in (0, 1):
                while ends[axis] and not left[axis][ends[axis][-1]]:
                    ends[axis].pop()
        return sorted(gone, key=lambda i: self.cells[i][:2])

    def extent(self, strays: list[int]) -> tuple[int, int]:
        """The last row and the last column of the values kept."""
        gone = set(strays)
        kept = [cell for index, cell in enumerate(self.cells) if index not in gone]
        return max((c[0] for c in kept), default=0), max((c[1] for c in kept), default=0)

    def positions(self, cells: list[int]) -> list[tuple[int, int]]:
        return [self.cells[i][:2] for i in cells]

    def without(self, cells: list[int]) -> bytes:
        """The part without those cells."""
        spans = sorted(self.cells[i][2:] for i in cells)
        pieces, at = [], 0
        for start, stop in spans:
            pieces.append(self.data[at:start])
            at = stop
        pieces.append(self.data[at:])
        return b"".join(pieces)

    def only(self, cells: list[int]) -> bytes:
        """The part with only those cells, moved into row 1 (A1, B1...) to read their values."""
        moved = []
        for col, index in enumerate(cells[: 16_384 - 1], start=1):
            start, stop = self.cells[index][2:]
            ref = cell_address(1, col).encode()
            moved.append(_R_ATTR.sub(rb'\1"' + ref + rb'"', self.data[start:stop], count=1))
        row = b"<" + self.row_tag + b' r="1">' + b"".join(moved) + b"</" + self.row_tag + b">"
        first, last = self.sheet_data
        return self.data[:first] + row + self.data[last:]


def _utf8(data: bytes) -> bytes:
    """A part as UTF-8, so that it can be cut at the bytes of "<" and ">"."""
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data
    text = data.decode("utf-16")
    return re.sub(r"""^(<\?xml[^>]*encoding\s*=\s*["'])[^"']*""", r"\1UTF-8", text).encode()


def _number(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _cell_ref(text: str) -> tuple[str, int]:
    match = _CELL_REF.fullmatch(text.strip())
    return (match[1], int(match[2])) if match else ("", 0)
