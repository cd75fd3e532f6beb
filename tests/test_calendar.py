"""The .ics export: which follow-ups become events, on which day, and UIDs that survive re-import.

The unit tests feed `build_calendar` contacts evaluated by the real rules; the end-to-end tests
run `followup calendar` and `followup run` with `[digest] attach_calendar` in a folder.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from cli_helpers import followup, outbox_messages, write_config
from icalendar import Calendar
from workbooks import make_workbook

from followup.core.model import Contact, FollowUp, HowMet, RuleSettings, Stage
from followup.core.rules import follow_up
from followup.delivery.calendar import build_calendar, uid_key

TODAY = date(2026, 3, 11)  # a Wednesday
NOW = datetime(2026, 3, 11, 7, 30, tzinfo=UTC)
D = date.fromisoformat
NE = HowMet.NETWORKING_EVENT

CONTACTS = [
    Contact(2, "Ann Lee", "Fabrikam", email="ann@example.com", how_met=NE, met_on=D("2026-03-05")),
    Contact(3, "Bo Diaz", "Contoso", phone="+1 555 0100", how_met=NE, met_on=D("2026-03-09")),
    Contact(4, "Cy Park", linkedin="https://www.linkedin.com/in/cypark/", cadence=14,
            last_contact=D("2026-03-04")),
    Contact(5, "Di Chen", "Litware", last_contact=D("2026-03-06"), stage=Stage.WAITING),
    Contact(6, "Ed Moss", "Adatum", last_contact=D("2026-01-01"), priority="C"),
    Contact(7, "Flo Ruiz", "Tailspin", how_met=NE, met_on=D("2026-03-09"), stage=Stage.PAUSED),
    Contact(8, "Gus Hale", "Northwind", how_met=NE),
    Contact(9, "Hal Ito", "Woodgrove", last_contact=D("2026-03-01"), follow_ups=2,
            stage=Stage.WAITING),
    Contact(10, "Ivy Cole", "Proseware", cadence=14, last_contact=D("2026-03-04")),
]  # fmt: skip
# Ann overdue (03-09), Bo due today, Cy 03-18 (the last day of the lookahead), Di's nudge on
# 03-13; Ed is months away, Flo paused, Gus needs info, Hal resting after two follow-ups,
# Ivy the same day as Cy.
EXPECTED_DAYS = {
    "Ann Lee": TODAY,
    "Bo Diaz": TODAY,
    "Cy Park": D("2026-03-18"),
    "Di Chen": D("2026-03-13"),
    "Ivy Cole": D("2026-03-18"),
}


def entries(contacts: list[Contact] = CONTACTS) -> list[tuple[Contact, FollowUp]]:
    return [(c, follow_up(c, TODAY, RuleSettings())) for c in contacts]


class Parsed(NamedTuple):
    """The properties of one VEVENT that the tests look at, as read back by icalendar."""

    uid: str
    start: date
    end: date
    summary: str
    description: str
    dtstamp: datetime
    sequence: int


def events(ics: bytes) -> dict[str, Parsed]:
    """Each VEVENT of a parsed .ics, by the contact's name in its summary."""
    found = {}
    for event in Calendar.from_ical(ics).walk("VEVENT"):
        summary = str(event["summary"])
        found[summary.removeprefix("Follow up: ").split(" (")[0]] = Parsed(
            uid=str(event["uid"]),
            start=event.decoded("dtstart"),
            end=event.decoded("dtend"),
            summary=summary,
            description=str(event["description"]),
            dtstamp=event.decoded("dtstamp"),
            sequence=int(event["sequence"]),
        )
    return found


def test_one_all_day_event_per_follow_up_in_the_lookahead() -> None:
    found = events(build_calendar(entries(), TODAY, 7, NOW))
    assert {name: e.start for name, e in found.items()} == EXPECTED_DAYS
    for event in found.values():
        assert event.end == event.start + timedelta(days=1)
        assert event.dtstamp == NOW


def test_lookahead_days_bounds_the_events() -> None:
    found = events(build_calendar(entries(), TODAY, 2, NOW))
    assert set(found) == {"Ann Lee", "Bo Diaz", "Di Chen"}


def test_summary_and_description() -> None:
    found = events(build_calendar(entries(), TODAY, 7, NOW))
    ann, bo, cy = found["Ann Lee"], found["Bo Diaz"], found["Cy Park"]
    assert ann.summary == "Follow up: Ann Lee (Fabrikam)"
    assert ann.description == (
        "Send a short thank-you by email: say you enjoyed meeting and offer to help.\n"
        "Was due 2026-03-09: 2 days late.\n"
        "Email: ann@example.com"
    )
    assert bo.description.endswith(
        "by phone: say you enjoyed meeting and offer to help.\nPhone: +1 555 0100"
    )
    assert cy.summary == "Follow up: Cy Park"  # no company, no brackets
    assert cy.description.endswith("\nLinkedIn: https://www.linkedin.com/in/cypark/")


def test_uids_are_stable_across_builds_and_row_order() -> None:
    first = build_calendar(entries(), TODAY, 7, NOW)
    later = NOW + timedelta(hours=5)
    moved = [replace(c, row=40 - c.row) for c in reversed(CONTACTS)]  # sorted the other way
    second = build_calendar(entries(moved), TODAY, 7, later)
    uids = {name: e.uid for name, e in events(first).items()}
    assert {name: e.uid for name, e in events(second).items()} == uids
    assert len(set(uids.values())) == len(uids)
    assert all(uid.endswith("@followup") and "example" not in uid for uid in uids.values())
    # Same contacts and clock, any row order: the very same file.
    assert build_calendar(entries(moved), TODAY, 7, NOW) == first
    # A later export is a newer revision of each event, so calendars take its changes.
    assert events(second)["Ann Lee"].sequence > events(first)["Ann Lee"].sequence


