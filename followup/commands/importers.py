"""Reading other apps' contact exports: LinkedIn's Connections.csv and vCard (.vcf) files.

Pure: each reader takes the file's text and returns the people in it, in file order, each with
where it came from for messages. Who is new, and the rows they go into, is
`import_plan.plan_import`'s business.
"""

from __future__ import annotations

import codecs
import csv
import io
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from followup.core.birthdays import parse_birthday
from followup.core.model import Birthday
from followup.errors import UsageError
from followup.workbook.cells import DateOrder, parse_date
from followup.workbook.columns import normalize_header


@dataclass(frozen=True)
class Imported:
    """One person from an export, in the workbook's terms."""

    name: str
    company: str = ""
    role: str = ""
    email: str = ""
    phone: str = ""
    linkedin: str = ""
    met_on: date | None = None
    notes: str = ""
    source: str = ""  # "line 5", "card 2"
    birthday: Birthday | None = None
    unread_birthday: str = ""  # a BDAY that is not a date, for the import to name


def decode(data: bytes) -> str:
    """A file's text: UTF-16 with a byte-order mark (what Excel saves as "Unicode text"),
    UTF-8 with or without one, else Windows-1252, which older exports from Outlook and Excel
    use. Anything else, a binary file above all, is a UsageError naming the line."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode(data, "utf-16")  # the mark says which byte order
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = _decode(data, "cp1252")
    if (nul := text.find("\0")) >= 0:  # no text export holds one; nearly every binary file does
        raise UsageError(
            f"Line {text.count(chr(10), 0, nul) + 1} holds a NUL character, so this is not a "
            "text export (or UTF-16 without its byte-order mark): check that it is the right "
            'file, or save it as UTF-8 ("CSV UTF-8" in Excel) and import it again.'
        )
    return text.removeprefix("\ufeff")


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        line = data[: err.start].decode(encoding, errors="replace").count("\n") + 1
        raise UsageError(
            f"Line {line} is not text in UTF-8, UTF-16 or Windows-1252 (byte "
            f'0x{data[err.start]:02X}). Save the file as UTF-8 ("CSV UTF-8" in Excel) and '
            "import it again."
        ) from None


# --- LinkedIn --------------------------------------------------------------------------------

_LINKEDIN_COLUMNS = {
    "firstname": "first",
    "lastname": "last",
    "url": "linkedin",
    "emailaddress": "email",
    "company": "company",
    "position": "role",
    "connectedon": "connected",
}


def read_linkedin(text: str, date_order: DateOrder = "MDY") -> tuple[list[Imported], list[str]]:
    """The connections in LinkedIn's Connections.csv, and warnings about cells left out.

    The export starts with a "Notes:" preamble (a quoted paragraph) before its header line
    `First Name,Last Name,URL,Email Address,Company,Position,Connected On`; Connected On
    ("11 Mar 2026") becomes Met on.
    """
    text = text.removeprefix("\ufeff")
    # A field may be as long as the file: csv's limit (131,072 characters) is not a cell's.
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    # Commas as LinkedIn writes it; tabs once saved by Excel as "Unicode text"; semicolons
    # once saved by Excel where the decimal mark is a comma. newline=None: a line may end in
    # CR LF, LF or a lone CR (old Macs).
    for delimiter in ",\t;":
        # strict: a quote never closed is an error, not one cell holding the rest of the file.
        reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter, strict=True)
        fields = _linkedin_header(reader)
        if fields:
            return _connections(reader, fields, date_order)
    raise UsageError(
        "This is not LinkedIn's Connections.csv: it has no header line starting "
        "`First Name,Last Name`. Export it from LinkedIn (Settings > Data privacy > Get a "
        "copy of your data > Connections) and import that file."
    )


def _linkedin_header(rows: Iterator[list[str]]) -> dict[int, str]:
    """Read up to the header line; its columns followup uses, by position ({} if none, or if
    the lines before it are not CSV with this delimiter)."""
    try:
        for row in rows:
            names = [normalize_header(cell) for cell in row]
            if "firstname" in names and "lastname" in names:
                return {
                    i: _LINKEDIN_COLUMNS[n] for i, n in enumerate(names) if n in _LINKEDIN_COLUMNS
                }
    except csv.Error:
        pass
    return {}


def _connections(
    reader: Any, fields: dict[int, str], date_order: DateOrder
) -> tuple[list[Imported], list[str]]:
    """The people in the rows below the header, and warnings about cells left out."""
    people, warnings = [], []
    for row in _rows(reader):
        values = {fields[i]: cell.strip() for i, cell in enumerate(row) if i in fields}
        if not any(values.values()):
            continue
        source = f"line {reader.line_num}"
        connected = values.get("connected", "")
        met_on = parse_date(connected, date_order) if connected else None
        if not isinstance(met_on, date | None):
            warnings.append(f"{source}: Connected On {connected!r} is not a date; Met on is empty.")
            met_on = None
        name = " ".join(filter(None, (values.get("first"), values.get("last"))))
        people.append(
            Imported(
                name=name,
                company=values.get("company", ""),
                role=values.get("role", ""),
                email=values.get("email", ""),
                linkedin=values.get("linkedin", ""),
                met_on=met_on,
                source=source,
            )
        )
    return people, warnings


def _rows(reader: Any) -> Iterator[list[str]]:
    """The reader's rows; a line that is not CSV stops the import, named by its number."""
    while True:
        line = reader.line_num + 1
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            why = str(err)
            if why == "unexpected end of data":
                why = 'a quote (") opened there is never closed'
            elif "expected after" in why:
                why = 'a quoted cell goes on after its closing quote (")'
            raise UsageError(
                f"Line {line} is not CSV as LinkedIn writes it: {why}. Nothing was imported; "
                "export Connections.csv from LinkedIn again, or correct that line in a text "
                "editor."
            ) from None


