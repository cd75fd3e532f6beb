"""Workbooks for the xlsx writer's tests, and ways to look inside the files it writes.

`rich_workbook` is a contacts workbook the way a keen Excel user keeps one: a formula with a
cached value, a summary sheet whose formulas read the contacts, a chart, a picture, a comment,
data validation, conditional formats (with a 2010 data bar), a sparkline, a defined name,
freeze panes and either an Excel table around the data or a plain autofilter.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from datetime import date
from pathlib import Path

import xlsxwriter

HEADER = ["Name", "Company", "Email", "Met on", "Priority", "Touches", "Score"]
PEOPLE = [
    ["Ann Lee", "Acme", "ann@example.com", date(2026, 3, 2), "A", 1],
    ["Bo Chen", "Globex", "bo@example.com", date(2026, 2, 14), "B", 0],
    ["Cy Diaz", "Initech", "cy@example.com", date(2026, 1, 5), "C", 2],
    ["Di Egan", "Umbrella", "di@example.com", date(2025, 12, 1), "B", 3],
]
FIRST_FREE_COL = len(HEADER) + 1  # 1-based: the column right of the header
LAST_ROW = len(PEOPLE) + 1


def tiny_png() -> bytes:
    """A valid 1x1 red PNG, so the picture test needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def rich_workbook(path: Path, *, table: bool = True) -> Path:
    """The rich contacts workbook at `path` (see the module docstring)."""
    workbook = xlsxwriter.Workbook(path)
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEEFF"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet("Contacts")
    summary = workbook.add_worksheet("Summary")

    sheet.write_row(0, 0, HEADER, bold)
    for row, person in enumerate(PEOPLE, start=1):
        sheet.write_row(row, 0, person[:3])
        sheet.write_datetime(row, 3, person[3], day)
        sheet.write_row(row, 4, person[4:])
        sheet.write_formula(row, 6, f"=F{row + 1}*10", None, person[5] * 10)
    last = len(PEOPLE)
    if table:
        columns = [{"header": name, "header_format": bold} for name in HEADER]
        sheet.add_table(0, 0, last, len(HEADER) - 1, {"name": "People", "columns": columns})
    else:
        sheet.autofilter(0, 0, last, len(HEADER) - 1)
    sheet.freeze_panes(1, 1)
    sheet.write_comment("A2", "Met at the spring meetup")
    sheet.data_validation(1, 4, 500, 4, {"validate": "list", "source": ["A", "B", "C"]})
    sheet.conditional_format(1, 5, last, 5, {"type": "data_bar", "data_bar_2010": True})
    sheet.conditional_format(
        1, 4, last, 4, {"type": "cell", "criteria": "==", "value": '"A"', "format": bold}
    )
    sheet.add_sparkline(0, 9, {"range": f"Contacts!F2:F{last + 1}"})
    sheet.insert_image("K3", "dot.png", {"image_data": io.BytesIO(tiny_png())})
    workbook.define_name("Everyone", f"=Contacts!$A$2:$A${last + 1}")

    summary.write_row(0, 0, ["Contacts", "Touches"])
    summary.write_formula(1, 0, f"=COUNTA(Contacts!A2:A{last + 1})", None, last)
    total = sum(int(p[5]) for p in PEOPLE)
    summary.write_formula(1, 1, f"=SUM(Contacts!F2:F{last + 1})", None, total)
    chart = workbook.add_chart({"type": "column"})
    chart.add_series(
        {"categories": f"=Contacts!A2:A{last + 1}", "values": f"=Contacts!F2:F{last + 1}"}
    )
    summary.insert_chart("D2", chart)
    workbook.close()
    return path


def parts(path: Path) -> dict[str, bytes]:
    """Every zip entry's uncompressed bytes, by name."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def entry_facts(path: Path) -> list[tuple[object, ...]]:
    """What a copy must keep of each entry: order, name, time, compression and attributes."""
    with zipfile.ZipFile(path) as archive:
        return [
            (i.filename, i.date_time, i.compress_type, i.external_attr) for i in archive.infolist()
        ]


def changed_parts(before: Path, after: Path) -> set[str]:
    """Names of entries added, removed or whose bytes differ."""
    old, new = parts(before), parts(after)
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


_ROW = re.compile(r"<row\b[^>]*?\br=\"(\d+)\"[^>]*?(?:/>|>.*?</row>)", re.S)


def sheet_rows(xml: str) -> dict[int, str]:
    """Each row element's exact text by row number (for sheets with plain <row> tags)."""
    return {int(m[1]): m[0] for m in _ROW.finditer(xml)}


def replace_part(path: Path, name: str, data: bytes) -> None:
    """Rewrite one entry of a zip in place (to hand-craft XML the writers never produce)."""
    entries = parts(path)
    entries[name] = data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, content in entries.items():
            archive.writestr(entry, content)


