"""Strict checks of a workbook file: each part once, and every XML part namespace-well-formed.

python-calamine forgives a prefix nobody declared, or a second root element; Excel and
LibreOffice refuse the whole file ("could not be loaded"). So before a save is swapped in,
every part it rewrote is parsed here with expat, namespace processing on; `followup doctor`
runs the same check over every XML part of the workbook, and every read of the contacts over
the small ones (`DAILY_BYTES`), which a run may never rewrite. Parts are streamed through the
parser, so a sheet of 100,000 rows (60 MB of XML) costs time, not memory.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, NamedTuple
from xml.parsers import expat

from followup.errors import WorkbookError
from followup.workbook.xlsx.parts import part_key

CHUNK = 1 << 16


class BrokenPart(NamedTuple):
    """A part that is not namespace-well-formed XML, and what its parser said."""

    name: str
    problem: str

    def __str__(self) -> str:
        return f"{self.name} ({self.problem})"


class _Doctype(Exception):
    """A part declares a document type, which workbook files must not (and Excel refuses)."""


def _refuse_doctype(*_args: object) -> None:
    raise _Doctype


def xml_problem(stream: IO[bytes]) -> str | None:
    """Why the XML document in `stream` is not namespace-well-formed, or None when it is."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_doctype
    try:
        while data := stream.read(CHUNK):
            parser.Parse(data, False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        return f"{expat.ErrorString(error.code)}, line {error.lineno}, column {error.offset + 1}"
    except _Doctype:
        return f"a <!DOCTYPE> declaration, line {parser.CurrentLineNumber}"
    return None


def is_xml_part(name: str) -> bool:
    """Whether a zip entry is an XML part by its name (VML drawings, often not XML, are not)."""
    return name.lower().endswith((".xml", ".rels"))


DAILY_BYTES = 1 << 20
"""How much XML `broken_parts(most=...)` reads for the commands that check every time, smallest
parts first: the package's own parts, the workbook, styles and relationships, a few
milliseconds; the sheets and shared strings of a big workbook (tens of MB) are left to
`followup doctor` and to the save, which checks every part it rewrites."""


def broken_parts(
    path: Path, names: Iterable[str] | None = None, *, most: int | None = None
) -> list[BrokenPart]:
    """The parts among `names` (every XML part when None) that fail the strict check; with
    `most`, only the smallest of them, up to `most` bytes in all.

    Raises OSError, zipfile.BadZipFile and zlib.error as reading the zip does.
    """
    with zipfile.ZipFile(path) as archive:
        wanted = None if names is None else set(names)
        infos = [
            info
            for info in archive.infolist()
            if not info.is_dir()
            and (is_xml_part(info.filename) if wanted is None else info.filename in wanted)
        ]
        if most is not None:
            infos = _smallest(infos, most)
        broken = []
        for info in infos:
            with archive.open(info) as stream:
                problem = xml_problem(stream)
            if problem is not None:
                broken.append(BrokenPart(info.filename, problem))
        return broken


def readable_broken_parts(path: Path, *, most: int | None = None) -> list[BrokenPart]:
    """`broken_parts` of every XML part (see `most` there); none when the file cannot be read
    as a zip at all (reading it says why)."""
    try:
        return broken_parts(path, most=most)
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError):
        return []


def _smallest(infos: list[zipfile.ZipInfo], most: int) -> list[zipfile.ZipInfo]:
    """The smallest of `infos`, up to `most` bytes in all, in the zip's order."""
    kept, total = set(), 0
    for info in sorted(infos, key=lambda info: info.file_size):
        total += info.file_size
        if total > most:
            break
        kept.add(id(info))
    return [info for info in infos if id(info) in kept]


def rewritten_parts(original: Path, new: Path) -> list[str]:
    """The entries of `new` that `original` does not hold with the same bytes (by CRC and size,
    from the zips' directories: nothing is unzipped)."""
    with zipfile.ZipFile(original) as old:
        kept = {(i.filename, i.CRC, i.file_size) for i in old.infolist()}
    with zipfile.ZipFile(new) as archive:
        return [
            info.filename
            for info in archive.infolist()
            if (info.filename, info.CRC, info.file_size) not in kept
        ]


def refuse_duplicate_parts(path: Path, names: Iterable[str]) -> None:
    """Raise a WorkbookError when the zip holds a part twice (part names are compared as OPC
    compares them: case-insensitively, '\\' as '/'). Readers then disagree on which one is
    the workbook: a save would patch one while Excel and python-calamine show the other."""
    twice = _duplicate_names(names)
    if twice:
        raise WorkbookError(
            f"{path.name} is damaged: it holds {' and '.join(twice)} twice, and programs "
            "disagree on which copy to show. Open it in Excel or LibreOffice, check that it "
            "shows what you expect, and save it (that keeps one copy); then rerun."
        )


def _duplicate_names(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    twice: dict[str, str] = {}
    for name in names:
        key = part_key(name)
        if key in seen:
            twice.setdefault(key, name)
        seen.add(key)
    return list(twice.values())
