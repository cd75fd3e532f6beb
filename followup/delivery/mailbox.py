"""Reading the user's mailbox over IMAP: message headers only, read-only, only what is new.

Every folder is opened with EXAMINE (read-only) and only ENVELOPE and INTERNALDATE are fetched,
so no body or attachment is ever downloaded and no flag changes: a message unread before a sync
is unread after it. What was read is remembered per folder by UIDVALIDITY and the last UID
(`SyncState`, the file mailbox.json in the state folder), so each sync fetches only new
messages; the first sync, and one after the server renumbered a folder (a new UIDVALIDITY),
read the last `[imap] days_back` days. The whole read is bounded by `[imap] timeout`: a server
that answers too slowly, even one byte at a time, is cut off then, so the daily run goes on.

The password comes from FOLLOWUP_IMAP_PASSWORD, else the keyring (service "followup", username
"<imap user>@<imap host>"), else the SMTP password when [smtp] logs in as the same user. It is
never in a message, a log line or a file. imapclient is imported only when a sync runs.
"""

from __future__ import annotations

import imaplib
import inspect
import json
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import keyring
from keyring.errors import KeyringError

from followup.atomic import set_aside, write_atomic
from followup.core.model import FIRST_DAY, LAST_DAY
from followup.delivery import mailer
from followup.errors import ConfigError
from followup.settings import ImapSettings, SmtpSettings

if TYPE_CHECKING:
    from imapclient import IMAPClient

PASSWORD_ENV = "FOLLOWUP_IMAP_PASSWORD"  # noqa: S105 (the variable's name, not a password)
SYNC_FILE = "mailbox.json"
_CHUNK = 500  # UIDs per FETCH: a first sync of a busy mailbox stays a handful of commands
_REMEMBERED_KEYS = 1000  # mark-done messages remembered as applied (the newest)

# Where the Sent folder is when no folder carries the \Sent flag, in the usual spellings.
SENT_NAMES = (
    "[Gmail]/Sent Mail",
    "[Google Mail]/Sent Mail",
    "Sent",
    "Sent Items",
    "Sent Messages",
    "Sent Mail",
    "INBOX.Sent",
    "INBOX/Sent",
    "Envoyés",
    "Gesendet",
    "Enviados",
)

Kind = Literal["sent", "inbox"]


class MailboxError(Exception):
    """The mailbox could not be read (down, wrong password, timeout): one line for the user."""


@dataclass(frozen=True)
class Header:
    """What sync uses of one message: never its body, nor anyone's name."""

    folder: str
    kind: Kind
    uid: int
    when: datetime
    """The Date header (its own timezone), else the arrival time: always timezone-aware and
    within followup's days (`moment`), so converting it to any timezone cannot fail."""
    sender: str
    recipients: tuple[str, ...]  # To, Cc and Bcc
    subject: str
    message_id: str


@dataclass(frozen=True)
class Mark:
    """How far a folder has been read."""

    uidvalidity: int
    last_uid: int
    deferred: tuple[int, ...] = ()
    """UIDs up to last_uid to read again: messages dated after the day they were read."""


@dataclass
class SyncState:
    """mailbox.json: per folder how far it was read, and the mark-done messages applied."""

    path: Path
    account: str = ""
    marks: dict[str, Mark] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    warning: str = ""

    @classmethod
    def load(cls, path: Path, account: str) -> SyncState:
        """The state for `account`; another account's (the settings changed) starts afresh."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            marks = {
                str(name): Mark(
                    int(mark["uidvalidity"]),
                    int(mark["last_uid"]),
                    tuple(int(uid) for uid in mark.get("deferred", ())),
                )
                for name, mark in raw["folders"].items()
            }
            applied = [str(key) for key in raw["applied"]]
            if raw["account"] != account:
                return cls(path, account, applied=applied)
            return cls(path, account, marks, applied)
        except FileNotFoundError:
            return cls(path, account)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as err:
            why = set_aside(path, err, "the next sync reads the last days of mail again")
            return cls(path, account, warning=why)

    def save(self) -> None:
        """Write the state atomically; raises OSError when the folder cannot be written."""
        data = {
            "account": self.account,
            "folders": {
                name: {"uidvalidity": m.uidvalidity, "last_uid": m.last_uid}
                | ({"deferred": list(m.deferred)} if m.deferred else {})
                for name, m in sorted(self.marks.items())
            },
            "applied": self.applied[-_REMEMBERED_KEYS:],
        }
        write_atomic(self.path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


@dataclass(frozen=True)
class Fetched:
    """The new messages' headers, how far each folder is then read, and what went wrong."""

    headers: tuple[Header, ...]
    marks: dict[str, Mark]
    folders: dict[str, Kind]
    problems: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    """Messages left out because neither their Date nor their arrival time can be read."""


