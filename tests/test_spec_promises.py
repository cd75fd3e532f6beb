"""Promises of the product contract that no other test pins down one by one.

The expected values are written out here from the contract (header aliases, the spellings of
How we met and Status, the weekend rule on a Sunday, what a problem carries), never taken from
the product's own tables, so a change to those tables that breaks the contract fails here.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import followup, write_config
from click.testing import CliRunner
from reading import read_contacts

from followup.cli import cli
from followup.core.model import Contact, FollowUp, HowMet, RuleSettings, Stage, Status
from followup.core.rules import follow_up
from tests.workbooks import make_workbook

TODAY = date(2026, 3, 11)  # Wednesday, as in the worked examples

# (header as the user may type it, Contact field, cell value, value the field must get)
ALIASES = [
    ("Company", "company", "Acme", "Acme"),
    ("Organisation", "company", "Acme", "Acme"),
    ("Organization", "company", "Acme", "Acme"),
    ("Employer", "company", "Acme", "Acme"),
    ("Role", "role", "Data lead", "Data lead"),
    ("Title", "role", "Data lead", "Data lead"),
    ("Position", "role", "Data lead", "Data lead"),
    ("Job title", "role", "Data lead", "Data lead"),
    ("Email", "email", "ann@example.com", "ann@example.com"),
    ("E-mail", "email", "ann@example.com", "ann@example.com"),
    ("Email address", "email", "ann@example.com", "ann@example.com"),
    ("Phone", "phone", "+44 20 7946 0000", "+44 20 7946 0000"),
    ("Mobile", "phone", "+44 20 7946 0000", "+44 20 7946 0000"),
    ("Telephone", "phone", "+44 20 7946 0000", "+44 20 7946 0000"),
    ("LinkedIn", "linkedin", "https://www.linkedin.com/in/ann", "https://www.linkedin.com/in/ann"),
    (
        "LinkedIn URL",
        "linkedin",
        "https://www.linkedin.com/in/ann",
        "https://www.linkedin.com/in/ann",
    ),
    ("Profile", "linkedin", "https://www.linkedin.com/in/ann", "https://www.linkedin.com/in/ann"),
    ("How we met", "how_met", "Referral", HowMet.REFERRAL),
    ("Context", "how_met", "Referral", HowMet.REFERRAL),
    ("Relationship", "how_met", "Referral", HowMet.REFERRAL),
    ("Type", "how_met", "Referral", HowMet.REFERRAL),
    ("Met on", "met_on", "2026-03-02", date(2026, 3, 2)),
    ("Date met", "met_on", "2026-03-02", date(2026, 3, 2)),
    ("Applied on", "met_on", "2026-03-02", date(2026, 3, 2)),
    ("Meeting date", "met_on", "2026-03-02", date(2026, 3, 2)),
    ("Last contact", "last_contact", "2026-03-02", date(2026, 3, 2)),
    ("Last contacted", "last_contact", "2026-03-02", date(2026, 3, 2)),
    ("Last touch", "last_contact", "2026-03-02", date(2026, 3, 2)),
    ("Follow-ups", "follow_ups", 2, 2),
    ("Touches", "follow_ups", 2, 2),
    ("Follow-ups sent", "follow_ups", 2, 2),
    ("Priority", "priority", "A", "A"),
    ("Tier", "priority", "A", "A"),
    ("Cadence (days)", "cadence", 14, 14),
    ("Cadence", "cadence", 14, 14),
    ("Every (days)", "cadence", 14, 14),
    ("Follow up on", "follow_up_on", "2026-03-20", date(2026, 3, 20)),
    ("Snooze until", "follow_up_on", "2026-03-20", date(2026, 3, 20)),
    ("Remind on", "follow_up_on", "2026-03-20", date(2026, 3, 20)),
    ("Status", "stage", "Paused", Stage.PAUSED),
    ("Stage", "stage", "Paused", Stage.PAUSED),
    ("Referred by", "referred_by", "Bo Berg", "Bo Berg"),
    ("Notes", "notes", "Met at PyData", "Met at PyData"),
]


def only_contact(path: Path) -> Contact:
    contents = read_contacts(path, today=TODAY)
    assert contents.problems == ()
    (contact,) = contents.contacts
    return contact


@pytest.mark.parametrize(
    ("header", "field", "value", "expected"), ALIASES, ids=[a[0] for a in ALIASES]
)
def test_every_header_alias_fills_its_column(
    tmp_path: Path, header: str, field: str, value: object, expected: object
) -> None:
    path = make_workbook(tmp_path / "c.xlsx", [["Name", header], ["Ann Archer", value]])
    assert getattr(only_contact(path), field) == expected


@pytest.mark.parametrize("header", ["Name", "Full name", "Contact"])
def test_every_name_alias_finds_the_header_row(tmp_path: Path, header: str) -> None:
    path = make_workbook(
        tmp_path / "c.xlsx", [[header, "Company"], ["Ann Archer", "Acme"]], title_rows=2
    )
    contact = only_contact(path)
    assert (contact.row, contact.name, contact.company) == (4, "Ann Archer", "Acme")


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("  EMAIL ", "email"),
        ("e mail", "email"),
        ("How-we-met:", "how_met"),
        ("LAST_CONTACT", "last_contact"),
        ("Follow ups", "follow_ups"),
        ("Met on (date)", "met_on"),
        ("Cadence [days]", "cadence"),
    ],
)
def test_headers_match_ignoring_case_spaces_punctuation_and_a_unit(
    tmp_path: Path, header: str, field: str
) -> None:
    value = {"email": "ann@example.com", "how_met": "Referral", "follow_ups": 1, "cadence": 9}
    cell = value.get(field, "2026-03-02")
    path = make_workbook(tmp_path / "c.xlsx", [["Name", header], ["Ann Archer", cell]])
    contents = read_contacts(path, today=TODAY)
    assert contents.columns[field] == 2
    assert contents.problems == ()


@pytest.mark.parametrize(
    ("typed", "how_met"),
    [
        ("Networking event", HowMet.NETWORKING_EVENT),
        ("NETWORKING EVENT", HowMet.NETWORKING_EVENT),
        ("event", HowMet.NETWORKING_EVENT),
        ("Job application", HowMet.JOB_APPLICATION),
        ("application", HowMet.JOB_APPLICATION),
        ("Informational interview", HowMet.INFORMATIONAL_INTERVIEW),
        ("info interview", HowMet.INFORMATIONAL_INTERVIEW),
        ("Informational", HowMet.INFORMATIONAL_INTERVIEW),
        ("Referral", HowMet.REFERRAL),
        ("referral", HowMet.REFERRAL),
        ("Keep in touch", HowMet.KEEP_IN_TOUCH),
        # the aliases follow the order of the five values: network is your wider network
        ("network", HowMet.KEEP_IN_TOUCH),
        ("", HowMet.KEEP_IN_TOUCH),
    ],
)
def test_every_spelling_of_how_we_met(tmp_path: Path, typed: str, how_met: HowMet) -> None:
    path = make_workbook(tmp_path / "c.xlsx", [["Name", "How we met"], ["Ann Archer", typed]])
    assert only_contact(path).how_met == how_met


@pytest.mark.parametrize(
    ("typed", "stage"),
    [
        ("", Stage.ACTIVE),
        ("Active", Stage.ACTIVE),
        ("Waiting for reply", Stage.WAITING),
        ("Declined", Stage.DECLINED),
        ("Paused", Stage.PAUSED),
        ("Closed", Stage.CLOSED),
        ("Do not contact", Stage.DO_NOT_CONTACT),
    ],
)
def test_every_status_the_user_may_type(tmp_path: Path, typed: str, stage: Stage) -> None:
    path = make_workbook(tmp_path / "c.xlsx", [["Name", "Status"], ["Ann Archer", typed]])
    assert only_contact(path).stage == stage


@pytest.mark.parametrize(
    ("typed", "met_on"),
    [
        ("2026-03-11", date(2026, 3, 11)),
        ("3/11/2026", date(2026, 3, 11)),  # MDY, the default date_order
        ("11 Mar 2026", date(2026, 3, 11)),
        ("March 11, 2026", date(2026, 3, 11)),
    ],
)
def test_the_date_spellings_of_the_contract(tmp_path: Path, typed: str, met_on: date) -> None:
    path = make_workbook(tmp_path / "c.xlsx", [["Name", "Met on"], ["Ann Archer", typed]])
    assert only_contact(path).met_on == met_on


@pytest.mark.parametrize(
    ("header", "typed", "field", "default"),
    [
        ("Priority", "D", "priority", "B"),
        ("Cadence (days)", -3, "cadence", None),
        ("How we met", "speed dating", "how_met", HowMet.KEEP_IN_TOUCH),
        ("Met on", "last Tuesday", "met_on", None),
    ],
)
def test_a_bad_cell_is_a_problem_at_its_address_and_the_field_takes_its_default(
    tmp_path: Path, header: str, typed: object, field: str, default: object
) -> None:
    path = make_workbook(
        tmp_path / "c.xlsx", [["Name", "Company", header], ["Ann Archer", "Acme", typed]]
    )
    contents = read_contacts(path, today=TODAY)
    (problem,) = contents.problems
    assert (problem.sheet, problem.cell, problem.value) == ("Contacts", "C2", str(typed))
    assert problem.message.strip()
    (contact,) = contents.contacts
    assert (contact.company, getattr(contact, field)) == ("Acme", default)


def test_a_computed_sunday_moves_to_monday_and_a_saturday_step_too() -> None:
    # Met Friday 6 March at an event: +2 days is Sunday 8 March, which moves to Monday 9.
    sunday = follow_up(
        Contact(row=2, name="Ann", how_met=HowMet.NETWORKING_EVENT, met_on=date(2026, 3, 6)),
        TODAY,
        RuleSettings(),
    )
    assert sunday == FollowUp(date(2026, 3, 9), Status.OVERDUE, 2, sunday.action)


def test_status_json_problems_carry_sheet_cell_value_and_message(tmp_path: Path) -> None:
    make_workbook(
        tmp_path / "contacts.xlsx",
        [
            ["Name", "Priority", "Met on", "How we met"],
            ["Ann Archer", "D", "2026-03-09", "Networking event"],
        ],
    )
    write_config(tmp_path)
    done = followup(tmp_path, "status", "--json", "--today", "2026-03-11")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (problem,) = report["problems"]
    assert set(problem) == {"sheet", "cell", "value", "message"}
    assert (problem["sheet"], problem["cell"], problem["value"]) == ("Contacts", "B2", "D")
    (contact,) = report["contacts"]
    assert contact["row"] == 2
    assert contact["status"] == "due-today"  # the problem did not stop the row being used


# The contract's commands, then those the issues added.
SPEC_COMMANDS = ["run", "status", "preview", "done", "snooze", "schedule", "doctor", "init"]
ISSUE_COMMANDS = ["import", "undo", "sync"]


@pytest.mark.parametrize("command", SPEC_COMMANDS + ISSUE_COMMANDS)
def test_every_command_takes_config_and_today_after_its_name(command: str) -> None:
    shown = CliRunner().invoke(cli, [command, "--help"])
    assert shown.exit_code == 0, shown.output
    assert "--config PATH" in shown.output
    assert "--today YYYY-MM-DD" in shown.output


README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_readme_shows_the_pipx_uv_and_windows_powershell_installs() -> None:
    """Issue 13, point 2: the tool install and the Windows line, besides the two commands."""
    assert "pipx install ." in README and "uv tool install ." in README
    powershell = README.split("```powershell\n", 1)[1].split("\n```", 1)[0]
    assert "pip install ." in powershell and "followup" in powershell


def test_the_readme_gives_imap_settings_for_gmail_outlook_and_fastmail() -> None:
    """Issue 15, point 1: the three providers' settings and their app-password steps."""
    for host in ("imap.gmail.com", "outlook.office365.com", "imap.fastmail.com"):
        assert f'`"{host}"`' in README
    assert "FOLLOWUP_IMAP_PASSWORD" in README and "app password" in README


def test_the_readme_says_what_the_mailbox_sync_reads_stores_and_never_stores() -> None:
    """Issue 15, point 7: what is read (headers in the named folders), what is stored (dates,
    contact keys, UIDs) and what never is (bodies, other people's addresses)."""
    privacy = " ".join(README.split("**Privacy.**", 1)[1].split("\n\n", 1)[0].split())
    assert "reads only headers" in privacy
    assert "UIDVALIDITY" in privacy and "UID" in privacy
    assert "never downloads a body" in privacy
    assert "nor anything about people who are not in your workbook" in privacy
    assert "password is never written to a file or shown in any output" in privacy


def test_the_first_step_the_help_names_works_in_an_empty_folder(tmp_path: Path) -> None:
    user = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    empty = tmp_path / "empty"
    empty.mkdir()
    shown = followup(empty, "--help", env=user)
    first = re.search(r"Start with `followup (\w+)`", shown.stdout)
    assert first is not None, shown.stdout
    done = followup(empty, first[1], env=user)
    assert done.returncode == 0, done.stderr
    assert (empty / "contacts.xlsx").is_file()
