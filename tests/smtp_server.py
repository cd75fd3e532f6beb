"""Real SMTP servers on 127.0.0.1 for tests: a working one (aiosmtpd), a silent one, a rude one.

    with smtp_server(user="me", password="secret") as server:
        ...send to server.host, server.port...
        [message] = server.messages        # parsed EmailMessage objects, as received

`silent_server()` accepts TCP connections and never says a word (timeouts); `hangup_server()`
greets, answers EHLO and hangs up on the next command (a connection dropped mid-send).
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass
class Server:
    """Where a test server listens and what it received (envelope in X-MailFrom/X-RcptTo),
    parsed and as the bytes that came over the wire (`raw`)."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)


class _Recorder:
    """aiosmtpd handler that keeps every message, like aiosmtpd's own Message handler."""

    def __init__(self, server: Server, refuse: frozenset[str]) -> None:
        self.server = server
        self.refuse = refuse

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = cast(
            EmailMessage, BytesParser(policy=policy.default).parsebytes(envelope.content)
        )
        message["X-MailFrom"] = envelope.mail_from
        message["X-RcptTo"] = ", ".join(envelope.rcpt_tos)
        self.server.messages.append(message)
        self.server.raw.append(envelope.content)
        return "250 Message accepted"


def _checker(user: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return check


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(
    user: str | None = None,
    password: str | None = None,
    *,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    refuse: frozenset[str] = frozenset(),
    mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
    smtputf8: bool = True,
) -> Iterator[Server]:
    """An aiosmtpd server; with `user`, it offers AUTH `mechanisms` and requires that login
    (compared as UTF-8, as RFC 4616 sends it).

    `tls_context` offers STARTTLS with it, or, with `implicit_tls`, speaks TLS from the start
    (port 465 style). Recipients in `refuse` get "550 No such user". Without `smtputf8`, it
    does not take addresses outside ASCII.
    """
    server = Server(HOST, free_port())
    options: dict[str, Any] = {"auth_require_tls": False, "enable_SMTPUTF8": smtputf8}
    if user is not None:
        options |= {"authenticator": _checker(user, password or ""), "auth_required": True}
        options["auth_exclude_mechanism"] = [m for m in ("LOGIN", "PLAIN") if m not in mechanisms]
    if tls_context and implicit_tls:
        options["ssl_context"] = tls_context
    elif tls_context:
        options["tls_context"] = tls_context
    controller = Controller(_Recorder(server, refuse), hostname=HOST, port=server.port, **options)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[Server]:
    """Completes the TCP handshake (the kernel does, from the backlog) and never answers."""
    with closing(socket.socket()) as listener:
        listener.bind((HOST, 0))
        listener.listen(8)
        yield Server(HOST, listener.getsockname()[1])


@contextmanager
def hangup_server() -> Iterator[Server]:
    """Greets and answers EHLO like a server, then drops the connection at the next command."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(8)
    listener.settimeout(0.1)  # so the thread notices `stop` without a connection
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(5)
            # A client that gives up first is no concern of this server.
            with suppress(OSError), connection, connection.makefile("rwb") as stream:
                stream.write(b"220 hangup ready\r\n")
                stream.flush()
                for line in stream:
                    if not line.upper().startswith((b"EHLO", b"HELO")):
                        break
                    stream.write(b"250 hangup\r\n")
                    stream.flush()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield Server(HOST, listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
