"""A part of the workbook that Excel and LibreOffice would refuse, which a run does not rewrite,
is named by `run` and `status` too, not only by `followup doctor`.

Once, a workbook.xml using the prefix r: without declaring it (what an old bug wrote) went
unmentioned day after day: python-calamine reads it, the save never checks a part it leaves as
it is, and the user learned of it when Excel refused the file.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from cli_helpers import followup, outbox_messages, write_config
from workbooks import make_workbook
from xlsx_helpers import parts, replace_part

TODAY = "2026-03-11"
SAID = (
    "contacts.xlsx: Its part xl/workbook.xml (unbound prefix, line 2, column "
    # the rest: "...), so Excel and LibreOffice may refuse to open the file. Run `followup
    # doctor` for details."
)


def _broken_workbook(folder: Path, part: str = "xl/workbook.xml", prefix: bytes = b"r") -> Path:
    book = folder / "contacts.xlsx"
    make_workbook(
        book,
        [
            ["Name", "Email", "How we met", "Met on"],
            ["Ann Lee", "ann@example.com", "Networking event", date(2026, 3, 2)],
        ],
    )
    xml = parts(book)[part]
    unbound = re.sub(rb" xmlns:" + prefix + rb'="[^"]*"', b"", xml)
    assert unbound != xml and prefix + b":" in unbound
    replace_part(book, part, unbound)
    write_config(folder)
    return book


def test_status_names_the_broken_part(tmp_path: Path) -> None:
    _broken_workbook(tmp_path)

    table = followup(tmp_path, "status", "--today", TODAY)
    listed = followup(tmp_path, "status", "--json", "--today", TODAY)

    assert table.returncode == 0, table.stderr
    assert "1 workbook problem:" in table.stdout
    assert f"  {SAID}" in table.stdout
    assert "may refuse to open the file. Run `followup doctor` for details." in table.stdout
    [problem] = json.loads(listed.stdout)["problems"]
    assert (problem["sheet"], problem["cell"], problem["value"]) == ("contacts.xlsx", "", "")
    assert problem["message"].startswith("Its part xl/workbook.xml (unbound prefix")


def test_the_run_says_it_in_the_digest_and_leaves_the_part_as_it_was(tmp_path: Path) -> None:
    book = _broken_workbook(tmp_path, "xl/theme/theme1.xml", b"a")
    before = parts(book)["xl/theme/theme1.xml"]

    ran = followup(tmp_path, "run", "--today", TODAY)

    assert ran.returncode == 0, ran.stderr
    [digest] = outbox_messages(tmp_path / "outbox")
    assert "1 workbook problem" in digest["Subject"]
    text = digest.get_body(("plain",)).get_content()
    assert "Its part xl/theme/theme1.xml (unbound prefix" in " ".join(text.split())
    assert "Wrote 8 cells in 2 rows" in ran.stdout  # the statuses and their headers, all the same
    assert parts(book)["xl/theme/theme1.xml"] == before


def test_a_run_on_a_broken_workbook_part_says_that_is_why_it_was_not_saved(
    tmp_path: Path,
) -> None:
    """It once said "has no sheet named 'Contacts' (its sheets: none)": a wrong cause."""
    book = _broken_workbook(tmp_path)
    before = book.read_bytes()

    ran = followup(tmp_path, "run", "--today", TODAY)

    assert ran.returncode == 3
    said = " ".join(ran.stderr.split())
    assert "contacts.xlsx is damaged: its part xl/workbook.xml is not well-formed XML (unbound" in (
        said
    )
    assert "no sheet named" not in said
    assert book.read_bytes() == before
    [digest] = outbox_messages(tmp_path / "outbox")  # the digest still goes out
    assert "1 workbook problem" in digest["Subject"]
