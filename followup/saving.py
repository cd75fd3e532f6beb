"""The one way the program saves the workbook: surgical, verified, atomic and backed up.

The daily run, `done`, `snooze` and `import` all end here. The new version is written beside
the workbook with `patch_sheet` and read back before it replaces the original: the contacts
must read exactly as the caller expects (the run: as before, apart from its own status cells;
a command: with its change) and the Log must hold what it held plus the new rows. Anything
else, and the original stays as it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from followup import safety
from followup.config import Config
from followup.errors import FollowupError, WorkbookError
from followup.log import Log, LogEntry, log_in
from followup.model import Contact
from followup.reader import SheetContents, contacts_in, open_workbook
from followup.xlsx import CellValue, PatchResult, patch_sheet


def save_workbook(
    config: Config,
    contents: SheetContents,
    cells: Mapping[tuple[int, int], CellValue],
    before: safety.Fingerprint,
    now: datetime,
    *,
    expected: Sequence[Contact] | None = None,
    log: Log | None = None,
    new_entries: Sequence[LogEntry] = (),
    every_cell: bool = False,
) -> PatchResult:
    """Write `cells` into the contacts sheet and `new_entries` below `log`, in one safe replace.

    `expected` is how the contacts must read afterwards (default: as `contents` has them).
    With `every_cell`, a cell `patch_sheet` would leave alone (a formula) stops the save: a
    command the user typed must do all it says or nothing. Raises what `safe_replace` raises.
    """
    own = (log or Log()).own_sheet(new_entries)
    want_contacts = _user_data(contents.contacts if expected is None else expected)
    want_log = (log or Log()).entries + tuple(new_entries)
    result = PatchResult(())

    def write(tmp: Path) -> None:
        nonlocal result
        result = patch_sheet(config.workbook, tmp, contents.sheet, cells, own)
        if every_cell and result.skipped:
            raise FollowupError(
                f"{', '.join(result.skipped)} in {config.workbook.name} holds a formula, which "
                "followup never overwrites, so nothing was changed. Edit that cell by hand."
            )

    def verify(tmp: Path) -> None:
        with open_workbook(tmp) as workbook:
            again = contacts_in(workbook, tmp, contents.sheet, config.date_order)
            log_again = log_in(workbook, config.date_order) if own is not None else None
        if _user_data(again.contacts) != want_contacts or (
            log_again is not None and log_again.entries != want_log
        ):
            raise WorkbookError("The rewritten workbook did not read back the same; not saved.")

    safety.safe_replace(
        config.workbook, write, expected=before, backups=config.backups, verify=verify, now=now
    )
    return result


def _user_data(contacts: Sequence[Contact]) -> tuple[Contact, ...]:
    """The contacts as the user's own cells say, without what the program derives or writes."""
    return tuple(dataclasses.replace(c, last_reminded=None, logged_touches=0) for c in contacts)
