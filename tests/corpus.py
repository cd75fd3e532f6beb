"""Where the real-world workbooks are: ../shared/corpus/real-world beside the repository.

In CI (CI=true) a missing corpus is an error, so the corpus tests can never vanish silently.
"""

from __future__ import annotations

import os
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-world"


def corpus_files() -> list[str]:
    """The corpus file names, sorted; empty on a machine without the corpus (outside CI)."""
    if CORPUS.is_dir():
        return sorted(p.name for p in CORPUS.iterdir())
    if os.environ.get("CI"):
        raise RuntimeError(f"The real-world corpus is missing at {CORPUS}.")
    return []
