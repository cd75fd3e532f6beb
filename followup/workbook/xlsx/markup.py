"""Finding and editing elements in an XML part's text, so that everything not edited keeps its
exact bytes; and the cell references (A1, A1:D9) found in it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import NamedTuple

from followup.workbook.cells import storable_text
from followup.workbook.columns import cell_address, column_number


class Malformed(Exception):
    """The workbook's XML is not what Excel writes; say what, and touch nothing."""


# --- XML scanning ----------------------------------------------------------------------------
#
# The parts are handled as text so that everything not edited keeps its exact bytes. Every
# search runs on a twin of the text in which comments, CDATA sections and processing
# instructions are blanked out (`blanked`): a look-alike tag inside them is never found, and
# every edit is made to the text itself at the same offsets. These helpers find elements whose
# name rarely nests inside itself (row, c, xf, table parts...), counting when it does.

_ATTRS = r"((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
"""A tag's attributes (a group), any space, and a slash if it closes itself (a group)."""
START_TAG = re.compile(rf"<([^\s/>=<!?\"']+){_ATTRS}")
ANY_TAG = re.compile(rf"<(/?)([^\s/>=<!?\"']+){_ATTRS}")  # start and end tags
_ATTR = re.compile(r"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_MARKUP = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"))
_XML_NS = "http://www.w3.org/XML/1998/namespace"


def blanked(text: str) -> tuple[str, int]:
    """`text` with its comments, CDATA sections and processing instructions (the XML declaration
    too) turned into spaces, and the offset where one that the text cuts off begins (the
    text's length when none is cut off). Without any of them, `text` itself comes back."""
    bang, question = text.find("<!"), text.find("<?")
    if bang < 0 and question < 0:
        return text, len(text)
    pieces: list[str] = []
    pos = 0
    while bang >= 0 or question >= 0:
        at = question if bang < 0 or 0 <= question < bang else bang
        end = _markup_end(text, at)
        if end is None:
            pieces += (text[pos:at], " " * (len(text) - at))
            return "".join(pieces), at
        pieces += (text[pos:at], " " * (end - at))
        pos = end
        if bang < end:
            bang = text.find("<!", end)
        if question < end:
            question = text.find("<?", end)
    pieces.append(text[pos:])
    return "".join(pieces), len(text)


def _markup_end(text: str, pos: int) -> int | None:
    """The end of the comment, CDATA section or processing instruction starting at `pos`, or
    None when it goes on past the end of `text`."""
    for opener, closer in _MARKUP:
        if text.startswith(opener, pos):
            end = text.find(closer, pos + len(opener))
            return None if end < 0 else end + len(closer)
    if text.startswith("<!DOCTYPE", pos):
        raise Malformed("one of its parts declares a document type, which workbooks must not")
    if len(text) - pos < len("<![CDATA["):
        return None  # too short yet to tell which markup it is
    raise Malformed(f"of unexpected XML near {text[pos : pos + 40]!r}")


class Doc:
    """A small XML part being edited: its text, and the twin (`scan`) every search runs on."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.scan, open_at = blanked(text)
        if open_at < len(text):
            raise Malformed(f"of unterminated XML markup near {text[open_at : open_at + 40]!r}")

    def root(self) -> Element:
        return _root(self.scan)

    def first(self, local: str, pos: int = 0, end: int | None = None) -> Element | None:
        """The first element named `local` (any prefix) between `pos` and `end`."""
        end = len(self.scan) if end is None else end
        match = tag_pattern(local).search(self.scan, pos, end)
        return next(child_elements(self.scan, match.start(), end)) if match else None

    def tag_attrs(
        self, local: str, pos: int = 0, end: int | None = None
    ) -> Iterator[dict[str, str]]:
        return attrs_of_tags(self.scan, local, pos, end)

    def children(self, element: Element) -> Iterator[Element]:
        return child_elements(self.scan, element.inner_start, element.inner_end)

    def inner(self, element: Element) -> str:
        """The element's content as written (comments and CDATA included)."""
        return self.text[element.inner_start : element.inner_end]

    def scope(self, element: Element) -> dict[str, str]:
        return _scope(self.scan, element)

    def spliced(self, edits: list[tuple[int, int, str]]) -> str:
        return splice(self.text, 0, len(self.text), edits)


@dataclass(frozen=True, slots=True)
class Element:
    """Where one element sits in the text: start tag, content and end."""

    name: str
    attrs: str  # the raw attribute text, leading space included
    start: int
    inner_start: int
    inner_end: int
    end: int
    self_closing: bool
    prefix: str = ""  # the namespace prefix with its colon ("x:"), or ""

    @property
    def local(self) -> str:
        return self.name[len(self.prefix) :]

    def start_tag(self, attrs: str) -> str:
        """This element's start tag with other attributes (self-closing if it was)."""
        return f"<{self.name}{attrs}{'/' if self.self_closing else ''}>"


