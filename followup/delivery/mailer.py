"""Sending the digest by SMTP through yagmail, and finding the SMTP password.

The password comes from the environment variable FOLLOWUP_SMTP_PASSWORD, else from the system
keyring under service "followup" and username "<smtp user>@<smtp host>" (for example
"me@gmail.com@smtp.gmail.com"), which `followup password` stores. It is never read from a file,
never prompted for, and never appears in a message, a log line or an exception.

yagmail opens and secures the connection, and `_log_in` logs in (smtplib alone cannot send a
password outside ASCII, which SMTP AUTH carries as UTF-8); the digest itself goes out through
that connection's smtplib `send_message`, because `yagmail.SMTP.send` cannot carry our message
intact. It builds its own MIME tree, in which the text/plain part is the HTML source, and it
attaches any content string that happens to name an existing file, which a cell of the
workbook could. Its send also retries on a dropped connection, sleeps, and then returns False
instead of raising. Sending the prepared EmailMessage avoids all three. The other traps:
without `timeout=` smtplib waits forever on a server that never answers, so it is always
passed; yagmail's own login looks in its keyring entry and then prompts on the terminal when
it has no password, so it is never used (and a login without a password is refused before
yagmail is called); and yagmail appends "@gmail.com" to a login name without "@", so the name
is passed as a {name: alias} dict, which it takes as it is.
"""

from __future__ import annotations

import base64
import os
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

import keyring
import yagmail
from keyring.errors import KeyringError

from followup.errors import ConfigError, DeliveryError
from followup.settings import SmtpSettings

PASSWORD_ENV = "FOLLOWUP_SMTP_PASSWORD"  # noqa: S105 (the variable's name, not a password)
KEYRING_SERVICE = "followup"


def keyring_username(smtp: SmtpSettings) -> str:
    """The keyring entry's username: the login and the server, so two accounts never clash."""
    return f"{smtp.user}@{smtp.host}"


def resolve_password(smtp: SmtpSettings) -> str | None:
    """The SMTP password, or None when [smtp] user is empty (no login). Never prompts.

    Raises ConfigError when a login is configured but no password can be found, including
    when there is no keyring backend (cron, a headless server).
    """
    if not smtp.user:
        return None
    password = env_password(PASSWORD_ENV, "followup password")
    if password:
        return password
    try:
        password = keyring.get_password(KEYRING_SERVICE, keyring_username(smtp))
    except KeyringError as err:
        raise _no_password(smtp, f" (no system keyring here: {type(err).__name__})") from None
    if not password:
        raise _no_password(smtp)
    return password


def env_password(variable: str, store: str) -> str | None:
    """The password in an environment variable (None when unset or empty), for SMTP and IMAP.
    ConfigError when it was set in another encoding than UTF-8 (a Latin-1 crontab or
    EnvironmentFile): Python then holds its bytes escaped, which no server could check;
    `store` is the command that keeps it in the keyring instead."""
    password = os.environ.get(variable)
    if not password:
        return None
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(
            f"{variable} is not valid UTF-8 text (it was set in another encoding, such as "
            "Latin-1 in a crontab or systemd EnvironmentFile): set it again as UTF-8, or unset "
            f"it and store the password with `{store}`."
        ) from None
    return password


def store_password(smtp: SmtpSettings, password: str) -> None:
    """Save the password in the system keyring for resolve_password (`followup password`)."""
    if not smtp.user:
        raise ConfigError("[smtp] user is empty, so no password is needed.")
    keep_in_keyring(keyring_username(smtp), password, PASSWORD_ENV)


def keep_in_keyring(username: str, password: str, variable: str) -> None:
    """Save a password in the system keyring under `username`, for SMTP and IMAP; ConfigError
    naming the environment `variable` to set instead when there is no keyring here."""
    try:
        keyring.set_password(KEYRING_SERVICE, username, password)
    except KeyringError as err:
        raise ConfigError(
            f"Could not store the password: the system keyring is not available "
            f"({type(err).__name__}). Set the environment variable {variable} instead."
        ) from None


def _no_password(smtp: SmtpSettings, why: str = "") -> ConfigError:
    return ConfigError(
        f"No SMTP password for {smtp.user} at {smtp.host}{why}: set the environment variable "
        f"{PASSWORD_ENV}, or run `followup password` to store it in the system keyring."
    )


def send(message: EmailMessage, smtp: SmtpSettings, password: str | None) -> None:
    """Deliver `message` exactly as built to its To address, or raise DeliveryError."""
    with _connection(smtp, password) as connection:
        try:
            refused = connection.send_message(message)
        except smtplib.SMTPNotSupportedError as err:
            if "SMTPUTF8" not in str(err):
                raise
            raise DeliveryError(_not_ascii(message, smtp)) from None
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
        # The server has the message: a failed goodbye must not make it look undelivered.
        with suppress(smtplib.SMTPException, OSError):
            connection.quit()


def _not_ascii(message: EmailMessage, smtp: SmtpSettings) -> str:
    """Why a server without SMTPUTF8 cannot take the message: which address, set where."""
    addresses = {
        "[smtp] from": smtp.sender,
        "[digest] to": ", ".join(address for _, address in getaddresses([str(message["To"])])),
    }
    named = " and ".join(
        f"{key} {value}" for key, value in addresses.items() if not value.isascii()
    )
    return (
        f"{smtp.host} cannot take email addresses with letters outside ASCII (it does not offer "
        f"SMTPUTF8), and {named or 'an address'} has some: use an address of ASCII letters "
        "there, or a server that takes such addresses."
    )


