"""The daily job: read the workbook, apply the rules, deliver the digest, write the statuses back.

This is the only module that puts the pieces together. It receives `today` and `now` from its
caller (the CLI or the scheduler) and never asks the clock itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from followup import delivery, safety, settled
from followup.config import Config
from followup.digest import Digest, build_digest, worth_sending
from followup.drafts import load_templates
from followup.errors import DeliveryError, FollowupError, WorkbookError
from followup.history import MEMORY_FILE, History, Memory, review
from followup.log import log_in
from followup.model import Contact, FollowUp
from followup.reader import SheetContents, contacts_in, open_workbook
from followup.rules import follow_up
from followup.saving import save_workbook
from followup.starter import create_workbook
from followup.writeback import describe, planned_cells


@dataclass(frozen=True)
class Evaluation:
    """The workbook as read, and what the rules say about every contact in it."""

    contents: SheetContents
    entries: tuple[tuple[Contact, FollowUp], ...]
    history: History = field(default_factory=History)
    """The Log, the hand edits to log and the referrers to thank."""

    def rows_and_keys(self) -> Iterator[tuple[int, str]]:
        """Each contact's row and its `identity.contact_key`."""
        return zip((contact.row for contact, _ in self.entries), self.history.keys, strict=True)

    def keys_of(self, rows: Iterable[int]) -> dict[int, str]:
        """The keys of the contacts in `rows`, by row."""
        wanted = set(rows)
        return {row: key for row, key in self.rows_and_keys() if row in wanted}


@dataclass
class RunReport:
    """What a run did, for the CLI to print, and the error it ends with (after printing)."""

    digest: Digest | None = None
    messages: list[str] = field(default_factory=list)
    error: FollowupError | None = None
    """Why the run failed after doing what it could: the digest is stuck (DeliveryError), or
    the workbook could not be saved (SaveFailed); the messages say what did happen."""


def evaluate(config: Config, today: date) -> Evaluation:
    """Read the workbook (contacts and Log) and compute every contact's follow-up."""
    with open_workbook(config.workbook) as workbook:
        contents = contacts_in(
            workbook, config.workbook, config.sheet, config.date_order, today=today
        )
        log = log_in(workbook, config.date_order, contents.sheet)
    memory = Memory.load(config.state_dir / MEMORY_FILE)
    history = review(contents.contacts, log, memory, today)
    entries = tuple((c, follow_up(c, today, config.rules)) for c in history.contacts)
    return Evaluation(contents, entries, history)


def digest_for(
    config: Config, evaluation: Evaluation, today: date, notices: Sequence[str] = ()
) -> Digest:
    """The digest of an evaluation, whether or not it will be sent."""
    templates = load_templates(config.templates)
    return build_digest(
        evaluation.entries,
        evaluation.contents.problems,
        today,
        [*notices, *(thanks.line() for thanks in evaluation.history.thanks), *templates.problems],
        config.your_name,
        templates=templates.by_name,
        rules=config.rules,
        max_items=config.max_items,
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for one run, then restore it and collect once.

    Why: a run builds a few objects per cell and keeps them to the end (100,000 contacts are
    about a million objects), and CPython starts a full collection each time the surviving
    objects grow by a quarter, traversing every one of them: at 100,000 rows that was 0.8 s of
    a 6.4 s run, and 0.7 s of a 3.7 s second run, for nothing, since a run's data holds no
    reference cycles (a run leaves about 600 unreachable objects, mostly from imports).
    Objects are still freed as soon as they are no longer used, so memory does not grow.

    Use it around a whole run, where the run's objects are already gone on the way out (as
    `run_daily` does): the final collection then only sees what lives on, which costs a few
    milliseconds, and a long-lived caller (the scheduler) gets the collector back as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect()


def run_daily(
    config: Config, today: date, now: datetime, *, dry_run: bool = False, force: bool = False
) -> RunReport:
    """One daily run. A digest that is stuck or a workbook that cannot be saved is the
    report's `error`, after everything else was done; FolderNotWritable, raised before
    anything is done, becomes a DeliveryError: no digest can be delivered then."""
    with collector_paused():
        try:
            return _run_daily(config, today, now, dry_run=dry_run, force=force)
        except safety.FolderNotWritable as error:
            raise DeliveryError(str(error)) from None


