"""The digest by SMTP end to end: the real program against a real aiosmtpd server with a login.

What is checked is what a user relies on: the digest reaches them and nobody else, at most once
a day, survives a server that is down, refuses the login or never answers (kept in the outbox,
sent first and once when the server is back), and the password never lands in a file or in
the program's output. `followup password` is tested here too, as the way the password is set.
"""

from __future__ import annotations

import base64
import email.utils
import re
import subprocess
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cli_helpers import followup, sheet_values, write_config
from click.testing import CliRunner
from keyrings import MemoryKeyring
from smtp_server import free_port, silent_server, smtp_server
from workbooks import make_workbook

from followup.cli import cli
from followup.config import load_config
from followup.core.digest import build_digest
from followup.delivery import mailer
from followup.delivery import outbox as outbox_module
from followup.delivery.deliver import deliver
from followup.delivery.state import STATE_FILE, State

# The test servers take a login over plain TCP on 127.0.0.1 on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER = "me@example.com"
TO = "inbox@example.org"
PASSWORD = "Pw-7f3c9e-never-shown"
WRONG = "Wrong-51d0aa-password"
# Hermetic runs: never the developer's real keyring, and the password only where a test puts it.
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
WITH_PASSWORD = {**NO_KEYRING, mailer.PASSWORD_ENV: PASSWORD}

HEADER = ["Name", "Company", "Email", "How we met", "Met on", "Last contact"]
ROWS = [
    ["Ann <b>Lee</b> & Co", "Fabrikam", "ann@example.com", "Networking event", date(2026, 3, 2)],
    ["Bo Diaz", "Contoso", "bo@example.com", "Job application", date(2026, 3, 4)],
    ["Cy Park", "Adatum", "cy@example.com", "Referral", date(2026, 3, 10)],
    ["Di Chen", "Litware", "di@example.com", "Keep in touch", None, date(2026, 3, 1)],
]
ANN_ROW = 2  # worksheet row of Ann, overdue every day of these tests
BACKUPS = ".followup-backups"


def smtp_folder(folder: Path, port: int, *, timeout: int = 5) -> Path:
    """`folder` with a contacts workbook and a config that sends through 127.0.0.1:`port`."""
    if not (folder / "contacts.xlsx").exists():
        make_workbook(folder / "contacts.xlsx", [HEADER, *ROWS])
    write_config(
        folder,
        f'[digest]\nto = "{TO}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'user = "{USER}"\nfrom = "{USER}"\ntimeout = {timeout}\n',
    )
    return folder


def owned_cells(folder: Path, row: int) -> dict[str, object]:
    """The program's four columns of one worksheet row, by header."""
    values = sheet_values(folder / "contacts.xlsx", "Contacts")
    return dict(zip(values[0][len(HEADER) :], values[row - 1][len(HEADER) :], strict=True))


def pending(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "outbox" / "pending").glob("*.eml"))


def sent(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "outbox" / "sent").glob("*.eml"))


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """A failed run's stderr, which must be one line without a traceback."""
    assert done.returncode == 4, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("followup: ")
    return line


# --- delivery ------------------------------------------------------------------------------


def test_the_digest_reaches_the_user_and_nobody_else(tmp_path: Path) -> None:
    with smtp_server(USER, PASSWORD) as server:
        done = followup(
            smtp_folder(tmp_path, server.port), "run", "--today", "2026-03-11", env=WITH_PASSWORD
        )
    assert done.returncode == 0, done.stderr
    assert f"to {TO}" in done.stdout

    [message] = server.messages
    assert message["X-RcptTo"] == TO  # the envelope: the only address the server delivers to
    assert message["X-MailFrom"] == USER
    assert message["To"] == TO and message["Cc"] is None and message["Bcc"] is None
    assert message["Subject"] == "Follow-ups for Wed 11 Mar: 1 overdue, 1 due today"

    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert not re.search(r"</?(html|body|div|table|tr|td|p|a|br|span|h\d)\b", text, re.I)
    assert "Ann <b>Lee</b> & Co" in text  # the name as typed: plain text is not HTML
    assert "Ann &lt;b&gt;Lee&lt;/b&gt; &amp; Co" in html
    assert "<b>Lee</b>" not in html
    assert "mailto:ann@example.com" in html  # a link for the user to click, not a recipient

    assert pending(tmp_path) == []
    assert sent(tmp_path) == ["2026-03-11 Follow-ups.eml"]
    assert owned_cells(tmp_path, ANN_ROW)["Last reminded"] == date(2026, 3, 11)