def check_login(smtp: SmtpSettings, password: str | None) -> None:
    """Connect and log in without sending (for `followup doctor`); raise DeliveryError."""
    with _connection(smtp, password) as connection:
        connection.noop()


@contextmanager
def _connection(smtp: SmtpSettings, password: str | None) -> Iterator[smtplib.SMTP]:
    """An open, secured, logged-in connection; every failure becomes a one-line DeliveryError."""
    if smtp.user and password is None:
        raise _no_password(smtp)
    client = yagmail.SMTP(
        user={smtp.user: smtp.user},
        host=smtp.host,
        port=smtp.port,
        smtp_skip_login=True,  # yagmail connects and secures; _log_in logs in
        soft_email_validation=False,
        **_security(smtp),
        timeout=smtp.timeout,
    )
    try:
        client.login()
        if smtp.user and password is not None:
            _log_in(client.smtp, smtp, password)
        yield client.smtp
    except (smtplib.SMTPException, OSError) as err:
        reason = _reason(err, smtp)
        raise DeliveryError(reason.replace(password, "***") if password else reason) from None
    finally:
        # Close without QUIT: yagmail would otherwise QUIT on garbage collection, which can
        # block on a server that stopped answering.
        if client.smtp is not None:
            client.smtp.close()


def _log_in(connection: smtplib.SMTP, smtp: SmtpSettings, password: str) -> None:
    """Log in. smtplib sends the login as ASCII and fails on "pässwörd", while SMTP AUTH PLAIN
    and LOGIN carry UTF-8 (RFC 4616), so a login outside ASCII goes out that way."""
    if smtp.user.isascii() and password.isascii():
        connection.login(smtp.user, password)
        return
    connection.ehlo_or_helo_if_needed()
    if not connection.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    offered = connection.esmtp_features["auth"].upper().split()
    if "PLAIN" in offered:
        code, reply = connection.docmd(
            "AUTH", "PLAIN " + _utf8_base64(f"\0{smtp.user}\0{password}")
        )
    elif "LOGIN" in offered:
        code, reply = connection.docmd("AUTH", "LOGIN " + _utf8_base64(smtp.user))
        if code == 334:
            code, reply = connection.docmd(_utf8_base64(password))
    else:
        raise DeliveryError(
            f"{smtp.host} offers no login (AUTH PLAIN or LOGIN) that can carry a user name or "
            "password with letters outside ASCII: use a password (or app password) of ASCII "
            "letters, digits and symbols."
        )
    if code not in (235, 503):  # 503: already logged in, as smtplib counts it
        raise smtplib.SMTPAuthenticationError(code, reply)


def _utf8_base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _security(smtp: SmtpSettings) -> dict[str, Any]:
    """yagmail's TLS arguments, with certificates verified (smtplib does not by default)."""
    context = ssl.create_default_context()
    if smtp.security == "ssl":
        return {"smtp_ssl": True, "smtp_starttls": False, "context": context}
    if smtp.security == "starttls":
        return {"smtp_ssl": False, "smtp_starttls": {"context": context}}
    return {"smtp_ssl": False, "smtp_starttls": False}


def _reason(err: Exception, smtp: SmtpSettings) -> str:
    """One line: what went wrong and what to check."""
    server = f"{smtp.host}:{smtp.port}"
    settings = "check [smtp] port and security (starttls for 587, ssl for 465)"
    # smtplib reports a timeout or reset while awaiting a reply as "disconnected".
    if isinstance(err, smtplib.SMTPServerDisconnected) and isinstance(err.__context__, OSError):
        err = err.__context__
    match err:
        case smtplib.SMTPAuthenticationError():
            return (
                f"Could not log in to {smtp.host} as {smtp.user}: check the password "
                f"({PASSWORD_ENV} or `followup password`); Gmail and Outlook need an app password."
            )
        case smtplib.SMTPNotSupportedError():
            return f"{server} does not support this ({_one_line(err)}): {settings}."
        case smtplib.SMTPRecipientsRefused():
            return (
                f"{smtp.host} refused the recipient {', '.join(err.recipients)}: check [digest] to."
            )
        case smtplib.SMTPSenderRefused():
            return (
                f"{smtp.host} refused the sender {err.sender}: check [smtp] from "
                "(many servers only accept your own address)."
            )
        case smtplib.SMTPServerDisconnected():
            return f"{server} closed the connection unexpectedly: {settings}."
        case smtplib.SMTPResponseException():
            return f"{smtp.host} answered {err.smtp_code} {_one_line(err.smtp_error)}."
        case ssl.SSLCertVerificationError():
            return (
                f"The certificate of {smtp.host} could not be verified "
                f"({err.verify_message}): check [smtp] host is the server's real name."
            )
        case ssl.SSLError():
            return f"Secure connection to {server} failed ({err.reason or err}): {settings}."
        case TimeoutError():
            return (
                f"{server} did not answer within {smtp.timeout:g} seconds: "
                f"check [smtp] host and port, and your network."
            )
        case socket.gaierror():
            return f"Could not find the server {smtp.host}: check [smtp] host and your network."
        case ConnectionRefusedError():
            return f"{server} refused the connection: check [smtp] host and port."
        case OSError():
            return f"Could not reach {server} ({err.strerror or err}): check [smtp] host and port."
    return f"Sending through {server} failed ({_one_line(err)})."


def _one_line(value: object) -> str:
    """Server replies can span lines (and arrive as bytes); the reason must be one line."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())
