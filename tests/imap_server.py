"""A real IMAP server for tests: Dovecot on 127.0.0.1, with a configuration of its own.

    def test_sync(imap: ImapServer) -> None:
        uid = imap.append("Sent", sender=ME.address, to=["ana@example.com"], subject="Hi",
                          date=datetime(2026, 3, 9, 10, 0, tzinfo=UTC))
        ...point the program at imap.host, imap.port with ME.user and ME.password...
        assert imap.flags("Sent", uid) == frozenset()

`imap_server` is one Dovecot for the whole session; the `imap` fixture hands each test that
server running, with every account's mail as new. Nothing is read from /etc/dovecot and no
system service is involved: the configuration, passwords, certificate, sockets, logs and mail
all live in one temporary folder that goes when the session ends.

Each account has the folder layout of a kind of provider (see LAYOUTS). `imap.port` speaks
plain IMAP and offers STARTTLS, `imap.ssl_port` speaks TLS from the start; both present a
self-signed certificate for 127.0.0.1 and localhost, which `imap.cafile` holds (point
SSL_CERT_FILE at it to make the program trust it). Dovecot runs as the current user, or as
`nobody` when the tests run as root (Dovecot will not run its login processes as root).

Without Dovecot 2.3 or openssl the tests that use these fixtures are skipped, except under CI
(CI=true), where that is an error, so the IMAP tests can never vanish silently.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Literal

import pytest
from imapclient import IMAPClient

from tests.smtp_server import free_port

HOST = "127.0.0.1"
SEARCH_PATH = os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"))

# Folder layouts, each a Dovecot namespace an account switches on: (name, SPECIAL-USE flag).
# INBOX is always there. Only "standard" and "french" mark their Sent folder \Sent; the other
# layouts are for finding the Sent folder by its usual name, or for having none at all.
LAYOUTS: Mapping[str, tuple[tuple[str, str | None], ...]] = {
    "standard": (("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash")),
    "french": (("Envoyés", "\\Sent"), ("Brouillons", "\\Drafts"), ("Corbeille", "\\Trash")),
    "gmail": (("[Gmail]/Sent Mail", None), ("[Gmail]/Drafts", None), ("[Gmail]/Trash", None)),
    "outlook": (("Sent Items", None), ("Deleted Items", None)),
    "bare": (),
}


@dataclass(frozen=True)
class Account:
    """A mailbox on the test server: login, password, the owner's address and its layout."""

    user: str
    password: str
    address: str
    layout: str

    @property
    def folders(self) -> tuple[str, ...]:
        return ("INBOX", *(name for name, _ in LAYOUTS[self.layout]))


ME = Account("me", "correct horse battery staple", "me@example.org", "standard")
# A password that is not ASCII, and a \Sent folder whose name is not either.
INTL = Account("amelie", "mot-de-passe-été-пароль-密码", "amelie@example.fr", "french")
GMAIL = Account("gmail", "abcd efgh ijkl mnop", "me.gmail@example.com", "gmail")
OUTLOOK = Account("outlook", "outlook-secret", "me@outlook.example.com", "outlook")
BARE = Account("bare", "bare-secret", "me@bare.example.net", "bare")
ACCOUNTS = (ME, INTL, GMAIL, OUTLOOK, BARE)

Security = Literal["none", "starttls", "ssl"]


def dovecot_missing() -> str | None:
    """Why the IMAP tests cannot run here, or None when they can."""
    dovecot = shutil.which("dovecot", path=SEARCH_PATH)
    if dovecot is None:
        return "Dovecot is not installed (Debian: apt-get install dovecot-imapd)"
    if shutil.which("openssl") is None:
        return "openssl is needed to make the IMAP server's certificate"
    version = subprocess.run([dovecot, "--version"], capture_output=True, text=True).stdout
    if not version.startswith("2.3."):
        return f"Dovecot {version.strip()} found; the test server's configuration is for 2.3"
    return None


