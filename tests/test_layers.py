"""The import rule of ARCHITECTURE.md, checked by reading every module's imports with ast.

Layers, bottom up: errors and atomic; core (the pure domain); settings (config.toml's sections
as dataclasses); config (the schema that builds them); workbook and delivery (the adapters,
which never import each other, nor config: they are given the settings they use); commands;
cli. A module imports only from its own layer and the layers below it. The cli imports only
config, settings, errors and core at its top; it loads commands and adapters inside each
command, so that `followup --help` loads none of them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "followup"

BELOW_THE_ADAPTERS = {"settings", "core", "errors", "atomic"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "atomic": set(),
    "core": {"core", "errors"},
    "settings": {"core"},
    "config": {"config", "settings", "core", "errors"},
    "workbook": {"workbook", *BELOW_THE_ADAPTERS},
    "delivery": {"delivery", *BELOW_THE_ADAPTERS},
    "commands": {"commands", "workbook", "delivery", "config", *BELOW_THE_ADAPTERS},
    "cli": {"commands", "workbook", "delivery", "config", *BELOW_THE_ADAPTERS},
    "__main__": {"cli"},
}
CLI_AT_THE_TOP = {"core", "config", "settings", "errors"}


def layer(module: str) -> str:
    """'followup.workbook.xlsx.patch' -> 'workbook'."""
    return module.split(".")[1]


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) > 1:
            found.append((".".join(parts), path))
    return found


def imports(path: Path, top_only: bool = False) -> list[str]:
    """The followup modules `path` imports (at its top only, or anywhere)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            raise AssertionError(f"{path}: use absolute imports (from followup...)")
    return [name for name in found if name.startswith("followup.")]


def violations(module: str, path: Path) -> list[str]:
    """The imports of `module` (at `path`) that break the rule."""
    return [name for name in imports(path) if layer(name) not in ALLOWED[layer(module)]]


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_a_module_imports_only_its_own_layer_and_those_below(module: str, path: Path) -> None:
    assert not violations(module, path), f"{module} may not import {violations(module, path)}"


def test_the_cli_loads_commands_and_adapters_only_inside_a_command() -> None:
    wrong = [
        name
        for name in imports(PACKAGE / "cli.py", top_only=True)
        if layer(name) not in CLI_AT_THE_TOP
    ]
    assert not wrong, f"cli imports {wrong} at its top: import it inside the command"


def test_every_module_is_in_a_layer() -> None:
    assert {layer(module) for module, _ in modules()} <= ALLOWED.keys()


def test_the_rule_is_really_checked(tmp_path: Path) -> None:
    """An import that breaks the rule is caught, even one inside a function."""
    module = tmp_path / "rules.py"
    module.write_text(
        "from followup.core.model import Contact\n"
        "def later() -> None:\n"
        "    from followup.workbook.reader import contacts_in\n",
        encoding="utf-8",
    )
    assert violations("followup.core.rules", module) == ["followup.workbook.reader.contacts_in"]
    assert violations("followup.commands.daily", module) == []


def test_an_adapter_is_given_its_settings_and_never_reads_the_config(tmp_path: Path) -> None:
    module = tmp_path / "saving.py"
    module.write_text(
        "from followup.settings import WorkbookSettings\nfrom followup.config import Config\n",
        encoding="utf-8",
    )
    assert violations("followup.workbook.saving", module) == ["followup.config.Config"]
    assert violations("followup.delivery.deliver", module) == ["followup.config.Config"]


def test_no_module_imports_a_name_another_keeps_to_itself() -> None:
    """A name with a leading underscore is private to its module; what modules of a package
    share (the xlsx patcher's parts) has a public name, so a reader sees the interface."""
    private = [
        f"{module}: {name}"
        for module, path in modules()
        for name in imports(path)
        if name.rpartition(".")[2].startswith("_")
    ]
    assert not private


def test_the_rest_of_the_program_uses_the_xlsx_patcher_by_what_its_package_names() -> None:
    import followup.workbook.xlsx as xlsx

    outside = [
        (module, name)
        for module, path in modules()
        if not module.startswith("followup.workbook.xlsx")
        for name in imports(path)
        if name.startswith("followup.workbook.xlsx.")
    ]
    assert outside, "the check found no use of the patcher"
    wrong = [
        f"{module}: {name}"
        for module, name in outside
        if name.rpartition(".")[::2] not in {("followup.workbook.xlsx", n) for n in xlsx.__all__}
    ]
    assert not wrong, "import these from followup.workbook.xlsx, or add them to its __all__"
    for name in xlsx.__all__:
        assert getattr(xlsx, name).__name__.endswith(name)


def test_reading_a_workbook_does_not_load_the_patcher() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, followup.workbook.reader, followup.workbook.sheet_guard\n"
            "print(sorted(m for m in sys.modules if m.startswith('followup.workbook.xlsx')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.split() == [
        "['followup.workbook.xlsx',",
        "'followup.workbook.xlsx.parts',",
        "'followup.workbook.xlsx.xmlcheck']",
    ]
