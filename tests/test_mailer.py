"""Sending through yagmail to real SMTP servers on 127.0.0.1, and finding the password."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from pathlib import Path

import keyring
import keyring.backend
import pytest
from hypothesis import given
from hypothesis import settings as settings_for_hypothesis
from hypothesis import strategies as st
from keyring.backends import fail

from followup.core.digest import Digest, build_digest, to_message
from followup.core.model import Birthday, Contact, FollowUp, Problem, Status
from followup.delivery import mailer
from followup.delivery.outbox import Outbox
from followup.errors import ConfigError, DeliveryError
from followup.settings import SmtpSettings
from tests.keyrings import MemoryKeyring
from tests.smtp_server import (
    HOST,
    Server,
    free_port,
    hangup_server,
    silent_server,
    smtp_server,
)

USER = "me@example.com"
PASSWORD = "s3cret-app-pass"
TODAY = date(2026, 3, 11)
ROOT = Path(__file__).resolve().parent.parent

# The test servers take a login over plain TCP on 127.0.0.1 on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def settings(
    port: int, user: str = USER, security: str = "none", timeout: float = 2
) -> SmtpSettings:
    return SmtpSettings(HOST, port, security, user, USER, timeout)  # type: ignore[arg-type]


def a_digest(name: str = "Ann <Lee> & Co", notes: str = "") -> Digest:
    contact = Contact(row=2, name=name, email="ann@example.com", notes=notes)
    follow = FollowUp(TODAY, Status.DUE_TODAY, 0, "Send a short thank-you by email.")
    return build_digest([(contact, follow)], [], TODAY, your_name="Me")


def a_message(digest: Digest | None = None):
    return to_message(digest or a_digest(), USER, USER, datetime(2026, 3, 11, 7, 30, tzinfo=UTC))


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n")


def failure(smtp: SmtpSettings, password: str | None = PASSWORD) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        mailer.send(a_message(), smtp, password)
    assert caught.value.exit_code == 4
    assert "\n" not in str(caught.value)
    return caught.value


# --- delivery ------------------------------------------------------------------------------


def test_the_message_arrives_exactly_as_built() -> None:
    digest = a_digest()
    with smtp_server(USER, PASSWORD) as server:
        mailer.send(a_message(digest), settings(server.port), PASSWORD)

    [received] = server.messages
    assert received["X-MailFrom"] == USER
    assert received["X-RcptTo"] == USER  # the user only, never a contact
    assert received["Subject"] == digest.subject
    assert received.get_content_type() == "multipart/alternative"
    plain, rich = received.iter_parts()
    assert crlf(plain.get_content()) == digest.text
    assert crlf(rich.get_content()) == digest.html
    assert "&lt;Lee&gt; &amp; Co" in rich.get_content()


def subjects_read_back(raw: bytes) -> tuple[str, str]:
    """The Subject as a strict reader (policy.default) and an old one (compat32, unfolded by
    removing the line breaks only, its encoded words decoded) read it."""
    strict = message_from_bytes(raw, policy=policy.default)["Subject"]
    folded = message_from_bytes(raw, policy=policy.compat32)["Subject"]
    return strict, str(make_header(decode_header(re.sub(r"\r?\n(?=[ \t])", "", folded))))


def test_a_subject_that_fits_a_line_of_its_own_starts_on_the_subject_line(
    tmp_path: Path,
) -> None:
    """Sat 5 Dec's digest went out as "Subject:\\n Follow-ups for ...": a value too long for
    the first line but short enough for a line of its own was moved whole to the next line,
    and strict readers saw a subject starting with a space."""
    saturday = date(2026, 12, 5)
    overdue = [
        (Contact(row=row, name=f"P{row}"), FollowUp(TODAY, Status.OVERDUE, 3, "Say hello."))
        for row in range(2, 21)
    ]
    born = Contact(row=30, name="Bea", birthday=Birthday(12, 5))
    digest = build_digest(
        [*overdue, (born, FollowUp(None, Status.SCHEDULED, 0, ""))],
        [Problem("Contacts", "G7", "31/02/2026", "Not a date.")],
        saturday,
    )
    assert digest.subject == (
        "Follow-ups for Sat 5 Dec: 19 overdue, 1 workbook problem, 1 birthday today"
    )
    outbox = Outbox(tmp_path)
    with smtp_server() as server:
        mailer.send(a_message(digest), settings(server.port, user=""), None)
        queued = outbox.add(a_message(digest), saturday)  # the pending path: written, read back
        mailer.send(Outbox.load(queued), settings(server.port, user=""), None)
    for raw in (*server.raw, queued.read_bytes()):
        assert re.search(rb"^Subject: Follow-ups for Sat 5 Dec:", raw, re.MULTILINE)
        assert subjects_read_back(raw) == (digest.subject, digest.subject)


class Relay:
    """A server shared by a property's examples; no repr of all it received."""

    def __init__(self, server: Server) -> None:
        self.port, self.raw = server.port, server.raw

    def __repr__(self) -> str:
        return f"Relay({self.port})"


