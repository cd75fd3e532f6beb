"""The daily run, as a pipeline of named stages:

    sync (commands/sync.py) -> read -> review history -> evaluate   (commands/evaluation.py)
    -> deliver -> plan cells -> save -> remember -> settle

`run_daily` is the only code that puts the layers together for a run. It receives `today` and
`now` from its caller (the CLI or the scheduler) and never asks the clock itself. Everything
the run tells the user is worded in `_Say`, below.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from followup.commands import settled
from followup.commands.draft_files import load_templates
from followup.commands.evaluation import Evaluation, evaluate
from followup.commands.memory import MEMORY_FILE, save_memory
from followup.core import needs_info, weekly
from followup.core.digest import Digest, build_digest, worth_sending
from followup.core.digest_render import Section
from followup.core.history import History
from followup.delivery.deliver import Outcome, deliver, late_notice
from followup.delivery.state import STATE_FILE, State
from followup.errors import ConfigError, DeliveryError, FollowupError, WorkbookError
from followup.settings import Config
from followup.workbook import guards
from followup.workbook.cells import Cells
from followup.workbook.columns import cell_address
from followup.workbook.saving import save_workbook
from followup.workbook.status_cells import count_cells, planned_cells
from followup.workbook.template import create_workbook


@dataclass
class RunReport:
    """What a run did, for the CLI to print, and the error it ends with (after printing)."""

    digest: Digest | None = None
    messages: list[str] = field(default_factory=list)
    error: FollowupError | None = None
    """Why the run failed after doing what it could: the digest is stuck (DeliveryError), or
    the workbook could not be saved (SaveFailed); the messages say what did happen."""


def digest_for(
    config: Config,
    evaluation: Evaluation,
    today: date,
    notices: Sequence[str] = (),
    shown: Mapping[str, date] | None = None,
) -> Digest:
    """The digest of an evaluation, whether or not it will be sent; `shown` is the state's
    last_shown (None: no weekly section was shown yet)."""
    templates = load_templates(config.digest.templates)
    return build_digest(
        evaluation.entries,
        evaluation.contents.problems,
        today,
        [*notices, *templates.problems],
        config.digest.your_name,
        templates=templates.by_name,
        rules=config.rules,
        max_items=config.digest.max_items,
        mentions=_weekly_sections(config, evaluation, today, shown or {}),
        mark_done_to=config.digest.to if config.imap else "",
        thanks=evaluation.history.thanks,
    )


def _weekly_sections(
    config: Config, evaluation: Evaluation, today: date, shown: Mapping[str, date]
) -> list[Section]:
    """The sections a digest carries once a week, in the first digest on or after their day
    since they last reached the user (`shown`): who needs a date, and the week's story."""
    digest = config.digest
    sections: list[Section | None] = []
    if needs_info.weekly_due(today, digest.needs_info_day, shown.get(needs_info.TITLE)):
        sections.append(_needs_info(evaluation))
    if needs_info.weekly_due(today, digest.review_day, shown.get(weekly.TITLE)):
        sections.append(
            weekly.review_section(
                evaluation.history.log.entries, evaluation.entries, today, config.rules
            )
        )
    return [s for s in sections if s is not None]


def _needs_info(evaluation: Evaluation) -> Section | None:
    """The needs-info mention, with each person's Met on cell to fill."""
    contents = evaluation.contents
    column = contents.columns.get("met_on")
    cells = (
        {c.row: f"{contents.sheet}!{cell_address(c.row, column)}" for c in contents.contacts}
        if column
        else {}
    )
    return needs_info.needs_info_section(evaluation.entries, cells)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for one run, then restore it and collect once.

    Why: a run builds a few objects per cell and keeps them to the end (100,000 contacts are
    about a million objects), and CPython starts a full collection each time the surviving
    objects grow by a quarter, traversing every one of them: at 100,000 rows more than a tenth
    of a run, for nothing, since a run's data holds no
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
            with guards.run_lock(config.state_dir) as notice:
                run = _Run(config, today, now)
                if notice:
                    run.report.messages.append(notice)
                run.stages(dry_run=dry_run, force=force)
                return run.report
        except guards.FolderNotWritable as error:
            raise DeliveryError(str(error)) from None


