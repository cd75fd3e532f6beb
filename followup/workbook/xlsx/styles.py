"""styles.xml: the one date style the program may add, and which cell styles show dates."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from itertools import count

from followup.workbook.xlsx.markup import (
    MAIN_NS,
    Doc,
    Element,
    Malformed,
    append_child,
    attr_items,
    escape,
    namespace_uri,
    set_attr,
    style_index,
)
from followup.workbook.xlsx.package import Book, Package, Rel, encode_text
from followup.workbook.xlsx.parts import part_key, rels_part

# --- styles ----------------------------------------------------------------------------------

_STYLE_SECTIONS = (  # the order the schema requires
    *("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles"),
    *("dxfs", "tableStyles", "colors", "extLst"),
)
# What Excel writes into an empty workbook's styles.xml, as (children, count) per section.
_DEFAULT_SECTIONS = {
    "fonts": ('<{p}font><{p}sz val="11"/><{p}name val="Calibri"/></{p}font>', 1),
    "fills": (
        '<{p}fill><{p}patternFill patternType="none"/></{p}fill>'
        '<{p}fill><{p}patternFill patternType="gray125"/></{p}fill>',
        2,
    ),
    "borders": (
        "<{p}border><{p}left/><{p}right/><{p}top/><{p}bottom/><{p}diagonal/></{p}border>",
        1,
    ),
    "cellStyleXfs": ('<{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>', 1),
    "cellStyles": ('<{p}cellStyle name="Normal" xfId="0" builtinId="0"/>', 1),
}
_BUILTIN_DATE_FORMATS = {
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    22: "m/d/yy h:mm",
}
_BUILTIN_LOCAL_DATES = {*range(27, 37), *range(50, 59)}  # East-Asian date formats
_NEW_DATE_FORMAT = "yyyy-mm-dd"
_NOT_FORMAT_CODE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|[_*].')


def _format_letters(code: str) -> str:
    """The letters of a number format's first section that stand for parts of a date or time."""
    return _NOT_FORMAT_CODE.sub("", code).split(";")[0].lower()


@dataclass(frozen=True)
class _Xf:
    """One cellXfs entry: its attributes in order (unescaped) and its children as raw XML."""

    attrs: tuple[tuple[str, str], ...]
    inner: str = ""

    @property
    def num_fmt(self) -> int:
        return style_index(dict(self.attrs).get("numFmtId"))

    def look(self) -> tuple[frozenset[tuple[str, str]], str]:
        """Everything but the number format: font, fill, border, alignment..."""
        ignore = ("numFmtId", "applyNumberFormat")
        return frozenset(a for a in self.attrs if a[0] not in ignore), self.inner

    def with_num_fmt(self, fmt: int) -> _Xf:
        attrs = dict(self.attrs)
        if "numFmtId" not in attrs:
            attrs = {"numFmtId": "", **attrs}
        attrs.update(numFmtId=str(fmt), applyNumberFormat="1")
        return replace(self, attrs=tuple(attrs.items()))

    def xml(self, prefix: str) -> str:
        attrs = "".join(f' {k}="{escape(v, quote=True)}"' for k, v in self.attrs)
        if not self.inner:
            return f"<{prefix}xf{attrs}/>"
        return f"<{prefix}xf{attrs}>{self.inner}</{prefix}xf>"


_DEFAULT_XF = _Xf(
    (("numFmtId", "0"), ("fontId", "0"), ("fillId", "0"), ("borderId", "0"), ("xfId", "0"))
)


