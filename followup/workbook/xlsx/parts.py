"""Where a part of the workbook's zip is: what the reader's guard (`workbook/sheet_guard.py`)
and the patcher (`package.py`) must agree on, so that both find the same part for a sheet.

A part is found as the package format says: by its name case-insensitively, with '/' even
where a zip writes '\\', and a relationship's target from the folder of the part it belongs to.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from urllib.parse import unquote


def part_name(entry: str) -> str:
    """The part a zip entry holds, as written: '/' separated, without a leading '/'."""
    return entry.replace("\\", "/").lstrip("/")


def part_key(part: str) -> str:
    """The key a part is found by: its `part_name`, case folded."""
    return part_name(part).casefold()


def rels_part(part: str) -> str:
    """The part holding the relationships of `part` ("" for the package's own)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def target_part(part: str, target: str) -> str:
    """The part a relationship of `part` points at: an absolute target ("/xl/...") from the
    package's root, any other from the folder of `part`."""
    target = target.replace("\\", "/")
    path = target if target.startswith("/") else posixpath.join(posixpath.dirname(part), target)
    return posixpath.normpath(path).lstrip("/")


class PartIndex:
    """The zip's entries by the part each holds."""

    def __init__(self, names: Iterable[str]) -> None:
        self._entries = {part_key(name): name for name in names}

    def entry(self, part: str) -> str | None:
        """The zip entry holding `part` (named as written, or percent-decoded), if any."""
        return self._entries.get(part_key(part)) or self._entries.get(part_key(unquote(part)))
