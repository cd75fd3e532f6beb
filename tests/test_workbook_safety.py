"""`followup run` never damages a workbook: the whole program on real and rich files.

Every test here runs the real command (in-process through click's CliRunner where many runs are
needed, as a subprocess where a real SMTP conversation is part of the story) and then looks at
the file it left behind: which zip parts changed, whether any user cell moved, whether Excel's
and LibreOffice's lock files are respected, what the backups hold, and whether workbook text
ever turns into a formula or live HTML.
"""

from __future__ import annotations

import contextlib
import copy
import re
import shutil
import signal
import stat
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from aiosmtpd.controller import Controller
from cli_helpers import (
    followup,
    outbox_messages,
    sheet_values,
    soffice_csv,
    write_config,
    zip_parts,
)
from click.testing import CliRunner, Result
from corpus import CORPUS, corpus_file, corpus_files, corpus_params
from corpus import missing as corpus_missing
from openpyxl.cell.cell import Cell
from python_calamine import CalamineWorkbook
from reading import read_contacts
from smtp_server import HOST, free_port
from workbooks import make_workbook
from xlsx_helpers import FIRST_FREE_COL, LAST_ROW, rich_workbook, soffice_convert

from followup.cli import cli
from followup.workbook.xlsx import patch_sheet

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")

TODAY = "2026-03-11"
OWNED = ["Next follow-up", "Follow-up status", "Suggested action", "Last reminded"]
# What the reader says when it cannot use a file (followup/reader.py).
REFUSALS = ("is password-protected", "There is no Name column", "is not an Excel workbook")
RUN_TIMEOUT = 20  # seconds; no single run on these small files comes near it


# --- running the program ---------------------------------------------------------------------


class RunHung(BaseException):
    """A run took longer than RUN_TIMEOUT (not an Exception, so the CLI cannot swallow it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the test's own thread after `seconds` (a hang fails instead of blocking)."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise RunHung(f"followup run took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run(folder: Path, *args: str, today: str = TODAY) -> Result:
    """`followup run --today TODAY ARGS` with folder/config.toml, in this process."""
    config = str(folder / "config.toml")
    with time_limit(RUN_TIMEOUT):
        return CliRunner().invoke(cli, ["run", "--config", config, "--today", today, *args])


def assert_no_crash(done: Result) -> None:
    """Exit 0 or 3 with the program's own message: never a traceback, never exit 1."""
    assert done.exit_code in (0, 3), done.output
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    assert "Traceback" not in done.output and "unexpected error" not in done.output


# --- looking at workbooks --------------------------------------------------------------------