def soffice_convert(files: list[Path], target: str, out: Path) -> list[Path] | None:
    """Convert files with one LibreOffice run; None when LibreOffice is not installed."""
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("FOLLOWUP_REQUIRE_SOFFICE"):
            raise AssertionError("LibreOffice (soffice) is required for this test run")
        return None
    out.mkdir(parents=True, exist_ok=True)
    profile = f"-env:UserInstallation=file://{out / 'profile'}"
    command = [soffice, profile, "--headless", "--convert-to", target, "--outdir", str(out)]
    subprocess.run([*command, *map(str, files)], check=True, capture_output=True, timeout=300)
    extension = target.split(":")[0]
    return [out / f"{path.stem}.{extension}" for path in files]


# --- workbooks written by hand, with namespaces declared as other writers do ----------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
EXT_PROPS = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
PREFIXES = {MAIN: "x", REL: "r", PKG_REL: "pr", TYPES: "ct", EXT_PROPS: "ep", VT: "vt"}
NAMESPACE_STYLES = ("prefixed", "per-element")
"""How `handmade_workbook` declares namespaces. "prefixed": every element has a prefix (x: for
the spreadsheet, as .NET's Open XML SDK writes), all declared on the root. "per-element":
no prefix on any element and each element declares its namespaces itself (openpyxl does so for
the relationship prefix on each <sheet>), so nothing declared on a parent reaches a child."""


class Node:
    """An element of a hand-written part: namespace, name, attributes, children, text."""

    def __init__(self, ns: str, local: str, attrs: dict | None = None, *kids: Node | str):
        self.ns, self.local, self.attrs, self.kids = ns, local, attrs or {}, kids

    def xml(self, style: str, root: bool = True) -> str:
        used = {self.ns} | {ns for ns, _ in (k for k in self.attrs if isinstance(k, tuple))}
        if style == "prefixed":
            name = f"{PREFIXES[self.ns]}:{self.local}"
            declared = _all_namespaces(self) if root else set()
            decls = "".join(f' xmlns:{PREFIXES[ns]}="{ns}"' for ns in sorted(declared))
        else:
            name = self.local
            decls = f' xmlns="{self.ns}"' + "".join(
                f' xmlns:{PREFIXES[ns]}="{ns}"' for ns in sorted(used - {self.ns})
            )
        attrs = "".join(
            f' {PREFIXES[k[0]]}:{k[1]}="{v}"' if isinstance(k, tuple) else f' {k}="{v}"'
            for k, v in self.attrs.items()
        )
        inner = "".join(k if isinstance(k, str) else k.xml(style, False) for k in self.kids)
        return f"<{name}{decls}{attrs}>{inner}</{name}>" if inner else f"<{name}{decls}{attrs}/>"


def _all_namespaces(node: Node) -> set[str]:
    found = {node.ns} | {k[0] for k in node.attrs if isinstance(k, tuple)}
    for kid in node.kids:
        if isinstance(kid, Node):
            found |= _all_namespaces(kid)
    return found


def _inline(ref: str, text: str) -> Node:
    return Node(
        MAIN, "c", {"r": ref, "t": "inlineStr"}, Node(MAIN, "is", {}, Node(MAIN, "t", {}, text))
    )


