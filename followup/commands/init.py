"""`followup init`: make a folder ready for `followup run`, with a config.toml and a workbook.

`followup init` sets up the current folder, `followup init FOLDER` that folder (made if
needed), and `followup init FILE.xlsx` the folder of that workbook, with that workbook. The
config file is FOLDER/config.toml unless --config names another (or, with no PLACE,
$FOLLOWUP_CONFIG does). Nothing there is overwritten: a workbook that exists is used as it is,
and a config.toml that exists is kept (its [workbook] path names the workbook, unless a
FILE.xlsx is given). No config is needed to run it: it is the command that makes one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from followup.config import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    check_value,
    find_config,
    load_config,
    render_config,
)
from followup.errors import UsageError
from followup.settings import Config
from followup.workbook.guards import dangling_link
from followup.workbook.template import create_workbook

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
DEFAULT_WORKBOOK = "contacts.xlsx"


@dataclass(frozen=True)
class Target:
    """Where `init` sets up: the config file and the workbook (absolute), and the config
    already there, if any."""

    config: Path
    workbook: Path
    existing: Config | None


def target(place: Path | None, config_option: str | None, environ: Mapping[str, str]) -> Target:
    """The config file and workbook `followup init [PLACE] [--config PATH]` is about."""
    if place is not None and place.suffix.lower() in WORKBOOK_SUFFIXES:
        folder, workbook = place.parent, _absolute(place)
    else:
        if place is not None and place.exists() and not place.is_dir():
            raise UsageError(
                f"{place} is a file. Give a folder to set up (made if needed), or the name of "
                "a workbook ending in .xlsx."
            )
        folder, workbook = place or Path(), None
    if config_option:
        config = Path(config_option)
    elif place is None and environ.get(CONFIG_ENV):
        config = Path(environ[CONFIG_ENV])
    else:
        config = folder / DEFAULT_CONFIG
    config = _absolute(config)
    existing = load_config(config) if config.exists() else None
    if workbook is None:
        workbook = existing.workbook.path if existing else config.parent / DEFAULT_WORKBOOK
    return Target(config, workbook, existing)


def set_up(target: Target, today: date, *, examples: bool, environ: Mapping[str, str]) -> list[str]:
    """Create what is missing of `target`; the lines that say what was done and what next."""
    config, workbook = target.config, target.workbook
    written = _config_value(workbook, config.parent)
    if message := dangling_link(workbook):
        raise UsageError(message)
    lines = []
    first = f"Open {workbook.name} and put your own people in place of the examples."
    if workbook.exists():
        if target.existing is not None and target.existing.workbook.path == workbook:
            return [  # nothing to do is not an error: a set-up script may run init each time
                f"{config.parent} is already set up: {config.name} there uses {workbook}; "
                f"nothing was changed. {_run_here(config, environ)} sends today's digest, and "
                f"{_command('doctor', config, environ)} checks the set-up."
            ]
        lines.append(f"Using your workbook {workbook} as it is.")
        first = f"Check that {workbook.name} has a Name column (one row per person)."
    else:
        create_workbook(workbook, today, examples=examples)
        lines.append(f"Created {workbook}" + (" with example contacts." if examples else "."))
        if not examples:
            first = f"Open {workbook.name} and add your people, one a row (only Name is needed)."
    if target.existing is None:
        config.parent.mkdir(parents=True, exist_ok=True)
        with config.open("x", encoding="utf-8") as file:  # never over a config made meanwhile
            file.write(render_config(written))
        lines.append(f"Created {config}.")
    elif target.existing.workbook.path != workbook:
        lines.append(
            f"{config} was already there and uses {target.existing.workbook.path}: to use "
            f'{workbook.name} instead, set [workbook] path = "{written}" in it.'
        )
    outbox = target.existing.digest.outbox if target.existing else config.parent / "outbox"
    return [*lines, *_next_steps(first, config, outbox, environ)]


def _next_steps(first: str, config: Path, outbox: Path, environ: Mapping[str, str]) -> list[str]:
    lines = [
        "",
        "Next:",
        f"  1. {first}",
        f"  2. {_run_here(config, environ)} writes today's digest to {outbox}"
        " (open the .html file).",
        f"  3. To get it by email, set [digest] to and [smtp] in {config.name}; "
        f"{_command('doctor', config, environ)} checks the set-up.",
        f"  4. For a digest every morning, {_command('cron-line', config, environ)} prints a "
        f"crontab line, or keep {_command('schedule', config, environ)} running.",
    ]
    named = environ.get(CONFIG_ENV)
    if named and _absolute(Path(named)) != config:
        lines.append(
            f"Note: ${CONFIG_ENV} is set to {named}, so followup uses that file, not this "
            f"one, until you unset it (or give --config {config})."
        )
    return lines


def _run_here(config: Path, environ: Mapping[str, str]) -> str:
    """How to run followup on this config from the current folder, or in its own."""
    command = _command("run", config, environ)
    if "--config" in command and config.name == DEFAULT_CONFIG and not environ.get(CONFIG_ENV):
        return f"`followup run` in {config.parent} (or {command})"
    return command


def _command(name: str, config: Path, environ: Mapping[str, str]) -> str:
    """`followup NAME` as typed in the current folder, with --config when from here it
    would find another config (or none)."""
    if _absolute(find_config(None, environ).path) == config:
        return f"`followup {name}`"
    return f"`followup {name} --config {config}`"


def _config_value(workbook: Path, base: Path) -> str:
    """[workbook] path as the config file holds it: relative to its folder when inside it."""
    try:
        value = workbook.relative_to(base).as_posix()
    except ValueError:
        value = workbook.as_posix()
    try:
        return check_value("workbook.path", value)
    except ValueError as err:
        raise UsageError(f"The workbook's name {err}.") from None


def _absolute(path: Path) -> Path:
    """`path` from the root, with `..` taken out but links not followed (a link to a workbook
    must stay the link the user named)."""
    return Path(os.path.abspath(path))  # noqa: PTH100 (resolve() would follow links)
