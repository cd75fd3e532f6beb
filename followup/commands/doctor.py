"""`followup doctor`: check everything the morning digest depends on, and say what to fix.

A digest that silently never arrives is the failure users hate most, and its causes are spread
over the config, the workbook, the password, the mail server and the scheduler. Each check
below looks at one of them and returns a `Check` value; none raises and none sends anything,
so doctor can be run at any time and always prints the whole list.

Exit codes: 0 when every check passes, 1 when any fails, 2 when the config itself is broken
(as for every other command; the other checks need a valid config and are not run).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import keyring
from keyring.errors import KeyringError

from followup.commands import evaluation
from followup.config import (
    checked_values,
    config_fix,
    load_config,
    read_toml,
    unknown_keys,
    where_missing,
)
from followup.core.digest import worth_sending
from followup.core.model import day_name
from followup.delivery import mailer
from followup.delivery.outbox import Outbox
from followup.delivery.state import STATE_FILE, State
from followup.errors import ConfigError, FollowupError
from followup.settings import Config, SmtpSettings
from followup.workbook import guards
from followup.workbook.xlsx import xmlcheck

CONFIG = "Config"
# "Delivered in the last two days": today's digest, or yesterday's when today's is not due yet.
_RECENT = timedelta(days=1)
_SCHEDULERS = (
    "keep `followup schedule` running, or install a scheduler from scripts/ "
    "(`followup cron-line` prints a cron line for this install)"
)


@dataclass(frozen=True)
class Check:
    """One line of the checklist: what was checked, whether it passed, and what to do if not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def diagnose(path: Path, today: Callable[[Config], date], found: str = "") -> list[Check]:
    """Every check, in the order a user would fix them; `today(config)` is the run's day, and
    `found` how the config file was found (`config.ConfigFile`).

    The day comes from the caller because only the CLI and the scheduler read the clock.
    """
    config_check, config = check_config(path, found)
    if config is None:
        return [config_check]
    day = today(config)
    read = _evaluate(config, day)
    checks = [config_check, check_workbook(config, read)]
    if isinstance(read, evaluation.Evaluation):
        checks.append(check_problems(read))
    checks.append(_safely("Workbook access", lambda: check_write_access(config)))
    if config.smtp is None:
        checks.append(
            Check("Email", True, f"not set up: digests are written to {config.digest.outbox}")
        )
    else:
        smtp = config.smtp
        password = _password(smtp)
        if smtp.user:
            checks.append(_safely("Password", lambda: check_password(smtp, password)))
        checks.append(check_smtp(smtp, password))
    if config.imap is not None:
        checks.append(_safely("Mailbox", lambda: check_mailbox(config, day, read)))
    checks.append(_safely("Outbox", lambda: check_outbox(config)))
    checks.append(_safely("Last digest", lambda: check_last_digest(config, day, read)))
    return checks


class ChecksFailed(FollowupError):
    """Some checks failed: exit 1, or 2 when the config is broken (as for every command)."""

    def __init__(self, checks: Sequence[Check]) -> None:
        failed = [c.name for c in checks if not c.ok]
        super().__init__(
            f"{len(failed)} of {len(checks)} checks failed ({', '.join(failed)}); "
            "each says above what to fix."
        )
        self.exit_code = 2 if CONFIG in failed else 1


def verdict(checks: Sequence[Check]) -> None:
    """Raise ChecksFailed unless every check passed."""
    if not all(c.ok for c in checks):
        raise ChecksFailed(checks)


def render(checks: Sequence[Check], encoding: str | None) -> str:
    """The checklist: ✓/✗ when `encoding` can show them, else OK/FAIL; a fix under each failure."""
    try:
        good, bad = "✓", "✗"
        (good + bad).encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        good, bad = "OK", "FAIL"
    width = max(len(c.name) for c in checks)
    lines = []
    for check in checks:
        head = f"{(good if check.ok else bad).ljust(len(bad))} {check.name.ljust(width)}  "
        pad = " " * len(head)
        first, *rest = check.detail.splitlines() or [""]
        lines += [head + first, *(pad + line for line in rest)]
        if not check.ok and check.fix:
            lines.append(f"{pad}Fix: {check.fix}")
    if all(c.ok for c in checks):
        lines.append(f"\nAll {len(checks)} checks passed.")
    return "\n".join(lines)


