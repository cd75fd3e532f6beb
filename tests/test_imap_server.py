"""The IMAP test server itself, checked through imapclient: what the sync tests rely on."""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from imapclient.imapclient import SENT

from tests.imap_server import (
    ACCOUNTS,
    BARE,
    GMAIL,
    INTL,
    ME,
    OUTLOOK,
    Account,
    ImapServer,
    Security,
    dovecot_missing,
    pids_naming,
    remove_stale,
)

BRASILIA = timezone(timedelta(hours=-3))
HEADERS = b"BODY.PEEK[HEADER.FIELDS (FROM TO CC BCC DATE SUBJECT)]"


def header_block(fetched: dict[bytes, object]) -> bytes:
    """The header fields in a FETCH answer (the server names the item in its own way)."""
    [value] = [v for k, v in fetched.items() if k.startswith(b"BODY[HEADER.FIELDS")]
    assert isinstance(value, bytes)
    return value


def test_append_then_search_and_fetch_the_headers(imap: ImapServer) -> None:
    sent = datetime(2026, 3, 9, 10, 0, tzinfo=BRASILIA)
    uid = imap.append(
        "Sent",
        sender="Me <me@example.org>",
        to=["Ana Lima <ana@example.com>"],
        cc=["bo@example.com"],
        bcc=["Chloé <chloe@example.com>"],
        subject="Café next week?",
        date=sent,
    )
    imap.append("Sent", sender=ME.address, to=["someone@else.example"], date=sent)
    with imap.client() as client:
        client.select_folder("Sent", readonly=True)
        assert client.search(["TO", "ana@example.com"]) == [uid]
        assert client.search(["BCC", "chloe@example.com"]) == [uid]
        fetched = client.fetch([uid], ["ENVELOPE", "INTERNALDATE", HEADERS])[uid]
    envelope = fetched[b"ENVELOPE"]
    assert [(a.mailbox, a.host) for a in envelope.to] == [(b"ana", b"example.com")]
    assert [(a.mailbox, a.host) for a in envelope.cc] == [(b"bo", b"example.com")]
    assert [(a.mailbox, a.host) for a in envelope.bcc] == [(b"chloe", b"example.com")]
    assert envelope.subject.isascii()  # as in the message: RFC 2047 words, to decode
    assert str(make_header(decode_header(envelope.subject.decode()))) == "Café next week?"
    headers = header_block(fetched)
    assert b"Date: Mon, 09 Mar 2026 10:00:00 -0300\r\n" in headers
    assert b"<chloe@example.com>\r\n" in headers
    assert b"Subject:" in headers and b"Hello," not in headers  # headers only, no body


def test_the_date_header_and_the_internal_date_are_separate(imap: ImapServer) -> None:
    written = datetime(2026, 3, 9, 22, 30, tzinfo=BRASILIA)  # 01:30 on the 10th in UTC
    stored = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)  # e.g. moved in from another account
    uid = imap.append("Sent", sender=ME.address, to=["ana@example.com"], date=written)
    late = imap.append(
        "Sent", sender=ME.address, to=["ana@example.com"], date=written, received=stored
    )
    with imap.client() as client:
        client.normalise_times = False  # keep the offsets; imapclient's default is local time
        client.select_folder("Sent", readonly=True)
        fetched = client.fetch([uid, late], ["INTERNALDATE", "ENVELOPE"])
        # SINCE compares INTERNALDATE, SENTSINCE the Date header (both by day, not time).
        assert client.search(["SINCE", datetime(2026, 3, 11).date()]) == [late]
        assert client.search(["SENTSINCE", datetime(2026, 3, 10).date()]) == []
        assert client.search(["SENTON", datetime(2026, 3, 9).date()]) == [uid, late]
    assert fetched[uid][b"INTERNALDATE"] == written
    assert fetched[late][b"INTERNALDATE"] == stored
    assert fetched[late][b"ENVELOPE"].date == written


def test_a_naive_date_is_refused(imap: ImapServer) -> None:
    with pytest.raises(ValueError, match="time zone"):
        imap.append("Sent", sender=ME.address, date=datetime(2026, 3, 9, 10, 0))


