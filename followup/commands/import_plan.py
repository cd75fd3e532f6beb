"""Planning `followup import`: who in the exported contacts is new, the rows they go into,
their first check-ins spread over the coming weeks, and the summary the user reads. Reading the
export files is commands/importers.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path

from followup.commands.change import HEADERS, Change, Columns
from followup.commands.evaluation import Evaluation
from followup.commands.importers import Imported
from followup.core.birthdays import cell_value
from followup.core.identity import identities
from followup.core.model import Contact, HowMet, day_month
from followup.core.rules import follow_up
from followup.errors import UsageError
from followup.settings import Config
from followup.workbook.cells import is_blank, new_cell_text
from followup.workbook.sheet_guard import open_workbook

_IMPORTED_FIELDS = ("name", "company", "role", "email", "phone", "linkedin", "notes")
_SAME = {"email": "same email", "linkedin": "same LinkedIn profile", "name": "same name"}
_LISTED = 10
"""How many people an import names one line each, added and skipped (a dry run names all):
a LinkedIn export of 500 should not scroll its summary away."""


def plan_import(
    evaluation: Evaluation,
    people: Sequence[Imported],
    *,
    how_met: HowMet,
    met_on: date | None,
    rows_in_use: Iterable[int],
    dry_run: bool,
    priority: str,
    today: date,
    config: Config,
) -> Change:
    """New rows below the last contact for everyone not already in the workbook.

    A person is already there when their email, LinkedIn profile, or name and company match a
    contact (or someone earlier in the file). Existing rows are never touched; the rows the new
    contacts go into must be empty. First check-ins are spread (`spread_check_ins`), so a big
    import does not make everyone due on the first morning.
    """
    contents = evaluation.contents
    known: dict[str, int] = {}
    for contact in contents.contacts:
        for key in identities(contact):
            known.setdefault(key, contact.row)
    from_file: dict[str, str] = {}
    new: list[Imported] = []
    lines: list[str] = []
    skipped: list[str] = []
    for person in people:
        keys = identities(person)
        if not person.name:
            skipped.append(f"Skipped {person.source}: it has no name.")
        elif match := next((k for k in keys if k in known), None):
            skipped.append(f"Skipped {person.name}: already in row {known[match]} ({_why(match)}).")
        elif match := next((k for k in keys if k in from_file), None):
            skipped.append(
                f"Skipped {person.name} ({person.source}): {_why(match)} as {from_file[match]}."
            )
        else:
            new.append(person)
            from_file.update(dict.fromkeys(keys, person.source))
    listed = len(people) if dry_run else _LISTED
    lines += skipped[:listed]
    if len(skipped) > listed:
        lines.append(f"... and {len(skipped) - listed} more skipped.")
    first = max((c.row for c in contents.contacts), default=contents.header_row) + 1
    busy = sorted(set(range(first, first + len(new))) & set(rows_in_use))
    if busy:
        raise UsageError(
            f"Row {busy[0]} of {contents.sheet}, below your last contact, is not empty, so "
            f"there is no room for {len(new)} new contacts there. Move what is below row "
            f"{first - 1} further down (or to another sheet) and import again."
        )
    columns = Columns(contents)
    added: list[Contact] = []
    verb = "Would add" if dry_run else "Added"
    for row, person in enumerate(new, start=first):
        values = {}
        for name in _IMPORTED_FIELDS:
            value, changed = new_cell_text(getattr(person, name))
            if changed:
                lines.append(f"{person.source}: {HEADERS[name]} was {changed}.")
            if value:
                values[name] = value
        if person.unread_birthday:
            lines.append(
                f"{person.source}: BDAY {person.unread_birthday!r} is not a date, so "
                f"{person.name}'s Birthday is left blank."
            )
        day = person.met_on or met_on
        if day is not None:
            values["met_on"] = day
        values["priority"] = priority
        added.append(Contact(row=row, how_met=how_met, birthday=person.birthday, **values))
        if len(added) <= listed:
            lines.append(f"{verb} row {row}: {_summary(added[-1])}")
    if len(added) > listed:
        more = len(added) - listed
        lines.append(f"... and {more} more (rows {first + listed} to {added[-1].row}).")
    held = (c.follow_up_on for c in contents.contacts if c.follow_up_on)
    spread = spread_check_ins(added, today, config, held)
    added = [dataclasses.replace(c, follow_up_on=spread.get(c.row)) for c in added]
    for contact in added:
        cells = {key: getattr(contact, key) for key in (*_IMPORTED_FIELDS, "met_on")}
        cells.update(how_met=how_met.label, priority=priority, follow_up_on=contact.follow_up_on)
        if contact.birthday is not None:
            cells["birthday"] = cell_value(contact.birthday)
        for key, value in cells.items():
            if value:
                columns.cells[(contact.row, columns[key])] = value
    lines.append(
        f"{verb} {len(new)} contact{'s' * (len(new) != 1)}; skipped {len(people) - len(new)}."
        + _spread_line(spread, len(added), dry_run)
    )
    lines.extend(_undated_line(added, spread))
    return Change(columns.cells, (*contents.contacts, *added), lines=tuple(lines))


def spread_check_ins(
    added: Sequence[Contact], today: date, config: Config, held: Iterable[date] = ()
) -> dict[int, date]:
    """Follow up on for new contacts, by row: working days from tomorrow to [import]
    spread_days ahead, the least-loaded first, the most recently met first. `held` are the
    Follow up on dates already in the workbook: a second import fills the days the first left
    light instead of piling onto the same ones. A contact whose rules give a date within that
    window (a job application's nudge next week) keeps it; one they make overdue (a connection
    from 2015), or give no date, or a date beyond it, is spread."""
    ahead = config.import_.spread_days
    window = [today + timedelta(days=n) for n in range(1, ahead + 1)]
    days = [d for d in window if d.weekday() < 5] or window
    if not days:
        return {}
    load = dict.fromkeys(days, 0)
    spread = []
    for contact in added:
        due = follow_up(contact, today, config.rules).next_date
        if due is None or not today <= due <= days[-1]:
            spread.append(contact)
        elif due in load:
            load[due] += 1
    for day in held:
        if day in load:
            load[day] += 1
    spread.sort(key=lambda c: c.met_on or date.min, reverse=True)
    chosen = sorted(_least_loaded(load, len(spread)))
    return {c.row: day for c, day in zip(spread, chosen, strict=True)}


def _least_loaded(load: dict[date, int], count: int) -> list[date]:
    """`count` days (a day as often as it is picked) that bring the lightest days up first: every
    day is filled to one below the level `count` reaches, and the last ones go to days of that
    load spread evenly over the window, so an empty window gets equal shares."""
    level = min(load.values(), default=0)
    while sum(max(0, level + 1 - n) for n in load.values()) < count:
        level += 1
    picked = [day for day, n in load.items() for _ in range(level - n)]
    rest = count - len(picked)
    light = [day for day, n in load.items() if n <= level]
    return picked + [light[i * len(light) // rest] for i in range(rest)]


def _spread_line(spread: dict[int, date], added: int, dry_run: bool) -> str:
    """ " Their first check-ins run from 2 Dec to 29 Jan, about 1 a working day." """
    if not spread:
        return ""
    first, last = min(spread.values()), max(spread.values())
    kept = added - len(spread)
    end = f"; {kept} keep{'s' * (kept == 1)} the sooner date the rules give." if kept else "."
    if first == last:  # one person, or a one-day spread
        many = len(spread) > 1
        verb = "would be" if dry_run else "are" if many else "is"
        return (
            f" Their first check-in{'s' * many} {verb} on {day_month(first)} (in Follow up on){end}"
        )
    span = sum(1 for n in range((last - first).days + 1) if (first + timedelta(n)).weekday() < 5)
    per_day = len(spread) / max(span, 1)
    rate = (
        f"about {round(per_day)} a working day"
        if per_day >= 0.75
        else f"about 1 every {round(1 / per_day)} working days"
    )
    return (
        f" Their first check-ins {'would run' if dry_run else 'run'} from {day_month(first)} to "
        f"{day_month(last)}, {rate} (in Follow up on){end}"
    )


def _undated_line(added: Sequence[Contact], spread: dict[int, date]) -> list[str]:
    """The new rows without a Met on date, named, since the rules need one to go on."""
    undated = [c for c in added if c.met_on is None and c.last_contact is None]
    if not undated:
        return []
    names = ", ".join(f"{c.name} (row {c.row})" for c in undated[:5])
    more = f" and {len(undated) - 5} more" if len(undated) > 5 else ""
    if all(c.row in spread for c in undated):
        then = "their first check-in is set in Follow up on meanwhile."
    else:
        then = "until then (or a date in Follow up on) followup cannot schedule them."
    return [
        f"No Met on date for {len(undated)}: {names}{more}. Type when you met them in Met on "
        f"if you know it; {then}"
    ]


def _why(key: str) -> str:
    return _SAME[key.partition(":")[0]] + (" and company" if key.startswith("name:") else "")


def _summary(contact: Contact) -> str:
    """One line about a new contact, however long or many-lined its cells."""
    who = ", ".join(_short(p) for p in (contact.name, contact.role, contact.company) if p)
    met = f", met {contact.met_on.isoformat()}" if contact.met_on else ""
    return f"{who} ({contact.how_met.label}{met})"


def _short(text: str, most: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


def rows_in_use(path: Path, sheet: str) -> set[int]:
    """The rows of `sheet` that hold anything (the reader stops at a second table; this not)."""
    with open_workbook(path) as workbook:
        grid = workbook.sheet(sheet).to_python(skip_empty_area=False)
    return {n for n, values in enumerate(grid, 1) if not all(is_blank(v) for v in values)}
