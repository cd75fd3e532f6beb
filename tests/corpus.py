"""Where the real workbooks are: ../shared/corpus/ beside the repository.

`real-world/` holds calamine's test files, `sheetjs/` SheetJS's (Apache-2.0): saved by Excel for
Mac and Windows, LibreOffice and streaming writers. A fresh clone without that folder runs the
rest of the suite, each corpus test skipped with the reason; in CI (CI=true) or with
FOLLOWUP_REQUIRE_CORPUS=1 a missing folder is an error, so the corpus tests never vanish
silently where they must run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS = SHARED / "real-world"
SHEETJS = SHARED / "sheetjs"
REQUIRE = "FOLLOWUP_REQUIRE_CORPUS"


def required() -> bool:
    """Whether a missing corpus fails the run instead of skipping its tests."""
    return bool(os.environ.get(REQUIRE) or os.environ.get("CI"))


def missing(folder: Path) -> str:
    """Why a corpus test is skipped."""
    return (
        f"the real workbooks are not at {folder} (a clone without ../shared); "
        f"CI=true or {REQUIRE}=1 makes this an error"
    )


def corpus_files(folder: Path = CORPUS) -> list[str]:
    """A corpus folder's file names, sorted; empty on a machine without it (unless required)."""
    if folder.is_dir():
        return sorted(p.name for p in folder.iterdir())
    if required():
        raise RuntimeError(f"The corpus is missing at {folder}.")
    return []


def corpus_params(folder: Path = CORPUS) -> list[object]:
    """corpus_files for parametrize: without the corpus, one case skipped saying why."""
    return list(corpus_files(folder)) or [
        pytest.param("(no corpus)", marks=pytest.mark.skip(reason=missing(folder)))
    ]


def corpus_file(name: str, folder: Path = CORPUS) -> Path:
    """A corpus file's path; its test is skipped saying why when the corpus is not here."""
    path = folder / name
    if not path.is_file():
        if required():
            pytest.fail(f"The corpus file {path} is missing.")
        pytest.skip(missing(folder))
    return path