def check_config(path: Path, found: str = "") -> tuple[Check, Config | None]:
    """Which config file is used and how it was found, and that it loads; when it does not,
    every unknown key and bad value, not just the first."""
    how = f" ({found})" if found else ""
    try:
        return Check(CONFIG, True, f"{path.absolute()}{how} is valid"), load_config(path, found)
    except ConfigError as err:
        if not path.exists():
            faults = [where_missing(path.absolute(), found)]
            fix = config_fix(path, found)
        else:
            raw = _readable_toml(path)
            faults = _config_faults(path, raw) or [str(err)]
            fix = (
                f"Correct {'these' if len(faults) > 1 else 'this'} in {path}; `followup init` "
                "in an empty folder writes a config that lists every key with its help."
            )
            if "smtp.password" in unknown_keys(raw or {}):
                fix += " Never put the password in a file: use `followup password`."
        return Check(CONFIG, False, "\n".join(faults), fix + " Then run doctor again."), None


def check_workbook(config: Config, read: evaluation.Evaluation | Exception) -> Check:
    """The workbook exists, opens, has a contacts sheet with a Name header, and every XML part
    in it is namespace-well-formed (the check a save makes, which python-calamine does not)."""
    book = config.workbook.path
    broken = xmlcheck.readable_broken_parts(book)
    if broken:
        parts = "; ".join(map(str, broken[:3])) + ("; ..." if len(broken) > 3 else "")
        return Check(
            "Workbook",
            False,
            f"{book.name} has {'a part' if len(broken) == 1 else f'{len(broken)} parts'} that "
            f"Excel cannot parse: {parts}",
            "Restore an earlier copy (followup keeps some in "
            f"{book.parent / guards.BACKUP_FOLDER}); or, if Excel or LibreOffice still opens "
            "it, save it from there, which writes every part anew.",
        )
    if not isinstance(read, evaluation.Evaluation):
        if guards.dangling_link(book):
            fix = "Reconnect the folder the link points into, or point it at your workbook."
        elif not book.exists():
            fix = (
                "Run `followup run` once: it creates the workbook with example contacts. "
                f"Or point [workbook] path in {config.source} at your own workbook."
            )
        else:
            fix = "Open it in Excel or LibreOffice, fix what the message says, and save it."
        return Check("Workbook", False, _message(read), fix)
    contents = read.contents
    return Check(
        "Workbook",
        True,
        f"{book}: {len(contents.contacts)} contacts on sheet {contents.sheet!r} "
        f"(header in row {contents.header_row})",
    )


def check_problems(read: evaluation.Evaluation) -> Check:
    """How many cells need fixing; they never stop a run, so this check always passes."""
    problems = [p for p in read.contents.problems if p.cell]  # a broken part: the Workbook check
    if not problems:
        return Check("Workbook problems", True, "none")
    return Check(
        "Workbook problems",
        True,
        f"{len(problems)} cell{'s' * (len(problems) != 1)} to fix, listed in the digest and "
        f"by `followup status`; the first is {problems[0]}",
    )


def check_write_access(config: Config) -> Check:
    """Today's statuses can be saved: the workbook is not open and its folder is writable."""
    book = config.workbook.path
    app = guards.open_by_user(book)
    if app:
        return Check(
            "Workbook access",
            False,
            f"{book.name} is open in {app}, so a run now would not write its statuses",
            f"Close it in {app}. If {app} is not running, delete its leftover lock file beside "
            f"the workbook (~${book.name} or .~lock.{book.name}#).",
        )
    for place in (book.parent, book):
        if place.exists() and not os.access(place, os.W_OK):
            return Check(
                "Workbook access",
                False,
                f"{place} is read-only for this user",
                f"Allow the user who runs followup to write {place}: statuses and backups "
                "are saved there.",
            )
    return Check("Workbook access", True, f"{book.name} is not open and {book.parent} is writable")