@dataclass
class _Run:
    """One run's stages, in order; each adds what it did to `report`."""

    config: Config
    today: date
    now: datetime
    report: RunReport = field(default_factory=RunReport)

    def stages(self, *, dry_run: bool, force: bool) -> None:
        if not self.start(dry_run=dry_run, force=force):
            return
        synced = [] if dry_run else self.sync()
        before = guards.fingerprint(self.config.workbook.path)
        evaluation = self.read()
        open_in = guards.open_by_user(self.config.workbook.path)
        # read once for the run; a dry run reads it without setting a broken file aside
        state = (State.read if dry_run else State.load)(self.config.state_dir / STATE_FILE)
        late = late_notice(self.config.digest, self.config.smtp, self.today, state.last_failure)
        notices = [*late, *_Say.open_notice(open_in), *synced]
        digest = digest_for(self.config, evaluation, self.today, notices, state.last_shown)
        if dry_run:
            self.report.digest = digest
            return
        outcome = self.deliver(evaluation, digest, state, force=force, replaces=bool(late))
        cells = self.plan_cells(evaluation, outcome)
        logged, up_to_date = self.save(evaluation, cells, before, open_in)
        remembered = self.remember(evaluation.history, logged, outcome.delivered is not None)
        self.settle(outcome, up_to_date and remembered)

    def start(self, *, dry_run: bool, force: bool) -> bool:
        """Create the workbook on the first run; False when today is already settled."""
        book = self.config.workbook.path
        if not book.exists() and not dry_run:
            create_workbook(book, self.today)
            self.report.messages.append(_Say.created(book))
        if dry_run:  # shows today's digest, and changes nothing: a settled day stays settled
            return True
        if not force and settled.is_settled(self.config, self.today):
            self.report.messages.append(_Say.settled(book))
            return False
        settled.unsettle(self.config)
        return True

    def sync(self) -> list[str]:
        """Update the workbook from the mailbox's new headers, when [imap] is set. A mailbox
        that cannot be read is the digest's one-line notice (returned), never the run's end."""
        if self.config.imap is None:
            return []
        from followup.commands.sync import sync_mail  # the mail code loads only when used
        from followup.delivery.mailbox import MailboxError

        try:
            synced = sync_mail(self.config, self.today, self.now, locked=True)
        except (MailboxError, ConfigError) as error:
            self.report.messages.append(_Say.not_synced(error))
            return [_Say.not_synced(error)]
        except FollowupError as error:  # the workbook is open, or refused or failed the save
            self.report.messages.append(_Say.not_synced(error))
            if guards.open_by_user(self.config.workbook.path):
                return []  # the digest's open notice says so
            return [_Say.not_synced(error)]
        except Exception as error:  # a fault in the sync: it is optional, the digest is not
            self.report.messages.append(_Say.sync_failed(error))
            return [_Say.sync_failed(error)]
        self.report.messages.extend([*synced.problems, *synced.lines])
        return [_Say.sync_problem(problem) for problem in synced.problems]

    def read(self) -> Evaluation:
        """Read, review the history, evaluate (commands/evaluation.py)."""
        evaluation = evaluate(self.config, self.today)
        if evaluation.history.memory.warning:
            self.report.messages.append(evaluation.history.memory.warning)
        return evaluation

    def deliver(
        self, evaluation: Evaluation, digest: Digest, state: State, *, force: bool, replaces: bool
    ) -> Outcome:
        """Deliver the digest when it is worth sending or `replaces` earlier days' that could
        not be sent (and otherwise the queue of earlier ones)."""
        config = self.config
        due = (
            worth_sending(evaluation.entries, evaluation.contents.problems, self.today)
            or needs_info.TITLE in digest.weekly
            or replaces
        )
        outcome = deliver(
            config.digest,
            config.smtp,
            digest if due or config.digest.send_when_empty else None,
            self.now,
            state=state,
            force=force,
            calendar=self._calendar(evaluation),
            keys=evaluation.keys_of(digest.listed_rows),
        )
        self.report.messages.extend(outcome.messages)
        self.report.digest = outcome.delivered
        return outcome

    def plan_cells(self, evaluation: Evaluation, outcome: Outcome) -> Cells:
        """The status cells to write. Last reminded comes from the last delivered digest, not
        only this run's: a digest delivered while the workbook was open still gets its dates
        written later."""
        reminded = [row for row, key in evaluation.rows_and_keys() if key in outcome.last_listed]
        return planned_cells(
            evaluation.contents, evaluation.entries, reminded, outcome.last_day or self.today
        )

    def save(
        self, evaluation: Evaluation, cells: Cells, before: guards.Fingerprint, open_in: str | None
    ) -> tuple[bool, bool]:
        """Write the cells and the new Log rows, unless the workbook is open. Returns whether
        the hand edits are logged, and whether the workbook holds every status the rules give."""
        book, history = self.config.workbook.path, evaluation.history
        if open_in:
            self.report.messages.append(_Say.open_not_written(book, open_in))
            return not history.new_entries, False
        if not (cells or history.new_entries):
            self.report.messages.append(_Say.up_to_date(book))
            return True, True
        wrote = _Say.wrote(book, cells, history)  # before the save, which empties `cells`
        try:
            save_workbook(
                self.config.workbook,
                evaluation.contents,
                cells,
                before,
                self.now,
                log=history.log,
                new_entries=history.new_entries,
            )
        except (guards.WorkbookOpen, guards.WorkbookChanged) as error:
            # The user opened or saved it during the run: their version stands; not an error.
            self.report.messages.append(str(error))
        except (WorkbookError, guards.SaveFailed) as error:
            # The new version failed its checks or could not be put in place (a read-only
            # folder, a full disk): the workbook is as it was, the digest is out; the run ends
            # with this error once the rest (what it remembers, a stuck digest) is done.
            self.report.error = error
        else:
            self.report.messages.append(wrote)
            return True, True
        return not history.new_entries, False

    def remember(self, history: History, logged: bool, thanked: bool) -> bool:
        """Save what the next run compares with; False when it could not be saved."""
        memory = history.remembered(self.today, logged=logged, thanked=thanked)
        if memory == history.memory:
            return True
        try:
            save_memory(memory, self.config.state_dir / MEMORY_FILE)
        except OSError as error:
            self.report.messages.append(_Say.memory_not_saved(error))
            return False
        return True

    def settle(self, outcome: Outcome, done: bool) -> None:
        """End with the stuck digest's error, or record that today needs no other run."""
        if outcome.error:  # the stuck digest is the graver news; a failed save is told too
            if self.report.error:
                self.report.messages.append(str(self.report.error))
            self.report.error = DeliveryError(outcome.error)
        elif done:
            settled.settle(self.config, self.today)

    def _calendar(self, evaluation: Evaluation) -> bytes | None:
        """The .ics to attach to the digest, when [digest] attach_calendar asks for one."""
        if not self.config.digest.attach_calendar:
            return None
        from followup.delivery.calendar import build_calendar  # icalendar loads only when used

        lookahead = self.config.rules.lookahead_days
        return build_calendar(evaluation.entries, self.today, lookahead, self.now)