def test_a_password_outside_ascii_delivers_and_the_statuses_are_written(tmp_path: Path) -> None:
    """It crashed every run with UnicodeEncodeError before the workbook was written."""
    with smtp_server(USER, "pässwörd") as server:
        done = followup(
            smtp_folder(tmp_path, server.port),
            "run",
            "--today",
            "2026-03-11",
            env={**NO_KEYRING, mailer.PASSWORD_ENV: "pässwörd"},
        )
    assert done.returncode == 0, done.stderr
    assert len(server.messages) == 1
    assert owned_cells(tmp_path, ANN_ROW)["Last reminded"] == date(2026, 3, 11)


@pytest.mark.parametrize(
    ("login", "sender", "sent_from"),
    [
        ("sam", "", "Sam Smith <me@example.org>"),  # a relay login: [digest] to is the sender
        ("apikey", "", "Sam Smith <me@example.org>"),
        ("sam@example.net", "", "sam@example.net"),  # a login that is an address
        ("sam", "Digest <digest@example.com>", "Digest <digest@example.com>"),
    ],
)
def test_the_sender_is_always_an_address(
    tmp_path: Path, login: str, sender: str, sent_from: str
) -> None:
    """A login such as "sam" or "apikey" went out as `From: sam` with Message-ID `@sam`."""
    with smtp_server(login, PASSWORD) as server:
        smtp_folder(tmp_path, server.port)
        write_config(
            tmp_path,
            '[digest]\nto = "Sam Smith <me@example.org>"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
            f'user = "{login}"\nfrom = "{sender}"\ntimeout = 5\n',
        )
        done = followup(tmp_path, "run", "--today", "2026-03-11", env=WITH_PASSWORD)
    assert done.returncode == 0, done.stderr
    [message] = server.messages
    address = email.utils.parseaddr(sent_from)[1]
    assert message["From"] == sent_from
    assert message["X-MailFrom"] == address
    assert message["Message-ID"].endswith(f"@{address.partition('@')[2]}>")


def test_at_most_one_digest_a_day_unless_forced(tmp_path: Path) -> None:
    with smtp_server(USER, PASSWORD) as server:
        smtp_folder(tmp_path, server.port)
        first = followup(tmp_path, "run", "--today", "2026-03-11", env=WITH_PASSWORD)
        again = followup(tmp_path, "run", "--today", "2026-03-11", env=WITH_PASSWORD)
        assert len(server.messages) == 1
        forced = followup(tmp_path, "run", "--force", "--today", "2026-03-11", env=WITH_PASSWORD)
        next_day = followup(tmp_path, "run", "--today", "2026-03-12", env=WITH_PASSWORD)

    for done in (first, again, forced, next_day):
        assert done.returncode == 0, done.stderr
    assert "already delivered" in again.stdout and "--force" in again.stdout
    assert [m["Subject"][:26] for m in server.messages] == [
        "Follow-ups for Wed 11 Mar:",
        "Follow-ups for Wed 11 Mar:",
        "Follow-ups for Thu 12 Mar:",
    ]
    assert sent(tmp_path) == [
        "2026-03-11 Follow-ups 2.eml",
        "2026-03-11 Follow-ups.eml",
        "2026-03-12 Follow-ups.eml",
    ]


# --- nothing lost --------------------------------------------------------------------------


