"""What python-calamine is given to read: never a sheet that would swamp the run or kill it.

python-calamine lays a sheet out as a dense grid, from its first value to its last, before
Python sees a row, and the reader pads each row back to column A. So one value typed far from
the rest costs its whole rectangle: a space in XFD2000 asks for 33 million cells (1 GB), one in
XFD1048576 for 17 billion, and the process dies of a failed allocation, an abort that no
`except` can catch. Every read of the workbook therefore opens it with `open_workbook`, whose
`Workbook.sheet` measures a sheet's XML before python-calamine may load it:

* A quick measure of the part's cell references lets every sheet users keep go to
  python-calamine as it is, for the price of unzipping it once more.
* Anything else is looked at closely, to find the values far from the rest (the strays): they
  are left out of a copy of the workbook (a temporary file, deleted when the workbook is
  closed), which python-calamine reads instead, so the contacts read as if they were not
  there, and `Workbook.strays` names each with its value. The file itself is never changed.
* A grid still beyond MAX_CELLS is refused with a WorkbookError naming its farthest cell.

The same copy leaves out Excel 4.0 macro sheets, which python-calamine cannot open at all.

How a sheet is measured, and which values are strays, is `sheet_layout`'s business.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.parsers import expat

import python_calamine as calamine

from followup.atomic import remove_stale_temps
from followup.core.model import Problem
from followup.errors import WorkbookError
from followup.workbook.cells import ReadValue
from followup.workbook.columns import cell_address
from followup.workbook.guards import dangling_link
from followup.workbook.sheet_layout import Cell, Layout, Part, fits
from followup.workbook.xlsx import parts, xmlcheck

Places = tuple[tuple[int, int], ...]
"""(row, column) places of cells, 1-based."""

MAX_CELLS = 50_000_000
"""A grid beyond this (1.6 GB in python-calamine) is refused rather than read."""
MACRO_SHEETS = ("/xlMacrosheet", "/xlIntlMacrosheet")
"""Relationship types of Excel 4.0 macro sheets, which python-calamine cannot open."""


@dataclass(frozen=True)
class StrayCell:
    """A value far outside the rest of its sheet, which the reader leaves out."""

    sheet: str
    row: int
    col: int
    value: ReadValue

    @property
    def address(self) -> str:
        return cell_address(self.row, self.col)


class Workbook:
    """The workbook as python-calamine reads it, each sheet measured before it is loaded."""

    def __init__(self, path: Path, trusted: Mapping[str, Places] | None = None) -> None:
        self.path = path
        self._replaced: dict[str, bytes] = {}  # zip entry -> what the copy holds instead
        self._strays: dict[str, tuple[StrayCell, ...]] = {}
        self._unread: dict[str, tuple[str, bytes, list[Cell]]] = {}  # strays, values not read
        self._trusted = dict(trusted or {})
        self._left_out: dict[str, Places] = {}  # sheet -> the places of the cells left out
        self._copies: list[Path] = []  # copies of the workbook made for python-calamine
        archive = _zip(path)
        try:
            if archive is not None:  # readers disagree on which copy of a part they take
                xmlcheck.refuse_duplicate_parts(path, archive.namelist())
            package = _SheetEntries.read(archive) if archive is not None else None
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
            self._delete_copies()
            raise

    def _open(self) -> calamine.CalamineWorkbook:
        """python-calamine on the file, or on a copy when some part had to be left out."""
        if not self._replaced:
            return calamine.CalamineWorkbook.from_path(self.path)
        self._copies.append(_copy(self._archive, self._replaced))
        return calamine.CalamineWorkbook.from_path(self._copies[-1])

    @property
    def sheet_names(self) -> list[str]:
        return self._book.sheet_names

    @property
    def sheets_metadata(self) -> list[calamine.SheetMetadata]:
        return self._book.sheets_metadata

    def sheet(self, name: str) -> calamine.CalamineSheet:
        """The sheet, loaded by python-calamine once it is known to fit (see the module)."""
        if name not in self._left_out:
            places = self._trusted.pop(name, None)
            if places is None or not self._leave_out(name, places):
                self._measure(name)
        return self._book.get_sheet_by_name(name)

    def left_out(self, name: str) -> Places | None:
        """The places of the cells of a loaded sheet that were left out (none: it was read as it
        is); None for a sheet not measured here."""
        return self._left_out.get(name)

    def strays(self, name: str) -> tuple[StrayCell, ...]:
        """The values of a loaded sheet that were left out, in reading order."""
        if name in self._unread:
            self._strays[name] = self._stray_cells(name)
        return self._strays.get(name, ())

    def close(self) -> None:
        self._book.close()
        self._archive.close()
        self._delete_copies()

    def _delete_copies(self) -> None:
        for copy in self._copies:
            with suppress(OSError):
                copy.unlink()

    def _measure(self, name: str) -> None:
        entry = self._package.sheets.get(name)
        if entry is not None:  # else not a sheet of cells (a chart sheet): nothing to lay out
            info = self._archive.getinfo(entry)
            with self._archive.open(info) as stream:
                if not fits(stream, info.file_size):
                    self._look_closely(name, entry)
        self._left_out.setdefault(name, ())

    def _look_closely(self, name: str, entry: str) -> None:
        """Find the sheet's strays, and have python-calamine read a copy without them."""
        layout = Layout(self._archive.read(entry))
        strays, rows, cols = layout.strays()
        if rows * cols > MAX_CELLS:
            raise WorkbookError(
                f"Sheet {name!r} of {self.path.name} reaches cell {cell_address(rows, cols)}, "
                "which would take more memory than this computer should give it. Delete the "
                "rows and columns beyond your data there (or clear that cell) and save."
            )
        if not strays:
            return
        valued = [cell for cell in strays if cell.valued]  # the others cost nothing anyway
        if valued:
            self._unread[name] = (entry, layout.only(valued), valued)
        self._replaced[entry] = layout.without(strays)
        del layout  # the part, read whole: freed before python-calamine reads the copy
        self._reopen(name, strays)

    def _leave_out(self, name: str, places: Places) -> bool:
        """Leave out the cells at `places` without measuring the sheet again (see
        `open_workbook`); False if they are not all there."""
        entry = self._package.sheets.get(name)
        if entry is None:
            return False
        if places:
            part = Part(self._archive.read(entry))
            cells = part.cells_at(set(places))
            if cells is None:
                return False
            self._replaced[entry] = part.without(cells)
            del part
            self._reopen(name, cells)
        self._left_out[name] = tuple(places)
        return True

    def _reopen(self, name: str, cells: list[Cell]) -> None:
        """Have python-calamine read the copy, now that the sheet has `cells` left out."""
        book = self._open()
        self._book.close()
        self._book = book
        self._left_out[name] = tuple((cell.row, cell.col) for cell in cells)

    def _stray_cells(self, name: str) -> tuple[StrayCell, ...]:
        """The values left out of a sheet, read by python-calamine from a copy that moved them
        all into row 1, so that texts, dates and numbers come out as they would in place."""
        entry, part, cells = self._unread.pop(name)
        values: list[ReadValue] = []
        copy = _copy(self._archive, {**self._replaced, entry: part})
        try:
            with suppress(calamine.CalamineError, IndexError), calamine.load_workbook(copy) as book:
                values = book.get_sheet_by_name(name).to_python(skip_empty_area=False)[0]
        finally:
            copy.unlink(missing_ok=True)
        shown = [*values, *[""] * len(cells)]  # the values are only for the message
        return tuple(StrayCell(name, c.row, c.col, v) for c, v in zip(cells, shown, strict=False))