class _Say:
    """Everything the daily run tells the user, worded in one place."""

    @staticmethod
    def created(book: Path) -> str:
        return f"Created {book} with example contacts."

    @staticmethod
    def settled(book: Path) -> str:
        return (
            f"Nothing changed since today's last run: {book.name} is up to date "
            "and today's digest was already delivered (if one was due); "
            "`followup run --force` sends another."
        )

    @staticmethod
    def open_notice(app: str | None) -> list[str]:
        """The digest's notice when the workbook is open (none when it is not)."""
        if not app:
            return []
        return [
            f"Your workbook is open in {app}, so today's statuses were not written "
            "into it; they will be written on the next run after you close it."
        ]

    @staticmethod
    def not_synced(why: object) -> str:
        return f"Mail was not synced: {why}"

    @staticmethod
    def sync_failed(error: Exception) -> str:
        """A fault in followup's own sync code: its kind only, never a traceback."""
        return (
            f"Mail was not synced: an unexpected error ({type(error).__name__}) stopped it; "
            "the statuses and this digest were made without it."
        )

    @staticmethod
    def sync_problem(problem: str) -> str:
        """A folder sync could not read; the others were read."""
        return f"Mail sync: {problem}"

    @staticmethod
    def open_not_written(book: Path, app: str) -> str:
        return f"{book.name} is open in {app}: not written."

    @staticmethod
    def up_to_date(book: Path) -> str:
        return f"{book.name} is up to date; not rewritten."

    @staticmethod
    def wrote(book: Path, cells: Cells, history: History) -> str:
        """'Wrote 12 cells in 4 rows and 1 log row on sheet "Log" to contacts.xlsx.'"""
        rows = len(history.new_entries)
        logged = f"{rows} log row{'s' * (rows != 1)} {history.log.place()}" if rows else ""
        what = " and ".join(filter(None, (count_cells(cells) if cells else "", logged)))
        return f"Wrote {what} to {book.name}."

    @staticmethod
    def memory_not_saved(error: OSError) -> str:
        return (
            f"Could not save {MEMORY_FILE} ({error}); hand edits to Last "
            "contact since the last run may be logged again."
        )