@pytest.mark.parametrize(
    ("account", "folders", "sent"),
    [
        (ME, {"INBOX", "Sent", "Drafts", "Trash"}, "Sent"),
        (INTL, {"INBOX", "Envoyés", "Brouillons", "Corbeille"}, "Envoyés"),
        (GMAIL, {"INBOX", "[Gmail]", "[Gmail]/Sent Mail", "[Gmail]/Drafts", "[Gmail]/Trash"}, None),
        (OUTLOOK, {"INBOX", "Sent Items", "Deleted Items"}, None),
        (BARE, {"INBOX"}, None),
    ],
    ids=["standard", "french", "gmail", "outlook", "bare"],
)
def test_each_layout_lists_its_folders_and_marks_sent_by_special_use(
    imap: ImapServer, account: Account, folders: set[str], sent: str | None
) -> None:
    with imap.client(account) as client:
        listed = client.list_folders()
        capabilities = client.capabilities()
    assert b"SPECIAL-USE" in capabilities  # even where no folder has a special use
    assert {name for _, _, name in listed} == folders
    assert {delimiter for _, delimiter, _ in listed} == {b"/"}
    assert [name for flags, _, name in listed if SENT in flags] == ([sent] if sent else [])
    if account is GMAIL:  # as on Gmail, the parent is a name only
        assert ((b"\\Noselect", b"\\HasChildren"), b"/", "[Gmail]") in listed


def test_examine_with_body_peek_leaves_unread_mail_unread(imap: ImapServer) -> None:
    unread = imap.append(
        "INBOX", sender="ana@example.com", to=[ME.address], date=datetime(2026, 3, 9, tzinfo=UTC)
    )
    read = imap.append(
        "INBOX",
        sender="bo@example.com",
        to=[ME.address],
        date=datetime(2026, 3, 9, tzinfo=UTC),
        flags=["\\Seen", "\\Flagged"],
    )
    with imap.client() as client:
        client.select_folder("INBOX", readonly=True)  # EXAMINE
        client.fetch([unread, read], ["ENVELOPE", "FLAGS", HEADERS])
    assert imap.flags("INBOX", unread) == frozenset()
    assert imap.flags("INBOX", read) == {"\\Seen", "\\Flagged"}
    with imap.client() as client:  # the check can tell: a read-write BODY[] fetch marks it read
        client.select_folder("INBOX")
        client.fetch([unread], ["BODY[HEADER]"])
    assert imap.flags("INBOX", unread) == {"\\Seen"}


def messages(client: IMAPClient, folder: str) -> dict[int, tuple[bytes, frozenset[bytes], object]]:
    """UID -> (Message-ID, flags but the per-connection \\Recent, internal date)."""
    client.select_folder(folder, readonly=True)
    fetched = client.fetch(client.search("ALL"), ["ENVELOPE", "FLAGS", "INTERNALDATE"])
    return {
        uid: (
            data[b"ENVELOPE"].message_id,
            frozenset(data[b"FLAGS"]) - {b"\\Recent"},
            data[b"INTERNALDATE"],
        )
        for uid, data in fetched.items()
    }


def test_a_uidvalidity_change_keeps_the_messages_under_new_uids(imap: ImapServer) -> None:
    day = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    gone = imap.append("Sent", sender=ME.address, to=["a@example.com"], date=day)
    imap.append("Sent", sender=ME.address, date=day + timedelta(days=1), flags=["\\Seen"])
    imap.append("Sent", sender=ME.address, date=day + timedelta(days=2))
    with imap.client() as client:  # a gap in the UIDs, as on any real server
        client.select_folder("Sent")
        client.delete_messages([gone])
        client.expunge()
        old = messages(client, "Sent")
    before = imap.uidvalidity("Sent")

    after = imap.change_uidvalidity("Sent")

    with imap.client() as client:
        new = messages(client, "Sent")
        listed = client.list_folders()
    assert after != before and imap.uidvalidity("Sent") == after
    assert sorted(old) == [2, 3] and sorted(new) == [1, 2]
    assert [old[uid] for uid in sorted(old)] == [new[uid] for uid in sorted(new)]
    assert {b"\\Seen"} in [flags for _, flags, _ in new.values()]
    assert [name for flags, _, name in listed if SENT in flags] == ["Sent"]
    assert len(listed) == 4  # nothing left behind by the move


def test_each_test_starts_with_empty_folders(imap: ImapServer) -> None:
    day = datetime(2026, 3, 9, tzinfo=UTC)
    for account in ACCOUNTS:
        for folder in account.folders:
            imap.append(folder, sender=account.address, date=day, account=account)
    imap.reset()
    for account in ACCOUNTS:
        with imap.client(account) as client:
            counts = [client.folder_status(f, ["MESSAGES"])[b"MESSAGES"] for f in account.folders]
            assert counts == [0] * len(account.folders)


