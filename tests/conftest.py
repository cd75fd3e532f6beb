"""Fixtures shared by several test modules."""

from __future__ import annotations

import os
from collections.abc import Iterator

import keyring
import pytest
from cli_helpers import collector_off
from keyrings import MemoryKeyring

from followup.delivery import mailer
from tests.imap_server import imap, imap_server  # noqa: F401  (fixtures for every module)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """An empty keyring and no password variable for one test; the real keyring comes back."""
    monkeypatch.delenv(mailer.PASSWORD_ENV, raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def _collector_off_during_the_test() -> Iterator[None]:
    """Each test runs with the cycle collector off (see cli_helpers.collector_off): the runs it
    makes in this process skip their final collection; it is back on between tests."""
    with collector_off():
        yield


@pytest.fixture(autouse=True, scope="session")
def _no_user_config_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A command in a folder without config.toml looks in the user config folder: the tests
    give it an empty one of their own, never the machine's ~/.config/followup."""
    previous = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("user-config"))
    yield
    if previous is None:
        del os.environ["XDG_CONFIG_HOME"]
    else:
        os.environ["XDG_CONFIG_HOME"] = previous