@pytest.fixture(scope="module")
def relay() -> Iterator[Relay]:
    with smtp_server() as server:
        yield Relay(server)


NAME = st.text(
    st.characters(codec="utf-8", categories=("L", "M", "Nd", "Pd", "Po")), min_size=1, max_size=24
)


@settings_for_hypothesis(deadline=None, max_examples=60)
@given(names=st.lists(NAME, min_size=1, max_size=6), day=st.integers(1, 31))
def test_every_subject_reads_back_as_it_was_sent(relay: Relay, names: list[str], day: int) -> None:
    subject = f"Follow-ups for Sat {day} Dec: {', '.join(names)}"
    digest = dataclasses.replace(a_digest(), subject=subject)
    mailer.send(a_message(digest), settings(relay.port, user=""), None)
    raw = relay.raw[-1]
    assert subjects_read_back(raw) == (subject, subject)
    assert raw.startswith(b"Subject: ") or b"\nSubject: " in raw
    assert b"\nSubject:\r\n" not in raw and not raw.startswith(b"Subject:\r\n")


def test_a_text_that_names_an_existing_file_is_not_attached(tmp_path: Path) -> None:
    """yagmail.send would attach any content string that is the path of a file."""
    secret = tmp_path / "notes.txt"
    secret.write_text("PRIVATE FILE CONTENT")
    digest = a_digest(name=str(secret), notes=str(secret))
    bare = Digest(TODAY, "Path", text=str(secret), html=str(secret), listed_rows=())

    with smtp_server() as server:
        for each in (digest, bare):
            mailer.send(a_message(each), settings(server.port, user=""), None)

    for received, sent in zip(server.messages, (digest, bare), strict=True):
        assert [p.get_content_type() for p in received.iter_parts()] == [
            "text/plain",
            "text/html",
        ]
        assert list(received.iter_attachments()) == []
        assert "PRIVATE FILE CONTENT" not in received.as_string()
        assert crlf(received.get_body(preferencelist=("plain",)).get_content()).strip() == (
            sent.text.strip()
        )


def test_a_login_name_without_at_is_used_as_it_is() -> None:
    """yagmail would log in as "digest-bot@gmail.com"."""
    with smtp_server("digest-bot", PASSWORD) as server:
        mailer.send(a_message(), settings(server.port, user="digest-bot"), PASSWORD)
    assert len(server.messages) == 1


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_a_password_outside_ascii_logs_in_as_utf8(mechanism: str) -> None:
    """smtplib alone raised UnicodeEncodeError, and every run crashed before the statuses."""
    with smtp_server("jürgen@example.com", "pässwörd", mechanisms=(mechanism,)) as server:
        mailer.send(a_message(), settings(server.port, user="jürgen@example.com"), "pässwörd")
        with pytest.raises(DeliveryError, match="Could not log in"):
            mailer.send(a_message(), settings(server.port, user="jürgen@example.com"), "passwörd")
    assert len(server.messages) == 1


def test_a_server_without_a_login_that_carries_utf8_refuses_clearly() -> None:
    with smtp_server(USER, "pässwörd", mechanisms=()) as server:
        err = failure(settings(server.port), "pässwörd")
    assert err.exit_code == 4
    assert f"{HOST} offers no login (AUTH PLAIN or LOGIN) that can carry" in str(err)
    assert "pässwörd" not in str(err)


def test_a_relay_without_login_needs_no_password() -> None:
    with smtp_server() as server:
        mailer.send(a_message(), settings(server.port, user=""), None)
    assert len(server.messages) == 1


# --- failures ------------------------------------------------------------------------------


def test_a_wrong_password_fails_clearly_and_never_shows_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "wrong-Pa55word!"
    caplog.set_level(logging.DEBUG)
    with smtp_server(USER, PASSWORD) as server:
        err = failure(settings(server.port), wrong)
    assert str(err).startswith(f"Could not log in to {HOST} as {USER}: check the password")
    assert "FOLLOWUP_SMTP_PASSWORD" in str(err)
    shown = "".join(traceback.format_exception(err)) + repr(err) + caplog.text
    assert wrong not in shown and PASSWORD not in shown
    assert server.messages == []


@pytest.mark.parametrize("security", ["none", "starttls", "ssl"])
def test_a_server_that_never_answers_fails_within_the_timeout(security: str) -> None:
    """smtplib without timeout= (yagmail's default) would wait forever."""
    with silent_server() as server:
        started = time.monotonic()
        err = failure(settings(server.port, security=security, timeout=2))
    assert time.monotonic() - started < 6
    assert "did not answer within 2 seconds" in str(err)


def test_a_server_that_is_down_fails() -> None:
    err = failure(settings(free_port()))
    assert "refused the connection: check [smtp] host and port" in str(err)


def test_a_connection_dropped_while_sending_raises_at_once() -> None:
    """yagmail.send would retry, sleep 9 seconds and return False instead of raising."""
    with hangup_server() as server:
        started = time.monotonic()
        err = failure(settings(server.port, user=""), None)
    assert time.monotonic() - started < 6  # yagmail's retry alone waits 9 s
    assert "closed the connection unexpectedly" in str(err)


