"""The workbook as a zip of parts: finding parts by name, reading their text, the
relationships between them, and what the workbook part says about its sheets.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from followup.errors import WorkbookError
from followup.workbook.xlsx import xmlcheck
from followup.workbook.xlsx.markup import Doc, Malformed, attr_items, declared_scope, tag_pattern
from followup.workbook.xlsx.parts import PartIndex, part_name, rels_part, target_part

# --- reading the package ---------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def open_zip(src: Path) -> zipfile.ZipFile:
    """The workbook as a zip, or a WorkbookError that says what the file is instead."""
    try:
        with src.open("rb") as file:
            head = file.read(len(_OLE_MAGIC))
            ole = file.read() if head == _OLE_MAGIC else b""
        return zipfile.ZipFile(src)
    except OSError as error:
        raise WorkbookError(
            f"Cannot open the workbook {src}: {error.strerror or error}. Check [workbook] path "
            "in config.toml."
        ) from None
    except zipfile.BadZipFile:
        raise WorkbookError(_not_a_zip(src.name, head, ole)) from None


def _not_a_zip(name: str, head: bytes, ole: bytes) -> str:
    """Why a file that is not a zip cannot be the workbook, and what to do about it."""
    if head != _OLE_MAGIC:
        return (
            f"{name} is not an Excel workbook (.xlsx or .xlsm), or it is damaged. Save it from "
            "Excel or LibreOffice as an Excel workbook and point [workbook] path at it."
        )
    # Excel stores a password-protected workbook encrypted inside an OLE compound file.
    if "EncryptedPackage".encode("utf-16-le") in ole:
        return (
            f"{name} is password-protected, so it cannot be read or updated. Remove the password "
            "in Excel (File > Info > Protect Workbook) and save, or point [workbook] path at an "
            "unprotected copy."
        )
    return (
        f"{name} is an old-style .xls workbook. Open it in Excel or LibreOffice, save it as "
        ".xlsx and point [workbook] path at the new file."
    )


class DamagedPart(WorkbookError):
    """A part the patcher must read is not well-formed XML: the file was broken before."""


class Package:
    """The zip's parts by their OPC name (case-insensitive, '/' even when the zip says '\\')."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.name = Path(archive.filename or "workbook").name
        infos = archive.infolist()
        xmlcheck.refuse_duplicate_parts(Path(self.name), [info.filename for info in infos])
        self._index = PartIndex(info.filename for info in infos)
        if any(info.flag_bits & 0x1 for info in archive.infolist()):
            raise WorkbookError(
                f"{self.name} is password-protected (its zip entries are encrypted). Save an "
                "unprotected copy and point [workbook] path at it."
            )

    def entry(self, part: str) -> str | None:
        """The zip entry holding `part`, if there is one."""
        return self._index.entry(part)

    def read_text(self, entry: str) -> tuple[str, str]:
        """An XML part's text and the codec to write it back with."""
        return _decode(self.archive.read(entry), entry)

    def read_doc(self, entry: str) -> tuple[Doc, str]:
        """An XML part to search and edit, and the codec to write it back with."""
        text, codec = self.read_text(entry)
        return Doc(text), codec


def _decode(data: bytes, entry: str) -> tuple[str, str]:
    """Text plus codec, keeping a byte-order mark so unchanged text re-encodes to the same bytes."""
    codec = _codec(data)
    try:
        return data.decode(codec), codec
    except (LookupError, UnicodeDecodeError):
        raise Malformed(f"{entry} is not valid {codec} text") from None


def _codec(head: bytes) -> str:
    """The codec of an XML part that starts with `head`: its byte-order mark or declaration."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    declared = re.match(rb"<\?xml[^>]*encoding\s*=\s*[\"']([\w.:-]+)", head)
    return declared[1].decode("ascii") if declared else "utf-8"


def encode_text(text: str, codec: str) -> bytes:
    return text.encode(codec, errors="xmlcharrefreplace")


CHUNK = 1 << 20
"""Bytes of a sheet part unzipped per step: enough that the steps' overhead vanishes, and little
next to a sheet of 100,000 rows (40 MB of XML)."""


@contextmanager
def text_chunks(archive: zipfile.ZipFile, entry: str) -> Iterator[tuple[str, Iterator[str]]]:
    """An XML part's codec, and its text in pieces of at most CHUNK characters as it unzips.

    The part is closed on leaving, however far its pieces were read: an open part keeps the
    workbook's file open, until the cycle collector happens to free it."""
    with archive.open(entry) as stream:
        head = b""
        while len(head) < 1024 and (more := stream.read(CHUNK)):
            head += more  # the declaration, whatever CHUNK is
        codec = _codec(head)
        try:
            decoder = codecs.getincrementaldecoder(codec)()
        except LookupError:
            raise Malformed(f"{entry} is not valid {codec} text") from None

        def pieces(data: bytes) -> Iterator[str]:
            while True:
                try:
                    text = decoder.decode(data, final=not data)
                except UnicodeDecodeError:
                    raise Malformed(f"{entry} is not valid {codec} text") from None
                yield from (text[i : i + CHUNK] for i in range(0, len(text), CHUNK))
                if not data:
                    return
                data = stream.read(CHUNK)

        yield codec, pieces(head)


