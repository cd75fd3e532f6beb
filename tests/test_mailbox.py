"""delivery/mailbox.py against a real Dovecot: headers only, read-only, only what is new."""

from __future__ import annotations

import socket
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import keyring
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from imapclient import IMAPClient
from imapclient.response_parser import parse_fetch_response
from keyring.backends.fail import Keyring as FailKeyring
from keyrings import MemoryKeyring

from followup.commands.sync import message_of
from followup.core.model import FIRST_DAY, LAST_DAY
from followup.delivery import mailer
from followup.delivery.mailbox import (
    PASSWORD_ENV,
    MailboxError,
    SyncState,
    account_of,
    fetch_new,
    header_of,
    resolve_password,
    store_password,
)
from followup.errors import ConfigError
from followup.settings import ImapSettings, SmtpSettings
from tests.imap_server import BARE, GMAIL, INTL, ME, OUTLOOK, Account, ImapServer, Trickler
from tests.smtp_server import free_port

TODAY = date(2026, 3, 11)
WHEN = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def settings(imap: ImapServer, account: Account = ME, **changes: object) -> ImapSettings:
    values: dict[str, object] = {
        "host": imap.host,
        "port": imap.port,
        "security": "none",
        "user": account.user,
        "sent": "",
        "inbox": ("INBOX",),
        "days_back": 90,
        "log_subjects": False,
        "own_address": account.address,
        "timeout": 5.0,
    }
    return ImapSettings(**{**values, **changes})  # type: ignore[arg-type]


def fetch(imap: ImapServer, state: SyncState, account: Account = ME, **changes: object):
    return fetch_new(settings(imap, account, **changes), account.password, state, TODAY)


def test_sent_and_inbox_headers_are_read_and_no_flag_changes(
    imap: ImapServer, tmp_path: Path
) -> None:
    sent = imap.append(
        "Sent", sender=ME.address, to=["Ana <ana@example.com>"], cc=["cy@example.com"],
        bcc=["bo@example.com"], subject="=?utf-8?q?Caf=C3=A9?= tomorrow", date=WHEN,
    )  # fmt: skip
    reply = imap.append("INBOX", sender="ana@example.com", to=[ME.address], date=WHEN)
    seen = imap.append("INBOX", sender="bo@example.com", to=[ME.address], date=WHEN,
                       flags=["\\Seen", "\\Flagged"])  # fmt: skip
    state = SyncState(tmp_path / "mailbox.json", "me")
    fetched = fetch(imap, state)
    by_uid = {(h.folder, h.uid): h for h in fetched.headers}
    header = by_uid[("Sent", sent)]
    assert header.kind == "sent"
    assert header.recipients == ("ana@example.com", "cy@example.com", "bo@example.com")
    assert header.subject == "Café tomorrow"
    assert header.when == WHEN
    assert header.message_id.startswith("<")
    assert by_uid[("INBOX", reply)].sender == "ana@example.com"
    assert fetched.folders == {"Sent": "sent", "INBOX": "inbox"}
    assert imap.flags("Sent", sent) == frozenset()
    assert imap.flags("INBOX", reply) == frozenset(), "an unread message stays unread"
    assert imap.flags("INBOX", seen) == {"\\Seen", "\\Flagged"}


def test_a_second_sync_fetches_only_new_messages(imap: ImapServer, tmp_path: Path) -> None:
    imap.append("Sent", sender=ME.address, to=["ana@example.com"], date=WHEN)
    state = SyncState(tmp_path / "mailbox.json", "me")
    first = fetch(imap, state)
    assert len(first.headers) == 1
    state.marks = first.marks
    state.save()
    again = SyncState.load(state.path, "me")
    assert fetch(imap, again).headers == ()
    new = imap.append("Sent", sender=ME.address, to=["bo@example.com"], date=WHEN)
    assert [h.uid for h in fetch(imap, again).headers] == [new]


def test_the_first_sync_reads_only_days_back(imap: ImapServer, tmp_path: Path) -> None:
    old = datetime(2025, 1, 5, tzinfo=UTC)
    imap.append("Sent", sender=ME.address, to=["ana@example.com"], date=old)
    recent = imap.append("Sent", sender=ME.address, to=["ana@example.com"], date=WHEN)
    state = SyncState(tmp_path / "mailbox.json", "me")
    fetched = fetch(imap, state, days_back=30)
    assert [h.uid for h in fetched.headers] == [recent]
    assert fetched.marks["Sent"].last_uid == recent


def test_a_new_uidvalidity_reads_the_folder_again(imap: ImapServer, tmp_path: Path) -> None:
    imap.append("Sent", sender=ME.address, to=["ana@example.com"], date=WHEN)
    state = SyncState(tmp_path / "mailbox.json", "me")
    state.marks = fetch(imap, state).marks
    assert fetch(imap, state).headers == ()
    new_validity = imap.change_uidvalidity("Sent")
    fetched = fetch(imap, state)
    assert [h.recipients for h in fetched.headers] == [("ana@example.com",)]
    assert fetched.marks["Sent"].uidvalidity == new_validity


