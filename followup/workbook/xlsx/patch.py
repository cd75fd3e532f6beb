"""Surgical write-back: change a few cells of one sheet of an .xlsx and copy everything else.

Loading and re-saving with openpyxl silently drops images, data bars, sparklines, slicers and
text boxes, flattens rich text and forgets every formula's cached value. So the patcher never
re-saves a workbook: it copies every zip entry byte for byte and rewrites only the text of the
sheet's XML part, plus styles.xml when a date style must be added and a table part when a table
grows to cover new header cells. The sheet part is streamed: unzipped, patched and zipped again
a run of whole rows at a time (rows never nest), so a sheet of 100,000 rows costs one linear
pass, is never in memory whole, and the rows without changes stay byte-identical.
"""

from __future__ import annotations

import codecs
import math
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from queue import Queue
from threading import Thread
from typing import IO

from followup.errors import WorkbookError
from followup.workbook.cells import WriteValue
from followup.workbook.columns import MAX_COLUMN, MAX_ROW, cell_address
from followup.workbook.xlsx.markup import Malformed
from followup.workbook.xlsx.own_sheet import patch_own_sheet
from followup.workbook.xlsx.package import (
    CHUNK,
    Book,
    Package,
    encode_text,
    open_zip,
    text_chunks,
)
from followup.workbook.xlsx.parts import part_name
from followup.workbook.xlsx.sheet import SheetPatch
from followup.workbook.xlsx.styles import NewParts, StylesFile
from followup.workbook.xlsx.tables import guard_table_headers, load_tables
from followup.workbook.xlsx.values import CellWriter


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
    cells: Mapping[tuple[int, int], WriteValue]
    widths: tuple[float, ...] = ()
    """Widths of columns A, B... when the sheet is created (Excel shows a date too wide for its
    column as ####)."""


def patch_sheet(
    src: Path,
    dst: Path,
    sheet: str,
    cells: Mapping[tuple[int, int], WriteValue],
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
        with open_zip(src) as archive:
            plan = Plan(Package(archive), sheet, edits, own, own_edits)
            _write_zip(archive, dst, plan)
    except Malformed as error:
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


# --- edits -----------------------------------------------------------------------------------

_PLAIN_VALUES = frozenset({str, int, date, datetime, type(None)})
"""Types of WriteValue that need no closer look (bool is an int, a float may be nan)."""


def _group_by_row(cells: Mapping[tuple[int, int], WriteValue]) -> dict[int, dict[int, WriteValue]]:
    """The edits as {row: {column: value}}, after checking what Excel could never hold.

    It runs once per cell of the whole sheet, so the usual types are checked by a set lookup
    and a row's cells, which usually come together, share one look-up of their row."""
    rows: dict[int, dict[int, WriteValue]] = {}
    last, row_cells = 0, {}
    for (row, col), value in cells.items():
        if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COLUMN):
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


# --- planning the changes --------------------------------------------------------------------


class Plan:
    """What patch_sheet changes: the sheet part, streamed, then the parts that depend on how that
    went (a date style added to styles.xml, a table grown over new headers) and the own sheet."""

    def __init__(
        self,
        package: Package,
        sheet: str,
        edits: dict[int, dict[int, WriteValue]],
        own: OwnSheet | None,
        own_edits: dict[int, dict[int, WriteValue]],
    ) -> None:
        self.package, self.own, self.own_edits = package, own, own_edits
        self.book = Book.load(package)
        self.sheet_rel, sheet_entry = self.book.sheet_part(package, sheet)
        self.styles_file = StylesFile(package, self.book, self.sheet_rel)
        self.writer = CellWriter(self.book.date1904, self.styles_file.styles)
        self.new_parts = NewParts(package, self.book)
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
            own_changes, own_skipped = patch_own_sheet(self, self.own)
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
        package: Package,
        entry: str,
        edits: dict[int, dict[int, WriteValue]],
        writer: CellWriter,
    ) -> None:
        self.package, self.entry, self.edits = package, entry, edits
        self.tables = load_tables(package, part_name(entry))
        self.guarded = guard_table_headers(edits, self.tables)
        self.sheet = SheetPatch(edits, writer)

    @property
    def skipped(self) -> list[tuple[int, int]]:
        return self.guarded + self.sheet.skipped

    def write(self, file: IO[bytes]) -> None:
        """Stream the patched part into `file`, in the encoding the part had."""
        with text_chunks(self.package.archive, self.entry) as (codec, pieces):
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
                changes[table.entry] = encode_text(grown, table.codec)
        return changes


def _write_zip(archive: zipfile.ZipFile, dst: Path, plan: Plan) -> None:
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
            stamp = max((info.date_time for info in infos), default=(1980, 1, 1, 0, 0, 0))
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
"""Deflate level of the patched sheet part: less than half the time of zlib's default (6) for
a file about a sixth larger (scripts/bench.py measures it)."""


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
        shutil.copyfileobj(source, sink, CHUNK)


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.create_system = info.create_system
    copy.comment = info.comment
    return copy
