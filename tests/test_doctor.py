"""`followup doctor` end to end: a checklist that passes on a working setup, and for each thing
that keeps the digest from arriving, a failed line that says what to fix.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cli_helpers import followup, write_config
from smtp_server import free_port, smtp_server
from workbooks import make_workbook
from xlsx_helpers import parts, replace_part

from followup.commands import doctor, evaluation
from followup.config import load_config
from followup.delivery import mailer
from followup.delivery.state import STATE_FILE, State

# The test servers take a login over plain TCP on 127.0.0.1 on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

TODAY = "2026-03-11"
USER = "me@example.com"
PASSWORD = "Pw-0b5d2f-doctor"
NO_KEYRING = {
    "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    "PYTHONIOENCODING": "utf-8",
}
WITH_PASSWORD = {**NO_KEYRING, mailer.PASSWORD_ENV: PASSWORD}
ALL_CHECKS = [
    "Config", "Workbook", "Workbook problems", "Workbook access", "Password", "SMTP login",
    "Outbox", "Last digest",
]  # fmt: skip

HEADER = ["Name", "Email", "How we met", "Met on", "Last contact"]
DUE = ["Ann Lee", "ann@example.com", "Networking event", date(2026, 3, 2)]  # overdue
NOT_DUE = ["Di Chen", "di@example.com", "Keep in touch", None, date(2026, 3, 1)]  # in June


def setup(folder: Path, port: int | None, *, rows: tuple[list[object], ...] = (DUE,)) -> Path:
    """A workbook and a config that sends through 127.0.0.1:`port` (None: to the outbox)."""
    make_workbook(folder / "contacts.xlsx", [HEADER, *rows])
    smtp = (
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nuser = "{USER}"\n'
        "timeout = 5\n"
        if port
        else ""
    )
    write_config(folder, f'[digest]\nto = "{USER}"\n{smtp}')
    return folder


def delivered(folder: Path, day: str) -> None:
    """Record a delivered digest in the state file, as a run would have."""
    state = State(folder / "outbox" / STATE_FILE)
    state.record_delivery(date.fromisoformat(day), datetime(2026, 3, 1, 7, 30, tzinfo=UTC))
    (folder / "outbox").mkdir(exist_ok=True)
    state.save()


def verdicts(done: subprocess.CompletedProcess[str]) -> dict[str, bool]:
    """Each check's name and whether it passed, from the printed checklist."""
    found = re.findall(r"^([✓✗]) (\S.*?)  ", done.stdout, re.MULTILINE)
    return {name.strip(): mark == "✓" for mark, name in found}


def failed(done: subprocess.CompletedProcess[str]) -> set[str]:
    return {name for name, ok in verdicts(done).items() if not ok}


def fixes(done: subprocess.CompletedProcess[str]) -> int:
    return len(re.findall(r"^\s+Fix: \S", done.stdout, re.MULTILINE))


def test_a_working_setup_passes_every_check_and_sends_nothing(tmp_path: Path) -> None:
    with smtp_server(USER, PASSWORD) as server:
        setup(tmp_path, server.port)
        assert followup(tmp_path, "run", "--today", TODAY, env=WITH_PASSWORD).returncode == 0
        done = followup(tmp_path, "doctor", "--today", TODAY, env=WITH_PASSWORD)
    assert done.returncode == 0, done.stdout + done.stderr
    assert verdicts(done) == dict.fromkeys(ALL_CHECKS, True)
    assert f"logged in to 127.0.0.1:{server.port} (none) as {USER}; nothing was sent" in done.stdout
    assert f"found in the environment variable {mailer.PASSWORD_ENV} (not shown)" in done.stdout
    assert "delivered for Wed 11 Mar 2026" in done.stdout
    assert done.stdout.rstrip().endswith("All 8 checks passed.")
    assert len(server.messages) == 1  # the run's digest; doctor sent nothing
    assert PASSWORD not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("login", "sender", "says"),
    [
        ("sam", "", 'From Sam <me@example.org>, your [digest] to ([smtp] from is empty and '
         '[smtp] user "sam" is not an address)'),
        ("sam@example.net", "", "From sam@example.net, your [smtp] user ([smtp] from is empty)"),
        ("sam", "me@example.org", None),
    ],
)  # fmt: skip
def test_doctor_says_which_from_the_digests_carry(
    tmp_path: Path, login: str, sender: str, says: str | None
) -> None:
    with smtp_server(login, PASSWORD) as server:
        make_workbook(tmp_path / "contacts.xlsx", [HEADER, DUE])
        write_config(
            tmp_path,
            '[digest]\nto = "Sam <me@example.org>"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
            f'user = "{login}"\nfrom = "{sender}"\ntimeout = 5\n',
        )
        done = followup(tmp_path, "doctor", "--today", TODAY, env=WITH_PASSWORD)
    assert verdicts(done)["SMTP login"], done.stdout
    if says:
        assert f"nothing was sent; digests go out {says}" in done.stdout
    else:
        assert "digests go out" not in done.stdout