def account_of(imap: ImapSettings) -> str:
    """The login and the server: the keyring's username and the state file's account."""
    return f"{imap.user}@{imap.host}"


def resolve_password(imap: ImapSettings, smtp: SmtpSettings | None) -> str:
    """The IMAP password (see the module doc); ConfigError when there is none, MailboxError
    when the environment's is not UTF-8 (no server could check it). Never prompts."""
    try:
        password = mailer.env_password(PASSWORD_ENV, "followup password --imap")
    except ConfigError as error:  # LOGIN would wait out the timeout, then blame the server
        raise MailboxError(str(error)) from None
    if password:
        return password
    with suppress(KeyringError):
        password = keyring.get_password(mailer.KEYRING_SERVICE, account_of(imap))
    if password:
        return password
    if smtp is not None and smtp.user and smtp.user.casefold() == imap.user.casefold():
        with suppress(ConfigError):
            return mailer.resolve_password(smtp) or ""
    raise ConfigError(
        f"No IMAP password for {imap.user} at {imap.host}: set the environment variable "
        f"{PASSWORD_ENV}, or store it in the system keyring (service "
        f'"{mailer.KEYRING_SERVICE}", username "{account_of(imap)}").'
    )


def store_password(imap: ImapSettings, password: str) -> None:
    """Save the password in the system keyring for resolve_password (`followup password
    --imap`); ConfigError when there is no keyring here."""
    mailer.keep_in_keyring(account_of(imap), password, PASSWORD_ENV)


def fetch_new(imap: ImapSettings, password: str, state: SyncState, today: date) -> Fetched:
    """The headers of the messages the folders received since `state`, read-only.

    Raises MailboxError when the server cannot be reached, refuses the login or has not
    answered everything within `[imap] timeout` seconds; a folder that is missing is a problem
    in the result, and the other folders are still read.
    """
    since = today - timedelta(days=imap.days_back)
    deadline = _Deadline()

    def read() -> Fetched:
        with _session(imap, password, deadline) as client:
            folders, problems = _folders(client, imap)
            headers: list[Header] = []
            skipped: list[str] = []
            marks: dict[str, Mark] = {}
            for name, kind in folders.items():
                found, marks[name] = _read(client, name, kind, state.marks.get(name), since)
                headers += [header for header in found if isinstance(header, Header)]
                skipped += [line for line in found if isinstance(line, str)]
        return Fetched(tuple(headers), marks, folders, tuple(problems), tuple(skipped))

    return deadline.run(read, imap)