class ImapServer:
    """One Dovecot instance in `root`; start(), stop() and the helpers tests use over IMAP."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.host = HOST
        self.port = free_port()
        self.ssl_port = free_port()
        self.cafile = root / "cert.pem"
        self.log = root / "dovecot.log"
        self.instance = f"followup-test-{os.getpid()}-{self.port}"
        self._mail = root / "mail"
        self._pristine = root / "pristine"
        self._process: subprocess.Popen[bytes] | None = None
        # Dovecot refuses to run its login processes as root: as root, everything runs as nobody.
        self._runas = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.getuid())

    # --- the process -------------------------------------------------------------------------

    def setup(self) -> None:
        """Writes the configuration, passwords and certificate, then starts Dovecot."""
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "ec", "-nodes", "-days", "2"),
                *("-pkeyopt", "ec_paramgen_curve:prime256v1", "-subj", "/CN=localhost"),
                *("-addext", f"subjectAltName=IP:{HOST},DNS:localhost"),
                *("-keyout", str(self.root / "key.pem"), "-out", str(self.cafile)),
            ],
            check=True,
            capture_output=True,
        )
        (self.root / "passwd").write_text("".join(map(self._passwd_line, ACCOUNTS)), "utf-8")
        (self.root / "dovecot.conf").write_text(self._config(), "utf-8")
        self.log.touch()
        self._own(self.root)
        self.start()
        for account in ACCOUNTS:  # open every folder once, so each exists on disk, then keep
            with self.client(account) as client:  # that state to restore before each test
                for folder in account.folders:
                    client.folder_status(folder, ["UIDVALIDITY"])
        shutil.copytree(self._mail, self._pristine, symlinks=True)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Starts Dovecot and returns once it greets on its port (a few hundredths of a second)."""
        if self.running:
            return
        dovecot = shutil.which("dovecot", path=SEARCH_PATH)
        assert dovecot is not None
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [dovecot, "-F", "-c", str(self.root / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, which stop() ends
                preexec_fn=_dies_with(os.getpid()),
                **self._drop_root(),
            )
        deadline = time.monotonic() + 10
        while not self._greets():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Dovecot did not start:\n{self.log.read_text('utf-8')}")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stops Dovecot and waits until none of its processes is left."""
        if self._process is None:
            return
        # Every process at once, as systemd stops a service: the master alone would wait a
        # second or two for its log process.
        with contextlib.suppress(ProcessLookupError):  # all gone already
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
        deadline = time.monotonic() + 5
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.01)
        if left := self.processes():
            raise RuntimeError(f"Dovecot processes left after stopping: {left}")

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """The server is down (nothing listens on its ports) inside the block."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def processes(self) -> list[int]:
        """The ids of this instance's processes (Dovecot names them after the instance)."""
        return pids_naming(self.instance)

    def reset(self) -> None:
        """Every account's mail as right after setup: the layout's folders, empty."""
        shutil.rmtree(self._mail)
        shutil.copytree(self._pristine, self._mail, symlinks=True)
        self._own(self._mail)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root)

    # --- helpers for tests, through IMAP -----------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the server's self-signed certificate."""
        return ssl.create_default_context(cafile=self.cafile)

    @contextlib.contextmanager
    def client(self, account: Account = ME, security: Security = "none") -> Iterator[IMAPClient]:
        """A logged-in imapclient connection (AUTHENTICATE PLAIN: any password works)."""
        if security == "ssl":
            client = IMAPClient(
                self.host, self.ssl_port, ssl=True, ssl_context=self.ssl_context(), timeout=5
            )
        else:
            client = IMAPClient(self.host, self.port, ssl=False, timeout=5)
        # imaplib writes AUTHENTICATE's answer and its line end apart; with Nagle's algorithm
        # and delayed ACKs that costs 40 ms a login.
        client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if security == "starttls":
            client.starttls(self.ssl_context())
        try:
            client.plain_login(account.user, account.password)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(
        self,
        folder: str,
        *,
        sender: str,
        to: Sequence[str] = (),
        cc: Sequence[str] = (),
        bcc: Sequence[str] = (),
        subject: str = "Hello",
        date: datetime,
        flags: Iterable[str] = (),
        received: datetime | None = None,
        headers: Mapping[str, str] | None = None,
        account: Account = ME,
    ) -> int:
        """APPENDs a short text message and returns its UID.

        `date` (timezone-aware) becomes the Date header; `received` the INTERNALDATE (what
        SEARCH SINCE compares), `date` when not given. Bcc is kept in the header, as mail
        programs do in the copy they save to Sent.
        """
        message = EmailMessage()
        message["From"] = sender
        for name, addresses in (("To", to), ("Cc", cc), ("Bcc", bcc)):
            if addresses:
                message[name] = ", ".join(addresses)
        message["Subject"] = subject
        message["Date"] = format_datetime(_aware(date))
        message["Message-ID"] = make_msgid(domain="example.org")
        for name, value in (headers or {}).items():
            del message[name]
            message[name] = value
        message.set_content("Hello,\n\nA message for the tests.\n")
        return self.append_raw(
            folder, message.as_bytes(), flags=flags, received=received or date, account=account
        )

    def append_raw(
        self,
        folder: str,
        message: bytes,
        *,
        flags: Iterable[str] = (),
        received: datetime | None = None,
        account: Account = ME,
    ) -> int:
        """APPENDs `message` as it is and returns its UID (from the APPENDUID answer)."""
        with self.client(account) as client:
            answer = client.append(
                folder, message, flags=tuple(flags), msg_time=received and _aware(received)
            )
        found = re.search(rb"\[APPENDUID \d+ (\d+)\]", answer)
        assert found, answer
        return int(found[1])

    def flags(self, folder: str, uid: int, account: Account = ME) -> frozenset[str]:
        """The message's flags, read with EXAMINE (read-only), which changes none.

        \\Recent is left out: it only says whether this connection is the first to see the
        message, so it differs from one look to the next.
        """
        with self.client(account) as client:
            client.select_folder(folder, readonly=True)
            flags = client.get_flags([uid]).get(uid, ())
        return frozenset(flag.decode() for flag in flags) - {"\\Recent"}

    def uidvalidity(self, folder: str, account: Account = ME) -> int:
        with self.client(account) as client:
            return client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"]

    def change_uidvalidity(self, folder: str, account: Account = ME) -> int:
        """Gives `folder` a new UIDVALIDITY, as a server does after a rebuild or a migration.

        The messages stay, with their flags and internal dates, under new UIDs from 1: the
        folder is deleted and created again around a copy of its messages. Returns the new
        UIDVALIDITY.
        """
        spare = f"{folder} (moving)"
        with self.client(account) as client:
            client.create_folder(spare)
            _copy_all(client, folder, spare)
            client.delete_folder(folder)
            client.create_folder(folder)
            client.subscribe_folder(folder)
            _copy_all(client, spare, folder)
            client.delete_folder(spare)
            return client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"]

    # --- the pieces of setup -----------------------------------------------------------------

    def _passwd_line(self, account: Account) -> str:
        """user:password:uid:gid:gecos:home:shell:extra; the password base64 so any text fits."""
        secret = base64.b64encode(account.password.encode()).decode()
        home = self._mail / account.user
        layout = f"userdb_namespace/{account.layout}/disabled=no"
        return f"{account.user}:{{PLAIN.b64}}{secret}::::{home}::{layout}\n"

    def _config(self) -> str:
        namespaces = "".join(
            f"namespace {layout} {{\n  disabled = yes\n  inbox = yes\n  separator = /\n"
            + "".join(
                f'  mailbox "{name}" {{\n    auto = subscribe\n'
                + (f"    special_use = {use}\n" if use else "")
                + "  }\n"
                for name, use in folders
            )
            + "}\n"
            for layout, folders in LAYOUTS.items()
        )
        group = grp.getgrgid(self._runas.pw_gid).gr_name
        return f"""\
# Written by tests/imap_server.py for one test session. Nothing comes from /etc/dovecot.
instance_name = {self.instance}
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log}
protocols = imap
listen = {HOST}
default_internal_user = {self._runas.pw_name}
default_internal_group = {group}
default_login_user = {self._runas.pw_name}
service anvil {{
  chroot =
  # No growing wait (2, 4, 8, 15 s) after repeated wrong passwords from one address.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {self.ssl_port}
    ssl = yes
  }}
}}
ssl = yes
ssl_cert = <{self.cafile}
ssl_key = <{self.root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
# Dovecot holds back "wrong password" for 2 s; here only until it next looks at its queue
# of failures, which it does every 0.5 s.
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = username_format=%u {self.root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.root}/passwd
}}
mail_location = maildir:~/Maildir:LAYOUT=fs
mail_fsync = never
{namespaces}"""

    def _drop_root(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}
        return {"user": self._runas.pw_uid, "group": self._runas.pw_gid, "extra_groups": []}

    def _own(self, top: Path) -> None:
        """As root, hands the files to the user Dovecot runs as."""
        if os.geteuid() != 0:
            return
        uid, gid = self._runas.pw_uid, self._runas.pw_gid
        os.chown(top, uid, gid)
        for folder, folders, files in os.walk(top):
            for name in folders + files:
                os.chown(Path(folder, name), uid, gid, follow_symlinks=False)

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as probe:
                return probe.recv(4).startswith(b"* OK")
        except OSError:
            return False


