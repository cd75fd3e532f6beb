"""The xlsx patcher: change a few cells of one sheet of an .xlsx and copy everything else.

What the rest of the program uses is named here: `patch_sheet` (patch.py says how it works)
with its `OwnSheet` and `PatchResult`, `read_back` (how a written value reads back, for the
save's check), and two modules the reader uses too: `xmlcheck` (the strict check of every
part before a save is swapped in) and `parts` (where a part is, found as the patcher finds
it). The other modules are the patcher's parts, and the names they share with each other
have no leading underscore: package.py (the zip and its relationships), markup.py (finding
and editing elements in XML text), sheet.py (the sheet part, streamed), values.py (cell
XML), styles.py, tables.py, own_sheet.py (the Log sheet).

The names below load their module on first use, so that reading a workbook (which uses
xmlcheck and parts) does not load the patcher.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from followup.workbook.xlsx import parts, xmlcheck
    from followup.workbook.xlsx.package import DamagedPart
    from followup.workbook.xlsx.patch import OwnSheet, PatchResult, patch_sheet
    from followup.workbook.xlsx.values import read_back

__all__ = [
    "DamagedPart",
    "OwnSheet",
    "PatchResult",
    "parts",
    "patch_sheet",
    "read_back",
    "xmlcheck",
]

_HOMES = {
    "DamagedPart": "package",
    "OwnSheet": "patch",
    "PatchResult": "patch",
    "patch_sheet": "patch",
    "read_back": "values",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