def changed_parts(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def assert_only_owned_parts_changed(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    """One worksheet part changed; besides it only styles and tables, or a styles part added."""
    changed = changed_parts(before, after)
    base = {name: name.replace("\\", "/").rsplit("/", 1)[-1] for name in changed}
    sheets = {name for name, file in base.items() if re.fullmatch(r"sheet\d+\.xml", file)}
    assert len(sheets) == 1, changed
    allowed = {"styles.xml"}
    if set(after) - set(before):  # a workbook without styles gets one, and the links to it
        assert {base[name] for name in set(after) - set(before)} == {"styles.xml"}
        allowed |= {"workbook.xml.rels", "[Content_Types].xml"}
    assert set(before) <= set(after)
    others = {base[name] for name in changed - sheets}
    assert {f for f in others if not re.fullmatch(r"table\d+\.xml", f)} <= allowed, changed


def owned_header_row(book: Path) -> tuple[str, list[object]] | None:
    """The sheet and header row holding the four owned headers in order, if any (side by side
    unless a column of the user's was in the way)."""
    workbook = CalamineWorkbook.from_path(str(book))
    try:
        for name in workbook.sheet_names:
            with contextlib.suppress(Exception):  # chart sheets have no cells
                for row in workbook.get_sheet_by_name(name).to_python(skip_empty_area=False):
                    if [value for value in row if value in OWNED] == OWNED:
                        return name, row
    finally:
        workbook.close()
    return None


def owned_columns(path: Path, sheet: str, header_row: int = 1) -> dict[str, int]:
    """Column number of each owned header in the written sheet (openpyxl, 1-based)."""
    ws = openpyxl.load_workbook(path)[sheet]
    return {c.value: c.column for c in ws[header_row] if c.value in OWNED}


def looks(cell: Cell) -> tuple[object, ...]:
    """A cell's number format, font, fill and border, as comparable values."""
    return (cell.number_format, *(copy.copy(p) for p in (cell.font, cell.fill, cell.border)))


def assert_user_cells_unchanged(before: Path, after: Path, skip_columns: set[int]) -> None:
    """Every cell of every sheet outside `skip_columns` of the contacts sheet is as it was:
    value or formula, cached value, number format, font, fill and border."""
    for data_only in (False, True):
        old_book = openpyxl.load_workbook(before, data_only=data_only)
        new_book = openpyxl.load_workbook(after, data_only=data_only)
        assert new_book.sheetnames == old_book.sheetnames
        for name in old_book.sheetnames:
            old, new = old_book[name], new_book[name]
            skip = skip_columns if name == "Contacts" else set()
            rows = max(old.max_row, new.max_row)
            cols = max(old.max_column, new.max_column)
            for row in range(1, rows + 1):
                for col in range(1, cols + 1):
                    if col in skip:
                        continue
                    was, now = old.cell(row, col), new.cell(row, col)
                    where = f"{name}!{was.coordinate} (data_only={data_only})"
                    assert now.value == was.value, where
                    assert looks(now) == looks(was), where


def digest_parts(folder: Path) -> tuple[str, str]:
    """The one digest in the outbox: its plain text and its HTML."""
    [message] = outbox_messages(folder / "outbox")
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


# --- 1. the real-world corpus ----------------------------------------------------------------


def corpus_folder(name: str, folder: Path) -> Path:
    """A writable copy of a corpus file in `folder`, with a config pointing at it."""
    source = corpus_file(name)
    folder.mkdir(parents=True, exist_ok=True)
    book = folder / name
    shutil.copyfile(source, book)  # keeps the extension; drops the read-only bits
    write_config(folder, workbook=name)
    return book


def as_contacts_sheet(book: Path) -> None:
    """Type "Name" into A1 of the first sheet, as a user adopting the file would (the program's
    writer does it, so a run has a Name column to find). Unreadable files stay as they are."""
    with contextlib.suppress(Exception):
        first = CalamineWorkbook.from_path(str(book)).sheet_names[0]
        typed = book.with_name(f"typed-{book.name}")
        patch_sheet(book, typed, first, {(1, 1): "Name"})
        typed.replace(book)


def check_corpus_run(book: Path) -> str:
    """Run on `book`; assert it was written cleanly or refused untouched; say which."""
    before_bytes = book.read_bytes()
    before: dict[str, bytes] = {}
    with contextlib.suppress(zipfile.BadZipFile):  # not a zip, or a damaged one
        before = zip_parts(book)
    done = run(book.parent)
    assert_no_crash(done)
    if done.exit_code == 3:
        assert any(reason in done.output for reason in REFUSALS), done.output
        assert book.read_bytes() == before_bytes
        return "refused"
    assert "Wrote " in done.output, done.output
    assert_only_owned_parts_changed(before, zip_parts(book))
    assert owned_header_row(book) is not None
    return "written"


@pytest.mark.parametrize("name", corpus_params())
def test_corpus_file_as_it_is(tmp_path: Path, name: str) -> None:
    check_corpus_run(corpus_folder(name, tmp_path))


# Files that still have no usable Name column after "Name" is typed into A1 (A1 holds a formula
# or a table header the writer will not overwrite, or the first sheet's rows are elsewhere), or
# that cannot be read at all.
STILL_REFUSED = {
    "column_row_ranges.xlsx", "errors.xlsx", "formula.issue.xlsx", "inventory-table.xlsx",
    "issue252.xlsx", "issue_565_multi_axis_shared.xlsx", "issue_567_absolute_shared.xlsx",
    "pass_protected.xlsx", "table-multiple.xlsx", "temperature-table.xlsx",
}  # fmt: skip


# Files whose A1, where "Name" is typed, is the first cell of a merged title across the next
# columns: the owned columns go right of it, where no merged range hides them.
MERGED_TITLE = {
    "hyperlinks.xlsx", "issue_261.xlsx", "issue_261_fixed_by_excel.xlsx", "minimal_package.xlsx",
    "richtext-namespaced.xlsx",
}  # fmt: skip


@pytest.mark.parametrize("name", corpus_params())
def test_corpus_file_with_a_name_column(tmp_path: Path, name: str) -> None:
    """The same file once its first sheet has a Name header: now most of them are written."""
    book = corpus_folder(name, tmp_path)
    as_contacts_sheet(book)
    outcome = check_corpus_run(book)
    assert outcome == ("refused" if name in STILL_REFUSED else "written")
    if name in MERGED_TITLE:  # their owned headers were once written into the hidden cells
        assert not read_contacts(book).hidden


def test_libreoffice_opens_every_written_corpus_file(tmp_path: Path) -> None:
    if not corpus_files():
        pytest.skip(corpus_missing(CORPUS))
    written = []
    for name in corpus_files():
        book = corpus_folder(name, tmp_path / Path(name).stem)
        as_contacts_sheet(book)
        if run(book.parent).exit_code == 0:
            written.append(book)
    assert len(written) == len(corpus_files()) - len(STILL_REFUSED)
    converted = soffice_convert(written, "csv", tmp_path / "csv")
    if converted is None:
        pytest.skip("LibreOffice is not installed")
    unopened = [book for book, csv in zip(written, converted, strict=True) if not csv.is_file()]
    # LibreOffice cannot open issue_530.xlsx as Excel made it, either: that is not our doing.
    assert [book.name for book in unopened] == ["issue_530.xlsx"]
    originals = soffice_convert([CORPUS / b.name for b in unopened], "csv", tmp_path / "original")
    assert originals is not None and not any(csv.is_file() for csv in originals)
    opened = [csv for csv in converted if csv.is_file()]
    missing = [
        csv.name
        for csv in opened
        if not any(
            [cell for cell in line.split(",") if cell in OWNED] == OWNED
            for line in csv.read_text("utf-8").splitlines()
        )
    ]
    # pivots.xlsx: "Name" was typed over a pivot table's page field; LibreOffice redraws the
    # pivot table when it loads the file, so the owned columns go right of its output.
    assert missing == []


# --- 2. rich workbooks -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def resaved_rich(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rich workbook after LibreOffice opened and saved it."""
    folder = tmp_path_factory.mktemp("resaved")
    converted = soffice_convert([rich_workbook(folder / "rich.xlsx")], "xlsx", folder / "lo")
    if converted is None:
        pytest.skip("LibreOffice is not installed")
    return converted[0]


@pytest.fixture(params=["xlsxwriter", "libreoffice"])
def rich_run(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path, Result]:
    """A run on the rich contacts workbook: (copy from before, the workbook, the run)."""
    folder = tmp_path / "work"
    folder.mkdir()
    book = folder / "contacts.xlsx"
    if request.param == "xlsxwriter":
        rich_workbook(book)
    else:
        shutil.copyfile(request.getfixturevalue("resaved_rich"), book)
    before = shutil.copyfile(book, tmp_path / "before.xlsx")
    write_config(folder)
    return before, book, run(folder)


def test_rich_workbook_only_the_contacts_sheet_styles_and_table_change(rich_run) -> None:
    before, book, done = rich_run
    assert done.exit_code == 0, done.output
    old, new = zip_parts(before), zip_parts(book)
    changed = changed_parts(old, new)
    assert "xl/worksheets/sheet1.xml" in changed
    assert changed <= {"xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/tables/table1.xml"}
    assert set(new) == set(old)


def test_rich_workbook_user_cells_keep_value_formula_cache_and_style(rich_run) -> None:
    before, book, done = rich_run
    assert done.exit_code == 0, done.output
    owned = owned_columns(book, "Contacts")
    assert list(owned) == OWNED
    assert list(owned.values()) == list(range(FIRST_FREE_COL, FIRST_FREE_COL + 4))
    assert_user_cells_unchanged(before, book, set(owned.values()))
    written = openpyxl.load_workbook(book)
    assert written["Summary"]["B2"].value == f"=SUM(Contacts!F2:F{LAST_ROW})"
    assert written["Contacts"]["G2"].value == "=F2*10"
    statuses = [written["Contacts"].cell(r, owned["Follow-up status"]).value for r in (2, 5)]
    assert statuses == ["Scheduled", "Overdue"]  # Ann: A, met 2 Mar; Di: B, met 1 Dec


def test_rich_workbook_table_grows_over_the_owned_columns(rich_run) -> None:
    _before, book, done = rich_run
    assert done.exit_code == 0, done.output
    sheet = openpyxl.load_workbook(book)["Contacts"]
    [table] = sheet.tables.values()
    assert table.ref == f"A1:K{LAST_ROW}"
    names = [column.name for column in table.tableColumns]
    assert names[-4:] == OWNED
    assert names == [cell.value for cell in sheet[1][: len(names)]]  # names match the headers


def test_rich_workbook_opens_in_libreoffice(rich_run, tmp_path: Path) -> None:
    _before, book, done = rich_run
    assert done.exit_code == 0, done.output
    csv = soffice_csv(book, tmp_path / "csv")
    if csv is None:
        pytest.skip("LibreOffice is not installed")
    lines = csv.splitlines()
    assert lines[0] == "Name,Company,Email,Met on,Priority,Touches,Score," + ",".join(OWNED)
    assert lines[1].startswith("Ann Lee,Acme,ann@example.com,2026-03-02,A,1,10,")


def vba_project() -> bytes:
    """The macros of the corpus's vba.xlsm, made by Excel."""
    with zipfile.ZipFile(corpus_file("vba.xlsm")) as archive:
        return archive.read("xl/vbaProject.bin")


def test_macros_survive_a_run_on_an_xlsm(tmp_path: Path) -> None:
    macros = tmp_path / "vbaProject.bin"
    macros.write_bytes(vba_project())
    book = tmp_path / "contacts.xlsm"
    rows = [["Name", "Email", "Met on"], ["Ann", "a@x.org", date(2026, 3, 2)]]
    make_workbook(book, rows, customize=lambda workbook, _sheet: workbook.add_vba_project(macros))
    write_config(tmp_path, workbook="contacts.xlsm")
    before = zip_parts(book)
    assert "xl/vbaProject.bin" in before

    done = run(tmp_path)
    assert done.exit_code == 0, done.output
    after = zip_parts(book)
    assert after["xl/vbaProject.bin"] == macros.read_bytes()
    assert changed_parts(before, after) <= {"xl/worksheets/sheet1.xml", "xl/styles.xml"}
    assert "sheet.macroEnabled.main+xml" in after["[Content_Types].xml"].decode()
    assert sorted(p.name for p in tmp_path.glob("contacts*")) == ["contacts.xlsm"]
    assert sheet_values(book, "Contacts")[0][3:] == OWNED


# --- 3. open and changed workbooks ------------------------------------------------------------


CONTACTS = [
    ["Name", "Email", "How we met", "Met on"],
    ["Ann Lee", "ann@example.com", "Networking event", date(2026, 3, 5)],  # overdue
    ["Bo Chen", "bo@example.com", "Referral", date(2026, 3, 10)],  # upcoming
]


@pytest.fixture
def contacts(tmp_path: Path) -> Path:
    """A folder with a small contacts workbook (one contact overdue every day) and a config."""
    make_workbook(tmp_path / "contacts.xlsx", CONTACTS)
    write_config(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("lock_name", "app"),
    [(".~lock.contacts.xlsx#", "LibreOffice"), ("~$ntacts.xlsx", "Excel")],
    ids=["libreoffice", "excel-long-name"],
)
def test_an_open_workbook_is_not_written_until_it_is_closed(
    contacts: Path, lock_name: str, app: str
) -> None:
    book = contacts / "contacts.xlsx"
    lock = contacts / lock_name
    lock.write_text(",someone,host,11.03.2026 08:00,file:///home/someone;")
    before = book.read_bytes()

    done = run(contacts)
    assert done.exit_code == 0, done.output
    assert book.read_bytes() == before
    assert f"open in {app}: not written" in done.output
    text, html = digest_parts(contacts)
    for part in (text, html):
        assert f"open in {app}" in part and "written on the next run" in part

    lock.unlink()
    again = run(contacts)  # the same day: no second digest, but the statuses are written now
    assert again.exit_code == 0, again.output
    assert "Wrote " in again.output
    assert sheet_values(book, "Contacts")[0][4:] == OWNED
    assert sheet_values(book, "Contacts")[1][5] == "Overdue"


CY = ["Cy Park", "cy@example.com", "Referral", date(2026, 3, 6)]  # added by the user mid-run


class SaveWhileSending:
    """An SMTP server (aiosmtpd handler) during whose DATA the user saves the workbook, as
    Excel does: a new file written beside it and renamed over it."""

    def __init__(self, book: Path) -> None:
        self.book = book
        self.saved = b""
        self.received = 0

    async def handle_DATA(self, _server: object, _session: object, _envelope: object) -> str:
        staged = self.book.with_name("saving.tmp")
        make_workbook(staged, [*CONTACTS, CY])
        self.saved = staged.read_bytes()
        staged.replace(self.book)
        self.received += 1
        return "250 Message accepted"


def test_a_workbook_saved_during_the_run_is_not_overwritten(contacts: Path) -> None:
    """Between reading the workbook and writing it back the program sends the digest; the test
    SMTP server saves the workbook right then, which is exactly the race a user can cause."""
    book = contacts / "contacts.xlsx"
    server = SaveWhileSending(book)
    port = free_port()
    controller = Controller(server, hostname=HOST, port=port)
    controller.start()
    try:
        write_config(
            contacts,
            f'[digest]\nto = "me@example.com"\n'
            f'[smtp]\nhost = "{HOST}"\nport = {port}\nsecurity = "none"\nfrom = "me@example.com"\n',
        )
        done = followup(contacts, "run", "--today", TODAY)
    finally:
        controller.stop()
    assert server.received == 1
    assert done.returncode == 0, done.stderr
    assert book.read_bytes() == server.saved  # the user's save stands, untouched
    said = done.stdout + done.stderr
    assert "changed while followup was working on it" in said
    assert "written on the next run" in said
    assert "Traceback" not in said

    again = followup(contacts, "run", "--today", TODAY)  # digest already sent: not resent
    assert again.returncode == 0, again.stderr
    values = sheet_values(book, "Contacts")
    assert values[0][4:] == OWNED
    assert [row[0] for row in values[1:]] == ["Ann Lee", "Bo Chen", "Cy Park"]
    assert values[3][5] == "Overdue"  # the contact the user added during the run


# --- 4. backups, permissions, symlinks --------------------------------------------------------


def test_backups_rotate_and_hold_the_previous_versions(contacts: Path) -> None:
    book = contacts / "contacts.xlsx"
    write_config(contacts, "backups = 2\n")
    book.chmod(0o640)
    versions = []
    for day in ("2026-03-11", "2026-03-12", "2026-03-13"):
        done = run(contacts, today=day)
        assert done.exit_code == 0, done.output
        assert "Wrote " in done.output  # Ann is overdue, so Last reminded changes every day
        versions.append(book.read_bytes())
        assert stat.S_IMODE(book.stat().st_mode) == 0o640

    backups = sorted((contacts / ".followup-backups").iterdir())
    assert len(backups) == 2
    assert [b.read_bytes() for b in backups] == versions[:2]  # before the 2nd and 3rd runs
    for backup in backups:
        assert sheet_values(backup, "Contacts")[1][0] == "Ann Lee"
    last_reminded = [sheet_values(b, "Contacts")[1][7] for b in backups]
    assert last_reminded == [date(2026, 3, 11), date(2026, 3, 12)]


def test_a_symlinked_workbook_stays_a_link(tmp_path: Path) -> None:
    synced = tmp_path / "synced"  # e.g. a cloud-synced folder the user links to
    synced.mkdir()
    real = make_workbook(synced / "contacts.xlsx", CONTACTS)
    real.chmod(0o640)
    home = tmp_path / "home"
    home.mkdir()
    (home / "contacts.xlsx").symlink_to(real)
    write_config(home)

    done = run(home)
    assert done.exit_code == 0, done.output
    link = home / "contacts.xlsx"
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert sheet_values(real, "Contacts")[0][4:] == OWNED
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in synced.iterdir()) == ["contacts.xlsx"]


# --- 5. injection ----------------------------------------------------------------------------


def test_workbook_text_never_becomes_a_formula_or_live_html(tmp_path: Path) -> None:
    book = tmp_path / "contacts.xlsx"
    header = ["Name", "Email", "LinkedIn", "How we met", "Met on", "Referred by", "Notes"]
    evil = [
        '=HYPERLINK("http://evil","x")', "evil@example.com", "javascript:alert(1)",
        "Referral", "2026-03-05", "=1+1", "<script>alert(1)</script>",
    ]  # fmt: skip
    workbook = xlsxwriter.Workbook(book)
    sheet = workbook.add_worksheet("Contacts")
    for row, values in enumerate([header, evil]):
        for col, value in enumerate(values):
            sheet.write_string(row, col, value)  # text cells, as typed after an apostrophe
    workbook.close()
    write_config(tmp_path)

    done = run(tmp_path)
    assert done.exit_code == 0, done.output
    ws = openpyxl.load_workbook(book)["Contacts"]
    owned = owned_columns(book, "Contacts")
    assert list(owned) == OWNED
    assert ws["A2"].value == evil[0] and ws["A2"].data_type == "s"
    for col in owned.values():
        for row in (1, 2):
            assert ws.cell(row, col).data_type != "f", ws.cell(row, col).coordinate
    xml = zip_parts(book)["xl/worksheets/sheet1.xml"].decode()
    for col in owned.values():
        letter = openpyxl.utils.get_column_letter(col)
        for cell in re.findall(rf'<c r="{letter}\d+".*?(?:/>|</c>)', xml):
            assert "<f" not in cell, cell

    text, html = digest_parts(tmp_path)
    assert "Overdue" in ws.cell(2, owned["Follow-up status"]).value
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html or "script" not in html  # shown escaped, if shown at all
    hrefs = re.findall(r"href\s*=\s*[\"']([^\"']*)", html, flags=re.I)
    assert hrefs and all(h.startswith(("http://", "https://", "mailto:", "tel:")) for h in hrefs)
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", html, flags=re.I)
    assert "=HYPERLINK(&quot;http://evil&quot;,&quot;x&quot;)" in html  # the name, escaped
    assert "HYPERLINK" in text


# --- 6. messy input --------------------------------------------------------------------------


def test_the_digest_lists_workbook_problems_with_their_cells_last(tmp_path: Path) -> None:
    rows = [
        ["Name", "Email", "How we met", "Met on", "Last contact"],
        ["Ann Lee", "ann@example.com", "Networking event", "next Tuesday"],
        ["Bo Chen", "bo@example.com", "Networking event", date(2026, 3, 5)],
        ["Bo Chen (work)", "BO@example.com", "Referral", date(2026, 3, 4)],
        ["Cy Park", "cy@example.com", "Referral", date(2026, 3, 1), date(2026, 2, 1)],
    ]
    book = make_workbook(tmp_path / "contacts.xlsx", rows)
    write_config(tmp_path)

    done = run(tmp_path)
    assert done.exit_code == 0, done.output
    text, html = digest_parts(tmp_path)
    problems = text.index("WORKBOOK PROBLEMS")
    assert problems > text.index("OVERDUE")
    tail = text[problems:]
    for cell, says in (("D2", "next Tuesday"), ("A4", "duplicate"), ("E5", "before")):
        assert f"Contacts!{cell}" in tail, cell
        assert says in tail[tail.index(f"Contacts!{cell}") :], cell
        assert f"Contacts!{cell}" in html
    assert "Contacts!D2" in html[html.index("Workbook problems") :]
    # Every row is still followed up, the bad date's row as Needs info.
    statuses = [row[6] for row in sheet_values(book, "Contacts")[1:]]
    assert statuses == ["Needs info", "Overdue", "Overdue", "Overdue"]


def test_a_run_leaves_no_temporary_file_behind(contacts: Path) -> None:
    done = run(contacts)
    assert done.exit_code == 0 and "Wrote " in done.output, done.output
    leftovers = [p.name for p in contacts.iterdir() if "followup-tmp" in p.name]
    assert leftovers == []


def test_a_link_to_a_missing_workbook_is_never_replaced_by_a_new_one(tmp_path: Path) -> None:
    """A link into a cloud folder that is not mounted: the first-run workbook must not take
    its place, or the user's real workbook would be cut off from followup for good."""
    gone = tmp_path / "Dropbox" / "contacts.xlsx"  # the folder is not there
    home = tmp_path / "home"
    home.mkdir()
    link = home / "contacts.xlsx"
    link.symlink_to(gone)
    write_config(home)

    for args in (["run"], ["status"], ["done", "ann"], ["snooze", "ann", "3"], ["doctor"]):
        config = str(home / "config.toml")
        done = CliRunner().invoke(cli, [*args, "--config", config, "--today", TODAY])
        assert done.exit_code == (1 if args == ["doctor"] else 3), (args, done.output)
        assert f"is a link to {gone}, which does not exist" in done.output, (args, done.output)
        assert link.is_symlink() and not gone.exists()
    assert not list(home.glob("*.xlsx.*")) and not list(home.glob(".contacts*"))

    init = CliRunner().invoke(cli, ["init", str(link), "--config", str(home / "config.toml")])
    assert init.exit_code == 2, init.output
    assert "is a link to" in init.output
    assert link.is_symlink() and not gone.exists()


def test_an_owned_cell_hidden_in_a_merged_range_is_left_alone_and_named(tmp_path: Path) -> None:
    """The owned columns are E:H; F2:G3 is merged, so F2 shows and G2, F3 and G3 are hidden:
    Excel would never show what was written there."""
    book = make_workbook(
        tmp_path / "contacts.xlsx",
        [CONTACTS[0] + OWNED, *CONTACTS[1:]],
        customize=lambda _book, sheet: sheet.merge_range("F2:G3", "Shared note"),
    )
    write_config(tmp_path)
    done = run(tmp_path)
    assert done.exit_code == 0, done.output
    assert "Wrote 5 cells in 2 rows" in done.output  # 8 before: G2, F3 and G3 too
    sheet = openpyxl.load_workbook(book)["Contacts"]
    assert [str(r) for r in sheet.merged_cells.ranges] == ["F2:G3"]
    assert sheet["F2"].value == "Overdue"  # the range's first cell shows: written
    assert [sheet[ref].value for ref in ("G2", "F3", "G3")] == [None, None, None]
    assert sheet["E3"].value is not None
    text, _ = digest_parts(tmp_path)
    assert (
        "Contacts!G2 This cell is inside the merged range F2:G3, which shows only its first "
        "cell, so followup does not write Suggested action here (nor in 2 more of its cells "
        "there)."
    ) in " ".join(text.split())