def _aware(moment: datetime) -> datetime:
    """Naive datetimes would be read in the machine's time zone; tests must say theirs."""
    if moment.tzinfo is None:
        raise ValueError(f"give the test message's time with a time zone, not {moment}")
    return moment


def _dies_with(parent: int) -> Callable[[], None] | None:
    """What the Dovecot child runs before exec so that it gets SIGTERM when the test process
    dies, even by SIGKILL (a killed pytest, a CI timeout), when no teardown runs: Linux's
    parent-death signal. The kernel sends it when the thread that started the child ends, so
    only a start from the main thread sets it; elsewhere teardown alone stops Dovecot."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not (
        threading.main_thread()
    ):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def set_death_signal() -> None:
        if prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the test process died before the signal was set
            os.kill(os.getpid(), signal.SIGTERM)

    return set_death_signal


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_STALE_AFTER = 3600  # seconds: no test session lasts an hour


def _root_folder() -> Path:
    """A fresh folder, with a path short enough for the sockets Dovecot makes in it.

    Folders an interrupted session left (older than an hour, no process using them) go first.
    """
    base = tempfile.gettempdir()
    if len(base) > 40:  # unix socket paths are limited to about 100 bytes
        base = "/tmp"
    remove_stale(Path(base))
    return Path(tempfile.mkdtemp(prefix="followup-imap-", dir=base))


def remove_stale(base: Path) -> None:
    """Removes the test servers' folders in `base` older than an hour that no process names."""
    if not Path("/proc").is_dir():  # no telling which folders a Dovecot still uses
        return
    for folder in base.glob("followup-imap-*"):
        if _age(folder) > _STALE_AFTER and not pids_naming(str(folder)):
            shutil.rmtree(folder, ignore_errors=True)