@dataclass
class Styles:
    """styles.xml, and the date styles to add to it.

    Hancom Office puts the cell formats inside mc:AlternateContent: a list in each alternative
    (mc:Choice, mc:Fallback), of which a reader takes one (python-calamine: the first). A new
    style goes into every list, made from that list's own entry for its base style, so that its
    number means the same date style whichever list is read.
    """

    text: str
    new_formats: list[tuple[int, str]] = field(default_factory=list)
    new_xfs: list[tuple[int, int]] = field(default_factory=list)
    """The styles added, as (the style each is like, its number format)."""
    date_styles: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        doc = Doc(self.text)
        root = doc.root()
        if root.self_closing:
            opened = f"<{root.name}{root.attrs}></{root.name}>"
            doc = Doc(doc.spliced([(root.start, root.end, opened)]))
            root = doc.root()
        self.doc, self.root = doc, root
        self.sections: dict[str, list[Element]] = {}
        """Each section by name, where it is: a child of the root, or of an alternative."""
        self.places: dict[str, int] = {}
        """Where the root's child holding each section starts (the section or its mc:...)."""
        for child in doc.children(root):
            for section in self._alternatives(child) or [child]:
                self.sections.setdefault(section.local, []).append(section)
                self.places.setdefault(section.local, child.start)
        self.formats: dict[int, str] = {}
        for numfmts in self.sections.get("numFmts", []):
            for attrs in doc.tag_attrs("numFmt", numfmts.start, numfmts.end):
                fmt = style_index(attrs.get("numFmtId"))
                self.formats.setdefault(fmt, attrs.get("formatCode", ""))
        used = [style_index(a.get("numFmtId")) for a in doc.tag_attrs("numFmt")]  # dxfs too
        self.next_format = max([163, *used]) + 1
        self.lists = [
            [_Xf(tuple(attr_items(el.attrs)), doc.inner(el)) for el in doc.children(section)]
            for section in self.sections.get("cellXfs", [])
        ]
        if len({len(xfs) for xfs in self.lists}) > 1:
            raise Malformed("its styles part has alternative lists of cell formats that differ")
        # Without any cellXfs every cell shows as a plain xf 0, which render() must then add.
        self.adds_default = not self.lists
        self.xfs = self.lists[0] if self.lists else [_DEFAULT_XF]

    def _alternatives(self, element: Element) -> list[Element]:
        """The sections inside an mc:AlternateContent's alternatives; [] for anything else."""
        if element.local != "AlternateContent" or element.self_closing:
            return []
        if namespace_uri(self.doc.scope(element), element.prefix) != _MC_NS:
            return []
        return [
            section
            for alternative in self.doc.children(element)
            for section in self.doc.children(alternative)
        ]

    def all_xfs(self) -> list[_Xf]:
        return self.xfs + [self.xfs[base].with_num_fmt(fmt) for base, fmt in self.new_xfs]

    def date_style(self, style: int) -> int:
        """A style that shows dates and otherwise looks like `style` (added if there is none)."""
        if style not in self.date_styles:
            self.date_styles[style] = self._date_style(style)
        return self.date_styles[style]

    def _date_style(self, style: int) -> int:
        xfs = self.all_xfs()
        style = style if style < len(self.xfs) else 0
        base = xfs[style]
        if self._is_date(base.num_fmt):
            return style
        for index, xf in enumerate(xfs):
            if xf.look() == base.look() and self._is_plain_date(xf.num_fmt):
                return index
        self.new_xfs.append((style, self._date_format()))
        return len(xfs)

    def _code(self, fmt: int) -> str | None:
        return self.formats.get(fmt, _BUILTIN_DATE_FORMATS.get(fmt))

    def _is_date(self, fmt: int) -> bool:
        code = self._code(fmt)
        if code is None:
            return fmt in _BUILTIN_LOCAL_DATES
        letters = _format_letters(code)
        return "d" in letters or "y" in letters

    def _is_plain_date(self, fmt: int) -> bool:
        """A format with day and year and no time of day: what a follow-up date should look like."""
        letters = _format_letters(self._code(fmt) or "")
        return all(c in letters for c in "dy") and not any(c in letters for c in "hs")

    def _date_format(self) -> int:
        """The workbook's own date format if it uses one, else yyyy-mm-dd."""
        for xf in self.all_xfs():
            if self._is_plain_date(xf.num_fmt):
                return xf.num_fmt
        for fmt, code in self.formats.items():
            if code.lower() == _NEW_DATE_FORMAT:
                return fmt
        fmt, self.next_format = self.next_format, self.next_format + 1
        self.formats[fmt] = _NEW_DATE_FORMAT
        self.new_formats.append((fmt, _NEW_DATE_FORMAT))
        return fmt

    def render(self) -> str | None:
        """The new styles.xml, or None when nothing was added."""
        if not self.new_xfs:
            return None
        # What each section gets: (children, new count) from the section (None: a new one)
        # and the prefix bound to the main namespace inside it.
        additions: dict[str, Callable[[int, str], tuple[str, int]]] = {}
        if self.new_formats:

            def formats(at: int, p: str) -> tuple[str, int]:
                old = len(list(self.doc.children(self.sections["numFmts"][at]))) if at >= 0 else 0
                return "".join(
                    f'<{p}numFmt numFmtId="{fmt}" formatCode="{escape(code, quote=True)}"/>'
                    for fmt, code in self.new_formats
                ), old + len(self.new_formats)

            additions["numFmts"] = formats
        if self.adds_default:
            for name, (children, count) in _DEFAULT_SECTIONS.items():
                if name not in self.sections:
                    additions[name] = lambda _at, p, c=children, n=count: (c.format(p=p), n)

        def cell_formats(at: int, p: str) -> tuple[str, int]:
            xfs = self.lists[at] if at >= 0 else self.xfs
            added = [xfs[base].with_num_fmt(fmt) for base, fmt in self.new_xfs]
            new = added if at >= 0 else [*xfs, *added]
            return "".join(xf.xml(p) for xf in new), len(xfs) + len(added)

        additions["cellXfs"] = cell_formats
        edits = [
            edit
            for section in _STYLE_SECTIONS
            if section in additions
            for edit in self._append(section, additions[section])
        ]
        return self.doc.spliced(edits)

    def _append(
        self, section: str, content: Callable[[int, str], tuple[str, int]]
    ) -> list[tuple[int, int, str]]:
        """Edits that add `content` to every copy of a section, or create it in schema order.

        New children take their section's prefix, which is bound inside it; a new section takes
        the root's."""
        elements = self.sections.get(section)
        if not elements:
            later = _STYLE_SECTIONS[_STYLE_SECTIONS.index(section) + 1 :]
            at = min((self.places[s] for s in later if s in self.places), default=None)
            at = self.root.inner_end if at is None else at
            name = f"{self.root.prefix}{section}"
            children, count = content(-1, self.root.prefix)
            return [(at, at, f'<{name} count="{count}">{children}</{name}>')]
        edits = []
        for index, element in enumerate(elements):
            children, count = content(index, element.prefix)
            attrs = set_attr(element.attrs, "count", str(count))
            if element.self_closing:
                tag = f"<{element.name}{attrs}>{children}</{element.name}>"
                edits.append((element.start, element.end, tag))
            else:
                edits += [
                    (element.start, element.inner_start, f"<{element.name}{attrs}>"),
                    (element.inner_end, element.inner_end, children),
                ]
        return edits