@pytest.mark.parametrize(
    ("account", "sent"),
    [(INTL, "Envoyés"), (GMAIL, "[Gmail]/Sent Mail"), (OUTLOOK, "Sent Items")],
)
def test_the_sent_folder_is_found_by_flag_or_usual_name(
    imap: ImapServer, tmp_path: Path, account: Account, sent: str
) -> None:
    """INTL's password is not ASCII: AUTHENTICATE PLAIN carries it."""
    imap.append(sent, sender=account.address, to=["ana@example.com"], date=WHEN, account=account)
    fetched = fetch(imap, SyncState(tmp_path / "m.json", account.user), account)
    assert fetched.folders == {sent: "sent", "INBOX": "inbox"}
    assert [h.folder for h in fetched.headers] == [sent]


def test_a_mailbox_without_a_sent_folder_still_reads_the_inbox(
    imap: ImapServer, tmp_path: Path
) -> None:
    imap.append("INBOX", sender="ana@example.com", to=[BARE.address], date=WHEN, account=BARE)
    fetched = fetch(imap, SyncState(tmp_path / "m.json", "bare"), BARE)
    assert fetched.folders == {"INBOX": "inbox"}
    assert len(fetched.headers) == 1
    assert "no folder marked Sent" in fetched.problems[0]
    named = fetch(imap, SyncState(tmp_path / "m.json", "me"), sent="Sent Stuff", inbox=("Nope",))
    assert named.problems == (
        "The mailbox has no folder 'Sent Stuff' ([imap] sent).",
        "The mailbox has no folder 'Nope' ([imap] inbox).",
    )


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_secured_connections(
    imap: ImapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(imap.cafile))
    imap.append("Sent", sender=ME.address, to=["ana@example.com"], date=WHEN)
    port = imap.ssl_port if security == "ssl" else imap.port
    fetched = fetch(imap, SyncState(tmp_path / "m.json", "me"), security=security, port=port)
    assert len(fetched.headers) == 1


def test_a_server_down_a_wrong_password_and_a_silent_server_are_one_line_errors(
    imap: ImapServer, tmp_path: Path
) -> None:
    state = SyncState(tmp_path / "m.json", "me")
    with imap.down(), pytest.raises(MailboxError, match="Could not reach"):
        fetch(imap, state)
    with pytest.raises(MailboxError, match="refused the login for me") as refused:
        fetch_new(settings(imap), "wrong-password-xyzzy", state, TODAY)
    assert "xyzzy" not in str(refused.value)
    with socket.socket() as silent:  # accepts connections, never greets
        silent.bind(("127.0.0.1", free_port()))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(MailboxError, match=r"no answer in time|did not answer within"):
            fetch(imap, state, port=port, timeout=1.0)


@pytest.mark.parametrize("greet", [True, False], ids=["after-greeting", "in-greeting"])
def test_a_server_trickling_bytes_is_cut_off_by_the_deadline(
    imap: ImapServer, tmp_path: Path, greet: bool
) -> None:
    trickler = Trickler(greet)
    try:
        started = time.monotonic()
        with pytest.raises(
            MailboxError, match=r"did not answer within 2 seconds \(\[imap\] timeout"
        ):
            fetch(imap, SyncState(tmp_path / "m.json", "me"), port=trickler.port, timeout=2.0)
        assert time.monotonic() - started < 4
        assert trickler.closed.wait(2), "the connection is shut down, not left to trickle on"
    finally:
        trickler.close()


