"""Reading the workbook and applying the rules: what `status`, `preview`, `calendar`, the edits
and the daily run all start from. It writes nothing, so `followup status` loads no saving,
delivery or patcher code."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from followup.commands.memory import MEMORY_FILE, load_memory
from followup.core.history import History, review
from followup.core.log import LogEntry, entries_by_row
from followup.core.model import Contact, FollowUp, Problem
from followup.core.rules import follow_up
from followup.settings import Config
from followup.workbook.columns import column_letter
from followup.workbook.contents import SheetContents
from followup.workbook.log_sheet import log_in
from followup.workbook.reader import contacts_in
from followup.workbook.sheet_guard import open_workbook
from followup.workbook.xlsx import xmlcheck


@dataclass(frozen=True)
class Evaluation:
    """The workbook as read, and what the rules say about every contact in it."""

    contents: SheetContents
    entries: tuple[tuple[Contact, FollowUp], ...]
    history: History = field(default_factory=History)
    """The Log, the hand edits to log and the referrers to thank."""

    def contacts(self) -> list[Contact]:
        """The contacts as the rules saw them: with their logged touches and latest reply."""
        return [contact for contact, _ in self.entries]

    def logged(self) -> dict[int, list[LogEntry]]:
        """Each contact's Log entries, by row (core/log.entries_by_row)."""
        return entries_by_row(self.contents.contacts, self.history.log.entries)

    def rows_and_keys(self) -> Iterator[tuple[int, str]]:
        """Each contact's row and its `identity.contact_key`."""
        return zip((contact.row for contact, _ in self.entries), self.history.keys, strict=True)

    def keys_of(self, rows: Iterable[int]) -> dict[int, str]:
        """The keys of the contacts in `rows`, by row."""
        wanted = set(rows)
        return {row: key for row, key in self.rows_and_keys() if row in wanted}


def evaluate(config: Config, today: date) -> Evaluation:
    """The three first stages of a run: read the workbook (contacts and Log), review the
    history (hand edits, referrers to thank), and evaluate every contact's follow-up."""
    with open_workbook(config.workbook.path) as workbook:
        contents = contacts_in(
            workbook,
            config.workbook.path,
            config.workbook.sheet,
            config.workbook.date_order,
            today=today,
        )
        log = log_in(workbook, config.workbook.date_order, contents.sheet)
    broken = _broken_part_problems(config.workbook.path)
    contents = dataclasses.replace(contents, problems=(*contents.problems, *broken))
    history = review(contents.contacts, log, load_memory(config.state_dir / MEMORY_FILE), today)
    history = _thanks_on_a_known_status(history, contents)
    entries = tuple((c, follow_up(c, today, config.rules)) for c in history.contacts)
    return Evaluation(contents, entries, history)


def _broken_part_problems(book: Path) -> tuple[Problem, ...]:
    """The parts of the workbook Excel and LibreOffice would refuse, among those cheap enough
    to check every time (`xmlcheck.DAILY_BYTES`): a part a run does not rewrite is never
    checked by its save, and python-calamine reads such a file without a word."""
    return tuple(
        Problem(
            book.name,
            "",
            "",
            f"Its part {part} is not well-formed XML, so Excel and LibreOffice may refuse to "
            "open the file. Run `followup doctor` for details.",
        )
        for part in xmlcheck.readable_broken_parts(book, most=xmlcheck.DAILY_BYTES)
    )


def _thanks_on_a_known_status(history: History, contents: SheetContents) -> History:
    """A referrer is thanked once the person they introduced has answered, which that person's
    Status says; a Status that could not be read (a workbook problem) says nothing yet."""
    column = contents.columns.get("stage")
    if column is None or not history.thanks:
        return history
    unread = {p.cell for p in contents.problems if p.sheet == contents.sheet}
    letters = column_letter(column)
    thanks = tuple(t for t in history.thanks if f"{letters}{t.referred.row}" not in unread)
    return dataclasses.replace(history, thanks=thanks)
