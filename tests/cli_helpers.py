"""Running the real `followup` program in a folder, and looking at what it left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import cast
from xml.parsers import expat

import openpyxl
from python_calamine import CalamineWorkbook

ROOT = Path(__file__).resolve().parent.parent


def followup(folder: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    """Run `python -m followup ARGS` in `folder` as a user would; return the CompletedProcess."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "followup", *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def write_config(folder: Path, extra: str = "", workbook: str = "contacts.xlsx") -> Path:
    """A config.toml in `folder` pointing at `workbook`, plus any extra TOML lines."""
    path = folder / "config.toml"
    path.write_text(f'[workbook]\npath = "{workbook}"\n{extra}', encoding="utf-8")
    return path


def zip_parts(path: Path) -> dict[str, bytes]:
    """Every part of a workbook by name, uncompressed."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def assert_namespace_well_formed(data: bytes, entry: str) -> None:
    """A part the program wrote parses with a namespace-aware parser: every prefix is bound."""
    parser = expat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise AssertionError(f"{entry} is not namespace-well-formed XML: {error}") from None


def loads_in_openpyxl(path: Path) -> bool:
    """Whether openpyxl opens the workbook (what pandas and many scripts read it with)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm").close()
        except Exception:
            return False
    return True


def sheet_values(path: Path, sheet: str) -> list[list[object]]:
    """A sheet's cached values as python-calamine sees them, with true row and column positions."""
    workbook = CalamineWorkbook.from_path(str(path))
    try:
        return workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    finally:
        workbook.close()


def outbox_messages(folder: Path) -> list[EmailMessage]:
    """The .eml digests in an outbox folder (not its pending/ or sent/), oldest first."""
    return [
        cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(p.read_bytes()))
        for p in sorted(folder.glob("*.eml"))
    ]


def soffice_csv(path: Path, out: Path) -> str | None:
    """The first sheet as LibreOffice shows it, or None when LibreOffice is not installed."""
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("FOLLOWUP_REQUIRE_SOFFICE"):
            raise AssertionError("LibreOffice (soffice) is required for this test run")
        return None
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{out / 'profile'}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.glob("*.csv")))
