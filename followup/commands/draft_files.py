"""The draft templates on disk: the built-in ones, overridden by the user's own folder.

A file of the same name in the `[digest] templates` folder wins. A user file that cannot be
used falls back to the built-in one and says why, so a typo never costs a digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from followup.core.drafts import TEMPLATE_NAMES, DraftTemplate, parse_template


@dataclass(frozen=True)
class Templates:
    """Every template by name, and why any of the user's own files was not used."""

    by_name: Mapping[str, DraftTemplate]
    problems: tuple[str, ...] = ()


def load_templates(folder: Path | None) -> Templates:
    """The built-in templates, overridden by the usable `.txt` files in `folder` (if any)."""
    built_in = resources.files("followup") / "templates"
    by_name = {
        name: parse_template((built_in / f"{name}.txt").read_text(encoding="utf-8"))
        for name in TEMPLATE_NAMES
    }
    if folder is None:
        return Templates(by_name)
    if not folder.is_dir():
        return Templates(
            by_name,
            (
                f"The draft templates folder {folder} does not exist, so the built-in drafts "
                "were used. Create it or fix [digest] templates in config.toml.",
            ),
        )
    problems = []
    for path in sorted(folder.glob("*.txt")):
        if path.stem not in by_name:
            problems.append(
                f"{path} is not used: drafts are named {', '.join(TEMPLATE_NAMES)} (.txt)."
            )
            continue
        try:
            by_name[path.stem] = parse_template(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError:
            reason = "is not UTF-8 text; save it as UTF-8"
        except OSError as err:
            reason = f"cannot be read ({err.strerror})"
        except ValueError as err:
            reason = str(err)
        else:
            continue
        problems.append(f"Draft template {path} {reason}. The built-in draft was used instead.")
    return Templates(by_name, tuple(problems))
