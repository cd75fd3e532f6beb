"""Starting anywhere: `followup init`, and where a command finds its config.toml.

Every test gives the program its own user config folder (XDG_CONFIG_HOME), so the machine's
real ~/.config/followup never takes part.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import followup, outbox_messages, sheet_values
from workbooks import make_workbook

from followup.config import CONFIG_ENV, find_config, load_config

TODAY = "2026-03-11"


@pytest.fixture
def user_folder(tmp_path: Path) -> dict[str, str]:
    """The environment of a user whose config folder (empty) is inside tmp_path."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}


def test_init_in_an_empty_folder_needs_no_config_and_no_today(
    tmp_path: Path, user_folder: dict[str, str]
) -> None:
    """It once asked the missing config for the day, and said to run `followup init`."""
    empty = tmp_path / "empty"
    empty.mkdir()

    done = followup(empty, "init", env=user_folder)

    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in empty.iterdir()) == ["config.toml", "contacts.xlsx"]
    assert f"Created {empty / 'contacts.xlsx'} with example contacts." in done.stdout
    assert "`followup run` writes today's digest to" in done.stdout
    # The examples are dated from the machine's day.
    met = sheet_values(empty / "contacts.xlsx", "Contacts")[2][7]
    assert met is not None
    ran = followup(empty, "run", env=user_folder)
    assert ran.returncode == 0, ran.stderr
    assert len(outbox_messages(empty / "outbox")) == 1


def test_run_without_any_config_points_to_init_and_init_then_works(
    tmp_path: Path, user_folder: dict[str, str]
) -> None:
    ran = followup(tmp_path, "run", "--today", TODAY, env=user_folder)
    assert ran.returncode == 2
    assert f"No config.toml in this folder ({tmp_path})" in ran.stderr
    assert "run `followup init`" in ran.stderr
    assert followup(tmp_path, "init", "--today", TODAY, env=user_folder).returncode == 0
    assert followup(tmp_path, "run", "--today", TODAY, env=user_folder).returncode == 0