class Rel(NamedTuple):
    id: str
    type: str
    target: str | None  # part path; None for external targets


def relationships(package: Package, part: str, kind: str = "") -> list[Rel]:
    """The relationships of `part` ("" for the package), with targets resolved to part paths.

    `kind` ("/table") skips the others early: a sheet can have 65,000 hyperlink relationships.
    """
    entry = package.entry(rels_part(part))
    if entry is None:
        return []
    doc, _ = package.read_doc(entry)
    rels = []
    for match in tag_pattern("Relationship").finditer(doc.scan):
        if kind not in match[1]:
            continue
        attrs = dict(attr_items(match[1]))
        external = attrs.get("TargetMode") == "External"
        path = None if external else target_part(part, attrs.get("Target", ""))
        rels.append(Rel(attrs.get("Id", ""), attrs.get("Type", ""), path))
    return rels


@dataclass
class Book:
    """What the workbook part says: where the sheets and styles are, and the date system."""

    part: str
    sheets: dict[str, Rel]
    styles: Rel | None
    date1904: bool

    @classmethod
    def load(cls, package: Package) -> Book:
        office = [
            r.target for r in relationships(package, "") if r.type.endswith("/officeDocument")
        ]
        part = next((p for p in office if p and package.entry(p)), "xl/workbook.xml")
        entry = package.entry(part)
        if entry is None:
            raise WorkbookError(
                f"{package.name} is a zip file but not an Excel workbook (it has no workbook "
                "part; .ods and .xlsb files are not supported). Save it from Excel or "
                "LibreOffice as .xlsx and point [workbook] path at it."
            )
        doc, _ = package.read_doc(entry)
        rels = {rel.id: rel for rel in relationships(package, part_name(entry))}
        sheets = {}
        for attrs in listed_sheets(doc):
            rid = attrs.get(_REL_ID, "")
            if rid in rels:
                sheets[attrs.get("name", "")] = rels[rid]
        styles = next((r for r in rels.values() if r.type.endswith("/styles") and r.target), None)
        props = next(doc.tag_attrs("workbookPr"), {})
        date1904 = props.get("date1904", "").lower() in ("1", "true")
        return cls(part_name(entry), sheets, styles, date1904)

    def _broken(self, package: Package) -> str:
        """The workbook part and why it is not well-formed XML, or "" when it is."""
        entry = package.entry(self.part)
        if entry is None:
            return ""
        with package.archive.open(entry) as stream:
            problem = xmlcheck.xml_problem(stream)
        return f"{entry} is not well-formed XML ({problem})" if problem else ""

    def sheet_part(self, package: Package, sheet: str) -> tuple[Rel, str]:
        """The sheet's relationship and zip entry, or a WorkbookError naming the sheets there."""
        rel = self.sheets.get(sheet) or next(
            (r for name, r in self.sheets.items() if name.casefold() == sheet.casefold()), None
        )
        if rel is None:
            if broken := self._broken(package):
                raise DamagedPart(
                    f"{package.name} is damaged: its part {broken}, so followup cannot tell "
                    f"which part holds the sheet {sheet!r}, and Excel and LibreOffice may refuse "
                    "to open the file. Nothing was changed."
                )
            names = ", ".join(repr(name) for name in self.sheets) or "none"
            raise WorkbookError(
                f"{package.name} has no sheet named {sheet!r} (its sheets: {names}). Fix "
                "[workbook] sheet in config.toml or rename the sheet."
            )
        kind = rel.type.rpartition("/")[2]
        entry = package.entry(rel.target or "")
        if kind != "worksheet" or entry is None:
            what = _SHEET_KINDS.get(kind, "a broken sheet") if entry else "missing from the file"
            raise WorkbookError(
                f"Sheet {sheet!r} in {package.name} is {what}, not a sheet of cells. Fix "
                "[workbook] sheet in config.toml to name the contacts sheet."
            )
        return rel, entry


_SHEET_KINDS = {
    "chartsheet": "a chart sheet",
    "dialogsheet": "a dialog sheet",
    "xlMacrosheet": "a macro sheet",
    "xlIntlMacrosheet": "a macro sheet",
}


REL_NAMESPACES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_REL_ID = "{relationships}id"
"""The key `listed_sheets` gives a sheet's relationship id, whatever its prefix."""


def listed_sheets(doc: Doc) -> Iterator[dict[str, str]]:
    """The attributes of each <sheet> in the workbook part, its relationship id under _REL_ID.

    Where the id's namespace is declared varies (the root, as Excel does, or each <sheet>, as
    openpyxl does); its prefix is whatever the file binds it to.
    """
    sheets = doc.first("sheets")
    if sheets is None:
        return
    outer = doc.scope(sheets)
    for sheet in doc.children(sheets):
        if sheet.local != "sheet":
            continue
        attrs = dict(attr_items(sheet.attrs))
        scope = declared_scope(sheet.attrs, outer)
        for key, value in list(attrs.items()):
            prefix, _, local = key.rpartition(":")
            if local == "id" and prefix and scope.get(prefix) in REL_NAMESPACES:
                attrs[_REL_ID] = value
        yield attrs