def stray_problems(strays: Sequence[StrayCell], named: int = 10) -> list[Problem]:
    """The problems that name the values left out far from the contacts (the first `named`,
    then one for the rest), for the run's list of workbook problems."""
    problems = [
        Problem(
            stray.sheet,
            stray.address,
            _shown(stray.value),
            "This cell is far outside your contacts, so followup leaves it out. Clear it "
            "(Ctrl+End goes to the last cell in use) and save: the workbook opens faster too.",
        )
        for stray in strays[:named]
    ]
    if rest := strays[named:]:
        problems.append(
            Problem(
                rest[-1].sheet,
                rest[-1].address,
                "",
                f"And {len(rest)} more cells far outside your contacts, up to this one, which "
                "followup leaves out: clear them and save.",
            )
        )
    return problems


def _shown(value: ReadValue) -> str:
    """A cell's value as a problem shows it: text as it is (even a lone space), 46000 for the
    46000.0 python-calamine reads from a number cell."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.isoformat() if isinstance(value, date) else str(value)


@contextmanager
def open_workbook(path: Path, trusted: Mapping[str, Places] | None = None) -> Iterator[Workbook]:
    """The workbook, opened once for all its readers; any failure to read it is a WorkbookError.

    The `trusted` sheets are not measured; only the cells at the places given for each are left
    out. The save's read-back trusts the sheet it rewrote as the original was measured, since a
    save adds cells only among the contacts: that spares it a second pass over the largest sheet.
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