def test_init_folder_sets_up_that_folder_and_runs_from_anywhere(
    tmp_path: Path, user_folder: dict[str, str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    networking = tmp_path / "Networking"

    done = followup(elsewhere, "init", str(networking), "--today", TODAY, env=user_folder)

    assert done.returncode == 0, done.stderr
    assert list(elsewhere.iterdir()) == []
    assert f"`followup run` in {networking}" in done.stdout
    assert 'path = "contacts.xlsx"' in (networking / "config.toml").read_text(encoding="utf-8")
    # Paths in the config are the config's folder's, wherever the command runs from.
    config = str(networking / "config.toml")
    ran = followup(elsewhere, "run", "--config", config, "--today", TODAY, env=user_folder)
    assert ran.returncode == 0, ran.stderr
    assert len(outbox_messages(networking / "outbox")) == 1
    assert list(elsewhere.iterdir()) == []


def test_init_uses_a_workbook_that_exists_as_it_is(
    tmp_path: Path, user_folder: dict[str, str]
) -> None:
    assert (
        followup(tmp_path, "init", "mine.xlsx", "--today", TODAY, env=user_folder).returncode == 0
    )
    (tmp_path / "config.toml").unlink()
    before = (tmp_path / "mine.xlsx").read_bytes()

    done = followup(tmp_path, "init", "mine.xlsx", "--today", TODAY, env=user_folder)

    assert done.returncode == 0, done.stderr
    assert f"Using your workbook {tmp_path / 'mine.xlsx'} as it is." in done.stdout
    assert (tmp_path / "mine.xlsx").read_bytes() == before
    assert load_config(tmp_path / "config.toml").workbook.path == tmp_path / "mine.xlsx"


def test_init_twice_changes_nothing_and_says_what_to_run(
    tmp_path: Path, user_folder: dict[str, str]
) -> None:
    assert followup(tmp_path, "init", "--today", TODAY, env=user_folder).returncode == 0
    config = (tmp_path / "config.toml").read_bytes()

    again = followup(tmp_path, "init", "--today", TODAY, env=user_folder)

    assert again.returncode == 0, again.stderr  # nothing to do is not an error
    assert "is already set up" in again.stdout and "nothing was changed" in again.stdout
    assert "`followup run`" in again.stdout
    assert (tmp_path / "config.toml").read_bytes() == config


def test_every_next_step_names_the_config_when_from_here_another_would_be_used(
    tmp_path: Path, user_folder: dict[str, str]
) -> None:
    """Steps 3 and 4 once said `followup doctor` and `followup cron-line`, which then used the
    config in the user config folder."""
    user = tmp_path / "xdg" / "followup"
    assert followup(tmp_path, "init", str(user), "--today", TODAY, env=user_folder).returncode == 0
    elsewhere, networking = tmp_path / "elsewhere", tmp_path / "Networking"
    elsewhere.mkdir()
    done = followup(elsewhere, "init", str(networking), "--today", TODAY, env=user_folder)
    assert done.returncode == 0, done.stderr
    config = str(networking / "config.toml")
    steps = re.findall(r"`followup ([a-z-]+)([^`]*)`", done.stdout)
    assert [name for name, _ in steps if name != "run"] == ["doctor", "cron-line", "schedule"]
    assert all(rest == f" --config {config}" for name, rest in steps if name != "run")
    for name in ("doctor", "cron-line"):
        ran = followup(elsewhere, name, "--config", config, "--today", TODAY, env=user_folder)
        assert config in ran.stdout and str(user) not in ran.stdout, ran.stdout


def test_a_config_in_the_user_config_folder_is_used_from_any_folder(
    tmp_path: Path, user_folder: dict[str, str]
) -> None:
    home = tmp_path / "xdg" / "followup"
    done = followup(tmp_path, "init", str(home), "--today", TODAY, env=user_folder)
    assert done.returncode == 0, done.stderr
    assert f"`followup run` writes today's digest to {home / 'outbox'}" in done.stdout
    anywhere = tmp_path / "anywhere"
    anywhere.mkdir()

    ran = followup(anywhere, "run", "--today", TODAY, env=user_folder)
    doctor = followup(anywhere, "doctor", "--today", TODAY, env=user_folder)

    assert ran.returncode == 0, ran.stderr
    assert len(outbox_messages(home / "outbox")) == 1
    assert f"{home / 'config.toml'} (in your user config folder) is valid" in doctor.stdout
    assert list(anywhere.iterdir()) == []


def test_doctor_says_which_config_it_uses_and_how_it_was_found(
    tmp_path: Path, user_folder: dict[str, str]
) -> None:
    assert followup(tmp_path, "init", "--today", TODAY, env=user_folder).returncode == 0
    config = tmp_path / "config.toml"
    other = tmp_path / "other"
    other.mkdir()

    here = followup(tmp_path, "doctor", "--today", TODAY, env=user_folder)
    named = followup(
        other, "doctor", "--today", TODAY, env={**user_folder, CONFIG_ENV: str(config)}
    )
    given = followup(other, "doctor", "--config", str(config), "--today", TODAY, env=user_folder)
    missing = followup(other, "doctor", "--today", TODAY, env=user_folder)

    assert f"{config} (in this folder) is valid" in here.stdout
    assert f"{config} (from ${CONFIG_ENV}) is valid" in named.stdout
    assert f"{config} (given with --config) is valid" in given.stdout
    assert missing.returncode == 2
    # Both places it looked, as `followup run` says.
    user = tmp_path / "xdg" / "followup"
    assert f"No config.toml in this folder ({other}) nor in {user}." in missing.stdout
    assert "run `followup init`" in missing.stdout


def test_the_config_is_found_in_the_documented_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "xdg" / "followup" / "config.toml"
    assert find_config(None, {}) == find_config(None, {})  # nothing: ./config.toml, unfound
    assert find_config(None, {}).found == ""
    user.parent.mkdir(parents=True)
    user.write_text("", encoding="utf-8")
    assert find_config(None, {}).path == user
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    assert find_config(None, {}).found == "in this folder"
    assert find_config(None, {CONFIG_ENV: "a.toml"}).path == Path("a.toml")
    # A named file is used even when missing: a typo must not pick another config.
    assert find_config("b.toml", {CONFIG_ENV: "a.toml"}).path == Path("b.toml")
    assert find_config("b.toml", {}).found == "given with --config"


def test_a_missing_named_config_says_to_check_that_path(
    tmp_path: Path, user_folder: dict[str, str]
) -> None:
    ran = followup(tmp_path, "run", "--today", TODAY, env={**user_folder, CONFIG_ENV: "typo.toml"})
    assert ran.returncode == 2
    assert f"No config file at typo.toml (from ${CONFIG_ENV})" in ran.stderr


def test_init_refuses_a_file_as_its_folder(tmp_path: Path, user_folder: dict[str, str]) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    done = followup(tmp_path, "init", "notes.txt", env=user_folder)
    assert done.returncode == 2
    assert "notes.txt is a file" in done.stderr


def test_the_examples_are_dated_from_the_given_day(
    tmp_path: Path, user_folder: dict[str, str]
) -> None:
    assert followup(tmp_path, "init", "--today", TODAY, env=user_folder).returncode == 0
    row = sheet_values(tmp_path / "contacts.xlsx", "Contacts")[1]
    assert date(2026, 3, 5) in [v.date() if hasattr(v, "date") else v for v in row]


def test_init_empty_says_to_add_people(tmp_path: Path, user_folder: dict[str, str]) -> None:
    done = followup(tmp_path, "init", "--empty", "--today", TODAY, env=user_folder)
    assert done.returncode == 0, done.stderr
    assert "add your people, one a row" in done.stdout
    assert len(sheet_values(tmp_path / "contacts.xlsx", "Contacts")) == 1


def test_the_advice_for_a_workbook_without_names_works_as_given(
    tmp_path: Path, user_folder: dict[str, str]
) -> None:
    """No message sends the user in a circle: what `run` advises, `init` does."""
    make_workbook(tmp_path / "contacts.xlsx", [["Who", "When"], ["Ann", "2026-03-01"]])
    (tmp_path / "config.toml").write_text('[workbook]\npath = "contacts.xlsx"\n', encoding="utf-8")
    ran = followup(tmp_path, "run", "--today", TODAY, env=user_folder)
    assert ran.returncode == 3
    assert "`followup init new-contacts.xlsx`" in ran.stderr

    done = followup(tmp_path, "init", "new-contacts.xlsx", "--today", TODAY, env=user_folder)

    assert done.returncode == 0, done.stderr
    assert 'set [workbook] path = "new-contacts.xlsx" in it' in done.stdout