def _age(folder: Path) -> float:
    try:
        return time.time() - folder.stat().st_mtime
    except OSError:
        return 0.0


def pids_naming(text: str) -> list[int]:
    """The ids of the processes whose command line holds `text` (Dovecot's hold their
    instance name, and the master its configuration's path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """One Dovecot for the session; it is stopped, and its folder removed, at the end."""
    if reason := dovecot_missing():
        if os.environ.get("CI"):
            raise RuntimeError(f"The IMAP tests cannot run: {reason}.")
        pytest.skip(reason)
    server = ImapServer(_root_folder())
    try:
        server.setup()
        yield server
    finally:
        server.close()


@pytest.fixture
def imap(imap_server: ImapServer) -> ImapServer:
    """The session's Dovecot, running, with every account's folders as new and empty."""
    imap_server.start()
    imap_server.reset()
    return imap_server


class Trickler:
    """A loopback server that greets at once (or not), with `log_in` also answers CAPABILITY
    and accepts any login, and then sends one byte every 0.2 s, never finishing a line: each
    socket read succeeds, so only a deadline on the whole sync ends it. `closed` is set when
    the client shuts the connection."""

    def __init__(self, greet: bool, log_in: bool = False) -> None:
        self.greet = greet
        self.log_in = log_in
        self.closed = threading.Event()
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            try:
                if self.greet:
                    connection.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")
                if self.log_in:
                    self._accept_login(connection)
                connection.settimeout(0.2)
                connection.sendall(b"* ")
                while not self.stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        if connection.recv(1024) == b"":
                            break
                    connection.sendall(b"x")
            except OSError:
                pass
        self.closed.set()

    @staticmethod
    def _accept_login(connection: socket.socket) -> None:
        """Answers commands until a login, which succeeds whatever the password."""
        connection.settimeout(5)
        with connection.makefile("rb") as lines:
            while line := lines.readline():
                tag, _, command = line.rstrip().partition(b" ")
                name = command.split(b" ")[0].upper()
                if name == b"CAPABILITY":
                    connection.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
                elif name == b"AUTHENTICATE":
                    connection.sendall(b"+ \r\n")
                    lines.readline()  # the credentials
                if name in (b"AUTHENTICATE", b"LOGIN"):
                    connection.sendall(tag + b" OK logged in\r\n")
                    return
                connection.sendall(tag + b" OK done\r\n")

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def _copy_all(client: IMAPClient, source: str, target: str) -> None:
    """Copy every message of `source` (flags and internal dates too) into `target`."""
    client.select_folder(source)
    if uids := client.search("ALL"):
        client.copy(uids, target)
    client.close_folder()
