"""The whole write path over every real workbook in the corpus, with contacts put into it.

For each file of ../shared/corpus/real-world and ../shared/corpus/sheetjs, a small contacts
table is typed into a worksheet by editing that sheet's XML in its own prefixes (the header in
the first row within the first 20 where the reader will take it, right of everything already in
the table's rows); `followup run`
runs on it, then `followup done` records a follow-up, which adds the Log sheet. After each:

* nothing crashes: the command exits 0, or exits 3 with a one-line message and the file as it
  was;
* every part it wrote parses as namespace-well-formed XML; a written file loads in openpyxl
  where the file before the command did, and LibreOffice converts it where it converted the
  file before (all files in one LibreOffice run);
* the program's own cells (and the Log's rows) read back as the rules and the command say;
* every other part keeps its bytes: the run may change only the sheet, styles.xml (a date
  style) and table parts; done also the parts that list sheets, and it adds the Log's part.

The work is done once for all files (`outcomes`); each file's test then looks at its outcome.
Files whose first sheets already have a Name header (the reader would take that one) are run
on their own table, without the contacts typed in.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from cli_helpers import assert_namespace_well_formed, loads_in_openpyxl, zip_parts
from corpus import CORPUS, SHARED, SHEETJS, corpus_files, missing
from edit_helpers import invoke
from reading import read_contacts, read_log
from sheet_xml import edit_sheet, has_sheet_data, rows_and_widths, sheet_entries
from xlsx_helpers import soffice_convert

from followup.errors import WorkbookError
from followup.workbook.columns import match_header
from followup.workbook.sheet_guard import open_workbook

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # openpyxl on odd files

TODAY = "2026-03-11"
TABLE = [
    ["Name", "Email", "How we met", "Met on"],
    ["Ann Lee", "ann@example.com", "Networking event", "2026-03-05"],
    ["Bo Chen", "bo@example.com", "Referral", "2026-03-10"],
    ["Cy Park", "cy@example.com", "Job application", "2026-02-20"],
]
STATUSES = {"Ann Lee": "Overdue", "Bo Chen": "Upcoming", "Cy Park": "Overdue"}
OWNED = ["Next follow-up", "Follow-up status", "Suggested action", "Last reminded"]
FILES = [(CORPUS, name) for name in corpus_files(CORPUS)] + [
    (SHEETJS, name) for name in corpus_files(SHEETJS)
]


STEPS = {"run": ["run"], "done": ["done", "ann lee", "--note", "Coffee"]}
SHEET_LISTS = {"workbook.xml", "workbook.xml.rels", "[Content_Types].xml", "app.xml"}


@dataclass
class Step:
    """One command on one corpus file: the file before it, after it, and what it said."""

    before: Path
    after: Path
    exit_code: int
    output: str


@dataclass
class Outcome:
    """What happened to one corpus file."""

    name: str
    book: Path
    sheet: str | None = None  # where the contacts went; None: the file could not take them
    header_row: int = 0
    steps: dict[str, Step] = field(default_factory=dict)


def _place(book: Path) -> tuple[str, str, int, int] | None:
    """The sheet, zip entry, header row and first column for the contacts table, or None.

    The first worksheet where the table's header can be the reader's: a row within the first
    20 without any known column header, below no row with a Name header. The table goes right
    of every cell (and merged range) in its rows."""
    try:
        entries = sheet_entries(book)
        with zipfile.ZipFile(book) as archive:
            texts = {name: archive.read(entry).decode("utf-8") for name, entry in entries.items()}
        with open_workbook(book) as workbook:
            for sheet, text in texts.items():
                if not has_sheet_data(text):
                    continue
                found = workbook.sheet(sheet)
                values = found.to_python(skip_empty_area=False, nrows=20)
                header = _free_row(values)
                if header is not None:
                    merged = found.merged_cell_ranges or []
                    return sheet, entries[sheet], header, _free_column(text, merged, header)
    except (KeyError, WorkbookError, UnicodeError, zipfile.BadZipFile):
        return None
    return None


def _free_row(values: list[list[object]]) -> int | None:
    """The first row (1-based) that holds no known header, below none that holds a Name."""
    for index in range(20 - len(TABLE) + 1):
        row = values[index] if index < len(values) else []
        keys = [c.key for v in row if isinstance(v, str) and (c := match_header(v)) is not None]
        if not keys:
            return index + 1
        if "name" in keys:
            return None
    return None


def _free_column(text: str, merged: list, header: int) -> int:
    """The column two right of every cell and merged range in the table's rows."""
    rows = range(header, header + len(TABLE))
    widths = rows_and_widths(text)
    right = max(widths.get(row, 0) for row in rows)
    for (top, _left), (bottom, last) in merged:
        if top + 1 <= rows[-1] and bottom + 1 >= rows[0]:
            right = max(right, last + 1)
    return right + 2


