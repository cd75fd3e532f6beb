"""Tables on the patched sheet: a header cell the program writes into a table grows the table
only where that keeps its columns, and never renames one.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from followup.workbook.cells import WriteValue
from followup.workbook.xlsx.markup import (
    Area,
    Doc,
    Element,
    attr_value,
    escape,
    parse_area,
    set_attr,
    style_index,
    xstring,
)
from followup.workbook.xlsx.package import Package, relationships

# --- tables ----------------------------------------------------------------------------------


@dataclass
class _Table:
    """An Excel table (ListObject) on the sheet: where it is and its column names."""

    entry: str
    doc: Doc
    codec: str
    root: Element
    area: Area
    names: list[str]

    @property
    def has_header(self) -> bool:
        return (attr_value(self.root.attrs, "headerRowCount") or "1") != "0"

    def header_name(self, col: int) -> str | None:
        index = col - self.area.left
        return self.names[index] if 0 <= index < len(self.names) else None

    def grown(
        self, written: dict[tuple[int, int], WriteValue], obstacles: list[Area]
    ) -> str | None:
        """The table part widened over header cells written just right of it, if any."""
        if not self.has_header or attr_value(self.root.attrs, "tableType") not in (
            None,
            "worksheet",
        ):
            return None
        added: list[str] = []
        taken = {name.casefold() for name in self.names}
        for col in count(self.area.right + 1):
            value = written.get((self.area.top, col))
            name = xstring(value) if isinstance(value, str) else ""
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
            (root.start, root.inner_start, f"<{root.name}{set_attr(root.attrs, 'ref', new_ref)}>")
        ]
        for child in doc.children(root):
            if child.local == "autoFilter" and (area := parse_area(attr_value(child.attrs, "ref"))):
                attrs = set_attr(child.attrs, "ref", area._replace(right=right).ref())
                edits.append((child.start, child.inner_start, child.start_tag(attrs)))
            elif child.local == "tableColumns" and not child.self_closing:
                existing = doc.tag_attrs("tableColumn", child.start, child.end)
                first = max((style_index(a.get("id")) for a in existing), default=0) + 1
                added = "".join(
                    f'<{child.prefix}tableColumn id="{first + i}" '
                    f'name="{escape(name, quote=True)}"/>'
                    for i, name in enumerate(names)
                )
                attrs = set_attr(child.attrs, "count", str(len(self.names) + len(names)))
                edits += [
                    (child.start, child.inner_start, f"<{child.name}{attrs}>"),
                    (child.inner_end, child.inner_end, added),
                ]
        return doc.spliced(edits)


def load_tables(package: Package, sheet_part: str) -> list[_Table]:
    tables = []
    for rel in relationships(package, sheet_part, "/table"):
        entry = package.entry(rel.target or "") if rel.type.endswith("/table") else None
        if entry is None:
            continue
        doc, codec = package.read_doc(entry)
        root = doc.root()
        area = parse_area(attr_value(root.attrs, "ref"))
        if area is None:
            continue
        names = [a.get("name", "") for a in doc.tag_attrs("tableColumn")]
        tables.append(_Table(entry, doc, codec, root, area, names))
    return tables


def guard_table_headers(
    edits: dict[int, dict[int, WriteValue]], tables: list[_Table]
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
