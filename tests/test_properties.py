"""Property-based tests: no value a user can type, a file can hold or the schema admits ends in
a traceback.

The pure core (the rules), the parsers (cells, config, import files) and the text a save writes
are each given whatever hypothesis can think of. Examples that run a real save are few, so the
suite stays fast; the pure ones are many.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import sheet_values, write_config
from edit_helpers import invoke, log_rows
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from workbooks import make_workbook

from followup.commands.importers import decode, read_linkedin, read_vcard
from followup.config import SCHEMA, config_from
from followup.core.model import FIRST_DAY, LAST_DAY, MAX_DAYS, Contact, HowMet, Stage, Status
from followup.core.rules import follow_up
from followup.errors import ConfigError, UsageError
from followup.settings import Config
from followup.workbook.cells import (
    MAX_COUNT,
    Invalid,
    new_cell_text,
    parse_cadence,
    parse_count,
    parse_date,
    parse_how_met,
    parse_priority,
    parse_stage,
    parse_text,
    storable_text,
)
from followup.workbook.xlsx import patch_sheet

PURE = settings(max_examples=400, deadline=None)
SAVES = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

EXCEL_DAYS = (
    st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31))
    | st.dates(min_value=date(9990, 1, 1), max_value=date(9999, 12, 31))
    | st.dates(min_value=date(1900, 1, 1), max_value=date(1900, 12, 31))
)
"""Every day a cell can hold, serial 1 (1900-01-01) to serial 2958465 (9999-12-31), with its
ends drawn often: that is where adding days overflows."""
TODAYS = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)
DAYS = st.integers(min_value=1, max_value=MAX_DAYS)


# --- the rules -------------------------------------------------------------------------------

contacts = st.builds(
    Contact,
    row=st.integers(min_value=2, max_value=1_048_576),
    name=st.text(min_size=1, max_size=8),
    email=st.text(max_size=3),
    phone=st.text(max_size=3),
    linkedin=st.text(max_size=3),
    how_met=st.sampled_from(HowMet),
    met_on=st.none() | EXCEL_DAYS,
    last_contact=st.none() | EXCEL_DAYS,
    follow_ups=st.integers(min_value=0, max_value=MAX_COUNT),
    priority=st.sampled_from(["A", "B", "C"]),
    cadence=st.none() | DAYS,
    follow_up_on=st.none() | EXCEL_DAYS,
    stage=st.sampled_from(Stage),
    referred_by=st.text(max_size=8),
    logged_touches=st.integers(min_value=0, max_value=MAX_COUNT),
    replied_on=st.none() | EXCEL_DAYS,
)

rule_tables = st.fixed_dictionaries(
    {
        "steps": st.fixed_dictionaries({how.value: st.lists(DAYS, max_size=4) for how in HowMet}),
        "cadence": st.fixed_dictionaries({tier: DAYS for tier in "ABC"}),
        "stop_after_steps": st.lists(st.sampled_from([h.value for h in HowMet]), unique=True),
        "nudge_days": st.integers(0, MAX_DAYS),
        "declined_days": st.integers(0, MAX_DAYS),
        "max_unanswered": st.integers(1, 1000),
        "rest_days": st.integers(0, MAX_DAYS),
        "skip_weekends": st.booleans(),
    }
)


def rules_from_schema(table: dict[str, Any], lookahead: int, tmp: Path) -> Config:
    """Settings as the config schema admits them: through the schema, not around it."""
    return config_from(
        {"rules": table, "digest": {"lookahead_days": lookahead}}, tmp / "config.toml"
    )


@PURE
@given(contacts, TODAYS, rule_tables, st.integers(0, MAX_DAYS))
def test_follow_up_returns_for_any_contact_any_settings_and_any_day(
    contact: Contact, today: date, table: dict[str, Any], lookahead: int
) -> None:
    config = rules_from_schema(table, lookahead, Path("/nonexistent"))
    result = follow_up(contact, today, config.rules)
    assert result.status in Status
    if result.status is Status.OVERDUE:
        assert result.next_date is not None
        assert result.days_overdue == (today - result.next_date).days > 0
    else:
        assert result.days_overdue == 0
    read = (contact.met_on, contact.last_contact, contact.follow_up_on, contact.replied_on)
    if result.next_date is not None and all(d is None or d <= LAST_DAY for d in read):
        # Dates as the reader gives them: the next one is within ten years and a few days.
        assert result.next_date <= LAST_DAY + timedelta(days=MAX_DAYS + 2)


# --- cell parsers ----------------------------------------------------------------------------

cell_values = (
    st.text()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats()
    | st.booleans()
    | EXCEL_DAYS
    | st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31))
    | st.times()
    | st.timedeltas()
    | st.from_regex(r"\s*\d{1,5}([-/. ])\d{1,5}\1\d{1,5}\s*", fullmatch=True)
    | st.from_regex(r"\d{1,2} [A-Za-z]{3,9} \d{1,6}", fullmatch=True)
)


def parsed(result: object, kind: type, low: Any, high: Any) -> bool:
    """Blank, a refusal that says why, or a value of `kind` within its bounds; nothing else."""
    if result is None:
        return True
    if isinstance(result, Invalid):
        return bool(result.message.strip())
    return isinstance(result, kind) and low <= result <= high


@PURE
@given(cell_values, st.sampled_from(["MDY", "DMY"]))
def test_every_cell_parser_returns_a_value_blank_or_a_refusal(value: Any, order: str) -> None:
    assert parsed(parse_date(value, order), date, FIRST_DAY, LAST_DAY)  # type: ignore[arg-type]
    assert parsed(parse_count(value), int, 0, MAX_COUNT)
    assert parsed(parse_cadence(value), int, 1, MAX_DAYS)
    for parse in (parse_text, parse_priority, parse_how_met, parse_stage):
        parse(value)


# --- config ----------------------------------------------------------------------------------

toml_values = st.recursive(
    st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.dates()
    | st.times()
    | st.datetimes()
    | st.sampled_from(["", "07:30", "Europe/London", "Europe", "none", "ssl", "a@b.c", "A"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=8,
)


@PURE
@given(st.sampled_from(SCHEMA), toml_values)
def test_any_config_value_is_taken_or_refused_naming_its_key(key: Any, value: Any) -> None:
    raw: dict[str, dict[str, Any]] = {"digest": {"to": "me@example.com"}}  # smtp needs it
    raw.setdefault(key.section, {})[key.name] = value
    try:
        config = config_from(raw, Path("/nonexistent/config.toml"))
    except ConfigError as err:
        assert f"[{key.section}] {key.name}" in str(err)
        return
    # Taken: then it is a value the program can work with.
    rules = config.rules
    numbers = [rules.nudge_days, rules.declined_days, rules.rest_days, rules.lookahead_days]
    numbers += [*rules.cadence.values(), *(d for days in rules.steps.values() for d in days)]
    assert all(0 <= n <= MAX_DAYS for n in numbers)
    assert 1 <= rules.max_unanswered <= 1000
    assert 0 <= config.workbook.backups <= 1000 and 0 <= config.digest.max_items <= 10_000
    texts = [
        config.digest.to,
        config.digest.your_name,
        str(config.workbook.path),
        str(config.digest.outbox),
    ]
    assert not any(re.search(r"[\x00-\x1f]", text) for text in texts)
    if config.smtp is not None:
        assert 1 <= config.smtp.timeout <= 600 and 0 < config.smtp.port <= 65_535
        config.smtp.host.encode("idna")


# --- import files ----------------------------------------------------------------------------


@PURE
@given(st.binary(max_size=300) | st.text(max_size=200).map(lambda t: t.encode("utf-16")))
def test_any_file_is_decoded_or_refused_as_bad_usage(data: bytes) -> None:
    try:
        text = decode(data)
    except UsageError as err:
        assert re.match(r"Line \d+ ", str(err))
        return
    for read in (read_linkedin, read_vcard):
        with contextlib.suppress(UsageError):
            read(text)


LINKEDIN_HEADER = ["First Name", "Last Name", "URL", "Email Address", "Company", "Position"]


@PURE
@given(st.lists(st.lists(st.text(max_size=20), min_size=6, max_size=6), max_size=5))
def test_any_connections_file_reads_back_every_field(rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out).writerows([LINKEDIN_HEADER, *rows])
    people, _ = read_linkedin(out.getvalue())
    # A line break read from the file is a line feed, whether it was CR LF, LF or CR.
    fields = [[re.sub(r"\r\n?", "\n", cell).strip() for cell in row] for row in rows]
    kept = [row for row in fields if any(row)]
    assert len(people) == len(kept)
    for person, row in zip(people, kept, strict=True):
        assert person.name == " ".join(filter(None, row[:2]))
        assert (person.linkedin, person.email, person.company, person.role) == tuple(row[2:])


# --- text written into cells -----------------------------------------------------------------

cell_texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=60) | st.text(
    alphabet="_x0Dd1AFf\r\n\x01\x00 ", max_size=40
)


long_texts = st.builds(
    lambda text, length: (text * (length // len(text) + 1))[:length],
    cell_texts.filter(bool),
    st.integers(min_value=32_700, max_value=33_000),
)
"""Text around a cell's limit, in pieces that may straddle it (a CR LF, an emoji)."""


