"""Which config.toml a command uses, what to say when there is none, and reading its TOML."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = "config.toml"
CONFIG_ENV = "FOLLOWUP_CONFIG"


@dataclass(frozen=True)
class ConfigFile:
    """The config file a command uses, and how it was found (`followup doctor` says both)."""

    path: Path
    found: str
    """How: given with --config, from $FOLLOWUP_CONFIG, in this folder, in your user config
    folder; empty when neither folder has one (the path is then ./config.toml)."""


def user_config_file() -> Path:
    """config.toml in the user's config folder: ~/.config/followup on Linux, ~/Library/
    Application Support/followup on macOS, %APPDATA%\\followup on Windows."""
    import platformdirs  # only when the current folder has no config.toml

    folder = platformdirs.user_config_dir("followup", appauthor=False, roaming=True)
    return Path(folder) / DEFAULT_CONFIG


def find_config(option: str | None, environ: Mapping[str, str] = os.environ) -> ConfigFile:
    """The config file to use: --config, else $FOLLOWUP_CONFIG, else ./config.toml, else the
    one in the user config folder. A file named by --config or the variable is used even when
    it is missing (load_config then says so): a typo there must not pick another config."""
    if option:
        return ConfigFile(Path(option), "given with --config")
    if environ.get(CONFIG_ENV):
        return ConfigFile(Path(environ[CONFIG_ENV]), f"from ${CONFIG_ENV}")
    here = Path(DEFAULT_CONFIG)
    if here.exists():
        return ConfigFile(here, "in this folder")
    user = user_config_file()
    if user.exists():
        return ConfigFile(user, "in your user config folder")
    return ConfigFile(here, "")


def missing_config(path: Path, found: str = "") -> str:
    """What to do when there is no config file at `path` (`found` as in ConfigFile)."""
    return f"{where_missing(path, found)} {config_fix(path, found)}"


def where_missing(path: Path, found: str = "") -> str:
    """Where a config file was looked for and not found: both folders when none was named."""
    if found in ("", "in this folder"):
        return f"No config.toml in this folder ({Path.cwd()}) nor in {user_config_file().parent}."
    return f"No config file at {path} ({found})."


def config_fix(path: Path, found: str = "") -> str:
    """How to get a config file where none was found."""
    if found in ("", "in this folder"):
        return (
            "To start here, run `followup init`: it creates config.toml and contacts.xlsx "
            "(`followup init FOLDER` sets up another folder). Or pass --config PATH."
        )
    return f"Check that path, or create the file there with `followup init --config {path}`."


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML; a byte-order mark (Windows Notepad writes one) is not part of it."""
    return tomllib.loads(path.read_text(encoding="utf-8-sig"))