def check_password(smtp: SmtpSettings, password: str | Exception | None) -> Check:
    """A password is found, and where it was found; the password itself is never shown."""
    if isinstance(password, Exception):
        where = (
            f"set the environment variable {mailer.PASSWORD_ENV}"
            " (cron and systemd do not see your shell's variables)"
        )
        if keyring_problem(smtp):
            fix = f"This machine has no system keyring: {where}."
        else:
            fix = f"Run `followup password`, or {where}."
        return Check("Password", False, _message(password), fix)
    where = (
        f"the environment variable {mailer.PASSWORD_ENV}"
        if os.environ.get(mailer.PASSWORD_ENV)
        else "the system keyring"
    )
    return Check("Password", True, f"found in {where} (not shown)")


def check_smtp(smtp: SmtpSettings, password: str | Exception | None) -> Check:
    """Connect, secure and log in without sending; without a password, connect only."""
    server = f"{smtp.host}:{smtp.port} ({smtp.security})"
    name = "SMTP login" if smtp.user else "SMTP connection"
    sender = _sender(smtp)
    if isinstance(password, Exception):
        smtp, password, name = dataclasses.replace(smtp, user=""), None, "SMTP connection"
    try:
        mailer.check_login(smtp, password)
    except Exception as err:  # a checkup reports every failure; it must never crash
        return Check(
            name,
            False,
            _message(err),
            "Fix [smtp] in the config (README, 'Sending the digest', has the settings for "
            "Gmail, Outlook and a local relay), then run doctor again.",
        )
    if name == "SMTP login":
        return Check(name, True, f"logged in to {server} as {smtp.user}; nothing was sent{sender}")
    return Check(name, True, f"connected to {server}; nothing was sent{sender}")


def _sender(smtp: SmtpSettings) -> str:
    """Which From the digests carry, when [smtp] from does not say it."""
    if smtp.sender_key == "[smtp] from":
        return ""
    login = (
        f' and [smtp] user "{smtp.user}" is not an address'
        if smtp.user and smtp.sender_key == "[digest] to"
        else ""
    )
    return (
        f"; digests go out From {smtp.sender}, your {smtp.sender_key} ([smtp] from is empty{login})"
    )


def check_mailbox(config: Config, day: date, read: evaluation.Evaluation | Exception) -> Check:
    """Log in, find the folders and count the recent messages to or from contacts, read-only
    as every sync is; doctor remembers nothing, so the next sync still reads all of them."""
    from followup.commands.sync import message_of
    from followup.core.mail_sync import involves
    from followup.delivery import mailbox

    imap = config.imap
    assert imap is not None
    fix = (
        "Check [imap] in the config (README, 'Reading your mailbox', has the settings for "
        "Gmail, Outlook and Fastmail) and the password, then run doctor again."
    )
    try:
        password = mailbox.resolve_password(imap, config.smtp)
        fresh = mailbox.SyncState(config.state_dir / mailbox.SYNC_FILE, mailbox.account_of(imap))
        fetched = mailbox.fetch_new(imap, password, fresh, day)
    except (mailbox.MailboxError, ConfigError) as error:
        return Check("Mailbox", False, str(error), fix)
    contacts = [c for c, _ in read.entries] if isinstance(read, evaluation.Evaluation) else []
    messages = [message_of(header, config.digest.timezone) for header in fetched.headers]
    matched = sum(involves(contacts, message) for message in messages)
    folders = ", ".join(f"{name} ({kind})" for name, kind in fetched.folders.items())
    detail = (
        f"logged in to {imap.host} as {imap.user}; read {folders or 'no folder'}: "
        f"{len(messages)} messages in the last {imap.days_back} days, {matched} to or from "
        "your contacts; nothing was changed"
    )
    if fetched.problems:
        return Check("Mailbox", False, "\n".join([detail, *fetched.problems]), fix)
    return Check("Mailbox", True, detail)