def handmade_workbook(path: Path, style: str) -> Path:
    """A contacts workbook (Name, Email, Met on; Ann and Bo; an Excel table; a bold date
    style only) whose every part declares its namespaces in `style` (see NAMESPACE_STYLES)."""
    m, w = MAIN, REL + "/"
    doc = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    rows = [
        ["Name", "Email", "Met on"],
        ["Ann Lee", "ann@example.com", 46083],
        ["Bo Chen", "", 46027],
    ]
    row_nodes = []
    for r, values in enumerate(rows, 1):
        cells = []
        for c, value in enumerate(values):
            ref = f"{'ABC'[c]}{r}"
            if isinstance(value, int):
                cells.append(Node(m, "c", {"r": ref, "s": "1"}, Node(m, "v", {}, str(value))))
            elif value:
                cells.append(_inline(ref, value))
        row_nodes.append(Node(m, "row", {"r": str(r)}, *cells))
    sheet = Node(
        m,
        "worksheet",
        {},
        Node(m, "dimension", {"ref": "A1:C3"}),
        Node(m, "sheetData", {}, *row_nodes),
        Node(m, "tableParts", {"count": "1"}, Node(m, "tablePart", {(REL, "id"): "rId1"})),
    )
    table = Node(
        m,
        "table",
        {"id": "1", "name": "People", "displayName": "People", "ref": "A1:C3"},
        Node(m, "autoFilter", {"ref": "A1:C3"}),
        Node(
            m,
            "tableColumns",
            {"count": "3"},
            *(Node(m, "tableColumn", {"id": str(i), "name": n}) for i, n in enumerate(rows[0], 1)),
        ),
        Node(m, "tableStyleInfo", {"name": "TableStyleMedium9", "showRowStripes": "1"}),
    )
    styles = Node(
        m,
        "styleSheet",
        {},
        Node(
            m,
            "fonts",
            {"count": "2"},
            Node(m, "font", {}, Node(m, "sz", {"val": "11"})),
            Node(m, "font", {}, Node(m, "b"), Node(m, "sz", {"val": "11"})),
        ),
        Node(
            m,
            "fills",
            {"count": "1"},
            Node(m, "fill", {}, Node(m, "patternFill", {"patternType": "none"})),
        ),
        Node(m, "borders", {"count": "1"}, Node(m, "border")),
        Node(
            m,
            "cellStyleXfs",
            {"count": "1"},
            Node(m, "xf", {"numFmtId": "0", "fontId": "0", "fillId": "0", "borderId": "0"}),
        ),
        Node(
            m,
            "cellXfs",
            {"count": "2"},
            Node(
                m,
                "xf",
                {"numFmtId": "0", "fontId": "0", "fillId": "0", "borderId": "0", "xfId": "0"},
            ),
            Node(
                m,
                "xf",
                {
                    "numFmtId": "14",
                    "fontId": "1",
                    "fillId": "0",
                    "borderId": "0",
                    "xfId": "0",
                    "applyNumberFormat": "1",
                    "applyFont": "1",
                },
            ),
        ),
        Node(
            m,
            "cellStyles",
            {"count": "1"},
            Node(m, "cellStyle", {"name": "Normal", "xfId": "0", "builtinId": "0"}),
        ),
    )
    book = Node(
        m,
        "workbook",
        {},
        Node(m, "workbookPr"),
        Node(
            m,
            "sheets",
            {},
            Node(m, "sheet", {"name": "Contacts", "sheetId": "1", (REL, "id"): "rId1"}),
        ),
    )

    def rels(*items: tuple[str, str, str]) -> Node:
        return Node(
            PKG_REL,
            "Relationships",
            {},
            *(
                Node(PKG_REL, "Relationship", {"Id": i, "Type": w + t, "Target": target})
                for i, t, target in items
            ),
        )

    ct = "application/vnd.openxmlformats-officedocument."
    types = Node(
        TYPES,
        "Types",
        {},
        Node(
            TYPES,
            "Default",
            {
                "Extension": "rels",
                "ContentType": "application/vnd.openxmlformats-package.relationships+xml",
            },
        ),
        Node(TYPES, "Default", {"Extension": "xml", "ContentType": "application/xml"}),
        Node(
            TYPES,
            "Override",
            {"PartName": "/xl/workbook.xml", "ContentType": ct + "spreadsheetml.sheet.main+xml"},
        ),
        Node(
            TYPES,
            "Override",
            {
                "PartName": "/xl/worksheets/sheet1.xml",
                "ContentType": ct + "spreadsheetml.worksheet+xml",
            },
        ),
        Node(
            TYPES,
            "Override",
            {"PartName": "/xl/styles.xml", "ContentType": ct + "spreadsheetml.styles+xml"},
        ),
        Node(
            TYPES,
            "Override",
            {"PartName": "/xl/tables/table1.xml", "ContentType": ct + "spreadsheetml.table+xml"},
        ),
        Node(
            TYPES,
            "Override",
            {"PartName": "/docProps/app.xml", "ContentType": ct + "extended-properties+xml"},
        ),
    )
    app = Node(
        EXT_PROPS,
        "Properties",
        {},
        Node(
            EXT_PROPS,
            "HeadingPairs",
            {},
            Node(
                VT,
                "vector",
                {"size": "2", "baseType": "variant"},
                Node(VT, "variant", {}, Node(VT, "lpstr", {}, "Worksheets")),
                Node(VT, "variant", {}, Node(VT, "i4", {}, "1")),
            ),
        ),
        Node(
            EXT_PROPS,
            "TitlesOfParts",
            {},
            Node(
                VT, "vector", {"size": "1", "baseType": "lpstr"}, Node(VT, "lpstr", {}, "Contacts")
            ),
        ),
    )
    parts = {
        "[Content_Types].xml": types,
        "_rels/.rels": rels(
            ("rId1", "officeDocument", "xl/workbook.xml"),
            ("rId2", "extended-properties", "docProps/app.xml"),
        ),
        "xl/workbook.xml": book,
        "xl/_rels/workbook.xml.rels": rels(
            ("rId1", "worksheet", "worksheets/sheet1.xml"), ("rId2", "styles", "styles.xml")
        ),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/worksheets/_rels/sheet1.xml.rels": rels(("rId1", "table", "../tables/table1.xml")),
        "xl/tables/table1.xml": table,
        "xl/styles.xml": styles,
        "docProps/app.xml": app,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, node in parts.items():
            archive.writestr(name, doc + node.xml(style))
    return path


def assert_namespace_well_formed(path: Path) -> None:
    """Every XML part of the workbook parses with a namespace-aware parser, as Excel needs."""
    import xml.sax
    from xml.sax.handler import feature_namespaces

    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not name.endswith((".xml", ".rels")):
                continue
            parser = xml.sax.make_parser()  # noqa: S317 (files the tests made themselves)
            parser.setFeature(feature_namespaces, True)
            try:
                parser.parse(io.BytesIO(archive.read(name)))
            except xml.sax.SAXParseException as error:
                message = f"{path.name}: {name} is not namespace-well-formed: {error}"
                raise AssertionError(message) from None
