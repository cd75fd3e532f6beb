"""What each part of the program is given: one frozen dataclass per section of config.toml.

`config.load_config` builds them once, validated; an adapter receives only the section it
uses (the workbook code `WorkbookSettings`, delivery `DigestSettings` and `SmtpSettings`),
and only a command holds the whole `Config`. The rules' section is `core.model.RuleSettings`,
since the pure core uses it. Nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from followup.core.model import RuleSettings


@dataclass(frozen=True)
class WorkbookSettings:
    """[workbook]: the user's file and how to read it. The path is absolute."""

    path: Path
    sheet: str | None
    """None: the first sheet with a Name column."""
    date_order: str
    backups: int


@dataclass(frozen=True)
class DigestSettings:
    """[digest] (but lookahead_days, a rule): what the digest says, when and where it goes."""

    to: str
    your_name: str
    send_time: time
    timezone: ZoneInfo | None
    """None: the machine's."""
    send_when_empty: bool
    attach_calendar: bool
    outbox: Path
    max_items: int
    templates: Path | None
    needs_info_day: int | None
    """0 (Monday) to 6: the day the digest names people who need a date; None: never."""
    review_day: int | None = 0
    """The weekday (0 Monday) whose digest carries the weekly review; None: never."""

    @property
    def state_dir(self) -> Path:
        """Where the program keeps its own small files (state, lock, logs): the outbox."""
        return self.outbox


@dataclass(frozen=True)
class SmtpSettings:
    """[smtp]: where and how to send; the password is never here (see mailer.resolve_password)."""

    host: str
    port: int
    security: Literal["starttls", "ssl", "none"]
    user: str
    sender: str
    timeout: float
    sender_key: str = "[smtp] from"
    """The setting `sender` came from ([smtp] from, [smtp] user or [digest] to)."""


@dataclass(frozen=True)
class ImportSettings:
    """[import]: how `followup import` schedules the people it adds."""

    spread_days: int
    """Their first check-ins go on working days up to this many days ahead (0: not spread)."""


@dataclass(frozen=True)
class ImapSettings:
    """[imap]: the mailbox sync reads (headers only); the password is never here
    (see mailbox.resolve_password)."""

    host: str
    port: int
    security: Literal["starttls", "ssl", "none"]
    user: str
    sent: str
    """The Sent folder's name; empty: found by its \\Sent flag or a usual name."""
    inbox: tuple[str, ...]
    days_back: int
    log_subjects: bool
    own_address: str
    """The user's own address ([digest] to): mark-done mail counts only from it."""
    timeout: float = 60.0
    """Seconds the whole sync may take (each read, and all of them together)."""


@dataclass(frozen=True)
class Config:
    """The validated configuration: the file it came from and each of its sections."""

    source: Path
    workbook: WorkbookSettings
    digest: DigestSettings
    smtp: SmtpSettings | None
    """None: no [smtp] host, so digests are only written to the outbox."""
    rules: RuleSettings
    import_: ImportSettings
    """[import] (`import` is a Python keyword)."""
    imap: ImapSettings | None = None
    """None: no [imap] host, so no mailbox is read."""

    @property
    def state_dir(self) -> Path:
        return self.digest.state_dir