class _Deadline:
    """Runs a read in a worker thread and closes its connection once the time is up.

    A socket timeout bounds each read, not the sync: a server trickling a byte every few
    seconds would hold it (and the daily run) forever.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: Callable[[], socket.socket] | None = None
        self._expired = False

    def run(self, read: Callable[[], Fetched], imap: ImapSettings) -> Fetched:
        outcome: list[Fetched | BaseException] = []

        def work() -> None:
            try:
                outcome.append(read())
            except BaseException as error:  # raised again in the waiting thread
                outcome.append(error)

        worker = threading.Thread(target=work, name="followup-imap", daemon=True)
        worker.start()
        worker.join(imap.timeout)
        if worker.is_alive():
            self._expire()
            raise MailboxError(
                f"The IMAP server {imap.host}:{imap.port} did not answer within "
                f"{imap.timeout:g} seconds ([imap] timeout), so the mail was not read."
            )
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    def watch(self, current: Callable[[], socket.socket]) -> None:
        """Remember how to find the connection's socket (the current one: STARTTLS replaces
        it) to shut down; shut it at once if the time is already up."""
        with self._lock:
            self._socket = current
            expired = self._expired
        if expired:
            _shut(current)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            current = self._socket
        if current is not None:
            _shut(current)


def _shut(current: Callable[[], socket.socket]) -> None:
    """Shut the socket down: a read blocked on it returns at once."""
    with suppress(OSError, AttributeError):
        current().shutdown(socket.SHUT_RDWR)


def _connect(imap: ImapSettings, deadline: _Deadline) -> IMAPClient:
    """An IMAPClient connected to the server, its connection watched by the deadline."""
    import imapclient

    client_class = _watched_client(deadline) or imapclient.IMAPClient
    client = client_class(imap.host, imap.port, ssl=imap.security == "ssl", timeout=imap.timeout)
    deadline.watch(client.socket)
    return client


def _watched_client(deadline: _Deadline) -> type[IMAPClient] | None:
    """An IMAPClient that hands its connection to the deadline as soon as the socket exists,
    before the greeting and CAPABILITY are read, which a slow server can stretch out too.

    It takes over imapclient's private `_create_IMAP4` (imaplib's open() is the documented
    place to hook). None when this imapclient has no such hook, or one of another shape: then
    the deadline can shut the connection only once the client exists. The sync still ends on
    time; a greeting that trickles in holds only the worker thread, until a read times out.
    """
    import imapclient

    try:
        from imapclient import imap4, tls

        plain, secure = imap4.IMAP4WithTimeout, tls.IMAP4_TLS
        hook = imapclient.IMAPClient._create_IMAP4
        shape = list(inspect.signature(hook).parameters)
    except (ImportError, AttributeError, TypeError, ValueError):
        return None
    if shape != ["self"]:
        return None

    def watched(base: type[imaplib.IMAP4]) -> type[imaplib.IMAP4]:
        class Watched(base):  # type: ignore[valid-type,misc]
            def open(self, host: str = "", port: int = 143, timeout: float | None = None) -> None:
                super().open(host, port, timeout)
                deadline.watch(lambda: self.sock)

        return Watched

    class Client(imapclient.IMAPClient):
        def _create_IMAP4(self) -> imaplib.IMAP4:  # imapclient's own, with watched classes
            connect = getattr(self._timeout, "connect", None)
            if self.ssl:
                return watched(secure)(self.host, self.port, self.ssl_context, connect)
            return watched(plain)(self.host, self.port, connect)

    return Client


def _where(imap: ImapSettings) -> str:
    return f"the IMAP server {imap.host}:{imap.port}"


@contextmanager
def _session(imap: ImapSettings, password: str, deadline: _Deadline) -> Iterator[IMAPClient]:
    """A logged-in connection; every failure becomes a one-line MailboxError."""
    from imapclient.exceptions import IMAPClientError, LoginError  # loaded only when used

    where = _where(imap)
    try:
        client = _connect(imap, deadline)
    except (OSError, IMAPClientError) as error:
        raise MailboxError(f"Could not reach {where} ({_reason(error)}).") from None
    try:
        client.normalise_times = False  # dates keep their own timezone
        with suppress(OSError):  # AUTHENTICATE waits on Nagle's algorithm without it
            client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if imap.security == "starttls":
            client.starttls()
        _log_in(client, imap.user, password)
        yield client
    except LoginError:
        raise MailboxError(
            f"{where} refused the login for {imap.user}: check [imap] user and the password "
            f"(for Gmail, Outlook and Fastmail an app password; see the README)."
        ) from None
    except (OSError, IMAPClientError) as error:
        raise MailboxError(f"Reading {where} failed ({_reason(error)}).") from None
    finally:
        with suppress(Exception):
            client.logout()
        with suppress(Exception):
            client.shutdown()


def _log_in(client: IMAPClient, user: str, password: str) -> None:
    """AUTHENTICATE PLAIN when offered: it carries a password outside ASCII as UTF-8, which
    LOGIN (imaplib) cannot."""
    if b"AUTH=PLAIN" in client.capabilities():
        client.plain_login(user, password)
        return
    try:
        client.login(user, password)
    except UnicodeEncodeError:
        from imapclient.exceptions import LoginError

        raise LoginError("non-ASCII password without AUTH=PLAIN") from None


def _reason(error: BaseException) -> str:
    """Why, in a few words: the exception's own text, or its kind (a timeout has no text)."""
    if isinstance(error, TimeoutError | socket.timeout):
        return "no answer in time"
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]