def _prepare(source: Path, folder: Path) -> Outcome:
    """The corpus file copied into `folder` with the contacts typed in, and a config."""
    folder.mkdir(parents=True)
    book = folder / source.name
    shutil.copyfile(source, book)
    outcome = Outcome(source.name, book)
    place = _place(book) if zipfile.is_zipfile(book) else None
    sheet = ""
    if place is not None:
        sheet, entry, header, col = place
        cells = {
            (header + r, col + c): value
            for r, values in enumerate(TABLE)
            for c, value in enumerate(values)
        }
        edit_sheet(book, entry, cells)
        outcome.sheet, outcome.header_row = sheet, header
    extra = f"sheet = {json.dumps(sheet)}\n" if sheet else ""
    (folder / "config.toml").write_text(
        f"[workbook]\npath = {json.dumps(book.name)}\n{extra}", encoding="utf-8"
    )
    return outcome


def _step(outcome: Outcome, name: str) -> None:
    """Run one of STEPS, keeping a copy of the file from before and after it."""
    book = outcome.book
    before = shutil.copyfile(book, book.with_name(f"before-{name}{book.suffix}"))
    done = invoke(book.parent, *STEPS[name], today=TODAY)
    output = done.output
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        output += repr(done.exception)
    after = shutil.copyfile(book, book.with_name(f"after-{name}{book.suffix}"))
    outcome.steps[name] = Step(before, after, done.exit_code, output)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every corpus file prepared, run on, and then told about a follow-up."""
    root = tmp_path_factory.mktemp("corpus")
    found: dict[str, Outcome] = {}
    for folder, name in FILES:
        outcome = _prepare(folder / name, root / folder.name / name.replace(".", "_"))
        _step(outcome, "run")
        if outcome.sheet is not None and outcome.steps["run"].exit_code == 0:
            _step(outcome, "done")
        found[f"{folder.name}/{name}"] = outcome
    return found


@pytest.fixture(scope="module")
def converted(outcomes: dict[str, Outcome], tmp_path_factory: pytest.TempPathFactory):
    """The files LibreOffice converted to csv (in one run for them all)."""
    root = tmp_path_factory.mktemp("csv")
    files = {
        path
        for outcome in outcomes.values()
        for step in outcome.steps.values()
        for path in (step.before, step.after)
    }
    # One copy of each distinct file: a step's "after" is often the next one's "before", and a
    # refused run leaves the file as it was.
    by_content = {hashlib.sha256(path.read_bytes()).hexdigest(): path for path in sorted(files)}
    copies = {key: root / f"{key[:16]}{path.suffix}" for key, path in by_content.items()}
    for key, copy in copies.items():
        shutil.copyfile(by_content[key], copy)
    done = soffice_convert(list(copies.values()), "csv", root / "out")
    if done is None:
        pytest.skip("LibreOffice is not installed")
    opened = {key for key, csv in zip(copies, done, strict=True) if csv.is_file()}
    return {path for path in files if hashlib.sha256(path.read_bytes()).hexdigest() in opened}


def _changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    """The parts a run changed or added, but for styles.xml and table parts (and the links to a
    styles part it had to add): what must be the one sheet it wrote."""
    added = set(after) - set(before)
    assert set(before) <= set(after)
    assert {_base(entry) for entry in added} <= {"styles.xml"}, added
    links = {"[Content_Types].xml"} | {e for e in before if e.endswith("workbook.xml.rels")}
    changed = {e for e in before if before[e] != after[e]} - (links if added else set())
    return {
        entry for entry in changed if not re.fullmatch(r"styles\.xml|table\d+\.xml", _base(entry))
    }


def check(outcome: Outcome, name: str, converted: set[Path]) -> None:
    """The checks of the module's docstring, for one step."""
    step = outcome.steps[name]
    assert step.exit_code in (0, 3), step.output
    assert "Traceback" not in step.output and "unexpected error" not in step.output
    if step.exit_code == 3:
        assert step.output.strip().count("\n") == 0, step.output  # one line
        assert step.after.read_bytes() == step.before.read_bytes()
        return
    before, after = zip_parts(step.before), zip_parts(step.after)
    for entry in after.keys() - before.keys() | {e for e in before if before[e] != after[e]}:
        assert_namespace_well_formed(after[entry], entry)
    if loads_in_openpyxl(step.before):
        assert loads_in_openpyxl(step.after), "openpyxl loaded the file before, not after"
    if step.before in converted:
        assert step.after in converted, "LibreOffice converted the file before, not after"
    if name == "done":
        _check_done(outcome, before, after)
    elif "Wrote " not in step.output:
        assert before == after, step.output
    elif outcome.sheet is not None:
        assert _changed(before, after) == {sheet_entries(step.before)[outcome.sheet]}
        _check_statuses(outcome, step.after)
    else:  # the file's own contacts table
        assert len(_changed(before, after)) == 1


