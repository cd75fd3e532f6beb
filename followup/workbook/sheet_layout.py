"""Where python-calamine would put a sheet's values, measured before it lays them out.

python-calamine makes one dense grid of a sheet, from its first value to its last, and the
reader pads each row back to column A; so what a sheet costs is the rectangle from A1 to its
last row and column, whatever lies between. Two ways to measure it:

* `fits`, the quick measure, streams the part once and looks at cell references only: the row
  of the last one, and any column past the widest seen so far. A grid of at most MIN_CELLS
  cells, or of at most one cell per XML_BYTES_PER_CELL bytes of XML, is read as it is.
* `Layout`, the close look, reads the whole part to find where python-calamine would put each
  value, and which values are strays: those whose leaving out saves STRAY_COST grid cells or
  more. `Part` finds cells by their place again, and cuts them out.

The quick measure trusts two things every writer does: rows come in ascending order, and a
reference is written ` r="A1"`. A part made by hand against either could hide a far cell from
it.
"""

from __future__ import annotations

import codecs
import re
from array import array
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from typing import IO, NamedTuple
from xml.parsers import expat

from followup.errors import WorkbookError
from followup.workbook.columns import cell_address, column_letter, column_number

MIN_CELLS = 1_000_000
"""A grid this small is read as it is, whatever its shape: it costs little time and memory."""
XML_BYTES_PER_CELL = 8
"""A grid of one cell per this many bytes of the sheet's XML is read as it is: at most four
times the XML's size in python-calamine (100,000 contacts in 21 columns are 18 bytes a cell)."""
STRAY_COST = 10_000
"""A value is a stray when leaving it out saves this many grid cells or more."""

_CHUNK = 1 << 20
_OVERLAP = 64  # bytes kept from one chunk for the next: more than any reference


# --- the quick measure -----------------------------------------------------------------------

_REF = re.compile(rb'([A-Z]*)([1-9][0-9]{0,8})"')
_COLUMN = re.compile(rb' r="([A-Z]{1,3})[1-9]')
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


def fits(stream: IO[bytes], size: int) -> bool:
    """Whether a sheet part's grid, by its references, is small enough to read as it is.

    One pass: the regular expression skips every reference within the widest column seen so
    far, so only a piece where a column is wider than any before is looked at closely (once).
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
            if ref[1] and _column(ref[1]) > cols:
                cols = max(map(_column, set(_COLUMN.findall(text, 0, end))))
                flag = _flag(cols)
            rows = max(rows, int(ref[2]))
            at = match.end()
        if (last := text.rfind(b' r="', 0, end)) >= 0 and (ref := _REF.match(text, last + 4)):
            rows = max(rows, int(ref[2]))  # rows ascend, so the last reference is the lowest
        carry = text[end:]
        chunk = following
    if not rows:
        return size < 1024  # no references: cells sit where they come; small parts are empty
    return rows * max(cols, 1) <= _allowance(size)


def _allowance(size: int) -> int:
    """The grid a sheet part of `size` bytes may have and be read as it is."""
    return max(MIN_CELLS, size // XML_BYTES_PER_CELL)


# --- the close look --------------------------------------------------------------------------

_PIECE = 4 << 20  # bytes of a part searched at once, so that no list of matches gets large
_CELL = re.compile(rb"<(?:[\w.-]+:)?c[\s/>]")
_PLACED_CELL = re.compile(
    rb'<(?:[\w.-]+:)?c(?=\s)[^>]*?\sr="([A-Z]{1,3})([1-9][0-9]{0,8})"[^>]*?(/?)>'
)
_START_TAG = re.compile(rb"""<([^\s/>]+)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_SHEET_DATA = re.compile(rb"<((?:[\w.-]+:)?)sheetData\b[^>]*?(/?)>")
_R_ATTR = re.compile(rb"""(\sr\s*=\s*)(["'])[^"']*\2""")
_VALUE = re.compile(rb"<(?:[\w.-]+:)?(?:v|is)[\s/>]")
_REFERENCE = re.compile(r"([A-Za-z]{0,3})0*([1-9][0-9]*)")
_MANY = 50  # more cells than this are found in one pass over the part, not one search each
_PEELS = 64  # rows and columns left out at most: strays are a few values, not a pattern


class Cell(NamedTuple):
    """A cell of the part: its place, its bytes, and whether it holds a value."""

    row: int
    col: int
    start: int
    stop: int
    valued: bool