def test_a_refused_recipient_fails() -> None:
    with smtp_server(refuse=frozenset({USER})) as server:
        err = failure(settings(server.port, user=""), None)
    assert f"refused the recipient {USER}: check [digest] to" in str(err)
    assert server.messages == []


def test_starttls_to_a_server_without_it_fails() -> None:
    with smtp_server() as server:
        err = failure(settings(server.port, user="", security="starttls"), None)
    assert "does not support" in str(err) and "check [smtp] port and security" in str(err)


def test_ssl_to_a_plain_server_fails() -> None:
    with smtp_server() as server:
        err = failure(settings(server.port, user="", security="ssl"), None)
    assert str(err).startswith(f"Secure connection to {HOST}:{server.port} failed")


# --- TLS, with a certificate made for the test -----------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", f"subjectAltName=IP:{HOST},DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_delivers_to_a_trusted_server(
    security: str, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test certificate
    tls = server_context(certificate)
    with smtp_server(USER, PASSWORD, tls_context=tls, implicit_tls=security == "ssl") as server:
        mailer.send(a_message(), settings(server.port, security=security), PASSWORD)
    assert len(server.messages) == 1


def test_tls_refuses_a_certificate_it_cannot_verify(certificate: tuple[Path, Path]) -> None:
    with smtp_server(USER, PASSWORD, tls_context=server_context(certificate)) as server:
        err = failure(settings(server.port, security="starttls"))
    assert str(err).startswith(f"The certificate of {HOST} could not be verified")
    assert server.messages == []


# --- the password --------------------------------------------------------------------------


@pytest.fixture
def no_keyring(memory_keyring: MemoryKeyring) -> None:
    """No keyring backend at all, as under cron or on a headless server."""
    keyring.set_keyring(fail.Keyring())


@pytest.mark.usefixtures("no_keyring")
def test_the_environment_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(mailer.PASSWORD_ENV, PASSWORD)
    assert mailer.resolve_password(settings(25)) == PASSWORD


def test_a_stored_password_is_found_in_the_keyring(memory_keyring: MemoryKeyring) -> None:
    smtp = settings(25)
    mailer.store_password(smtp, PASSWORD)
    assert memory_keyring.entries == {("followup", f"{USER}@{HOST}"): PASSWORD}
    assert mailer.resolve_password(smtp) == PASSWORD


@pytest.mark.usefixtures("no_keyring")
def test_no_login_needs_no_password() -> None:
    assert mailer.resolve_password(settings(25, user="")) is None


@pytest.mark.parametrize("keyring_state", ["memory_keyring", "no_keyring"])
def test_no_password_anywhere_says_how_to_set_one(
    keyring_state: str, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue(keyring_state)
    with pytest.raises(ConfigError) as caught:
        mailer.resolve_password(settings(25))
    assert f"No SMTP password for {USER} at {HOST}" in str(caught.value)
    assert "FOLLOWUP_SMTP_PASSWORD" in str(caught.value)
    assert "followup password" in str(caught.value)


@pytest.mark.usefixtures("no_keyring")
def test_storing_without_a_keyring_says_to_use_the_variable() -> None:
    with pytest.raises(ConfigError, match="FOLLOWUP_SMTP_PASSWORD"):
        mailer.store_password(settings(25), PASSWORD)


def test_nothing_ever_prompts_for_a_password() -> None:
    """No keyring, no variable, no terminal: a cron run fails fast instead of waiting."""
    script = (
        "from followup.delivery import mailer\n"
        "from followup.errors import ConfigError\n"
        "from tests.test_mailer import a_message, settings\n"
        "import sys\n"
        "smtp = settings(int(sys.argv[1]))\n"
        "for attempt in (lambda: mailer.resolve_password(smtp),\n"
        "                lambda: mailer.send(a_message(), smtp, None)):\n"
        "    try:\n"
        "        attempt()\n"
        "    except ConfigError as err:\n"
        "        print(type(err).__name__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != mailer.PASSWORD_ENV}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    with smtp_server(USER, PASSWORD) as server:
        done = subprocess.run(
            [sys.executable, "-c", script, str(server.port)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env=env,
            start_new_session=True,  # no controlling terminal for getpass to open
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ConfigError", "ConfigError"]
    assert "Password for" not in done.stdout + done.stderr
    assert server.messages == []


def test_a_server_without_smtputf8_names_the_address_outside_ascii() -> None:
    """It once blamed [smtp] port and security, which no change there could fix."""
    message = to_message(a_digest(), USER, "jörg@example.com", datetime(2026, 3, 11, tzinfo=UTC))
    with (
        smtp_server(USER, PASSWORD, smtputf8=False) as server,
        pytest.raises(DeliveryError) as caught,
    ):
        mailer.send(message, settings(server.port), PASSWORD)
    said = str(caught.value)
    assert said.startswith(f"{HOST} cannot take email addresses with letters outside ASCII")
    assert "[digest] to jörg@example.com has some" in said
    assert "port" not in said and server.messages == []