@pytest.fixture(params=["renamed", "reshaped"])
def later_imapclient(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """imapclient as a later release might make its connection: through a private hook of
    another name, or one that is also given the connect timeout. Its __init__ calls the hook
    as `self._create_IMAP4()`, so an attribute of the instance stands in for the new call."""
    original_init, original_hook = IMAPClient.__init__, IMAPClient._create_IMAP4
    if request.param == "renamed":
        monkeypatch.delattr(IMAPClient, "_create_IMAP4")

        def call_hook(client: IMAPClient, timeout: object) -> object:
            return original_hook(client)  # under its new name
    else:

        def reshaped(client: IMAPClient, connect_timeout: object) -> object:
            return original_hook(client)

        monkeypatch.setattr(IMAPClient, "_create_IMAP4", reshaped)

        def call_hook(client: IMAPClient, timeout: object) -> object:
            return type(client)._create_IMAP4(client, timeout)

    def later_init(client: IMAPClient, *args: object, timeout: object = None, **kw: object):
        client._create_IMAP4 = lambda: call_hook(client, timeout)
        original_init(client, *args, timeout=timeout, **kw)

    monkeypatch.setattr(IMAPClient, "__init__", later_init)


@pytest.mark.usefixtures("later_imapclient")
def test_without_imapclients_private_hook_sync_reads_and_the_deadline_still_holds(
    imap: ImapServer, tmp_path: Path
) -> None:
    imap.append("Sent", sender=ME.address, to=["ana@example.com"], date=WHEN)
    fetched = fetch(imap, SyncState(tmp_path / "m.json", "me"))
    assert [header.recipients for header in fetched.headers] == [("ana@example.com",)]
    trickler = Trickler(greet=True, log_in=True)  # lets the client in, then trickles
    try:
        started = time.monotonic()
        with pytest.raises(MailboxError, match=r"did not answer within 2 seconds"):
            fetch(imap, SyncState(tmp_path / "t.json", "me"), port=trickler.port, timeout=2.0)
        assert time.monotonic() - started < 4
        assert trickler.closed.wait(2), "the connection is shut down, not left to trickle on"
    finally:
        trickler.close()


def test_a_broken_state_file_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "mailbox.json"
    path.write_text("{not json", encoding="utf-8")
    state = SyncState.load(path, "me")
    assert state.marks == {}
    assert state.warning
    assert not path.exists()


def test_the_password_comes_from_the_environment_the_keyring_or_the_same_smtp_account(
    imap: ImapServer, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = settings(imap)
    smtp = SmtpSettings("smtp.example.org", 587, "starttls", "ME", ME.address, 30.0)
    with pytest.raises(ConfigError, match=r"No IMAP password for me at 127\.0\.0\.1") as missing:
        resolve_password(mine, None)
    assert PASSWORD_ENV in str(missing.value)
    monkeypatch.setenv(mailer.PASSWORD_ENV, "smtp-secret")
    assert resolve_password(mine, smtp) == "smtp-secret"  # the same login, case aside
    other = SmtpSettings("smtp.example.org", 587, "starttls", "someone", ME.address, 30.0)
    with pytest.raises(ConfigError):
        resolve_password(mine, other)
    memory_keyring.set_password("followup", account_of(mine), "from-keyring")
    assert resolve_password(mine, smtp) == "from-keyring"
    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    assert resolve_password(mine, smtp) == "from-env"


def test_the_imap_password_is_stored_in_the_keyring_or_says_to_use_the_variable(
    imap: ImapServer, memory_keyring: MemoryKeyring
) -> None:
    mine = settings(imap)
    store_password(mine, "kept")
    assert memory_keyring.entries == {("followup", account_of(mine)): "kept"}
    keyring.set_keyring(FailKeyring())  # the memory_keyring fixture puts the real one back
    with pytest.raises(ConfigError, match=f"not available.*{PASSWORD_ENV} instead"):
        store_password(mine, "kept")


_TIMEZONES = st.sampled_from([None, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12"),
                              ZoneInfo("Europe/Paris"), ZoneInfo("UTC")])  # fmt: skip
_OFFSETS = st.integers(-(99 * 60 + 59), 99 * 60 + 59)  # what a Date header's +HHMM can say


def _date_texts() -> st.SearchStrategy[str]:
    """What a Date header can hold: any day and offset, well-formed or not, or any text."""
    well_formed = st.builds(
        lambda when, minutes: (
            when.strftime("%a, %d %b ")
            + f"{when.year:04d} {when:%H:%M:%S} {'-' if minutes < 0 else '+'}"
            + f"{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
        ),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
        _OFFSETS,
    )
    text = st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters='"\\'))
    return st.one_of(well_formed, text)


@given(date_text=_date_texts(), arrived=st.booleans(), timezone=_TIMEZONES)
@example(
    date_text="Fri, 31 Dec 9999 23:59:59 -1200", arrived=True, timezone=None
)  # it stopped every run
@example(date_text="Mon, 1 Jan 0001 00:00:00 +1400", arrived=False, timezone=ZoneInfo("Etc/GMT+12"))
@example(date_text="Fri, 31 Dec 9999 23:59:59 -9959", arrived=False, timezone=None)
def test_any_date_header_is_a_day_or_a_skipped_line(
    date_text: str, arrived: bool, timezone: ZoneInfo | None
) -> None:
    """The FETCH answer as imapclient parses it, then as sync reads it: never an exception."""
    internal = b' INTERNALDATE "30-Nov-2026 10:00:00 +0000"' if arrived else b""
    line = (
        b'1 (UID 5 ENVELOPE ("' + date_text.encode() + b'" "hi" ((NIL NIL "bo" "example.com")) '
        b'NIL NIL ((NIL NIL "me" "example.org")) NIL NIL NIL "<a@b>")' + internal + b")"
    )
    data = parse_fetch_response([line], normalise_times=False)[5]
    header = header_of("INBOX", "inbox", 5, data)
    if isinstance(header, str):
        assert not arrived and "(UID 5) was skipped" in header
        return
    assert header.when.tzinfo is not None
    day = message_of(header, timezone).day
    assert FIRST_DAY - timedelta(days=1) <= day <= LAST_DAY + timedelta(days=1)
    if arrived and "9999" in date_text:
        assert header.when == datetime(2026, 11, 30, 10, tzinfo=UTC), "the arrival time"