def child_elements(scan: str, pos: int, end: int) -> Iterator[Element]:
    """The child elements between `pos` and `end`, in order."""
    while (lt := scan.find("<", pos, end)) >= 0:
        match = START_TAG.match(scan, lt, end)
        if match is None:
            raise Malformed(f"of unexpected XML near {scan[lt : lt + 40]!r}")
        element = matched_element(scan, match[1], match, end)
        yield element
        pos = element.end


def matched_element(scan: str, name: str, match: re.Match[str], end: int) -> Element:
    """The element whose start tag `match` found (attributes and slash are its last two groups)."""
    attrs, slash = match.group(match.re.groups - 1, match.re.groups)
    prefix = name[: name.find(":") + 1]
    start, tag_end = match.span()
    if slash:
        return Element(name, attrs, start, tag_end, tag_end, tag_end, True, prefix)
    close_start, close_end = _find_close(scan, name, tag_end, end)
    return Element(name, attrs, start, tag_end, close_start, close_end, False, prefix)


@cache
def start_tag_of(name: str) -> re.Pattern[str]:
    """Start tags named exactly `name` (prefix included)."""
    return re.compile(rf"<{re.escape(name)}(?=[\s/>]){_ATTRS}")


@cache
def cell_tag(prefix: str) -> re.Pattern[str]:
    """The start of each cell's tag, with its `r` value when it has one."""
    return re.compile(rf"<{re.escape(prefix)}c(?=[\s/>])(?:[^>]*?\sr\s*=\s*([\"'])(.*?)\1)?")


@cache
def end_tag_of(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{re.escape(name)}\s*>")


def _find_close(scan: str, name: str, pos: int, end: int) -> tuple[int, int]:
    """Start and end of the end tag of the element `name` whose content starts at `pos`,
    past any element of the same name inside it (rows and cells never nest, so the search for
    a nested start tag is a quick look that finds nothing)."""
    closer, opener, depth = end_tag_of(name), f"<{name}", 0
    while match := closer.search(scan, pos, end):
        nested = scan.find(opener, pos, match.start())
        while nested >= 0:
            tag = START_TAG.match(scan, nested, end)
            if tag is not None and tag[1] == name:
                depth += not tag[3]
                nested = scan.find(opener, tag.end(), match.start())
            else:
                nested = scan.find(opener, nested + 1, match.start())
        if depth == 0:
            return match.span()
        depth -= 1
        pos = match.end()
    raise Malformed(f"an XML element <{name}> is never closed")


def _root(scan: str) -> Element:
    root = next(child_elements(scan, 0, len(scan)), None)
    if root is None:
        raise Malformed("an XML part is empty")
    return root


def _scope(scan: str, element: Element) -> dict[str, str]:
    """The namespaces in force inside `element`, {prefix: URI} ("" for the default namespace):
    what its ancestors and the element itself declare."""
    return declared_scope(element.attrs, scope_at(scan, element.start))


def scope_at(scan: str, pos: int) -> dict[str, str]:
    """The namespaces in force at `pos`, which is outside any tag, from the tags before it."""
    stack = [{"xml": _XML_NS}]
    for tag in ANY_TAG.finditer(scan, 0, pos):
        if tag[1]:
            if len(stack) > 1:
                stack.pop()
        elif not tag[4]:
            stack.append(declared_scope(tag[3], stack[-1]))
    return stack[-1]


def declared_scope(attrs: str, outer: dict[str, str]) -> dict[str, str]:
    """The namespaces in force inside an element with `attrs` whose parent has `outer`."""
    if "xmlns" not in attrs:
        return outer
    scope = dict(outer)
    for name, value in attr_items(attrs):
        if name == "xmlns":
            scope[""] = value
        elif name.startswith("xmlns:"):
            scope[name[len("xmlns:") :]] = value
    return scope


def namespace_uri(scope: dict[str, str], prefix: str) -> str | None:
    """The URI a prefix ("x:" or "") stands for in `scope`."""
    return scope.get(prefix[:-1] if prefix else "")


def attr_prefix(scope: dict[str, str], uri: str, usual: str) -> tuple[str, str]:
    """How to write an attribute of namespace `uri` on a new element in `scope`: a prefix bound
    to it there, the `usual` one first; else `usual`, declared on the new element itself (as
    the second value, an attribute to add)."""
    bound = [p for p, u in scope.items() if u == uri and p]
    if bound:
        return (usual if usual in bound else bound[0]) + ":", ""
    return usual + ":", f' xmlns:{usual}="{escape(uri, quote=True)}"'


@cache
def attr_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|\s){re.escape(name)}\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def attr_value(attrs: str, name: str) -> str | None:
    """One attribute's unescaped value from raw attribute text."""
    match = attr_pattern(name).search(attrs)
    if match is None:
        return None
    raw = match[1] if match[1] is not None else match[2]
    return html.unescape(raw) if "&" in raw else raw