# --- vCard -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Property:
    name: str  # upper case, without its group ("item1.EMAIL" is EMAIL)
    params: str  # upper case, as written ("TYPE=WORK;PREF=1")
    value: str  # unescaped, decoded


def read_vcard(text: str) -> list[Imported]:
    """Everyone in a .vcf file (vCard 2.1, 3.0 or 4.0; several cards; folded lines).

    FN (else N) is the name, ORG the company, TITLE the role, the preferred (else first) EMAIL
    and TEL; a LinkedIn URL goes to LinkedIn, any other URL and NOTE to Notes.
    """
    people: list[Imported] = []
    card: list[_Property] | None = None
    for line in _unfolded(text):
        prop = _parse_line(line)
        if prop is None:
            continue
        if prop.name == "BEGIN" and prop.value.upper() == "VCARD":
            card = []
        elif prop.name == "END" and card is not None:
            people.append(_person(card, f"card {len(people) + 1}"))
            card = None
        elif card is not None:
            card.append(prop)
    if not people:
        raise UsageError(
            "This is not a vCard file: it has no BEGIN:VCARD. Export the contacts as vCard "
            "(.vcf) and import that file."
        )
    return people


def _unfolded(text: str) -> list[str]:
    """Logical lines: a line starting with a space or tab continues the one before (RFC 6350),
    and a quoted-printable value ending in "=" continues on the next line (vCard 2.1)."""
    lines: list[str] = []
    for raw in text.removeprefix("\ufeff").splitlines():
        if lines and raw[:1] in (" ", "\t"):
            lines[-1] += raw[1:]
        elif lines and lines[-1].endswith("=") and "QUOTED-PRINTABLE" in _head(lines[-1]):
            lines[-1] = lines[-1][:-1] + raw
        else:
            lines.append(raw)
    return lines


_NAME_END = re.compile(r'"[^"]*"|:')


def _head(line: str) -> str:
    """The name and parameters of a content line, upper case (a quoted value may hold ':')."""
    for match in _NAME_END.finditer(line):
        if match[0] == ":":
            return line[: match.start()].upper()
    return ""


def _parse_line(line: str) -> _Property | None:
    head = _head(line)
    if not head:
        return None
    value = line[len(head) + 1 :]
    name, _, params = head.partition(";")
    if "QUOTED-PRINTABLE" in params:
        charset = re.search(r"CHARSET=([\w-]+)", params)
        raw = quopri.decodestring(value.encode("latin-1", errors="replace"))
        try:
            value = raw.decode(charset[1] if charset else "utf-8")
        except (LookupError, ValueError):  # an unknown charset, or bytes not in it
            value = raw.decode("latin-1")
    return _Property(name.rpartition(".")[2], params, value)


_ESCAPE = re.compile(r"\\(.)")


def _text(value: str) -> str:
    """A vCard text value unescaped (\\n, \\, \\; \\\\)."""
    return _ESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], value).strip()


def _parts(value: str) -> list[str]:
    """The ;-separated components of a structured value (N, ORG), each unescaped."""
    return [_text(part) for part in re.split(r"(?<!\\);", value)]


def _pick(card: list[_Property], name: str) -> str:
    """The raw value of the preferred (else the first non-empty) `name` property, or ""."""
    values = [p for p in card if p.name == name and p.value.strip()]
    best = next((p for p in values if "PREF" in p.params), values[0] if values else None)
    return best.value if best else ""


def _person(card: list[_Property], source: str) -> Imported:
    name = _text(_pick(card, "FN"))
    if not name:
        family, given, *_rest = [*_parts(_pick(card, "N")), "", ""]
        name = " ".join(filter(None, (given, family)))
    urls = [_text(p.value) for p in card if p.name in ("URL", "X-SOCIALPROFILE")]
    bday = _text(_pick(card, "BDAY"))
    linkedin = next((u for u in urls if "linkedin.com" in u.casefold()), "")
    notes = [_text(_pick(card, "NOTE")), *(f"Website: {u}" for u in urls if u != linkedin)]
    return Imported(
        name=" ".join(name.split()),
        company=_parts(_pick(card, "ORG"))[0],
        role=_text(_pick(card, "TITLE")),
        email=_text(_pick(card, "EMAIL")).removeprefix("mailto:"),
        phone=_text(_pick(card, "TEL")).removeprefix("tel:"),
        linkedin=linkedin,
        notes="\n".join(filter(None, notes)),
        source=source,
        birthday=_birthday(bday),
        unread_birthday=bday if bday and _birthday(bday) is None else "",
    )


def _birthday(value: str) -> Birthday | None:
    """BDAY as vCard writes it (1990-03-14, 19900314, --03-14, --0314, with or without a
    time); a text value ("circa 1990") is left out."""
    try:
        return parse_birthday(value) if value else None
    except ValueError:
        return None
