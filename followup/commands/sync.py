"""Sync: read the new mail headers (delivery/mailbox.py), decide what they mean for the contacts
(core/mail_sync.py) and write that through the verified save of `done` and `snooze`
(commands/edits.py). `followup sync` runs it alone; the daily run runs it first.

The mailbox's marks move on only once the workbook holds what they brought, so mail read while
the workbook was open in Excel is read again next time (and a day already in the Log is never
counted twice). A message dated after the day of the sync is kept to read again until its day
has come.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from followup.commands.change import Change, apply, apply_locked
from followup.commands.edits import plan_touches
from followup.commands.evaluation import Evaluation
from followup.core.mail_sync import Message, Touch, decide, waits
from followup.core.model import Contact
from followup.delivery.mailbox import (
    SYNC_FILE,
    Fetched,
    Header,
    SyncState,
    account_of,
    fetch_new,
    resolve_password,
)
from followup.errors import ConfigError
from followup.settings import Config, ImapSettings


@dataclass(frozen=True)
class Synced:
    """What a sync did, as lines for the user; `problems` are folders it could not read."""

    lines: tuple[str, ...]
    problems: tuple[str, ...] = ()


def sync_mail(config: Config, today: date, now: datetime, *, locked: bool = False) -> Synced:
    """One sync. Raises MailboxError (unreachable, login refused, timeout), ConfigError (no
    password) or FollowupError (the workbook cannot be written now): nothing changed then."""
    imap = _settings(config)
    state = SyncState.load(config.state_dir / SYNC_FILE, account_of(imap))
    fetched = fetch_new(imap, resolve_password(imap, config.smtp), state, today)
    messages = [message_of(header, config.digest.timezone) for header in fetched.headers]
    decided: list[Touch] = []
    contacts: list[Contact] = []

    def plan(evaluation: Evaluation) -> Change:
        contacts[:] = evaluation.contacts()
        decided[:] = decisions(evaluation, imap, messages, today, frozenset(state.applied))
        return plan_touches(evaluation, decided, config.rules, today=today)

    change = (apply_locked if locked else apply)(config, today, now, plan)
    lines = [state.warning] if state.warning else []
    lines += [*fetched.skipped, *(change.lines or [_nothing_new(fetched)])]
    later = [h for h, m in zip(fetched.headers, messages, strict=True) if waits(contacts, m, today)]
    try:
        _remember(state, fetched, decided, later)
    except OSError as error:
        lines.append(
            f"Could not save {SYNC_FILE} ({error}): the next sync reads this mail again "
            "(a day already in the Log is not counted twice)."
        )
    return Synced(tuple(lines), fetched.problems)


def decisions(
    evaluation: Evaluation,
    imap: ImapSettings,
    messages: list[Message],
    today: date,
    applied: frozenset[str] = frozenset(),
) -> list[Touch]:
    """What the messages mean for the evaluated workbook's contacts (core/mail_sync.decide)."""
    return decide(
        evaluation.contacts(),
        evaluation.logged(),
        messages,
        own_address=imap.own_address,
        today=today,
        log_subjects=imap.log_subjects,
        applied=applied,
    )


def message_of(header: Header, timezone: ZoneInfo | None) -> Message:
    """A header as the core reads it: its day where the user lives."""
    return Message(
        header.kind,
        header.when.astimezone(timezone).date(),
        header.sender,
        header.recipients,
        header.subject,
        header.message_id or f"{header.folder}/{header.uid}",
    )


def _settings(config: Config) -> ImapSettings:
    if config.imap is None:
        raise ConfigError(
            f"{config.source}: [imap] host is empty, so there is no mailbox to sync. Set "
            "[imap] host and user (the README shows them for Gmail, Outlook and Fastmail)."
        )
    return config.imap


def _remember(
    state: SyncState, fetched: Fetched, decided: list[Touch], later: list[Header]
) -> None:
    """Move the marks on, keeping the messages for a later day to read again, and remember
    the done/snooze messages applied."""
    for name, mark in fetched.marks.items():
        deferred = tuple(sorted(h.uid for h in later if h.folder == name))
        state.marks[name] = replace(mark, deferred=deferred)
    state.applied += [touch.key for touch in decided if touch.kind in ("done", "snooze")]
    state.save()


def _nothing_new(fetched: Fetched) -> str:
    count = len(fetched.headers)
    read = ", ".join(fetched.folders) or "no folder"
    return f"Mailbox: {count} new message{'s' * (count != 1)} in {read}; nothing to update."