def test_a_stopped_server_refuses_connections_at_once(imap: ImapServer) -> None:
    with imap.down():
        assert imap.processes() == []  # stopped cleanly, nothing left running
        started = time.monotonic()
        with pytest.raises(ConnectionRefusedError):
            IMAPClient(imap.host, imap.port, ssl=False, timeout=5)
        with pytest.raises(ConnectionRefusedError):
            IMAPClient(imap.host, imap.ssl_port, ssl=True, timeout=5)
        assert time.monotonic() - started < 3  # no waiting for a timeout (5 s)
    with imap.client() as client:  # and back up
        assert client.folder_status("INBOX", ["MESSAGES"]) == {b"MESSAGES": 0}


@pytest.mark.parametrize("method", ["login", "plain_login"])
def test_a_wrong_password_is_a_login_error_at_once(imap: ImapServer, method: str) -> None:
    client = IMAPClient(imap.host, imap.port, ssl=False, timeout=5)
    started = time.monotonic()
    with pytest.raises(LoginError, match="AUTHENTICATIONFAILED"):
        getattr(client, method)(ME.user, ME.password + "x")
    # Dovecot's own default waits 2 s, and 4, 8, 15 s more for each failure after that; this
    # server waits only for its failure queue, checked every 0.5 s.
    assert time.monotonic() - started < 2
    client.shutdown()


def test_a_non_ascii_password_logs_in_with_authenticate_plain(imap: ImapServer) -> None:
    assert not INTL.password.isascii()
    client = IMAPClient(imap.host, imap.port, ssl=False, timeout=5)
    # imaplib writes LOGIN's arguments as ASCII: it fails before a byte is sent.
    with pytest.raises(UnicodeEncodeError):
        client.login(INTL.user, INTL.password)
    # AUTHENTICATE PLAIN sends the password as UTF-8 (RFC 4616), which Dovecot takes.
    assert client.plain_login(INTL.user, INTL.password) == b"Logged in"
    assert client.find_special_folder(SENT) == "Envoyés"
    client.logout()


def test_the_plain_port_offers_starttls(imap: ImapServer) -> None:
    client = IMAPClient(imap.host, imap.port, ssl=False, timeout=5)
    assert b"STARTTLS" in client.capabilities()
    client.shutdown()


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_the_test_certificate(imap: ImapServer, security: Security) -> None:
    with imap.client(ME, security) as client:
        assert isinstance(client.socket(), ssl.SSLSocket)
        assert client.find_special_folder(SENT) == "Sent"


def test_tls_is_verified_against_the_test_certificate(imap: ImapServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(imap.host, imap.ssl_port, ssl=True, timeout=5)  # the system's CAs only


# A test process that starts its Dovecot, says which it is, then waits to be killed.
STARTS_DOVECOT = """
import tempfile, time
from pathlib import Path
from tests.imap_server import ImapServer
server = ImapServer(Path(tempfile.mkdtemp(prefix="followup-imap-", dir="/tmp")))
server.setup()
print(server.instance, server.root, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's parent-death signal")
def test_dovecot_dies_with_a_killed_test_process() -> None:
    """A test run killed outright (SIGKILL: no teardown runs) leaves no Dovecot behind."""
    if reason := dovecot_missing():
        pytest.skip(reason)
    repository = Path(__file__).resolve().parents[1]
    with subprocess.Popen(
        [sys.executable, "-c", STARTS_DOVECOT], cwd=repository, stdout=subprocess.PIPE, text=True
    ) as tests:
        instance, root = tests.stdout.readline().split()
        tests.kill()

    def dovecot() -> list[int]:  # the master names its folder, the others the instance
        return pids_naming(root) + pids_naming(instance)

    try:
        deadline = time.monotonic() + 5
        while dovecot() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not dovecot()
    finally:
        for pid in dovecot():  # without the fix: not left running for good
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the folders in use in /proc")
def test_folders_an_interrupted_session_left_are_removed(tmp_path: Path) -> None:
    old, recent, in_use = (tmp_path / f"followup-imap-{name}" for name in ("a", "b", "c"))
    for folder in (old, recent, in_use):
        folder.mkdir()
        (folder / "dovecot.conf").touch()
    two_hours_ago = time.time() - 7200
    for folder in (old, in_use):
        os.utime(folder, (two_hours_ago, two_hours_ago))
    # A process naming the folder in its command line, as a Dovecot running on it does; it
    # says when it runs (until then /proc may show it without its arguments).
    waits = "import time; print(flush=True); time.sleep(30)"
    with subprocess.Popen(
        [sys.executable, "-c", waits, str(in_use)], stdout=subprocess.PIPE
    ) as user:
        try:
            user.stdout.readline()
            remove_stale(tmp_path)
        finally:
            user.kill()
    assert sorted(tmp_path.iterdir()) == [recent, in_use]
