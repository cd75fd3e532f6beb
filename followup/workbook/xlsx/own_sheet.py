"""The program's own sheet (its Log): appended to, or added to the workbook with the parts
that list sheets.
"""

from __future__ import annotations

import io
import posixpath
from itertools import count
from typing import TYPE_CHECKING

from followup.workbook.xlsx.markup import (
    MAIN_NS,
    Doc,
    Malformed,
    appended,
    attr_prefix,
    escape,
    namespace_uri,
    set_attr,
    style_index,
)
from followup.workbook.xlsx.package import (
    REL_NAMESPACES,
    Book,
    Package,
    encode_text,
    listed_sheets,
    relationships,
)
from followup.workbook.xlsx.sheet import SheetPatch

if TYPE_CHECKING:
    from followup.workbook.xlsx.patch import OwnSheet, Plan


# --- the program's own sheet -----------------------------------------------------------------

_WORKSHEET_CONTENT_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
)


def patch_own_sheet(plan: Plan, own: OwnSheet) -> tuple[dict[str, bytes], list[tuple[int, int]]]:
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
    patch = SheetPatch(plan.own_edits, plan.writer)
    text: list[str] = []
    patch.run([_new_sheet_xml(strict, own.widths)], text.append)
    changes = {part: encode_text("".join(text), "utf-8")}
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
        f'<worksheet xmlns="{MAIN_NS[strict]}"><dimension ref="A1"/>'
        '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/>{f"<cols>{cols}</cols>" if cols else ""}'
        "<sheetData/></worksheet>"
    )


def _listed_in_workbook(package: Package, book: Book, name: str, rid: str) -> dict[str, bytes]:
    """workbook.xml with the new sheet as the last <sheet> of <sheets>.

    Its relationship id needs a prefix bound to the relationships namespace where the new
    element lands. Excel declares that prefix on the root; openpyxl (so pandas) declares it
    on each <sheet>, where it does not reach a new one, which then declares it itself.
    """
    entry = package.entry(book.part)
    assert entry is not None  # Book.load found it
    doc, codec = package.read_doc(entry)
    sheets = doc.first("sheets")
    if sheets is None:
        raise Malformed("its workbook part lists no sheets")
    scope = doc.scope(sheets)
    strict = namespace_uri(scope, sheets.prefix) == MAIN_NS[True]
    usual = "relationships" if sheets.prefix == "r:" else "r"
    prefix, declaration = attr_prefix(scope, REL_NAMESPACES[strict], usual)
    listed = list(listed_sheets(doc))
    sheet_id = max((style_index(attrs.get("sheetId")) for attrs in listed), default=0) + 1
    child = (
        f'<{sheets.prefix}sheet name="{escape(name, quote=True)}" sheetId="{sheet_id}" '
        f'{prefix}id="{rid}"{declaration}/>'
    )
    return {entry: encode_text(doc.spliced([appended(sheets, child)]), codec)}


def _listed_in_app_titles(package: Package, name: str) -> dict[str, bytes]:
    """docProps/app.xml with the new sheet among its worksheet titles, when it has that list.

    The list is only a summary Excel rebuilds on every save, so a file whose list is not laid
    out as Excel and LibreOffice write it keeps its app.xml unchanged.
    """
    app = [r.target for r in relationships(package, "") if r.type.endswith("/extended-properties")]
    entry = package.entry(next(filter(None, app), "docProps/app.xml"))
    if entry is None:
        return {}
    try:
        doc, codec = package.read_doc(entry)
        edits = _app_title_edits(doc, name)
    except (ValueError, Malformed):
        return {}
    return {entry: encode_text(doc.spliced(edits), codec)} if edits else {}


def _app_title_edits(doc: Doc, name: str) -> list[tuple[int, int, str]]:
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
    size = set_attr(title_vector.attrs, "size", str(len(entries) + 1))
    tag = f"{title_vector.prefix}lpstr"  # the vector's own prefix, bound inside it
    return [
        (number.inner_start, number.inner_end, str(sheets_count + 1)),
        (title_vector.start, title_vector.inner_start, f"<{title_vector.name}{size}>"),
        (at, at, f"<{tag}>{escape(name)}</{tag}>"),
    ]
