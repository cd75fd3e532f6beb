"""What an installed wheel carries, and that CI runs what the README says."""

from __future__ import annotations

import fnmatch
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "followup"


def test_every_file_the_program_reads_is_package_data() -> None:
    """A wheel holds the package's modules and only the other files package-data names: the
    starter workbook was once left out, so an installed followup could not create one."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["followup"]
    data = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
    ]
    assert "workbook/contacts_template.xlsx" in data
    left_out = [name for name in data if not any(fnmatch.fnmatch(name, p) for p in patterns)]
    assert left_out == []


def test_the_runtime_dependencies_hold_no_test_tool() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = {
        dep.split(">")[0].split("<")[0].split(";")[0].strip().lower()
        for dep in pyproject["project"]["dependencies"]
    }
    assert names.isdisjoint(
        {
            "pytest",
            "pytest-xdist",
            "ruff",
            "aiosmtpd",
            "hypothesis",
            "openpyxl",
            "pandas",
            "xlsxwriter",
        }
    )


def _readme_commands() -> list[str]:
    """The one-line commands of the README's Set up section, in order (sh blocks only)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    set_up = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = set_up.split("```sh\n")[1:]
    return [block.split("\n```", 1)[0].strip() for block in blocks]


def test_the_readme_installs_the_program_without_its_test_tools() -> None:
    install, tests, *_ = _readme_commands()
    assert "python3 -m venv .venv" in install and "pip install . " in install
    assert "requirements.txt" not in install and install.endswith("followup run")
    assert "requirements.txt" in tests and tests.endswith("python -m pytest")


def test_ci_runs_exactly_the_readme_test_command_after_proving_the_install() -> None:
    _, tests, *_ = _readme_commands()
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.rstrip().endswith(tests)
    assert script.index("followup-*.whl") < script.index('followup" init') < script.index(tests)


def test_ci_removes_its_temporary_folder_on_exit(tmp_path: Path) -> None:
    """It once left a 90 MB folder in /tmp after every run: its mktemp line and what follows
    it up to the trap, run in bash with TMPDIR here, must leave nothing behind."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if "mktemp" in line)
    trap = next(n for n, line in enumerate(lines) if line.startswith("trap "))
    assert start < trap <= start + 1
    snippet = "\n".join([*lines[start : trap + 1], 'mkdir "$work/empty"', 'echo "$work"'])
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", snippet],
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().startswith(str(tmp_path))
    assert list(tmp_path.iterdir()) == []