_COPY_NAME = re.compile(r"followup-[a-z0-9_]{8}\.xlsx")
"""What mkstemp makes of `_copy`'s names."""


def _copy(archive: zipfile.ZipFile, replaced: Mapping[str, bytes]) -> Path:
    """A copy of the workbook with some parts replaced, in a temporary file that python-calamine
    reads as it would the workbook (in memory, a large workbook would be there three times).
    Parts are stored, not compressed: the copy is read once and deleted. Copies a killed run
    left (the user's contacts, unpacked) are deleted an hour later, when the next is made."""
    remove_stale_temps(Path(tempfile.gettempdir()), _COPY_NAME.fullmatch)
    fd, name = tempfile.mkstemp(prefix="followup-", suffix=".xlsx")  # readable by the user only
    os.close(fd)
    path = Path(name)
    try:
        with zipfile.ZipFile(path, "w") as copy:
            for info in archive.infolist():
                data = replaced.get(info.filename)
                if data is not None:
                    copy.writestr(info.filename, data)
                    continue
                with archive.open(info) as source, copy.open(info.filename, "w") as target:
                    shutil.copyfileobj(source, target, 1 << 20)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


# --- the sheets' parts -----------------------------------------------------------------------
#
# The patcher reads the same map (xlsx/package.py's Book), and both find parts by the rules of
# xlsx/parts.py. The parsing stays apart on purpose: this one uses a strict XML parser and gives
# up quietly on anything it cannot parse (python-calamine then says what is wrong, or the file
# is refused), so that no sheet python-calamine loads escapes measuring; the patcher scans the
# text it edits, keeping every byte, and names what it cannot patch in a WorkbookError. And
# this map leaves Excel 4.0 macro sheets out of a copy for python-calamine, where the patcher
# keeps them and refuses one only as the sheet to write.


@dataclass(frozen=True)
class _SheetEntries:
    """Where the workbook part is and each sheet's zip entry, as python-calamine finds them."""

    entry: str  # the workbook part's zip entry
    data: bytes  # its XML
    sheets: dict[str, str]  # sheet name -> zip entry, for the sheets whose part exists
    macro_sheets: frozenset[str]  # relationship ids of Excel 4.0 macro sheets

    @classmethod
    def read(cls, archive: zipfile.ZipFile) -> _SheetEntries | None:
        """The map, or None when the workbook part cannot be found or parsed (then
        python-calamine cannot read the file either, and says so)."""
        index = parts.PartIndex(archive.namelist())
        try:
            office = [
                target
                for kind, target in _rels(archive, index, "").values()
                if kind.endswith("/officeDocument")
            ]
            entry = next(filter(None, map(index.entry, office)), None)
            entry = entry or index.entry("xl/workbook.xml")
            if entry is None:
                return None
            data = archive.read(entry)
            rels = _rels(archive, index, parts.part_key(entry))
            sheets, macros = {}, set()
            for attrs in _elements(data, "sheet"):
                rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
                kind, target = rels.get(rid, ("", ""))
                if kind.endswith(MACRO_SHEETS):
                    macros.add(rid)
                elif found := index.entry(target):
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


def _rels(
    archive: zipfile.ZipFile, index: parts.PartIndex, part: str
) -> dict[str, tuple[str, str]]:
    """The relationships of `part` ("" for the package): id -> (type, target part)."""
    entry = index.entry(parts.rels_part(part))
    if entry is None:
        return {}
    return {
        attrs.get("Id", ""): (
            attrs.get("Type", ""),
            parts.target_part(part, attrs.get("Target", "")),
        )
        for attrs in _elements(archive.read(entry), "Relationship")
    }


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
