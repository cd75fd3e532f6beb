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
