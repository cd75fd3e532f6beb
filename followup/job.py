"""The daily job: read the workbook, apply the rules, deliver the digest, write the statuses back.

This is the only module that puts the pieces together. It receives `today` and `now` from its
caller (the CLI or the scheduler) and never asks the clock itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from followup import delivery, safety
from followup.config import Config
from followup.digest import Digest, build_digest, worth_sending
from followup.errors import DeliveryError, WorkbookError
from followup.model import Contact, FollowUp
from followup.reader import SheetContents, read_contacts
from followup.rules import follow_up
from followup.starter import create_workbook
from followup.writeback import describe, planned_cells
from followup.xlsx import patch_sheet


@dataclass(frozen=True)
class Evaluation:
    """The workbook as read, and what the rules say about every contact in it."""

    contents: SheetContents
    entries: tuple[tuple[Contact, FollowUp], ...]


@dataclass
class RunReport:
    """What a run did, for the CLI to print."""

    digest: Digest | None = None
    delivered_to: str = ""
    messages: list[str] = field(default_factory=list)


def evaluate(config: Config, today: date) -> Evaluation:
    """Read the workbook once and compute every contact's follow-up."""
    contents = read_contacts(config.workbook, config.sheet, config.date_order, today=today)
    entries = tuple((c, follow_up(c, today, config.rules)) for c in contents.contacts)
    return Evaluation(contents, entries)


def digest_for(config: Config, evaluation: Evaluation, today: date, notices=()) -> Digest:
    """The digest of an evaluation, whether or not it will be sent."""
    return build_digest(
        evaluation.entries, evaluation.contents.problems, today, notices, config.your_name
    )


def run_daily(
    config: Config, today: date, now: datetime, *, dry_run: bool = False, force: bool = False
) -> RunReport:
    """One daily run. Raises DeliveryError (after writing statuses) when the digest is stuck."""
    report = RunReport()
    with safety.run_lock(config.state_dir):
        if not config.workbook.exists() and not dry_run:
            create_workbook(config.workbook, today)
            report.messages.append(f"Created {config.workbook} with example contacts.")
        before = safety.fingerprint(config.workbook)
        evaluation = evaluate(config, today)
        open_in = safety.open_by_user(config.workbook)
        notices = []
        if open_in:
            notices.append(
                f"Your workbook is open in {open_in}, so today's statuses were not written "
                "into it; they will be written on the next run after you close it."
            )
        digest = digest_for(config, evaluation, today, notices)
        due = worth_sending(evaluation.entries, evaluation.contents.problems)
        if dry_run:
            report.digest = digest
            return report
        outcome = delivery.deliver(
            config, digest if due or config.send_when_empty else None, now, force=force
        )
        report.messages.extend(outcome.messages)
        report.digest = outcome.delivered
        reminded = outcome.delivered.listed_rows if outcome.delivered else ()
        cells = planned_cells(evaluation.contents, evaluation.entries, reminded, today)
        if open_in:
            report.messages.append(f"{config.workbook.name} is open in {open_in}: not written.")
        elif cells:
            _save(config, evaluation.contents, cells, before, now)
            report.messages.append(f"Wrote {describe(cells)} to {config.workbook.name}.")
        else:
            report.messages.append(f"{config.workbook.name} is up to date; not rewritten.")
        if outcome.error:
            raise DeliveryError(outcome.error)
    return report


def _save(config: Config, contents: SheetContents, cells, before, now: datetime) -> None:
    """Patch the owned cells through a verified, atomic, backed-up replace."""

    def write(tmp: Path) -> None:
        patch_sheet(config.workbook, tmp, contents.sheet, cells)

    def verify(tmp: Path) -> None:
        again = read_contacts(tmp, contents.sheet, config.date_order)
        if _user_data(again) != _user_data(contents):
            raise WorkbookError("The rewritten workbook did not read back the same; not saved.")

    safety.safe_replace(
        config.workbook, write, expected=before, backups=config.backups, verify=verify, now=now
    )


def _user_data(contents: SheetContents) -> tuple[Contact, ...]:
    """The user's own data as read, without the column the program writes."""
    return tuple(dataclasses.replace(c, last_reminded=None) for c in contents.contacts)