class Part:
    """A sheet part's bytes (as UTF-8), and its cells found by the places they name.

    Cells are looked for in `scan`: the bytes with comments, CDATA sections and processing
    instructions blanked out, so that markup in them (<!-- <c r="XFD1048576">... -->) is no
    cell; `data` keeps every byte, for the copy python-calamine reads.
    """

    def __init__(self, data: bytes) -> None:
        self.data = _utf8(data)
        self.scan = _blanked(self.data)

    def cells_at(self, places: set[tuple[int, int]]) -> list[Cell] | None:
        """The cells whose references name those places, or None if one is not there."""
        found = list(self._find(places, one_pass=len(places) > _MANY))
        if {(row, col) for row, col, _ in found} != places:
            found = list(self._find(places, one_pass=True))
            if {(row, col) for row, col, _ in found} != places:
                return None
        cells = []
        for row, col, start in found:
            stop = self._end(start)
            valued = _VALUE.search(self.scan, start, stop) is not None
            cells.append(Cell(row, col, start, stop, valued))
        return cells

    def _find(
        self, places: set[tuple[int, int]], *, one_pass: bool
    ) -> Iterator[tuple[int, int, int]]:
        """Row, column and first byte of the cells at those places, found by their references:
        each with a search of its own, or all in one pass over the part."""
        if one_pass:
            for match in _PLACED_CELL.finditer(self.scan):
                if (row := int(match[2]), col := _column(match[1])) in places:
                    yield row, col, match.start()
            return
        for row, col in places:
            ref = b' r="' + cell_address(row, col).encode() + b'"'
            at = 0
            while (at := self.scan.find(ref, at + 1)) >= 0:
                start = self.scan.rfind(b"<", 0, at)
                if _PLACED_CELL.match(self.scan, start):
                    yield row, col, start

    def _end(self, start: int) -> int:
        """Where the cell element starting at `start` ends."""
        tag = _START_TAG.match(self.scan, start)
        if tag is None:
            return start
        if tag[2]:
            return tag.end()
        closing = b"</" + tag[1] + b">"
        return self.scan.index(closing, tag.end()) + len(closing)

    def without(self, cells: list[Cell]) -> bytes:
        """The part without those cells."""
        pieces, at = [], 0
        for cell in sorted(cells, key=lambda cell: cell.start):
            pieces.append(self.data[at : cell.start])
            at = cell.stop
        pieces.append(self.data[at:])
        return b"".join(pieces)

    def only(self, cells: list[Cell]) -> bytes:
        """The part with only those cells, moved into row 1 (A1, B1...), to read their values."""
        opening = _SHEET_DATA.search(self.scan)
        if opening is None or opening[2]:
            return self.data
        closing = self.scan.rfind(b"</" + opening[1] + b"sheetData>")
        moved = [
            _R_ATTR.sub(
                rb'\1"' + cell_address(1, col).encode() + b'"', self.data[c.start : c.stop], 1
            )
            for col, c in enumerate(cells[:16_383], start=1)
        ]
        row = b'<%srow r="1">%s</%srow>' % (opening[1], b"".join(moved), opening[1])
        return self.data[: opening.end()] + row + self.data[closing:]