_STYLES_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


class StylesFile:
    """The workbook's styles part, read only when a date is written, created if it is missing."""

    def __init__(self, package: Package, book: Book, sheet_rel: Rel) -> None:
        self.package = package
        self.book = book
        self.sheet_rel = sheet_rel
        self.entry = package.entry(book.styles.target or "") if book.styles else None
        self._styles: Styles | None = None
        self.codec = "utf-8"

    def styles(self) -> Styles:
        if self._styles is None:
            if self.entry is None and self.book.styles is not None:
                raise Malformed("its styles part is missing")
            if self.entry is None:
                strict = self.sheet_rel.type.startswith("http://purl.oclc.org/")
                text = (
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<styleSheet xmlns="{MAIN_NS[strict]}"></styleSheet>'
                )
            else:
                text, self.codec = self.package.read_text(self.entry)
            self._styles = Styles(text)
        return self._styles

    def changes(self, new_parts: NewParts) -> dict[str, bytes]:
        """New bytes for styles.xml; a new one is registered with `new_parts`."""
        text = self._styles.render() if self._styles else None
        if text is None:
            return {}
        if self.entry is not None:
            return {self.entry: encode_text(text, self.codec)}
        folder = posixpath.dirname(self.book.part)
        part = new_parts.free_name(
            folder, ("styles.xml", *(f"styles{i}.xml" for i in range(1, 100)))
        )
        rel_type = self.sheet_rel.type.rpartition("/")[0] + "/styles"
        new_parts.add(part, rel_type, _STYLES_CONTENT_TYPE)
        return {part: encode_text(text, "utf-8")}


class NewParts:
    """Parts added to the package: each gets a relationship from the workbook part and a
    content-type override, accumulated here so several new parts share one edit of each list."""

    def __init__(self, package: Package, book: Book) -> None:
        self.package = package
        self.folder = posixpath.dirname(book.part)
        self.rels_entry = package.entry(rels_part(book.part))
        self.types_entry = package.entry("[Content_Types].xml")
        self.edited: dict[str, tuple[Doc, str]] = {}  # entry -> (document, codec)
        self.added: set[str] = set()

    def free_name(self, folder: str, names: Iterable[str]) -> str:
        """The first of `names` in `folder` that no part uses yet."""
        return next(
            part
            for part in (posixpath.join(folder, name) for name in names)
            if self.package.entry(part) is None and part_key(part) not in self.added
        )

    def add(self, part: str, rel_type: str, content_type: str) -> str:
        """Register a new part; returns the id of its relationship from the workbook part."""
        if self.rels_entry is None or self.types_entry is None:
            raise Malformed("it has no relationship or content-type list")
        rels = self._doc(self.rels_entry)
        ids = {attrs.get("Id") for attrs in rels.tag_attrs("Relationship")}
        rid = next(f"rId{n}" for n in count(1) if f"rId{n}" not in ids)
        target = posixpath.relpath(part, self.folder or ".")
        self._edit(
            self.rels_entry,
            append_child(rels, "Relationship", Id=rid, Type=rel_type, Target=target),
        )
        types = self._doc(self.types_entry)
        self._edit(
            self.types_entry,
            append_child(types, "Override", PartName=f"/{part}", ContentType=content_type),
        )
        self.added.add(part_key(part))
        return rid

    def _doc(self, entry: str) -> Doc:
        if entry not in self.edited:
            self.edited[entry] = self.package.read_doc(entry)
        return self.edited[entry][0]

    def _edit(self, entry: str, text: str) -> None:
        self.edited[entry] = (Doc(text), self.edited[entry][1])

    def changes(self) -> dict[str, bytes]:
        return {entry: encode_text(doc.text, codec) for entry, (doc, codec) in self.edited.items()}
