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


@dataclass(frozen=True)
class Config:
    """The validated configuration: the file it came from and each of its sections."""

    source: Path
    workbook: WorkbookSettings
    digest: DigestSettings
    smtp: SmtpSettings | None
    """None: no [smtp] host, so digests are only written to the outbox."""
    rules: RuleSettings

    @property
    def state_dir(self) -> Path:
        return self.digest.state_dir
