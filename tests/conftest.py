"""Fixtures shared by several test modules."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
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