FAILURES = [
    ("server-down", WITH_PASSWORD, {"SMTP login"}, "refused the connection"),
    ("wrong-password", {**NO_KEYRING, mailer.PASSWORD_ENV: "nope"}, {"SMTP login"},
     f"Could not log in to 127.0.0.1 as {USER}"),
    ("no-password", NO_KEYRING, {"Password"},
     f"This machine has no system keyring: set the environment variable {mailer.PASSWORD_ENV}"),
    ("missing-workbook", WITH_PASSWORD, {"Workbook"}, "Run `followup run` once"),
    ("not-a-workbook", WITH_PASSWORD, {"Workbook"}, "is not an Excel workbook"),
    ("a-part-excel-cannot-parse", WITH_PASSWORD, {"Workbook"},
     "has a part that Excel cannot parse: xl/workbook.xml (unbound prefix"),
    ("a-part-held-twice", WITH_PASSWORD, {"Workbook"}, "holds xl/Workbook.xml twice"),
    ("open-in-excel", WITH_PASSWORD, {"Workbook access"}, "contacts.xlsx is open in Excel"),
    ("no-digest-for-three-days", WITH_PASSWORD, {"Last digest"},
     "The last digest was for Sun 8 Mar 2026, though there is something to report"),
    ("never-delivered", WITH_PASSWORD, {"Last digest"}, "No digest yet"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "env", "broken", "says"), FAILURES, ids=[f[0] for f in FAILURES])
def test_each_failure_fails_its_check_and_says_what_to_fix(
    tmp_path: Path, case: str, env: dict[str, str], broken: set[str], says: str
) -> None:
    with smtp_server(USER, PASSWORD) as server:
        setup(tmp_path, free_port() if case == "server-down" else server.port)
        delivered(tmp_path, {"no-digest-for-three-days": "2026-03-08"}.get(case, "2026-03-10"))
        book = tmp_path / "contacts.xlsx"
        if case == "never-delivered":
            (tmp_path / "outbox" / STATE_FILE).unlink()
        elif case == "missing-workbook":
            book.unlink()
        elif case == "not-a-workbook":
            book.write_text("Name,Email\n")
        elif case == "open-in-excel":
            (tmp_path / "~$contacts.xlsx").write_bytes(b"owner")
        elif case == "a-part-excel-cannot-parse":  # python-calamine reads it all the same
            xml = parts(book)["xl/workbook.xml"].replace(b"<sheets>", b'<sheets x:hidden="1">')
            replace_part(book, "xl/workbook.xml", xml)
        elif case == "a-part-held-twice":
            with zipfile.ZipFile(book, "a") as archive:
                archive.writestr("xl/Workbook.xml", parts(book)["xl/workbook.xml"])
        done = followup(tmp_path, "doctor", "--today", TODAY, env=env)

    assert done.returncode == 1, done.stdout + done.stderr
    assert failed(done) == broken
    assert fixes(done) == len(broken)
    assert says in done.stdout
    assert f"1 of {len(verdicts(done))} checks failed ({', '.join(broken)})" in done.stderr
    assert server.messages == []
    assert "Traceback" not in done.stderr