class Layout(Part):
    """Where python-calamine would put each cell of a sheet part, read whole.

    When every cell names its place, as every writer has them do, the references are read with
    a regular expression; an empty element (<c r="A1" s="2"/>, a format and no value) does not
    count, but any other cell does, even one without a value (it costs as much in the measure,
    and nothing when left out). Otherwise the part is parsed as python-calamine reads it: a
    cell's own reference, else the next column of its row; a row's own number, else the next
    row; and only cells with a <v> or <is> count.
    """

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.rows, self.cols = array("l"), array("l")
        self._spans: list[tuple[int, int]] = []  # each cell's bytes, when the part was parsed
        if not self._read_references():
            self._parse()

    def _read_references(self) -> bool:
        """Read every cell's reference, piece by piece; False if some cell has none."""
        data, view = self.scan, memoryview(self.scan)
        cells = placed = at = 0
        while at < len(data):
            end = data.rfind(b"<", at + 1, at + _PIECE) if at + _PIECE < len(data) else -1
            end = end if end > at else len(data)  # pieces end before a tag, never inside one
            cells += len(_CELL.findall(view[at:end]))
            found = _PLACED_CELL.findall(view[at:end])
            placed += len(found)
            found = [(letters, row) for letters, row, empty in found if not empty]
            self.cols.extend(map(_column, [letters for letters, _ in found]))
            self.rows.extend(map(int, [row for _, row in found]))
            at = end
        if cells == placed:
            return True
        self.rows, self.cols = array("l"), array("l")
        return False

    def _parse(self) -> None:
        data, parser = self.data, expat.ParserCreate()
        row = col = 0
        cell: list[int] | None = None  # row, col, start, end of start tag, self-closing, value

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal row, col, cell
            local = name.rpartition(":")[2]
            if local == "row":
                row = _number(attrs.get("r", "")) or row + 1
                col = 0
            elif local == "c":
                at = parser.CurrentByteIndex
                tag = _START_TAG.match(data, at)
                letters, number = _reference(attrs.get("r", ""))
                col = column_number(letters) if letters else col + 1
                cell = [number or row, col, at, tag.end() if tag else at, bool(tag and tag[2]), 0]
            elif local in ("v", "is") and cell is not None:
                cell[5] = 1

        def end(name: str) -> None:
            nonlocal cell
            if name.rpartition(":")[2] == "c" and cell is not None:
                if cell[5]:
                    stop = cell[3] if cell[4] else data.index(b">", parser.CurrentByteIndex) + 1
                    self.rows.append(cell[0])
                    self.cols.append(cell[1])
                    self._spans.append((cell[2], stop))
                cell = None

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        try:
            parser.Parse(data, True)
        except expat.ExpatError as error:
            raise WorkbookError(
                f"A sheet's XML is damaged ({error}). Open the workbook in Excel or "
                "LibreOffice and save it again."
            ) from None

    def strays(self) -> tuple[list[Cell], int, int]:
        """The cells far from the rest, in reading order, and the last row and column of the
        others.

        While the grid is more than the quick measure allows, the cells of the last row, or
        those of the last column, are left out, whichever saves more grid a cell, as long as
        that is STRAY_COST cells a cell or more (a column with just a header is no stray), and
        _PEELS times at most (each time is a pass over all cells).
        """
        axes = (self.rows, self.cols)
        left = [Counter(axis) for axis in axes]
        ends = [sorted(count) for count in left]  # the rows and columns with cells, ascending
        gone: set[int] = set()
        allowed = _allowance(len(self.data))
        while ends[0] and ends[0][-1] * ends[1][-1] > allowed:
            area = ends[0][-1] * ends[1][-1]
            best, group = 0.0, []
            for axis in (0, 1):
                line = ends[axis][-1]
                found = [i for i, n in enumerate(axes[axis]) if n == line and i not in gone]
                taken = [Counter(axes[a][i] for i in found) for a in (0, 1)]
                last = [
                    next((n for n in reversed(ends[a]) if left[a][n] > taken[a][n]), 0)
                    for a in (0, 1)
                ]
                saving = (area - last[0] * last[1]) / len(found)
                if saving > best:
                    best, group = saving, found
            if best < STRAY_COST:
                break
            gone.update(group)
            for index in group:
                for a in (0, 1):
                    left[a][axes[a][index]] -= 1
            for a in (0, 1):
                while ends[a] and not left[a][ends[a][-1]]:
                    ends[a].pop()
        rows, cols = (ends[0][-1], ends[1][-1]) if ends[0] else (0, 0)
        return sorted(self._cells(gone)), rows, cols

    def _cells(self, indexes: set[int]) -> list[Cell]:
        if self._spans:
            return [Cell(self.rows[i], self.cols[i], *self._spans[i], True) for i in indexes]
        cells = self.cells_at({(self.rows[i], self.cols[i]) for i in indexes})
        assert cells is not None, "a cell read by its reference is found by it"
        return cells


@lru_cache(maxsize=4096)
def _column(letters: bytes) -> int:
    return column_number(letters.decode())


def _utf8(data: bytes) -> bytes:
    """A part as UTF-8, so that it can be cut at the bytes of "<" and ">"."""
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data
    text = data.decode("utf-16")
    return re.sub(r"""^(<\?xml[^>]*encoding\s*=\s*["'])[^"']*""", r"\1UTF-8", text).encode()


_DECOY = re.compile(rb"<!--|<!\[CDATA\[|<\?")
_DECOYS = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.DOTALL)


def _blanked(data: bytes) -> bytes:
    """`data` with its comments, CDATA sections and processing instructions turned to spaces
    of the same length, so that every other byte keeps its place; `data` itself (no copy) when
    it has none past the XML declaration, as every writer's sheets."""
    if _DECOY.search(data, 6) is None:  # 6: past "<?xml" (after a byte order mark too)
        return data
    return _DECOYS.sub(lambda decoy: b" " * len(decoy[0]), data)


def _number(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _reference(text: str) -> tuple[str, int]:
    match = _REFERENCE.fullmatch(text.strip())
    return (match[1], int(match[2])) if match else ("", 0)
