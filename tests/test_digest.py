"""The digest: sections, subject, the plain-text part, escaping and links, the email."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.commands.draft_files import load_templates
from followup.core.digest import build_digest, to_message, worth_sending
from followup.core.digest_render import Section
from followup.core.model import Birthday, Contact, FollowUp, HowMet, Problem, Stage, Status

TODAY = date(2026, 3, 11)  # a Wednesday
TEMPLATES = load_templates(None).by_name


def entry(
    name: str, status: Status, days: int = 0, row: int = 2, action: str = "Say hello.", **fields
) -> tuple[Contact, FollowUp]:
    """A contact due `days` from today (negative: overdue) with the given status."""
    next_date = TODAY + timedelta(days=days)
    return Contact(row=row, name=name, **fields), FollowUp(next_date, status, max(0, -days), action)


def hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', page)]


def test_sections_in_order_most_overdue_first_and_quiet_statuses_left_out() -> None:
    entries = [
        entry("Soon", Status.UPCOMING, 3, row=2),
        entry("Today", Status.DUE_TODAY, 0, row=3),
        entry("Bit late", Status.OVERDUE, -2, row=4),
        entry("Very late", Status.OVERDUE, -16, row=5),
        entry("Later", Status.SCHEDULED, 30, row=6),
        entry("Waiting", Status.WAITING, 2, row=7),
        entry("Paused", Status.PAUSED, row=8),
    ]
    problem = Problem("Contacts", "G7", "31/02/2026", "Not a date.")
    digest = build_digest(entries, [problem], TODAY)

    for part in (digest.text, digest.html):
        order = [part.index(s) for s in ("Very late", "Bit late", "Today", "Soon", "Contacts!G7")]
        assert order == sorted(order)
        assert "Later" not in part and "Waiting" not in part and "Paused" not in part
    headings = re.findall(r"^([A-Z ]+) \(\d+\)$", digest.text, re.MULTILINE)
    assert headings == ["OVERDUE", "DUE TODAY", "COMING UP", "WORKBOOK PROBLEMS"]
    assert digest.listed_rows == (5, 4, 3, 2)
    assert digest.day == TODAY


@pytest.mark.parametrize(
    ("overdue", "due", "problems", "subject"),
    [
        (2, 3, 0, "Follow-ups for Wed 11 Mar: 2 overdue, 3 due today"),
        (1, 0, 0, "Follow-ups for Wed 11 Mar: 1 overdue"),
        (0, 1, 0, "Follow-ups for Wed 11 Mar: 1 due today"),
        (0, 0, 0, "Follow-ups for Wed 11 Mar: nothing due"),
        (0, 0, 1, "Follow-ups for Wed 11 Mar: nothing due, 1 workbook problem"),
        (1, 0, 2, "Follow-ups for Wed 11 Mar: 1 overdue, 2 workbook problems"),
    ],
)
def test_subject_names_the_day_and_counts(
    overdue: int, due: int, problems: int, subject: str
) -> None:
    entries = [entry(f"O{i}", Status.OVERDUE, -1) for i in range(overdue)]
    entries += [entry(f"D{i}", Status.DUE_TODAY) for i in range(due)]
    entries.append(entry("Upcoming", Status.UPCOMING, 2))
    found = [Problem("Contacts", f"G{i}", "x", "Bad.") for i in range(problems)]
    assert build_digest(entries, found, TODAY).subject == subject


@pytest.mark.parametrize(
    ("due", "mentions", "subject"),
    [
        (0, ("12 need a date",), "Follow-ups for Wed 11 Mar: 12 need a date"),
        (0, ("1 needs a date", "your week in review"), "Follow-ups for Wed 11 Mar: "
         "1 needs a date, your week in review"),
        (0, ("",), "Follow-ups for Wed 11 Mar: nothing due"),
        (1, ("12 need a date",), "Follow-ups for Wed 11 Mar: 1 due today"),
    ],
)  # fmt: skip
def test_a_digest_sent_for_its_weekly_sections_says_so_not_nothing_due(
    due: int, mentions: tuple[str, ...], subject: str
) -> None:
    entries = [entry(f"D{i}", Status.DUE_TODAY) for i in range(due)]
    sections = [Section(f"S{n}", "#000", 1, (), subject=said) for n, said in enumerate(mentions)]
    assert build_digest(entries, [], TODAY, mentions=sections).subject == subject


def test_a_person_says_who_how_you_met_how_late_and_what_to_do() -> None:
    person = entry(
        "Ann Lee",
        Status.OVERDUE,
        -2,
        action="Send a short thank-you by email.",
        company="Acme",
        role="Engineer",
        how_met=HowMet.NETWORKING_EVENT,
        met_on=TODAY - timedelta(days=9),
        referred_by="Sam",
        notes="Likes jazz",
    )
    text = build_digest([person], [], TODAY).text
    for expected in (
        "Ann Lee",
        "Engineer at Acme",
        "Networking event, 9 days ago",
        "2 days overdue",
        "Send a short thank-you by email.",
        "Referred by Sam",
        "Notes: Likes jazz",
    ):
        assert expected in text


def test_text_part_is_plain_text_and_nothing_due_says_so() -> None:
    person = entry("Ann", Status.DUE_TODAY, email="ann@example.com", linkedin="https://x.test/a")
    for digest in (
        build_digest([person], [Problem("Contacts", "B3", "D", "Priority must be A.")], TODAY),
        build_digest([], [], TODAY),
    ):
        assert not re.search(r"</?[a-zA-Z!]", digest.text)
        assert "&amp;" not in digest.text and "%20" not in digest.text
    assert "Nobody to follow up with today" in build_digest([], [], TODAY).text


def test_notices_come_first_and_are_escaped() -> None:
    notice = "Your workbook was open in Excel <Microsoft>, so statuses will be written next time"
    digest = build_digest([entry("Ann", Status.DUE_TODAY)], [], TODAY, notices=[notice])
    assert digest.text.index(notice) < digest.text.index("Ann")
    assert "Excel &lt;Microsoft&gt;" in digest.html
    assert digest.html.index("Excel &lt;") < digest.html.index("Ann")


def test_every_workbook_string_is_escaped_in_html() -> None:
    script = '<script>alert("x")</script>'
    person = entry(
        script,
        Status.OVERDUE,
        -1,
        company='Smith & "Sons"',
        role="<b>Boss</b>",
        notes="<img src=x onerror=alert(1)>",
        referred_by="Tom & Jerry",
        email="ann@example.com",
        phone="<i>555</i>",
        action="Say <hi>.",
    )
    problem = Problem("Contacts", "C4", "<svg onload=alert(1)>", "Bad <value>.")
    page = build_digest([person], [problem], TODAY).html
    for raw in ("<script", "<b>", "<img", "<svg", "<i>", "<hi>", "<value>", 'Smith & "'):
        assert raw not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "Smith &amp; &quot;Sons&quot;" in page
    assert "Tom &amp; Jerry" in page


@pytest.mark.parametrize(
    "linkedin",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "https://www.linkedin.com/in/a b",
        "//evil.example/x",
    ],
)
def test_only_http_links_are_made_from_linkedin(linkedin: str) -> None:
    page = build_digest([entry("Ann", Status.DUE_TODAY, linkedin=linkedin)], [], TODAY).html
    assert hrefs(page) == []
    assert "LinkedIn: " in page


@pytest.mark.parametrize(
    ("linkedin", "href"),
    [
        ("https://www.linkedin.com/in/ann", "https://www.linkedin.com/in/ann"),
        ("http://linkedin.com/in/ann?x=1&y=2", "http://linkedin.com/in/ann?x=1&y=2"),
        ("www.linkedin.com/in/ann", "https://www.linkedin.com/in/ann"),
    ],
)
def test_linkedin_urls_become_links(linkedin: str, href: str) -> None:
    page = build_digest([entry("Ann", Status.DUE_TODAY, linkedin=linkedin)], [], TODAY).html
    assert hrefs(page) == [href]


def test_mailto_drafts_a_short_gracious_note_with_every_part_encoded() -> None:
    person = entry(
        "Dr. Ann O'Neil",
        Status.DUE_TODAY,
        email="ann+work@example.com",
        how_met=HowMet.REFERRAL,
        met_on=TODAY - timedelta(days=1),
        referred_by="Tom & Jerry?",
    )
    page = build_digest([person], [], TODAY, your_name="Sam Smith", templates=TEMPLATES).html
    [href] = hrefs(page)
    assert href.startswith("mailto:")
    assert not re.search(r"[\s<>\"']", href)
    parts = urlsplit(href)
    assert parts.path == "ann%2Bwork@example.com"
    fields = parse_qs(parts.query, strict_parsing=True)
    assert set(fields) == {"subject", "body"}
    assert fields["subject"] == ["Introduction via Tom & Jerry?"]
    [body] = fields["body"]
    assert body.startswith("Hi Ann,\r\n")
    assert "Tom & Jerry?" in body
    assert body.endswith("Best wishes,\r\nSam Smith")
    assert len(body) < 400


def test_waiting_contacts_get_a_gentle_nudge_draft() -> None:
    person = entry("Bo", Status.OVERDUE, -1, email="bo@example.com", stage=Stage.WAITING)
    [href] = hrefs(build_digest([person], [], TODAY, templates=TEMPLATES).html)
    assert parse_qs(urlsplit(href).query)["subject"] == ["Following up"]


def test_phone_becomes_a_tel_link_and_an_odd_email_stays_text() -> None:
    person = entry("Ann", Status.DUE_TODAY, phone="+1 (555) 010-0100", email="ann at example")
    digest = build_digest([person], [], TODAY)
    assert hrefs(digest.html) == ["tel:+15550100100"]
    assert "Email: ann at example" in digest.html
    assert "Phone: +1 (555) 010-0100" in digest.text


def test_digest_is_the_same_for_the_same_input() -> None:
    entries = [entry("Ann", Status.OVERDUE, -3), entry("Bo", Status.UPCOMING, 2)]
    assert build_digest(entries, [], TODAY) == build_digest(entries, [], TODAY)


@pytest.mark.parametrize(
    ("status", "problems", "expected"),
    [
        (Status.OVERDUE, 0, True),
        (Status.DUE_TODAY, 0, True),
        (Status.UPCOMING, 0, False),
        (Status.SCHEDULED, 0, False),
        (Status.WAITING, 0, False),
        (Status.UPCOMING, 1, True),
    ],
)
def test_worth_sending(status: Status, problems: int, expected: bool) -> None:
    found = [Problem("Contacts", "A2", "", "A row without a name.")] * problems
    assert worth_sending([entry("Ann", status)], found) is expected


def test_to_message_is_multipart_alternative_text_then_html() -> None:
    person = entry("Zoë Núñez", Status.DUE_TODAY, company="Café <Crème>")
    digest = build_digest([person], [], TODAY)
    when = datetime(2026, 3, 11, 7, 30, tzinfo=UTC)
    message = to_message(digest, "Me <me@example.com>", "me@example.com", when)

    again = BytesParser(policy=policy.default).parsebytes(bytes(message))
    assert again.get_content_type() == "multipart/alternative"
    plain, rich = again.iter_parts()
    assert (plain.get_content_type(), rich.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content_charset() == rich.get_content_charset() == "utf-8"
    assert plain.get_content() == digest.text
    assert rich.get_content() == digest.html
    assert again["Subject"] == digest.subject
    assert again["From"] == "Me <me@example.com>"
    assert again["To"] == "me@example.com"
    assert again["Date"] == "Wed, 11 Mar 2026 07:30:00 +0000"
    assert again["Message-ID"].endswith("@example.com>")
    assert bytes(message).isascii()


def test_without_templates_the_email_link_opens_a_blank_message() -> None:
    person = entry("Ann", Status.DUE_TODAY, email="ann@example.com")
    assert hrefs(build_digest([person], [], TODAY).html) == ["mailto:ann@example.com"]


def names_in(text: str, names: list[str]) -> list[str]:
    """`names` in the order the text shows them."""
    return sorted(names, key=text.index)


def test_people_rank_by_priority_then_most_overdue_within_each_section() -> None:
    entries = [
        entry("Cora", Status.OVERDUE, -10, row=2, priority="C"),
        entry("Abe", Status.OVERDUE, -1, row=3, priority="A"),
        entry("Bea", Status.OVERDUE, -5, row=4, priority="B"),
        entry("Ada", Status.OVERDUE, -3, row=5, priority="A"),
        entry("Bill", Status.DUE_TODAY, 0, row=6, priority="B"),
        entry("Alf", Status.DUE_TODAY, 0, row=7, priority="A"),
    ]
    digest = build_digest(entries, [], TODAY)
    expected = ["Ada", "Abe", "Bea", "Cora", "Alf", "Bill"]
    for part in (digest.text, digest.html):
        assert names_in(part, expected) == expected
    assert digest.listed_rows == (5, 3, 4, 2, 7, 6)


def test_max_items_lists_the_top_people_and_counts_the_rest() -> None:
    entries = [entry(f"Late{i}", Status.OVERDUE, -5 + i, row=10 + i) for i in range(4)]
    entries += [entry(f"Today{i}", Status.DUE_TODAY, 0, row=20 + i) for i in range(3)]
    entries += [entry(f"Soon{i}", Status.UPCOMING, 2 + i, row=30 + i) for i in range(2)]
    digest = build_digest(entries, [], TODAY, max_items=5)

    assert digest.subject == "Follow-ups for Wed 11 Mar: 4 overdue, 3 due today"
    first_line = digest.text.splitlines()[0]
    assert first_line == (
        "Follow-ups for Wed 11 Mar: 4 overdue, 3 due today (the top 5 are listed, and 4 more)"
    )
    headings = re.findall(r"^([A-Z ]+ \(\d+\))$", digest.text, re.MULTILINE)
    assert headings == ["OVERDUE (4)", "DUE TODAY (3)", "COMING UP (2)"]
    for part in (digest.text, digest.html):
        assert "and 4 more" in part
        assert "And 2 more due today" in part
        assert "And 2 more coming up" in part
        assert "more overdue" not in part
        for cut in ("Today1", "Today2", "Soon0", "Soon1"):
            assert cut not in part
    assert digest.listed_rows == (10, 11, 12, 13, 20)


@pytest.mark.parametrize("max_items", [0, 9, 20])
def test_max_items_of_zero_or_enough_lists_everyone(max_items: int) -> None:
    entries = [entry(f"P{i}", Status.OVERDUE, -1 - i, row=2 + i) for i in range(9)]
    digest = build_digest(entries, [], TODAY, max_items=max_items)
    assert len(digest.listed_rows) == 9
    assert "more" not in digest.text


def event_guest(name: str, row: int, status: Status = Status.DUE_TODAY, **fields):
    values = {
        "how_met": HowMet.NETWORKING_EVENT,
        "met_on": date(2026, 3, 9),
        "email": f"{name.lower()}@example.com",
    } | fields
    days = -2 if status is Status.OVERDUE else 0
    return entry(name, status, days, row=row, **values)


def test_a_crowd_met_at_one_event_and_due_together_is_one_line() -> None:
    names = ["Ann", "Bob", "Cem", "Dee", "Eli"]
    entries = [event_guest(name, row) for row, name in enumerate(names, start=2)]
    entries.append(entry("Solo", Status.DUE_TODAY, row=9, email="solo@example.com"))
    digest = build_digest(entries, [], TODAY, your_name="Sam", templates=TEMPLATES)

    line = (
        "5 people you met at the event on 9 Mar are due today: Ann, Bob, Cem and 2 more "
        "— one short thank-you each"
    )
    assert line in digest.text
    assert html.escape(line) in digest.html
    assert "Networking event, 2 days ago" not in digest.text  # no card per guest
    links = [h for h in hrefs(digest.html) if h.startswith("mailto:")]
    assert [urlsplit(h).path for h in links] == [f"{n.lower()}@example.com" for n in names] + [
        "solo@example.com"
    ]
    for name, href in zip(names, links, strict=False):
        body = parse_qs(urlsplit(href).query)["body"][0]
        assert body.startswith(f"Hi {name},")
    assert digest.listed_rows == (2, 3, 4, 5, 6, 9)


def test_an_overdue_crowd_says_how_late_and_a_crowd_of_three_names_everyone() -> None:
    entries = [event_guest(n, r, Status.OVERDUE) for r, n in enumerate(["Al", "Bo", "Cy"], 2)]
    text = build_digest(entries, [], TODAY, templates=TEMPLATES).text
    assert "3 people you met at the event on 9 Mar are 2 days overdue: Al, Bo and Cy" in text


@pytest.mark.parametrize(
    "third",
    [
        {"met_on": date(2026, 3, 10)},  # another event
        {"how_met": HowMet.REFERRAL},  # not met at an event
        {"status": Status.OVERDUE},  # due another day
        {"where_met": "DevConf"},  # met the same day at another event
    ],
)
def test_no_crowd_unless_three_met_at_the_same_event_fall_due_the_same_day(third: dict) -> None:
    entries = [event_guest("Ann", 2), event_guest("Bob", 3), event_guest("Cem", 4, **third)]
    text = build_digest(entries, [], TODAY, templates=TEMPLATES).text
    assert "people you met" not in text
    assert text.count("Networking event, 2 days ago") >= 2


def test_a_crowd_is_named_by_where_you_met_and_never_lumps_two_events() -> None:
    guests = [event_guest(n, r, where_met="PyData Berlin") for r, n in enumerate("ABC", 2)]
    others = [event_guest(n, r, where_met="DevConf") for r, n in enumerate("DEF", 5)]
    text = build_digest(guests + others, [], TODAY, templates=TEMPLATES).text
    assert "3 people you met at PyData Berlin on 9 Mar are due today: A, B and C" in text
    assert "3 people you met at DevConf on 9 Mar are due today: D, E and F" in text
    assert "the event" not in text
    mixed = [event_guest("G", 8, where_met=" pydata  berlin"), *guests[:2]]
    assert "3 people you met at " in build_digest(mixed, [], TODAY, templates=TEMPLATES).text


def test_max_items_applies_before_crowds_form() -> None:
    entries = [event_guest(name, row) for row, name in enumerate(["Ann", "Bob", "Cem"], 2)]
    digest = build_digest(entries, [], TODAY, templates=TEMPLATES, max_items=2)
    assert "people you met" not in digest.text
    assert digest.listed_rows == (2, 3)
    assert "And 1 more due today" in digest.text


@pytest.mark.parametrize(
    ("fields", "label", "shown"),
    [
        ({"linkedin": "linkedin.com/in/ann"}, "LinkedIn message to copy", "Hi &lt;Ann&gt;,"),
        ({"phone": "+1 555 0100"}, "Talking points for a call", "I really enjoyed it.<br>If"),
        ({}, "Handwritten note (no email, LinkedIn or phone)", "Best wishes,<br>Sam &lt;S&gt;"),
    ],
)
def test_without_email_the_draft_is_shown_for_the_channel_they_have(
    fields: dict, label: str, shown: str
) -> None:
    met_on = TODAY - timedelta(days=2)
    person = entry(
        "<Ann> & Co", Status.DUE_TODAY, met_on=met_on, how_met=HowMet.NETWORKING_EVENT, **fields
    )
    digest = build_digest([person], [], TODAY, your_name="Sam <S>", templates=TEMPLATES)
    assert f"{label}:" in digest.text
    assert label in digest.html
    assert shown in digest.html
    assert "<S>" not in digest.html and "<Ann>" not in digest.html
    assert not any(h.startswith("mailto:") for h in hrefs(digest.html))


@pytest.mark.parametrize(
    "reach",
    [{"email": "ann@example.com"}, {"linkedin": "linkedin.com/in/ann"}, {}],
)
def test_every_draft_is_in_both_the_text_and_the_html_part(reach: dict) -> None:
    person = entry(
        "Ann Lee",
        Status.DUE_TODAY,
        how_met=HowMet.NETWORKING_EVENT,
        met_on=TODAY - timedelta(days=2),
        where_met="PyData Berlin",
        **reach,
    )
    digest = build_digest([person], [], TODAY, your_name="Sam", templates=TEMPLATES)
    thanks = "Thank you for the conversation at PyData Berlin; I really enjoyed it."
    assert f"\n    Hi Ann,\n\n    {thanks}" in digest.text
    assert html.escape(thanks) in digest.html
    assert "Networking event (PyData Berlin), 2 days ago" in digest.text
    if reach.get("email"):
        assert (
            "  Draft email:\n    Subject: Great to meet you at PyData Berlin\n\n    Hi Ann,\n"
            in (digest.text)
        )


@given(
    name=st.text(
        st.characters(codec="utf-8", categories=("L", "Zs", "P", "S", "Cc")), min_size=1
    ).filter(str.strip),
    to=st.sampled_from(
        ["Sam Smith <me@example.org>", '"Smith, Sam" <me@example.org>', "me@example.org"]
    ),
)
def test_mark_links_go_to_the_bare_address_with_the_whole_subject(name: str, to: str) -> None:
    """`mailto:Sam%20Smith%20%3Cme@...%3E` put the display name where RFC 6068 wants only an
    address; and no name (CR, LF, &, ?, #) can add a header or end the subject early."""
    digest = build_digest(
        [entry(name, Status.OVERDUE, -3, row=7, phone="+44 20 7946 0000")],
        [],
        TODAY,
        mark_done_to=to,
    )
    marks = [urlsplit(h) for h in hrefs(digest.html) if "followup%3A" in h]
    assert len(marks) == 2
    shown = " ".join(name.split())
    for mark, verb in zip(marks, ("done #7", "snooze #7"), strict=True):
        assert (mark.scheme, mark.path) == ("mailto", "me@example.org")
        assert "\r" not in mark.query and "\n" not in mark.query and "#" not in mark.geturl()
        fields = parse_qs(mark.query, keep_blank_values=True, strict_parsing=True)
        assert sorted(fields) == ["body", "subject"]
        [subject] = fields["subject"]
        assert subject.startswith(f"followup: {verb} {shown}")


def drafted(digest_html: str, address: str) -> bool:
    """Whether the person's email link opens a drafted message (a subject and body)."""
    return any(h.startswith(f"mailto:{address}?subject=") for h in hrefs(digest_html))


def test_only_people_due_get_a_drafted_message() -> None:
    """Coming-up people got a full draft every day for a week: they get what to do and links."""
    entries = [
        entry("Olga", Status.OVERDUE, -3, row=2, email="olga@example.com"),
        entry("Tess", Status.DUE_TODAY, 0, row=3, email="tess@example.com"),
        entry("Uli", Status.UPCOMING, 3, row=4, email="uli@example.com"),
    ]
    digest = build_digest(entries, [], TODAY, templates=TEMPLATES)
    assert drafted(digest.html, "olga@example.com") and drafted(digest.html, "tess@example.com")
    assert not drafted(digest.html, "uli@example.com")
    assert "mailto:uli@example.com" in hrefs(digest.html)
    coming_up = digest.text.split("COMING UP (1)")[1]
    assert "Say hello." in coming_up and "Draft email" not in coming_up


@pytest.mark.parametrize("status", [Status.OVERDUE, Status.DUE_TODAY, Status.UPCOMING])
def test_a_birthday_of_someone_listed_is_a_line_on_their_card_not_a_second_draft(
    status: Status,
) -> None:
    """Hannah had a check-in draft and a birthday draft in the same digest."""
    hannah = entry(
        "Hannah", status, 0 if status is Status.DUE_TODAY else 2 - 4 * (status is Status.OVERDUE),
        row=2, email="hannah@example.com", birthday=Birthday(TODAY.month, TODAY.day),
    )  # fmt: skip
    bea = entry(
        "Bea", Status.SCHEDULED, 40, row=3, email="bea@example.com", birthday=Birthday(3, 13)
    )
    digest = build_digest([hannah, bea], [], TODAY, templates=TEMPLATES)
    assert digest.subject.endswith("1 birthday today")
    assert digest.text.count("Hannah\n") == 1
    assert "Birthday today: add a birthday wish when you get in touch" in digest.text
    birthdays = digest.text.split("BIRTHDAYS (1)")[1]
    assert "Bea" in birthdays and "Hannah" not in birthdays
    assert "Happy birthday" in birthdays  # Bea, not listed otherwise, keeps her greeting
    drafts = [h for h in hrefs(digest.html) if h.startswith("mailto:hannah@example.com?")]
    assert len(drafts) == (status is not Status.UPCOMING)