def test_a_server_that_is_down_keeps_the_digests_and_the_newest_replaces_them(
    tmp_path: Path,
) -> None:
    """Three digests used to arrive together once the server was back, the older two stale
    and unmarked: now the newest goes out alone, saying which days it replaces and why, and
    the others are kept in the outbox."""
    smtp_folder(tmp_path, free_port())  # nothing listens there
    down = [
        followup(tmp_path, "run", "--today", day, env=WITH_PASSWORD)
        for day in ("2026-03-11", "2026-03-12")
    ]
    for done in down:
        line = one_line_error(done)
        assert "refused the connection: check [smtp] host and port" in line
        assert "the next run sends the newest, saying which days it replaces" in line
    assert "2 digests kept in" in down[1].stderr
    assert pending(tmp_path) == ["2026-03-11 Follow-ups.eml", "2026-03-12 Follow-ups.eml"]
    cells = owned_cells(tmp_path, ANN_ROW)
    assert cells["Follow-up status"] == "Overdue"  # the statuses are written all the same,
    assert cells["Last reminded"] == ""  # but nobody was reminded

    with smtp_server(USER, PASSWORD) as server:
        smtp_folder(tmp_path, server.port)  # the server is back (on another port)
        up = followup(tmp_path, "run", "--today", "2026-03-13", env=WITH_PASSWORD)
        again = followup(tmp_path, "run", "--today", "2026-03-13", env=WITH_PASSWORD)

    assert up.returncode == 0, up.stderr
    assert again.returncode == 0, again.stderr
    [message] = server.messages
    assert message["Subject"].startswith("Follow-ups for Fri 13 Mar:")
    replaced = tmp_path / "outbox" / "replaced"
    text = " ".join(message.get_body(("plain",)).get_content().split())
    assert re.search(
        r"Note: The digests of Wed 11 Mar and Thu 12 Mar could not be sent then "
        r"\(127\.0\.0\.1:\d+ refused the connection: check \[smtp\] host and port\)\. "
        f"This one replaces them; they are kept in {re.escape(str(replaced))}\\.",
        text,
    ), text[:600]
    assert "This one replaces them" in message.get_body(("html",)).get_content()
    assert f"Today's digest replaces 2 earlier ones that could not be sent; kept in {replaced}" in (
        up.stdout
    )
    assert pending(tmp_path) == []
    assert sent(tmp_path) == ["2026-03-13 Follow-ups.eml"]
    assert sorted(p.name for p in replaced.iterdir()) == [
        "2026-03-11 Follow-ups.eml",
        "2026-03-11 Follow-ups.html",
        "2026-03-12 Follow-ups.eml",
        "2026-03-12 Follow-ups.html",
    ]
    assert owned_cells(tmp_path, ANN_ROW)["Last reminded"] == date(2026, 3, 13)


def test_a_digest_that_could_not_be_sent_is_replaced_even_on_a_quiet_day(tmp_path: Path) -> None:
    """With nobody due today, the stale digest of yesterday used to go out as it was."""
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, ROWS[0]])
    smtp_folder(tmp_path, free_port())
    assert followup(tmp_path, "run", "--today", "2026-03-11", env=WITH_PASSWORD).returncode == 4
    with smtp_server(USER, PASSWORD) as server:
        smtp_folder(tmp_path, server.port)
        write_config(
            tmp_path,
            f'[digest]\nto = "{TO}"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
            f'user = "{USER}"\nfrom = "{USER}"\ntimeout = 5\n'
            "[rules]\nnudge_days = 400\n",
        )
        done = followup(tmp_path, "run", "--today", "2026-03-12", env=WITH_PASSWORD)
    assert done.returncode == 0, done.stderr
    [message] = server.messages
    assert message["Subject"].startswith("Follow-ups for Thu 12 Mar:")
    assert (
        "The digest of Wed 11 Mar could not be sent then"
        in message.get_body(("plain",)).get_content()
    )
    assert pending(tmp_path) == []
    assert (tmp_path / "outbox" / "replaced" / "2026-03-11 Follow-ups.eml").exists()