def test_uids_come_from_the_contact_key_spelled_as_the_first_calendars_did() -> None:
    assert uid_key(Contact(2, "Ann", email=" Ann@Example.com ", linkedin="x")) == (
        "email:ann@example.com"
    )
    spellings = [
        "https://www.linkedin.com/in/cypark/",
        "linkedin.com/in/CyPark",
        "http://linkedin.com/in/cypark?trk=profile",
    ]
    assert {uid_key(Contact(2, "Cy", linkedin=url)) for url in spellings} == {
        "linkedin:linkedin.com/in/cypark"
    }
    assert uid_key(Contact(2, " Di  Chen", "LITWARE ")) == "name:di chen|company:litware"


def test_a_contact_listed_twice_gets_two_distinct_uids() -> None:
    twin = Contact(11, "A. Lee", email="ANN@example.com", how_met=NE, met_on=D("2026-03-06"))
    found = events(build_calendar(entries([*CONTACTS, twin]), TODAY, 7, NOW))
    assert found["A. Lee"].uid != found["Ann Lee"].uid
    assert len({e.uid for e in found.values()}) == len(EXPECTED_DAYS) + 1


def test_commas_semicolons_and_newlines_are_escaped() -> None:
    name = 'Doe, Jane; "JJ"\nSmith'
    odd = Contact(2, name, "A; B, C", email="jj@example.com", how_met=NE, met_on=D("2026-03-09"))
    ics = build_calendar(entries([odd]), TODAY, 7, NOW)
    assert b'SUMMARY:Follow up: Doe\\, Jane\\; "JJ"\\nSmith (A\\; B\\, C)' in ics.replace(
        b"\r\n ", b""
    )
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    assert str(event["summary"]) == f"Follow up: {name} (A; B, C)"


def test_nothing_due_is_an_empty_calendar() -> None:
    ics = build_calendar([], TODAY, 7, NOW)
    calendar = Calendar.from_ical(ics)
    assert calendar.walk("VEVENT") == []
    assert str(calendar["version"]) == "2.0"


# End to end: the real program in a folder.
HEADER = ["Name", "Company", "Email", "How we met", "Met on", "Last contact", "Status"]
ROWS = [
    ["Ann Lee", "Fabrikam", "ann@example.com", "Networking event", D("2026-03-05")],
    ["Bo Diaz", "Contoso", "bo@example.com", "Job application", D("2026-03-06")],
    ["Ed Moss", "Adatum", "ed@example.com", "Keep in touch", None, D("2026-01-01")],
    ["Di Chen", "Litware", "di@example.com", "Networking event", D("2026-03-01"), None, "Closed"],
]


def folder_with_workbook(tmp_path: Path, config: str = "") -> Path:
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, *ROWS])
    write_config(tmp_path, config)
    return tmp_path


def test_cli_writes_an_ics_to_the_outbox_and_prints_its_path(tmp_path: Path) -> None:
    folder = folder_with_workbook(tmp_path)
    result = followup(folder, "calendar", "--today", "2026-03-11")
    assert result.returncode == 0, result.stderr
    path = folder / "outbox" / "followup.ics"
    assert Path(result.stdout.strip()).resolve() == path.resolve()
    found = events(path.read_bytes())
    assert {name: e.start for name, e in found.items()} == {
        "Ann Lee": TODAY,
        "Bo Diaz": D("2026-03-13"),
    }


def test_cli_out_option(tmp_path: Path) -> None:
    folder = folder_with_workbook(tmp_path)
    result = followup(folder, "calendar", "--out", "cal/mine.ics", "--today", "2026-03-11")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(Path("cal/mine.ics"))
    assert set(events((folder / "cal" / "mine.ics").read_bytes())) == {"Ann Lee", "Bo Diaz"}
    assert not (folder / "outbox" / "followup.ics").exists()


def test_cli_says_what_to_do_when_the_file_cannot_be_written(tmp_path: Path) -> None:
    folder = folder_with_workbook(tmp_path)
    (folder / "taken").write_text("a file, not a folder", encoding="utf-8")
    result = followup(folder, "calendar", "--out", "taken/mine.ics", "--today", "2026-03-11")
    assert result.returncode == 2
    assert "Cannot write taken/mine.ics: taken is not a folder." in result.stderr
    assert "--out" in result.stderr
    assert "Traceback" not in result.stderr


def test_attach_calendar_puts_the_ics_in_the_digest(tmp_path: Path) -> None:
    folder = folder_with_workbook(tmp_path, "[digest]\nattach_calendar = true\n")
    result = followup(folder, "run", "--today", "2026-03-11")
    assert result.returncode == 0, result.stderr
    (message,) = outbox_messages(folder / "outbox")
    (attachment,) = [
        p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    assert attachment.get_filename() == "followup.ics"
    assert set(events(attachment.get_content())) == {"Ann Lee", "Bo Diaz"}
    # The digest itself is unchanged: its text and HTML are still there to read.
    assert message.get_body(preferencelist=("plain",)) is not None
    assert message.get_body(preferencelist=("html",)) is not None


def test_no_attachment_by_default(tmp_path: Path) -> None:
    folder = folder_with_workbook(tmp_path)
    assert followup(folder, "run", "--today", "2026-03-11").returncode == 0
    (message,) = outbox_messages(folder / "outbox")
    assert message.get_content_type() == "multipart/alternative"
    assert list(message.iter_attachments()) == []