@SAVES
@given(texts=st.lists(cell_texts | long_texts, min_size=1, max_size=4))
def test_any_text_is_written_and_reads_back_as_its_cell_holds_it(
    tmp_path: Path, texts: list[str]
) -> None:
    src = make_workbook(tmp_path / "book.xlsx", [["Name", "Notes"], ["Ann", "x"]])
    dst = tmp_path / "patched.xlsx"
    patch_sheet(src, dst, "Contacts", {(3 + i, 2): text for i, text in enumerate(texts)})
    rows = sheet_values(dst, "Contacts")
    for i, text in enumerate(texts):
        expected = storable_text(text)
        assert (rows[2 + i][1] if len(rows) > 2 + i else "") == expected


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_workbook(
        tmp_path / "contacts.xlsx",
        [["Name", "Email", "Met on"], ["Ann Lee", "ann@example.com", date(2026, 3, 1)]],
    )
    write_config(tmp_path)
    return tmp_path


@SAVES
@given(note=cell_texts | long_texts)
@example(note="00\r0" * 8192)  # the cut leaves a line break at the end, which is not read
@example(note="Ann \x00")  # so does the character no cell holds
@example(note="a" * 32766 + " b")  # the cut leaves a space at the end, which is not read
@example(note="a" * 32766 + "\tb")
def test_any_done_note_is_logged_as_its_cell_holds_it(folder: Path, note: str) -> None:
    done = invoke(folder, "done", "ann", "--again", "--note", note)  # one folder, many runs
    assert done.exit_code == 0, done.output
    assert log_rows(folder / "contacts.xlsx")[-1][4] == new_cell_text(note.strip())[0]


@SAVES
@given(
    people=st.lists(
        st.tuples(st.text(min_size=1, max_size=12), st.text(max_size=12), cell_texts).map(
            lambda fields: tuple(re.sub("[\0\ud800-\udfff]", "", f) for f in fields)
        ),  # what a text file can hold (a NUL makes it a binary file: refused by line)
        min_size=1,
        max_size=3,
    )
)
@example(people=[("Ann", "Lee", "a" * 32766 + " b")])  # a space left at the end by the cut
def test_any_import_is_saved_and_reads_back(folder: Path, people: list[tuple[str, ...]]) -> None:
    """The save checks that every contact reads back as planned: exit 0 is that check passed."""
    out = io.StringIO()
    csv.writer(out).writerows(
        [[*LINKEDIN_HEADER, "Connected On"]]
        + [[first, last, "", "", "Acme", role, ""] for first, last, role in people]
    )
    export = folder / "Connections.csv"
    export.write_text(out.getvalue(), encoding="utf-8", newline="")
    done = invoke(folder, "import", "linkedin", str(export))
    assert done.exit_code == 0, done.output