def test_without_a_password_the_server_is_still_tried(tmp_path: Path) -> None:
    with smtp_server(USER, PASSWORD) as server:
        setup(tmp_path, server.port)
        delivered(tmp_path, TODAY)
        done = followup(tmp_path, "doctor", "--today", TODAY, env=NO_KEYRING)
    assert failed(done) == {"Password"}
    assert verdicts(done)["SMTP connection"] is True
    assert f"connected to 127.0.0.1:{server.port} (none); nothing was sent" in done.stdout


def test_undelivered_digests_in_the_outbox_fail(tmp_path: Path) -> None:
    setup(tmp_path, free_port())
    assert followup(tmp_path, "run", "--today", TODAY, env=WITH_PASSWORD).returncode == 4
    done = followup(tmp_path, "doctor", "--today", TODAY, env=WITH_PASSWORD)
    assert done.returncode == 1
    assert failed(done) == {"SMTP login", "Outbox", "Last digest"}
    assert "1 undelivered digest in" in done.stdout
    assert "the next `followup run` sends today's digest in their place" in done.stdout


def test_nobody_due_needs_no_digest_and_no_smtp_is_fine(tmp_path: Path) -> None:
    setup(tmp_path, None, rows=(NOT_DUE,))
    done = followup(tmp_path, "doctor", "--today", TODAY, env=NO_KEYRING)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(verdicts(done)) == [
        "Config", "Workbook", "Workbook problems", "Workbook access", "Email", "Outbox",
        "Last digest",
    ]  # fmt: skip
    assert "not set up: digests are written to" in done.stdout
    assert "No digest yet; none is needed: nobody is due today" in done.stdout


def test_every_config_fault_is_reported_with_exit_2(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        '[digest]\nlookahead_days = "many"\nsend_when_empty = 1\n'
        '[smtp]\nhots = "smtp.gmail.com"\npassword = "x"\n',
    )
    done = followup(tmp_path, "doctor", env=NO_KEYRING)
    assert done.returncode == 2
    assert failed(done) == {"Config"}
    for fault in (
        "unknown key smtp.hots",
        "unknown key smtp.password",
        "[digest] lookahead_days must be a whole number",
        "[digest] send_when_empty must be true or false",
    ):
        assert fault in done.stdout
    assert "Never put the password in a file: use `followup password`" in done.stdout


def test_no_config_file(tmp_path: Path) -> None:
    done = followup(tmp_path, "doctor", env=NO_KEYRING)
    assert done.returncode == 2
    assert f"No config.toml in this folder ({tmp_path}) nor in " in done.stdout
    assert "Fix: To start here, run `followup init`" in done.stdout


def test_a_terminal_that_cannot_show_ticks_gets_words(tmp_path: Path) -> None:
    setup(tmp_path, None, rows=(NOT_DUE,))
    done = followup(
        tmp_path,
        "doctor",
        "--today",
        TODAY,
        env={**NO_KEYRING, "PYTHONIOENCODING": "ascii"},
        real=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK   Config ")
    assert "✓" not in done.stdout


# --- in process: boundaries and the promise that nothing escapes ---------------------------


@pytest.mark.parametrize(
    ("last", "ok"), [("2026-03-11", True), ("2026-03-10", True), ("2026-03-09", False)]
)
def test_a_digest_today_or_yesterday_is_recent_enough(tmp_path: Path, last: str, ok: bool) -> None:
    config = load_config(setup(tmp_path, None) / "config.toml")
    delivered(tmp_path, last)
    read = evaluation.evaluate(config, date.fromisoformat(TODAY))
    assert doctor.check_last_digest(config, date.fromisoformat(TODAY), read).ok is ok


def test_an_unexpected_error_becomes_a_failed_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_args: object) -> None:
        raise RuntimeError("boom")

    setup(tmp_path, free_port())
    monkeypatch.setenv(mailer.PASSWORD_ENV, PASSWORD)
    for target in (evaluation.evaluate, mailer.check_login, doctor.Outbox.pending, State.load):
        monkeypatch.setattr(target.__module__ + "." + target.__qualname__, boom)
    checks = doctor.diagnose(tmp_path / "config.toml", lambda _config: date(2026, 3, 11))
    broken = {c.name: c.detail for c in checks if not c.ok}
    assert broken == dict.fromkeys(
        ["Workbook", "SMTP login", "Outbox", "Last digest"], "RuntimeError: boom"
    )