def _check_statuses(outcome: Outcome, book: Path) -> None:
    assert outcome.sheet is not None
    contents = read_contacts(book, outcome.sheet)
    by_name = {c.name: c.row for c in contents.contacts}
    held = {name: contents.owned_values.get(by_name.get(name, 0)) for name in STATUSES}
    assert {name: cells and cells[1] for name, cells in held.items()} == STATUSES, held
    if loads_in_openpyxl(book):
        workbook = openpyxl.load_workbook(book)
        if outcome.sheet in workbook.sheetnames:  # openpyxl sees no sheets in strict OOXML
            header = [cell.value for cell in workbook[outcome.sheet][outcome.header_row]]
            assert [h for h in header if h in OWNED] == OWNED


def _check_done(outcome: Outcome, before: dict[str, bytes], after: dict[str, bytes]) -> None:
    """Last contact and Follow-ups in the contacts sheet, and a new Log sheet holding the row."""
    step = outcome.steps["done"]
    assert outcome.sheet is not None
    assert "logged on a new sheet" in step.output, step.output
    added = set(after) - set(before)
    assert set(before) <= set(after)
    new_sheets = {e for e in added if _base(e).startswith("sheet")}
    assert len(new_sheets) == 1 and added - new_sheets <= _styles(added), added
    changed = {e for e in before if before[e] != after[e]}
    sheet = sheet_entries(step.before)[outcome.sheet]
    others = {e for e in changed - {sheet} if _base(e) not in SHEET_LISTS}
    assert {_base(e) for e in others} <= {"styles.xml"}, others
    log = read_log(step.after, contacts=outcome.sheet)
    assert [(e.name, e.note) for e in log.entries] == [("Ann Lee", "Coffee")]
    contacts = {c.name: c for c in read_contacts(step.after, outcome.sheet).contacts}
    assert (contacts["Ann Lee"].last_contact, contacts["Ann Lee"].follow_ups) == (
        date.fromisoformat(TODAY),
        1,
    )


def _styles(entries: set[str]) -> set[str]:
    return {e for e in entries if _base(e) == "styles.xml"}


def _base(entry: str) -> str:
    """A zip entry's file name (some writers separate folders with a backslash)."""
    return entry.replace("\\", "/").rsplit("/", 1)[-1]


def _cases() -> list[object]:
    return [
        pytest.param(f"{folder.name}/{name}", step) for folder, name in FILES for step in STEPS
    ] or [pytest.param("(no corpus)", "run", marks=pytest.mark.skip(reason=missing(SHARED)))]


@pytest.mark.parametrize(("key", "step"), _cases())
def test_a_corpus_file_with_contacts_typed_in_is_written_cleanly_or_refused(
    key: str, step: str, outcomes: dict[str, Outcome], converted: set[Path]
) -> None:
    outcome = outcomes[key]
    if step not in outcome.steps:
        pytest.skip("no contacts typed in, or the run refused the file")
    check(outcome, step, converted)


def test_most_corpus_files_take_the_contacts_and_are_written(
    outcomes: dict[str, Outcome],
) -> None:
    if not outcomes:
        pytest.skip(missing(SHARED))
    runs = {key: outcome.steps["run"] for key, outcome in outcomes.items()}
    written = [key for key, step in runs.items() if step.exit_code == 0]
    typed = [key for key, outcome in outcomes.items() if outcome.sheet is not None]
    refused = {key: step.output.strip() for key, step in runs.items() if step.exit_code == 3}
    print(
        f"\n{len(outcomes)} files, {len(typed)} took the contacts table, {len(written)} "
        f"written, {len(refused)} refused"
    )
    for key in sorted(set(outcomes) - set(typed)):
        print(f"  no table: {key}: {runs[key].output.strip()[:100]}")
    for key, why in sorted(refused.items()):
        print(f"  refused {key}: {why[:150]}")
    assert len(written) >= 100, refused
