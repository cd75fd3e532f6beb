"""Where python-calamine would put a sheet's values, measured before it lays them out.

python-calamine makes one dense grid of a sheet, from its first value to its last, and the
reader pads each row back to column A; so what a sheet costs is the rectangle from A1 to its
last row and column, whatever lies between. Two ways to measure it:

* `fits`, the quick measure, streams the part once and looks at cell references only: the row
  of the last one, and any column past the widest seen so far. A grid of at most MIN_CELLS
  cells, or of at most one cell per XML_BYTES_PER_CELL bytes of XML, is read as it is.
* `Layout`, the close look, parses the part to find where python-calamine would put each value,
  and which values are strays: those whose leaving out saves STRAY_COST grid cells or more.

The quick measure trusts two things every writer does: rows come in ascending order, and a
reference is written ` r="A1"`. A part made by hand against either could hide a far cell from
it.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from functools import lru_cache
from typing import IO
from xml.parsers import expat

from followup.columns import cell_address, column_letter, column_number
from followup.errors import WorkbookError

MIN_CELLS = 1_000_000
"""A grid this small is read as it is, whatever its shape: 32 MB and a tenth of a second."""
XML_BYTES_PER_CELL = 8
"""A grid of one cell per this many bytes of the sheet's XML is read as it is: at most four
times the XML's size in python-calamine (100,000 contacts in 21 columns are 18 bytes a cell)."""
STRAY_COST = 10_000
"""A value is a stray when leaving it out saves this many grid cells or more."""

_CHUNK = 1 << 20
_OVERLAP = 64  # bytes kept from one chunk for the next: more than any reference


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


def fits(stream: IO[bytes], size: int) -> bool:
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


class Layout:
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
