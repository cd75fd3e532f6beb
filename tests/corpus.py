"""Where the real workbooks are: ../shared/corpus/ beside the repository.

`real-world/` holds calamine's test files, `sheetjs/` SheetJS's (Apache-2.0): saved by Excel for
Mac and Windows, LibreOffice and streaming writers. In CI (CI=true) a missing folder is an
error, so the corpus tests can never vanish silently.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS = SHARED / "real-world"
SHEETJS = SHARED / "sheetjs"


def corpus_files(folder: Path = CORPUS) -> list[str]:
    """A corpus folder's file names, sorted; empty on a machine without it (outside CI)."""
    if folder.is_dir():
        return sorted(p.name for p in folder.iterdir())
    if os.environ.get("CI"):
        raise RuntimeError(f"The corpus is missing at {folder}.")
    return []
