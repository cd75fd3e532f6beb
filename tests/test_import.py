"""`followup import`: LinkedIn's Connections.csv and vCard files, added below the last contact.

The sample files are made here the way the real exports look: LinkedIn's starts with a BOM and a
"Notes:" paragraph full of commas before its header; vCards fold long lines, escape commas and
come three to a file. The workbook is then compared cell by cell and part by part.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from cli_helpers import write_config
from edit_helpers import changed_cells, changed_parts, invoke, keep_copy, sheet_names
from workbooks import make_workbook

from followup.commands.importers import Imported, decode, read_linkedin, read_vcard
from followup.errors import UsageError

D = date.fromisoformat

LINKEDIN = (
    "\ufeffNotes:\r\n"
    '"When exporting your connection data, you may notice that some of the email addresses are '
    "missing. You will only see email addresses for connections who have allowed their "
    'connections to see or download their email address, using this setting."\r\n'
    "\r\n"
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
    "Ann,Lee,https://www.linkedin.com/in/ann-lee,ann@example.com,Acme,Engineer,11 Mar 2026\r\n"
    'Dana,Ruiz,https://www.linkedin.com/in/dana-ruiz,,"Wayne, Inc.","Head of Data, EMEA",'
    "02 Feb 2026\r\n"
    "Bo,Chen,https://www.linkedin.com/in/bo-chen,,Globex,Designer,15 Jan 2025\r\n"
    "Eve,Stone,https://www.linkedin.com/in/eve-stone/,,Hooli,,sometime\r\n"
    "Cy,Diaz,https://uk.linkedin.com/in/cy-diaz,,Initech,CTO,1 Jan 2024\r\n"
)

VCARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Fay Wong\r\nN:Wong;Fay;;;\r\n"
    "ORG:Stark\\, Industries;Research\r\nTITLE:Principal \r\n scientist\r\n"
    "item1.EMAIL;TYPE=INTERNET:fay@work.example\r\n"
    "EMAIL;TYPE=INTERNET,PREF:fay@example.com\r\nTEL;TYPE=CELL:+1 555 0100\r\n"
    "URL:https://www.linkedin.com/in/fay-wong\r\nURL:https://fay.example\r\n"
    "NOTE:Met at the\\nspring meetup\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=\r\n"
    "=C3=BCrgen\r\nEMAIL:jm@example.com\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann Lee\r\nEMAIL:ANN@example.com\r\nEND:VCARD\r\n"
)

HEADER = ["Name", "Company", "Email", "LinkedIn", "Met on", "Notes"]
EXISTING = [
    ["Ann Lee", "Acme", "ann@example.com", "", D("2025-05-01"), "keep"],
    ["Bo Chen", "Globex", "", "", None, ""],
    ["Cy D.", "Initech", "", "linkedin.com/in/cy-diaz", None, ""],
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_workbook(tmp_path / "contacts.xlsx", [HEADER, *EXISTING])
    write_config(tmp_path)
    (tmp_path / "Connections.csv").write_bytes(LINKEDIN.encode("utf-8"))
    (tmp_path / "contacts.vcf").write_bytes(VCARD.encode("utf-8"))
    return tmp_path


# --- parsing ---------------------------------------------------------------------------------


def test_linkedin_export_with_preamble_bom_and_quoted_commas() -> None:
    people, warnings = read_linkedin(decode(LINKEDIN.encode("utf-8")))
    assert [p.name for p in people] == ["Ann Lee", "Dana Ruiz", "Bo Chen", "Eve Stone", "Cy Diaz"]
    assert people[1] == Imported(
        name="Dana Ruiz",
        company="Wayne, Inc.",
        role="Head of Data, EMEA",
        linkedin="https://www.linkedin.com/in/dana-ruiz",
        met_on=D("2026-02-02"),
        source="line 6",
    )
    assert people[3].met_on is None
    assert warnings == ["line 8: Connected On 'sometime' is not a date; Met on is empty."]


def test_a_file_that_is_not_the_linkedin_export_is_refused() -> None:
    with pytest.raises(UsageError, match=r"not LinkedIn's Connections\.csv"):
        read_linkedin("Name,Email\nAnn,ann@example.com\n")


def test_vcards_folded_escaped_grouped_and_quoted_printable() -> None:
    fay, jurgen, ann = read_vcard(VCARD)
    assert fay == Imported(
        name="Fay Wong",
        company="Stark, Industries",
        role="Principal scientist",
        email="fay@example.com",  # the preferred one
        phone="+1 555 0100",
        linkedin="https://www.linkedin.com/in/fay-wong",
        notes="Met at the\nspring meetup\nWebsite: https://fay.example",
        source="card 1",
    )
    assert (jurgen.name, jurgen.email, jurgen.source) == (
        "Jürgen Müller",
        "jm@example.com",
        "card 2",
    )
    assert ann.email == "ANN@example.com"


def test_a_file_without_cards_is_refused() -> None:
    with pytest.raises(UsageError, match="not a vCard file"):
        read_vcard("hello\n")


# --- the command -----------------------------------------------------------------------------


def test_import_linkedin_appends_new_people_and_skips_the_ones_already_there(
    folder: Path,
) -> None:
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    done = invoke(folder, "import", "linkedin", str(folder / "Connections.csv"))
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "line 8: Connected On 'sometime' is not a date; Met on is empty.",
        "Skipped Ann Lee: already in row 2 (same email).",
        "Skipped Bo Chen: already in row 3 (same name and company).",
        "Skipped Cy Diaz: already in row 4 (same LinkedIn profile).",
        "Added row 5: Dana Ruiz, Head of Data, EMEA, Wayne, Inc. (Keep in touch, met 2026-02-02)",
        "Added row 6: Eve Stone, Hooli (Keep in touch)",
        "Added 2 contacts; skipped 3. Their first check-ins run from 12 Mar to 10 Apr, about 1 "
        "every 11 working days (in Follow up on).",
        "No Met on date for 1: Eve Stone (row 6). Type when you met them in Met on if you know "
        "it; their first check-in is set in Follow up on meanwhile.",
    ]
    assert changed_cells(before, book, "Contacts") == {
        (1, 7): "Role",
        (1, 8): "How we met",
        (5, 1): "Dana Ruiz",
        (5, 2): "Wayne, Inc.",
        (5, 4): "https://www.linkedin.com/in/dana-ruiz",
        (5, 5): D("2026-02-02"),
        (5, 7): "Head of Data, EMEA",
        (5, 8): "Keep in touch",
        (5, 9): "C",
        (5, 10): D("2026-03-12"),
        (1, 9): "Priority",
        (1, 10): "Follow up on",
        (6, 1): "Eve Stone",
        (6, 2): "Hooli",
        (6, 4): "https://www.linkedin.com/in/eve-stone/",
        (6, 8): "Keep in touch",
        (6, 9): "C",
        (6, 10): D("2026-04-10"),
    }
    assert changed_parts(before, book) == {"xl/worksheets/sheet1.xml"}
    assert sheet_names(book) == ["Contacts"], "an import is no follow-up: nothing is logged"

    again = keep_copy(book)
    done = invoke(folder, "import", "linkedin", str(folder / "Connections.csv"))
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-1] == "Added 0 contacts; skipped 5."
    assert book.read_bytes() == again.read_bytes()


def test_import_vcard_with_how_we_met_and_a_met_on_for_everyone(folder: Path) -> None:
    book = folder / "contacts.xlsx"
    before = keep_copy(book)
    done = invoke(
        folder,
        "import",
        "vcard",
        str(folder / "contacts.vcf"),
        "--how",
        "event",
        "--met-on",
        "2026-03-10",
    )
    assert done.exit_code == 0, done.output
    assert "Skipped Ann Lee: already in row 2 (same email)." in done.output
    changed = changed_cells(before, book, "Contacts")
    assert [changed[(1, col)] for col in (7, 8, 9)] == ["Role", "Phone", "How we met"]
    assert [changed[(5, col)] for col in range(1, 10)] == [
        "Fay Wong", "Stark, Industries", "fay@example.com", "https://www.linkedin.com/in/fay-wong",
        D("2026-03-10"), "Met at the\nspring meetup\nWebsite: https://fay.example",
        "Principal scientist", "+1 555 0100", "Networking event",
    ]  # fmt: skip
    assert changed[(6, 1)] == "Jürgen Müller"
    status = invoke(folder, "status", "--json", today="2026-03-11")
    assert '"how_met": "networking event"' in status.output


def test_dry_run_prints_and_changes_nothing(folder: Path) -> None:
    before = (folder / "contacts.xlsx").read_bytes()
    done = invoke(folder, "import", "linkedin", str(folder / "Connections.csv"), "--dry-run")
    assert done.exit_code == 0, done.output
    assert "Would add row 5: Dana Ruiz" in done.output
    assert "Would add 2 contacts; skipped 3. Their first check-ins would run from 12 Mar" in (
        done.output
    )
    assert done.output.endswith("Dry run: nothing was changed.\n")
    assert (folder / "contacts.xlsx").read_bytes() == before


def test_no_import_over_data_below_the_last_contact(tmp_path: Path) -> None:
    rows = [HEADER, *EXISTING, [], ["", "Total", 3]]
    make_workbook(tmp_path / "contacts.xlsx", rows)  # a row of other data after a blank row
    write_config(tmp_path)
    (tmp_path / "Connections.csv").write_text(LINKEDIN, encoding="utf-8")
    before = (tmp_path / "contacts.xlsx").read_bytes()
    done = invoke(tmp_path, "import", "linkedin", str(tmp_path / "Connections.csv"))
    assert done.exit_code == 2
    assert "Row 6 of Contacts, below your last contact, is not empty" in done.output
    assert (tmp_path / "contacts.xlsx").read_bytes() == before


def test_a_bad_how_we_met_is_bad_usage(folder: Path) -> None:
    done = invoke(folder, "import", "vcard", str(folder / "contacts.vcf"), "--how", "golf")
    assert done.exit_code == 2
    assert "--how 'golf'" in done.output


# --- files that are not what the exports usually are ---------------------------------------

CONNECTIONS_HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"


def import_file(folder: Path, kind: str, name: str, data: bytes):
    (folder / name).write_bytes(data)
    return invoke(folder, "import", kind, str(folder / name))


def test_a_big_import_names_ten_people_then_counts_the_rest_and_a_dry_run_names_all(
    folder: Path,
) -> None:
    people = "".join(f"P{n},Person,,p{n}@example.com,Acme,,1 Mar 2026\r\n" for n in range(25))
    data = (CONNECTIONS_HEADER + people).encode()
    (folder / "big.csv").write_bytes(data)
    dry = invoke(folder, "import", "linkedin", str(folder / "big.csv"), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert sum(line.startswith("Would add row ") for line in dry.output.splitlines()) == 25
    assert "more" not in dry.output

    done = import_file(folder, "linkedin", "big.csv", data)
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[:10] == [f"Added row {5 + n}: P{n} Person, Acme (Keep in touch, met 2026-03-01)"
                          for n in range(10)]  # fmt: skip
    assert lines[10] == "... and 15 more (rows 15 to 29)."
    assert lines[11].startswith("Added 25 contacts; skipped 0.")

    again = import_file(folder, "linkedin", "big.csv", data)
    assert again.exit_code == 0, again.output
    lines = again.output.splitlines()
    assert lines[:10] == [f"Skipped P{n} Person: already in row {5 + n} (same email)."
                          for n in range(10)]  # fmt: skip
    assert lines[10:12] == ["... and 15 more skipped.", "Added 0 contacts; skipped 25."]


def test_a_position_with_a_line_break_is_imported_with_it(folder: Path) -> None:
    """One such field ended the whole import in "did not read back the same"."""
    before = keep_copy(folder / "contacts.xlsx")
    row = 'Zed,Ray,,zed@example.com,Acme,"Head\r\nof data",11 Mar 2026\r\n'
    done = import_file(folder, "linkedin", "crlf.csv", (CONNECTIONS_HEADER + row).encode())
    assert done.exit_code == 0, done.output
    assert "Added row 5: Zed Ray, Head of data, Acme (Keep in touch, met 2026-03-11)" in done.output
    assert "Head\nof data" in changed_cells(before, folder / "contacts.xlsx", "Contacts").values()


def test_a_vcard_21_note_with_quoted_printable_line_breaks_is_imported(folder: Path) -> None:
    card = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Card;Vee\r\nFN:Vee Card\r\n"
        "NOTE;ENCODING=QUOTED-PRINTABLE:first line=0D=0Asecond line=0D=0A=01bell\r\nEND:VCARD\r\n"
    )
    before = keep_copy(folder / "contacts.xlsx")
    done = import_file(folder, "vcard", "v21.vcf", card.encode())
    assert done.exit_code == 0, done.output
    changed = changed_cells(before, folder / "contacts.xlsx", "Contacts")
    assert changed[(5, 6)] == "first line\nsecond line\n\x01bell"  # as Excel keeps \x01: _x0001_


def test_a_field_longer_than_csv_allows_is_cut_to_a_cell_with_a_notice(folder: Path) -> None:
    row = f'Lon,Field,,lon@example.com,Acme,"{"x" * 131_073}",11 Mar 2026\r\n'
    before = keep_copy(folder / "contacts.xlsx")
    done = import_file(folder, "linkedin", "long.csv", (CONNECTIONS_HEADER + row).encode())
    assert done.exit_code == 0, done.output
    assert "line 2: Role was cut to 32,767 characters, the most a cell holds." in done.output
    assert "x" * 32_767 in changed_cells(before, folder / "contacts.xlsx", "Contacts").values()


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-16", "\t"), ("utf-16-be", ","), ("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ",")],
)
def test_unicode_text_utf8_with_or_without_a_mark_and_windows_1252_are_read(
    folder: Path, encoding: str, delimiter: str
) -> None:
    """utf-16 is what Excel saves as "Unicode text": a byte-order mark, tab-separated."""
    text = (CONNECTIONS_HEADER + "Üma,Sixteen,,uma@example.com,Acme,CTO,11 Mar 2026\r\n").replace(
        ",", delimiter
    )
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    done = import_file(folder, "linkedin", "export.csv", data)
    assert done.exit_code == 0, done.output
    assert "Added row 5: Üma Sixteen, CTO, Acme (Keep in touch, met 2026-03-11)" in done.output


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (bytes(range(256)) * 4, "Line 2 is not text in UTF-8, UTF-16 or Windows-1252 (byte 0x81)"),
        (CONNECTIONS_HEADER.encode() + b"a\r\n\x81\x8d\r\n", "Line 3 is not text in UTF-8"),
        (CONNECTIONS_HEADER.encode() + b"PK\x03\x04\x00\x00", "Line 2 holds a NUL character"),
        ("First Name,Last Name\n".encode("utf-16-le"), "Line 1 holds a NUL character"),
        (b"\xff\xfe" + b"\x00\xd8", "Line 1 is not text in UTF-8, UTF-16"),  # half a pair
    ],
)
def test_a_binary_or_undecodable_file_is_bad_usage_naming_the_line(
    folder: Path, data: bytes, says: str
) -> None:
    before = (folder / "contacts.xlsx").read_bytes()
    for kind in ("linkedin", "vcard"):
        done = import_file(folder, kind, "export.bin", data)
        assert done.exit_code == 2, done.output
        assert says in done.output
    assert (folder / "contacts.xlsx").read_bytes() == before


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        ('Q,"unterminated,,q@x.com,Co,Chef,05 Mar 2026\r\nR,S,,r@x.com,Co,,\r\n',
         "Line 3 is not CSV as LinkedIn writes it: a quote (\") opened there is never closed"),
        ('Q,R,,q@x.com,"Co"rp,Chef,05 Mar 2026\r\n',
         "Line 3 is not CSV as LinkedIn writes it: a quoted cell goes on after its closing quote"),
    ],
)  # fmt: skip
def test_a_line_that_is_not_csv_is_bad_usage_naming_the_line(
    folder: Path, rows: str, says: str
) -> None:
    """An unterminated quote once made one contact of the rest of the file, exit 0."""
    before = (folder / "contacts.xlsx").read_bytes()
    data = (CONNECTIONS_HEADER + "Ann,Ok,,ann.ok@x.com,Co,,\r\n" + rows).encode()
    done = import_file(folder, "linkedin", "export.csv", data)
    assert done.exit_code == 2, done.output
    assert says in " ".join(done.output.split())
    assert (folder / "contacts.xlsx").read_bytes() == before


def test_a_vcard_birthday_is_imported_with_or_without_its_year(folder: Path) -> None:
    cards = "".join(
        f"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:{name}\r\nBDAY{bday}\r\nEND:VCARD\r\n"
        for name, bday in [
            ("Rita Moreno", ":--0314"),
            ("Omar Haddad", ":19850312"),
            ("Kim Park", ":1990-07-01T00:00:00Z"),
            ("Old Timer", ";VALUE=text:circa 1800"),
            ("Max Bad", ":not-a-date"),
        ]
    )
    done = import_file(folder, "vcard", "birthdays.vcf", cards.encode())
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert "card 4: BDAY 'circa 1800' is not a date, so Old Timer's Birthday is left blank." in said
    assert "card 5: BDAY 'not-a-date' is not a date, so Max Bad's Birthday is left blank." in said
    assert "Added 5 contacts; skipped 0." in said
    assert "Rita Moreno's" not in said
    import openpyxl

    sheet = openpyxl.load_workbook(folder / "contacts.xlsx").active
    column = [cell.value for cell in sheet[1]].index("Birthday") + 1
    assert [sheet.cell(row, column).value for row in range(5, 10)] == [
        "14 March",
        datetime(1985, 3, 12),
        datetime(1990, 7, 1),
        None,
        None,
    ]
