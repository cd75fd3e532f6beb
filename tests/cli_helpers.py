"""Running the real `followup` program in a folder, and looking at what it left behind."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import NamedTuple, cast
from xml.parsers import expat

import keyring
import keyring.core
import openpyxl
from python_calamine import CalamineWorkbook

ROOT = Path(__file__).resolve().parent.parent


class Ran(NamedTuple):
    """What a run of the program left: its exit code and what it printed (as CompletedProcess)."""

    returncode: int
    stdout: str
    stderr: str


def followup(
    folder: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    real: bool = False,
) -> Ran:
    """`followup ARGS` in `folder` as a user would run it, with the environment less FOLLOWUP_*
    variables plus `env`: in this process, or as `python -m followup` when `real` (for what only
    a process shows: its encoding, its exit, the command as installed)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    environment.update(env or {})
    if real:
        done = subprocess.run(
            [sys.executable, "-m", "followup", *args],
            cwd=folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return Ran(done.returncode, done.stdout, done.stderr)
    return _in_process(folder, args, environment)


def _in_process(folder: Path, args: tuple[str, ...], environment: dict[str, str]) -> Ran:
    """Run the command with click's test runner, giving it what a new process would have: the
    folder as working directory, exactly `environment`, the keyring backend it names (else
    none) and the local time zone of its TZ."""
    from click.testing import CliRunner

    from followup.cli import cli

    unset = {name: None for name in os.environ if name not in environment}
    backend = environment.get("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    previous_keyring = keyring.get_keyring()
    previous_folder = Path.cwd()
    try:
        keyring.set_keyring(keyring.core.load_keyring(backend))
        os.chdir(folder)
        with _timezone(environment.get("TZ")), collector_off():
            result = CliRunner().invoke(
                cli, list(args), env={**unset, **environment}, prog_name="followup"
            )
    finally:
        os.chdir(previous_folder)
        keyring.set_keyring(previous_keyring)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback the user would see: the test shows it
    return Ran(result.exit_code, result.stdout, result.stderr)


@contextlib.contextmanager
def collector_off() -> Iterator[None]:
    """The cycle collector off for a while, as it was after.

    A run ends with one full collection (commands/daily.collector_paused): a few milliseconds
    in the small process of a real run, a tenth of a second in this test process with its big
    heap, for each of the hundreds of runs the tests make in it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _timezone(tz: str | None) -> Iterator[None]:
    """The local time zone `tz` (as the TZ variable sets it for a new process) for a while."""
    if tz is None or tz == os.environ.get("TZ"):
        yield
        return
    previous = os.environ.get("TZ")
    os.environ["TZ"] = tz
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()


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


@contextlib.contextmanager
def in_openpyxl(path: Path) -> Iterator[openpyxl.Workbook]:
    """The workbook as openpyxl loads it, macros kept for an .xlsm; closed afterwards with the
    in-memory zip openpyxl keeps the macros in, which its own `close` leaves open."""
    book = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
    try:
        yield book
    finally:
        book.close()
        if book.vba_archive is not None:
            book.vba_archive.close()


def loads_in_openpyxl(path: Path) -> bool:
    """Whether openpyxl opens the workbook (what pandas and many scripts read it with)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with in_openpyxl(path):
                pass
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