def check_outbox(config: Config) -> Check:
    """No digest is stuck waiting for the mail server, and the outbox can be written."""
    outbox = Outbox(config.digest.outbox)
    pending = outbox.pending()
    if pending:
        count = len(pending)
        fix = (
            "Once the SMTP check passes, the next `followup run` sends today's digest in their "
            "place, saying which days it replaces (they move to replaced/)."
            if config.smtp
            else "[smtp] host is empty, so nothing sends them: set [smtp] again, or read "
            "the .html files there."
        )
        return Check(
            "Outbox",
            False,
            f"{count} undelivered digest{'s' * (count != 1)} in {outbox.pending_folder}, "
            f"the oldest {pending[0].stem!r}",
            fix,
        )
    folder = config.digest.outbox
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not os.access(existing, os.W_OK):
        return Check(
            "Outbox",
            False,
            f"{existing} is read-only for this user",
            f"Allow writing there, or set [digest] outbox in {config.source} to a folder "
            "you own: followup keeps digests and its state file there.",
        )
    return Check("Outbox", True, f"no digest waiting in {folder}")


def check_last_digest(
    config: Config, today: date, read: evaluation.Evaluation | Exception
) -> Check:
    """A digest went out today or yesterday, or none was needed: the scheduler is working.

    Loading the state sets a broken state file aside, exactly as the next run would.
    """
    state = State.load(config.state_dir / STATE_FILE)
    last = state.last_day
    if last is not None and last >= today - _RECENT:
        at = f" at {state.last_at:%H:%M}" if state.last_at else ""
        return Check("Last digest", True, f"delivered for {day_name(last)} {last.year}{at}")
    since = f"The last digest was for {day_name(last)} {last.year}" if last else "No digest yet"
    quiet = (
        isinstance(read, evaluation.Evaluation)
        and not config.digest.send_when_empty
        and not worth_sending(read.entries, read.contents.problems, today)
    )
    if quiet:
        detail = f"{since}; none is needed: nobody is due today"
    else:
        detail = f"{since}, though there is something to report"
    if state.warning:
        detail += f"\n{state.warning}"
    if quiet:
        return Check("Last digest", True, detail)
    return Check(
        "Last digest",
        False,
        detail,
        f"Run `followup run` now; to get the digest every morning, {_SCHEDULERS}.",
    )


def keyring_problem(smtp: SmtpSettings) -> str | None:
    """Why the system keyring cannot hold the password here (cron, a headless server), or None."""
    try:
        keyring.get_password(mailer.KEYRING_SERVICE, mailer.keyring_username(smtp))
    except KeyringError as err:
        return f"there is no usable system keyring here ({type(err).__name__})"
    return None


def _evaluate(config: Config, today: date) -> evaluation.Evaluation | Exception:
    """The workbook read and evaluated, or why it could not be."""
    try:
        return evaluation.evaluate(config, today)
    except Exception as err:  # a checkup reports every failure; it must never crash
        return err


def _password(smtp: SmtpSettings) -> str | Exception | None:
    """The SMTP password (None: no login), or why it cannot be found."""
    try:
        return mailer.resolve_password(smtp)
    except Exception as err:  # keyring backends raise more than KeyringError
        return err


def _safely(name: str, check: Callable[[], Check]) -> Check:
    """Run a check; an unexpected error becomes a failed check instead of a traceback."""
    try:
        return check()
    except Exception as err:  # a checkup reports every failure; it must never crash
        return Check(name, False, _message(err), "Run `followup run` to see whether it fails too.")


def _message(err: Exception) -> str:
    """Our errors say what to do; anything else is named by its type."""
    return str(err) if isinstance(err, FollowupError) else f"{type(err).__name__}: {err}"


def _config_faults(path: Path, raw: dict | None) -> list[str]:
    """Every unknown key and bad value of the file; load_config stops at the first."""
    if raw is None:
        return []
    faults = [f"{path}: unknown key {name}" for name in unknown_keys(raw)]
    _, refused = checked_values(raw)
    return faults + [f"{path}: [{key.section}] {key.name} {err}" for key, err in refused]


def _readable_toml(path: Path) -> dict | None:
    """The file's TOML, or None when it cannot be read (load_config's message says why)."""
    try:
        return read_toml(path)
    except (OSError, ValueError):  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        return None