def _run_daily(
    config: Config, today: date, now: datetime, *, dry_run: bool, force: bool
) -> RunReport:
    report = RunReport()
    with safety.run_lock(config.state_dir) as notice:
        if notice:
            report.messages.append(notice)
        if not config.workbook.exists() and not dry_run:
            create_workbook(config.workbook, today)
            report.messages.append(f"Created {config.workbook} with example contacts.")
        if not (dry_run or force) and settled.is_settled(config, today):
            report.messages.append(
                f"Nothing changed since today's last run: {config.workbook.name} is up to date "
                "and today's digest was already delivered (if one was due); "
                "`followup run --force` sends another."
            )
            return report
        settled.unsettle(config)
        before = safety.fingerprint(config.workbook)
        evaluation = evaluate(config, today)
        if evaluation.history.memory.warning:
            report.messages.append(evaluation.history.memory.warning)
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
            config,
            digest if due or config.send_when_empty else None,
            now,
            force=force,
            calendar=_calendar(config, evaluation, today, now),
            keys=evaluation.keys_of(digest.listed_rows),
        )
        report.messages.extend(outcome.messages)
        report.digest = outcome.delivered
        # Last reminded comes from the last delivered digest, not only this run's: a digest
        # delivered while the workbook was open still gets its dates written later.
        reminded = [row for row, key in evaluation.rows_and_keys() if key in outcome.last_listed]
        cells = planned_cells(
            evaluation.contents, evaluation.entries, reminded, outcome.last_day or today
        )
        history = evaluation.history
        logged = not history.new_entries
        up_to_date = False  # the workbook holds every status the rules give
        if open_in:
            report.messages.append(f"{config.workbook.name} is open in {open_in}: not written.")
        elif cells or history.new_entries:
            wrote = f"Wrote {_wrote(cells, history)} to {config.workbook.name}."
            try:
                save_workbook(
                    config,
                    evaluation.contents,
                    cells,
                    before,
                    now,
                    log=history.log,
                    new_entries=history.new_entries,
                )
                logged = up_to_date = True
                report.messages.append(wrote)
            except (safety.WorkbookOpen, safety.WorkbookChanged) as error:
                # The user opened or saved it during the run: their version stands; not an error.
                report.messages.append(str(error))
            except (WorkbookError, safety.SaveFailed) as error:
                # The new version failed its checks or could not be put in place (a read-only
                # folder, a full disk): the workbook is as it was, the digest is out; the run
                # ends with this error once the rest (what it remembers, a stuck digest) is done.
                report.error = error
        else:
            up_to_date = True
            report.messages.append(f"{config.workbook.name} is up to date; not rewritten.")
        memory = history.remembered(today, logged=logged, thanked=outcome.delivered is not None)
        try:
            if memory != history.memory:
                memory.save(config.state_dir / MEMORY_FILE)
        except OSError as error:
            up_to_date = False
            report.messages.append(
                f"Could not save {MEMORY_FILE} ({error}); hand edits to Last "
                "contact since the last run may be logged again."
            )
        if outcome.error:  # the stuck digest is the graver news; a failed save is told too
            if report.error:
                report.messages.append(str(report.error))
            report.error = DeliveryError(outcome.error)
        elif up_to_date:
            settled.settle(config, today)
    return report


def _calendar(config: Config, evaluation: Evaluation, today: date, now: datetime) -> bytes | None:
    """The .ics to attach to the digest, when [digest] attach_calendar asks for one."""
    if not config.attach_calendar:
        return None
    from followup.calendar_export import build_calendar  # icalendar loads only when used

    return build_calendar(evaluation.entries, today, config.rules.lookahead_days, now)


def _wrote(cells: dict, history: History) -> str:
    """'12 cells in 4 rows and 1 log row on sheet "Log"'."""
    rows = len(history.new_entries)
    logged = f"{rows} log row{'s' * (rows != 1)} {history.log.place()}" if rows else ""
    return " and ".join(filter(None, (describe(cells) if cells else "", logged)))