def set_attr(attrs: str, name: str, value: str) -> str:
    """Raw attribute text with `name` set to `value` (in place if present, else appended)."""
    quoted = f'"{escape(value, quote=True)}"'
    match = attr_pattern(name).search(attrs)
    if match is None:
        return f"{attrs} {name}={quoted}"
    group = 1 if match[1] is not None else 2
    return attrs[: match.start(group) - 1] + quoted + attrs[match.end(group) + 1 :]


def attrs_of_tags(
    scan: str, local: str, pos: int = 0, end: int | None = None
) -> Iterator[dict[str, str]]:
    """The attributes of every start tag named `local` (any prefix) between `pos` and `end`."""
    for match in tag_pattern(local).finditer(scan, pos, len(scan) if end is None else end):
        yield dict(attr_items(match[1]))


def attr_items(attrs: str) -> Iterator[tuple[str, str]]:
    """(name, unescaped value) of each attribute in raw attribute text, in order."""
    for match in _ATTR.finditer(attrs):
        raw = match[2] if match[2] is not None else match[3]
        yield match[1], html.unescape(raw) if "&" in raw else raw


@cache
def tag_pattern(local: str) -> re.Pattern[str]:
    return re.compile(rf"<(?:[\w.-]+:)?{local}(?=[\s/>]){_ATTRS}")


def splice(text: str, start: int, end: int, edits: list[tuple[int, int, str]]) -> str:
    """text[start:end] with each (from, to, replacement) applied; edits must not overlap."""
    pieces, pos = [], start
    for edit_start, edit_end, replacement in sorted(edits, key=itemgetter(0)):
        pieces += (text[pos:edit_start], replacement)
        pos = edit_end
    pieces.append(text[pos:end])
    return "".join(pieces)


_EXCEL_ESCAPED = re.compile("_(?=x[0-9A-Fa-f]{4}[_\x00-\x08\x0b-\x1f])|[\x00-\x08\x0b-\x1f]")
"""What Excel writes as _xHHHH_: control characters, which XML 1.0 cannot hold (and CR, which
XML would read as a line feed), and the "_" that would make literal text look like one."""


def escape(text: str, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def xstring(text: str) -> str:
    """Text as Excel stores it: what a cell can hold (`storable_text`), with control characters
    as _x0001_ and a literal "_x000D_" as "_x005F_x000D_", so that it reads back as it was."""
    return _EXCEL_ESCAPED.sub(_excel_escape, storable_text(text))


def _excel_escape(match: re.Match[str]) -> str:
    return f"_x{ord(match[0]):04X}_"


# --- cell references -------------------------------------------------------------------------


class Area(NamedTuple):
    top: int
    left: int
    bottom: int
    right: int

    def contains(self, row: int, col: int) -> bool:
        return self.top <= row <= self.bottom and self.left <= col <= self.right

    def overlaps(self, other: Area) -> bool:
        return not (
            other.left > self.right
            or other.right < self.left
            or other.top > self.bottom
            or other.bottom < self.top
        )

    def ref(self) -> str:
        first, last = cell_address(self.top, self.left), cell_address(self.bottom, self.right)
        return first if first == last else f"{first}:{last}"


_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


@cache
def column_of_letters(letters: str) -> int:
    """'A' -> 1, 'AA' -> 27; a Malformed for anything that is not a column."""
    if not (1 <= len(letters) <= 3 and letters.isascii() and letters.isalpha()):
        raise Malformed(f"of a bad cell reference {letters!r} in its sheet")
    return column_number(letters)


def _parse_cell(ref: str) -> tuple[int, int] | None:
    match = _CELL_REF.fullmatch(ref.strip())
    return (int(match[2]), column_of_letters(match[1])) if match else None


def parse_area(ref: str | None) -> Area | None:
    """'A1:D9' (or 'A1') as an area; None for anything else (whole columns, lists)."""
    first, _, last = (ref or "").partition(":")
    start, end = _parse_cell(first), _parse_cell(last or first)
    if start is None or end is None:
        return None
    (top, bottom), (left, right) = sorted((start[0], end[0])), sorted((start[1], end[1]))
    return Area(top, left, bottom, right)


def appended(parent: Element, child: str) -> tuple[int, int, str]:
    """The edit that adds `child` as the last child of `parent` (opening it if self-closing).

    A child in its parent's namespace takes the parent's prefix, which is bound wherever the
    parent's content is, whoever declared it."""
    if parent.self_closing:
        return parent.start, parent.end, f"<{parent.name}{parent.attrs}>{child}</{parent.name}>"
    return parent.inner_end, parent.inner_end, child


def append_child(doc: Doc, local: str, **attrs: str) -> str:
    """The document with an empty element added as the root element's last child."""
    root = doc.root()
    values = "".join(f' {k}="{escape(v, quote=True)}"' for k, v in attrs.items())
    return doc.spliced([appended(root, f"<{root.prefix}{local}{values}/>")])


MAIN_NS = {
    True: "http://purl.oclc.org/ooxml/spreadsheetml/main",
    False: "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
}


def style_index(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() else 0
