"""The patch of one sheet part: its rows streamed through, the planned cells written into them."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

from followup.workbook.cells import WriteValue
from followup.workbook.xlsx.markup import (
    ANY_TAG,
    MAIN_NS,
    START_TAG,
    Area,
    Element,
    Malformed,
    attr_pattern,
    attr_value,
    attrs_of_tags,
    blanked,
    cell_tag,
    child_elements,
    column_of_letters,
    declared_scope,
    end_tag_of,
    matched_element,
    namespace_uri,
    parse_area,
    scope_at,
    set_attr,
    splice,
    start_tag_of,
    style_index,
    tag_pattern,
)
from followup.workbook.xlsx.values import CellWriter, column_letters

# --- the sheet part --------------------------------------------------------------------------


class SheetPatch:
    """One streaming pass over a worksheet's XML that replaces or inserts the edited cells.

    The text comes and goes in pieces. What precedes <sheetData> is read whole (it is small);
    then each run of whole rows, up to the last "</row>" outside comments, CDATA sections and
    processing instructions, is patched and written while the rest waits for the next piece;
    what follows </sheetData> is copied. Text held back for the next piece (a row or comment
    longer than a piece) is read on with as much again each time (`_refill`), so whatever the
    layout, each character is looked at a bounded number of times: the pass stays linear.
    Array formulas are noted as they pass: each sits in the first cell of its range.
    """

    def __init__(self, edits: dict[int, dict[int, WriteValue]], writer: CellWriter) -> None:
        self.edits = edits
        self.writer = writer
        self.skipped: list[tuple[int, int]] = []
        self.obstacles: list[Area] = []
        """Merged ranges and the sheet's autofilter: a table must not grow over them."""
        self.pending = sorted(edits)
        self.next = 0  # pending[self.next] is the first edited row not reached yet
        self.previous = 0  # the number of the last row passed
        self.arrays: list[Area] = []
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
        self.scope = declared_scope(attrs, scope_at(scan, tag.start()))
        self.namespace = namespace_uri(self.scope, name[: name.find(":") + 1]) or ""
        if self.namespace not in MAIN_NS.values():
            raise Malformed(f"its sheet's <{name}> is not in the spreadsheet namespace")
        bound = sorted((p for p, uri in self.scope.items() if uri == self.namespace), key=len)
        self.prefix, self.aliases = f"{bound[0]}:" if bound[0] else "", len(bound) > 1
        head, head_scan = text[: tag.start()], scan[: tag.start()]
        self.column_styles = [
            (_int(a.get("min"), 0), _int(a.get("max"), 0), style_index(a.get("style")))
            for a in attrs_of_tags(head_scan, "col")
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
            scan, limit = blanked(text)
            match = tag_pattern("sheetData").search(scan, pos, limit)
            if match and (tag := START_TAG.match(scan, match.start(), limit)):
                return text, scan, tag
            pos = max(scan.rfind("<", pos, limit), min(pos, limit))  # a tag may be cut off
        raise Malformed("its sheet has no cell data (no <sheetData>)")

    def _rows(
        self, pieces: Iterator[str], text: str, write: Callable[[str], None], name: str
    ) -> str:
        """Patch and write runs of whole rows as they arrive; the text from </sheetData> on."""
        row_name, data_end = f"{self.prefix}row", end_tag_of(name)
        while True:
            scan, limit = blanked(text)
            scan = self._canonical(scan, limit)
            cut, last = _whole_rows(scan, limit, row_name, data_end)
            if cut:
                write(self._patched_rows(text, scan, cut))
            if last:
                write(self._new_rows())
                return text[cut:]
            more = _refill(text[cut:], pieces)
            if more is None:
                raise Malformed(f"an XML element <{name}> is never closed")
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
        for tag in ANY_TAG.finditer(scan, 0, limit):
            closing, name, attrs, slash = tag.groups()
            if closing:
                scope = stack.pop() if len(stack) > 1 else stack[0]
            else:
                scope = declared_scope(attrs, stack[-1])
                if not slash:
                    stack.append(scope)
            prefix, _, local = name.rpartition(":")
            if local not in ("row", "c", "f"):
                continue
            if scope.get(prefix) == self.namespace:
                new = f"{self.prefix}{local}"
                if len(new) > len(name) or (local == "row" and scope.get(ours) != self.namespace):
                    raise Malformed(
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
        return splice(scan, 0, len(scan), edits) if edits else scan

    def _tail(self, pieces: Iterator[str], rest: str, write: Callable[[str], None]) -> None:
        """Copy what follows the rows as it comes, noting merged ranges and the autofilter."""
        write(rest)
        text: str | None = rest
        while text is not None:
            scan, limit = blanked(text)
            cut = limit
            last = scan.rfind("<", 0, limit)
            if last >= 0 and scan.find(">", last, limit) < 0:
                cut = last  # a tag the piece cuts off
            for local in ("mergeCell", "autoFilter"):
                areas = (
                    parse_area(attrs.get("ref")) for attrs in attrs_of_tags(scan, local, 0, cut)
                )
                self.obstacles += filter(None, areas)
            text = _refill(text[cut:], pieces, write)

    def _patched_rows(self, text: str, scan: str, end: int) -> str:
        """text[:end], a run of whole rows, with the edits made and new rows before the next
        higher one; `scan` is its twin."""
        self.text, self.scan, name = text, scan, f"{self.prefix}row"
        if not self.first_checked and (first := next(child_elements(scan, 0, end), None)):
            if first.name != name:
                raise Malformed(f"its sheet data holds an unexpected <{first.name}>")
            self.first_checked = True
        self.arrays += _array_formula_areas(scan, end, start_tag_of(f"{self.prefix}f"))
        pending, index, previous = self.pending, self.next, self.previous
        edits: list[tuple[int, int, str]] = []
        for match in start_tag_of(name).finditer(scan, 0, end):
            number = _int(attr_value(match[1], "r"), previous + 1)
            if number <= previous:
                raise Malformed(f"row {number} of its sheet comes after row {previous}")
            while index < len(pending) and pending[index] < number:
                edits.append((match.start(), match.start(), self._new_row(pending[index])))
                index += 1
            if index < len(pending) and pending[index] == number:
                edits += self._row_edits(matched_element(scan, name, match, end), number)
                index += 1
            previous = number
        self.next, self.previous = index, previous
        return splice(text, 0, end, edits)

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

    def _row_edits(self, row: Element, number: int) -> list[tuple[int, int, str]]:
        """Edits of the run's text, in order, that replace the row's edited cells and insert the
        missing ones in column order (made in one splice of the run, not one per row).

        Every cell written takes the row's prefix, which is bound inside the row; a cell's own
        prefix may be declared on that cell, whose attributes are not kept."""
        edits = self.edits[number]
        custom = "customFormat" in row.attrs and _truthy(row, "customFormat")
        row_style = style_index(attr_value(row.attrs, "s")) if custom else None
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

    def _cell_at(self, row: Element, start: int) -> Element:
        name = f"{row.prefix}c"
        return matched_element(
            self.scan, name, start_tag_of(name).match(self.scan, start), row.inner_end
        )

    def _after_cells(self, row: Element, starts: list[int]) -> int:
        """Where a cell right of all others goes: after the last cell, before any <extLst>."""
        if not starts:
            return row.inner_start
        if self.scan.endswith(f"</{row.prefix}c>", starts[-1], row.inner_end):
            return row.inner_end  # the usual row, whose last cell ends it
        return self._cell_at(row, starts[-1]).end

    def _cells(self, row: Element, number: int, first_col: int) -> tuple[list[int], list[int]]:
        """Where the row's cells start and their columns, walking back from the last cell.

        The walk stops at the first cell left of `first_col`: the edits are usually the last
        columns, so the cells before them need not be read at all.
        """
        scan, tag, pattern = self.scan, f"<{row.prefix}c", cell_tag(row.prefix)
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
            col = column_of_letters(match[2].rstrip("0123456789"))
            if cols and col >= cols[-1]:
                raise Malformed(f"the cells of row {number} of its sheet are out of order")
            starts.append(at)
            cols.append(col)
            if col < first_col:
                break
        return starts[::-1], cols[::-1]

    def _all_cells(self, row: Element, number: int) -> tuple[list[int], list[int]]:
        """Where each cell of the row starts, and its column (from `r`, else the next column)."""
        starts: list[int] = []
        cols: list[int] = []
        previous = 0
        for match in cell_tag(row.prefix).finditer(self.scan, row.inner_start, row.inner_end):
            ref = match[2]
            col = column_of_letters(ref.rstrip("0123456789")) if ref else previous + 1
            if col <= previous:
                raise Malformed(f"the cells of row {number} of its sheet are out of order")
            starts.append(match.start())
            cols.append(col)
            previous = col
        return starts, cols

    def _new_cell(
        self, prefix: str, row: int, col: int, value: WriteValue, row_style: int | None
    ) -> str:
        if value is None:
            return ""
        style = row_style if row_style is not None else self._column_style(col)
        return self.writer.cell(prefix, f"{column_letters(col)}{row}", style, value)

    def _replaced_cell(self, row: Element, cell: Element, number: int, col: int) -> str:
        """The cell with the new value and its own style, or unchanged if it holds a formula."""
        if self._has_formula(cell) or any(area.contains(number, col) for area in self.arrays):
            self.skipped.append((number, col))
            return self.text[cell.start : cell.end]
        value = self.edits[number][col]
        style = style_index(attr_value(cell.attrs, "s"))
        return self.writer.cell(row.prefix, f"{column_letters(col)}{number}", style, value)

    def _has_formula(self, cell: Element) -> bool:
        tag = f"<{cell.prefix}f"
        if self.scan.find(tag, cell.inner_start, cell.inner_end) < 0:
            return False
        formula = start_tag_of(tag[1:])
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
        match = tag_pattern("dimension").search(scan)
        tag = next(child_elements(scan, match.start(), len(scan))) if match else None
        old = parse_area(attr_value(tag.attrs, "ref")) if tag else None
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
        new = Area(
            min(old.top, *rows), min(old.left, *cols), max(old.bottom, *rows), max(old.right, *cols)
        )
        if new == old:
            return head
        start_tag = tag.start_tag(set_attr(tag.attrs, "ref", new.ref()))
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
    cut, end, row_end = 0, limit, end_tag_of(row)
    while (at := scan.rfind(f"</{row}", 0, end)) >= 0:
        if close := row_end.match(scan, at, limit):
            cut = close.end()
            break
        end = at
    tag = scan.find("<", cut, limit)
    return (limit if tag < 0 else tag), False


def _widened_spans(attrs: str, inserted: list[int]) -> str:
    """Row attributes whose `spans` hint ("1:18") still covers the inserted columns."""
    match = attr_pattern("spans").search(attrs) if "spans" in attrs else None
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


def _array_formula_areas(scan: str, end: int, formula: re.Pattern[str]) -> list[Area]:
    """Ranges filled by array formulas or data tables: writing inside one would break it."""
    areas = []
    for match in formula.finditer(scan, 0, end):
        if match[1] and attr_value(match[1], "t") in ("array", "dataTable"):
            area = parse_area(attr_value(match[1], "ref"))
            if area:
                areas.append(area)
    return areas


def _int(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise Malformed(f"of a bad number {raw!r} in its sheet") from None


def _truthy(element: Element, name: str) -> bool:
    return (attr_value(element.attrs, name) or "").lower() in ("1", "true")