def _folders(client: IMAPClient, imap: ImapSettings) -> tuple[dict[str, Kind], list[str]]:
    """The folders to read, by kind, and the ones that could not be found."""
    listed = {name: flags for flags, _, name in client.list_folders()}
    by_fold = {
        name.casefold(): name for name, flags in listed.items() if b"\\Noselect" not in flags
    }
    problems = []
    found: dict[str, Kind] = {}
    if imap.sent:
        sent = by_fold.get(imap.sent.casefold())
        if sent is None:
            problems.append(f"The mailbox has no folder {imap.sent!r} ([imap] sent).")
    else:
        marked = [name for name, flags in listed.items() if b"\\Sent" in flags]
        sent = (
            marked[0]
            if marked
            else next((by_fold[n.casefold()] for n in SENT_NAMES if n.casefold() in by_fold), None)
        )
        if sent is None:
            problems.append(
                "The mailbox has no folder marked Sent nor one with a usual name: set [imap] "
                "sent to your Sent folder's name."
            )
    if sent is not None:
        found[sent] = "sent"
    for wanted in imap.inbox:
        name = by_fold.get(wanted.casefold())
        if name is None:
            problems.append(f"The mailbox has no folder {wanted!r} ([imap] inbox).")
        else:
            found.setdefault(name, "inbox")
    return found, problems


def _read(
    client: IMAPClient, name: str, kind: Kind, mark: Mark | None, since: date
) -> tuple[list[Header | str], Mark]:
    """The new messages of one folder, opened read-only (EXAMINE), and the folder's new mark;
    a message that cannot be read is a line saying it was skipped."""
    info = client.select_folder(name, readonly=True)
    uidvalidity = int(info[b"UIDVALIDITY"])
    top = int(info.get(b"UIDNEXT", 1)) - 1
    if mark is not None and mark.uidvalidity == uidvalidity:
        uids = [
            uid for uid in client.search(["UID", f"{mark.last_uid + 1}:*"]) if uid > mark.last_uid
        ]
        uids += [uid for uid in mark.deferred if uid <= mark.last_uid]  # their day may have come
        last = mark.last_uid
    else:  # the first sync, or the server renumbered the folder
        uids = client.search(["SINCE", since])
        last = 0
    headers: list[Header | str] = []
    uids = sorted(uids)
    for start in range(0, len(uids), _CHUNK):
        chunk = uids[start : start + _CHUNK]
        for uid, data in client.fetch(chunk, ["ENVELOPE", "INTERNALDATE"]).items():
            headers.append(header_of(name, kind, uid, data))
    return headers, Mark(uidvalidity, max([last, top, *uids]))


def header_of(folder: str, kind: Kind, uid: int, data: dict[bytes, Any]) -> Header | str:
    """One FETCH response as a Header, or the line saying why the message was skipped."""
    envelope = data.get(b"ENVELOPE")
    when = moment(envelope.date if envelope else None) or moment(data.get(b"INTERNALDATE"))
    if envelope is None or when is None:
        return (
            f"A message in {folder} (UID {uid}) was skipped: it has no date followup can "
            "read (neither its Date header nor its arrival time)."
        )
    senders = _addresses(envelope.from_)
    recipients = _addresses(envelope.to) + _addresses(envelope.cc) + _addresses(envelope.bcc)
    return Header(
        folder,
        kind,
        uid,
        when,
        senders[0] if senders else "",
        recipients,
        _decoded(envelope.subject),
        _decoded(envelope.message_id),
    )


def moment(value: object) -> datetime | None:
    """A header's date as a safe moment: aware (no timezone read as UTC) and on a day from
    FIRST_DAY to LAST_DAY, else None. Anyone can send a Date like `31 Dec 9999 -1200`, which
    no timezone conversion survives."""
    if not isinstance(value, datetime):
        return None
    when = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        day = when.astimezone(UTC).date()
    except (OverflowError, ValueError):  # past year 9999, or an offset of a day or more
        return None
    return when if FIRST_DAY <= day <= LAST_DAY else None


def _addresses(field_value: Sequence[Any] | None) -> tuple[str, ...]:
    """The addresses of an envelope field (names dropped; group markers skipped)."""
    found = []
    for address in field_value or ():
        mailbox, host = address.mailbox, address.host
        if mailbox and host:
            found.append(f"{_decoded(mailbox)}@{_decoded(host)}")
    return tuple(found)


def _decoded(value: bytes | str | None) -> str:
    """A header value as text: RFC 2047 words (=?utf-8?q?...?=) decoded, never an exception."""
    if value is None:
        return ""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError, UnicodeError):
        return text