def test_a_full_disk_never_deletes_the_queued_digest_of_the_same_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun withdrew today's queued digest before writing the fresher one: when that write
    failed (a full disk), today's digest was gone, and tomorrow's could not say it replaced it."""
    monkeypatch.setenv(mailer.PASSWORD_ENV, PASSWORD)
    config = load_config(smtp_folder(tmp_path, free_port()) / "config.toml")
    day = date(2026, 3, 11)
    when = datetime(2026, 3, 11, 7, 30, tzinfo=UTC)
    args = (config.digest, config.smtp)
    state = State.load(config.digest.state_dir / STATE_FILE)
    first = deliver(*args, build_digest([], [], day), when, state=state, force=False)
    assert first.error and pending(tmp_path) == ["2026-03-11 Follow-ups.eml"]

    def full_disk(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(outbox_module, "write_atomic", full_disk)
    again = deliver(*args, build_digest([], [], day), when, state=state, force=False)

    assert "No space left on device" in again.error
    assert pending(tmp_path) == ["2026-03-11 Follow-ups.eml"]
    assert len(list((tmp_path / "outbox" / "pending").glob("*.html"))) == 1


def test_a_wrong_password_fails_clearly_and_keeps_the_digest(tmp_path: Path) -> None:
    with smtp_server(USER, PASSWORD) as server:
        done = followup(
            smtp_folder(tmp_path, server.port),
            "run",
            "--today",
            "2026-03-11",
            env={**NO_KEYRING, mailer.PASSWORD_ENV: WRONG},
        )
    line = one_line_error(done)
    assert f"Could not log in to 127.0.0.1 as {USER}: check the password" in line
    assert mailer.PASSWORD_ENV in line
    assert WRONG not in done.stdout + done.stderr
    assert server.messages == []
    assert pending(tmp_path) == ["2026-03-11 Follow-ups.eml"]
    assert owned_cells(tmp_path, ANN_ROW)["Last reminded"] == ""


def test_a_password_set_in_another_encoding_fails_clearly_and_the_statuses_are_written(
    tmp_path: Path,
) -> None:
    """ "p\xe4ss" from a Latin-1 crontab reaches Python with its byte escaped: it ended every
    run in an unexpected error (exit 1) before the workbook was written."""
    env = {**NO_KEYRING, mailer.PASSWORD_ENV: "p\udce4ss"}  # the bytes b"p\xe4ss"
    with smtp_server(USER, "päss") as server:
        folder = smtp_folder(tmp_path, server.port)
        done = followup(folder, "run", "--today", "2026-03-11", env=env, real=True)
        checked = followup(folder, "doctor", "--today", "2026-03-11", env=env, real=True)
    line = one_line_error(done)
    assert f"{mailer.PASSWORD_ENV} is not valid UTF-8 text" in line
    assert server.messages == []
    assert pending(tmp_path) == ["2026-03-11 Follow-ups.eml"]
    assert owned_cells(tmp_path, ANN_ROW)["Follow-up status"] == "Overdue"
    assert f"{mailer.PASSWORD_ENV} is not valid UTF-8 text" in " ".join(checked.stdout.split())


def test_a_server_that_never_answers_gives_up_after_the_timeout(tmp_path: Path) -> None:
    with silent_server() as server:
        smtp_folder(tmp_path, server.port, timeout=2)
        started = time.monotonic()
        done = followup(tmp_path, "run", "--today", "2026-03-11", env=WITH_PASSWORD, timeout=30)
        elapsed = time.monotonic() - started
    assert elapsed < 10
    assert "did not answer within 2 seconds" in one_line_error(done)
    assert pending(tmp_path) == ["2026-03-11 Follow-ups.eml"]


def test_no_password_anywhere_fails_fast_without_prompting(tmp_path: Path) -> None:
    """As under cron: no keyring backend, no variable, no terminal (stdin is /dev/null)."""
    with smtp_server(USER, PASSWORD) as server:
        smtp_folder(tmp_path, server.port)
        started = time.monotonic()
        done = followup(tmp_path, "run", "--today", "2026-03-11", env=NO_KEYRING, timeout=30)
        elapsed = time.monotonic() - started
    assert elapsed < 10
    line = one_line_error(done)
    assert f"No SMTP password for {USER} at 127.0.0.1" in line
    assert mailer.PASSWORD_ENV in line and "followup password" in line
    assert "password:" not in (done.stdout + done.stderr).lower()
    assert server.messages == []
    assert pending(tmp_path) == ["2026-03-11 Follow-ups.eml"]


def test_the_password_is_in_no_file_and_no_output(tmp_path: Path) -> None:
    """Every kind of run, then every byte the program left behind, workbooks unzipped."""
    runs = []
    smtp_folder(tmp_path, free_port())
    runs.append(followup(tmp_path, "run", "--today", "2026-03-11", env=WITH_PASSWORD))
    with smtp_server(USER, PASSWORD) as server:
        smtp_folder(tmp_path, server.port)
        wrong = {**NO_KEYRING, mailer.PASSWORD_ENV: WRONG}
        runs.append(followup(tmp_path, "run", "--today", "2026-03-12", env=wrong))
        runs.append(followup(tmp_path, "doctor", "--today", "2026-03-12", env=wrong))
        for command in ("run", "doctor", "status"):
            runs.append(followup(tmp_path, command, "--today", "2026-03-12", env=WITH_PASSWORD))
        runs.append(followup(tmp_path, "run", "--force", "--today", "2026-03-12", env=NO_KEYRING))
        runs.append(followup(tmp_path, "password", env=NO_KEYRING))
    assert [r.returncode for r in runs] == [4, 4, 1, 0, 0, 0, 4, 2]
    assert len(server.messages) == 1  # the 12th's, which replaces the queued one of the 11th
    assert len(sent(tmp_path)) == 1
    assert (tmp_path / "outbox" / "replaced" / "2026-03-11 Follow-ups.eml").exists()

    secrets = [
        s.encode() for s in (PASSWORD, WRONG) for s in (s, base64.b64encode(s.encode()).decode())
    ]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".xlsx" and BACKUPS in p.parts for p in files)  # backups looked at
    for path in files:
        for name, content in _contents(path):
            for secret in secrets:
                assert secret not in content, f"{secret!r} found in {name}"
    for done in runs:
        for secret in secrets:
            assert secret.decode() not in done.stdout + done.stderr


def _contents(path: Path) -> Iterator[tuple[str, bytes]]:
    """The bytes of a file, and of every part inside it when it is a zip (an .xlsx)."""
    yield str(path), path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for part in archive.namelist():
                yield f"{path}:{part}", archive.read(part)


# --- followup password ---------------------------------------------------------------------


def test_password_stores_what_was_typed_twice_and_never_shows_it(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    config = smtp_folder(tmp_path, 2525) / "config.toml"
    result = CliRunner().invoke(
        cli, ["password", "--config", str(config)], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert result.output.count(f"SMTP password for {USER} at 127.0.0.1") == 1
    assert "Repeat for confirmation" in result.output
    assert PASSWORD not in result.output
    assert "Stored in the system keyring" in result.output
    assert memory_keyring.entries == {("followup", f"{USER}@127.0.0.1"): PASSWORD}
    assert mailer.resolve_password(load_config(config).smtp) == PASSWORD  # type: ignore[arg-type]


def test_password_asks_again_when_the_two_differ(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    config = smtp_folder(tmp_path, 2525) / "config.toml"
    result = CliRunner().invoke(
        cli,
        ["password", "--config", str(config)],
        input=f"typo\n{PASSWORD}\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert memory_keyring.entries == {("followup", f"{USER}@127.0.0.1"): PASSWORD}


def test_password_says_when_the_variable_overrides_the_keyring(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    config = smtp_folder(tmp_path, 2525) / "config.toml"
    result = CliRunner().invoke(
        cli,
        ["password", "--config", str(config)],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env={mailer.PASSWORD_ENV: "older"},
    )
    assert result.exit_code == 0, result.output
    assert f"{mailer.PASSWORD_ENV} is set here, and it wins over the keyring" in result.output


def test_password_without_a_keyring_says_to_use_the_variable_before_asking(
    tmp_path: Path,
) -> None:
    done = followup(smtp_folder(tmp_path, 2525), "password", env=NO_KEYRING, timeout=30)
    assert done.returncode == 2, done.stderr
    assert "no usable system keyring" in done.stderr
    assert f"Set the environment variable {mailer.PASSWORD_ENV}" in done.stderr
    assert "SMTP password for" not in done.stdout + done.stderr  # never asked


@pytest.mark.parametrize(
    ("smtp", "says"),
    [
        ("", "[smtp] host is empty"),
        ('[smtp]\nhost = "relay.local"\n', "needs no password"),
    ],
    ids=["no-smtp", "no-login"],
)
def test_password_needs_a_login_to_store_it_for(tmp_path: Path, smtp: str, says: str) -> None:
    write_config(tmp_path, f'[digest]\nto = "{TO}"\n{smtp}')
    done = followup(tmp_path, "password", env=NO_KEYRING)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert "SMTP password for" not in done.stdout
