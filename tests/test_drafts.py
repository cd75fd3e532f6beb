"""Drafted messages: the template per relationship and step, filling, user overrides, channels."""

from __future__ import annotations

import dataclasses
import html
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

import followup
from followup.commands import daily
from followup.commands.draft_files import load_templates
from followup.commands.evaluation import Evaluation
from followup.config import load_config
from followup.core import drafts
from followup.core.channels import Channel, channel
from followup.core.drafts import Draft, DraftTemplate
from followup.core.model import Contact, FollowUp, HowMet, RuleSettings, Stage, Status
from followup.workbook.contents import SheetContents

TODAY = date(2026, 3, 11)
MET = TODAY - timedelta(days=10)
LATER = MET + timedelta(days=3)
RULES = RuleSettings()
BUILT_IN = load_templates(None)


def person(**fields) -> Contact:
    values = {"row": 2, "name": "Ann Lee", "company": "Acme", "met_on": MET} | fields
    return Contact(**values)


def draft(contact: Contact, your_name: str = "Sam Smith") -> Draft:
    made = drafts.draft_for(contact, BUILT_IN.by_name, RULES, your_name)
    assert made is not None
    return made


@pytest.mark.parametrize(
    ("fields", "template"),
    [
        ({"how_met": HowMet.NETWORKING_EVENT}, "event_thanks"),
        ({"how_met": HowMet.NETWORKING_EVENT, "last_contact": LATER}, "keep_in_touch"),
        ({"how_met": HowMet.JOB_APPLICATION}, "application_follow_up"),
        ({"how_met": HowMet.JOB_APPLICATION, "last_contact": LATER}, "application_check_in"),
        ({"how_met": HowMet.INFORMATIONAL_INTERVIEW}, "interview_thanks"),
        ({"how_met": HowMet.INFORMATIONAL_INTERVIEW, "follow_ups": 1}, "interview_update"),
        ({"how_met": HowMet.INFORMATIONAL_INTERVIEW, "follow_ups": 2}, "keep_in_touch"),
        ({"how_met": HowMet.REFERRAL}, "referral_intro"),
        ({"how_met": HowMet.KEEP_IN_TOUCH}, "keep_in_touch"),
        (
            {"how_met": HowMet.NETWORKING_EVENT, "met_on": None, "last_contact": MET},
            "keep_in_touch",
        ),
        ({"stage": Stage.WAITING, "follow_ups": 1}, "nudge"),
        ({"stage": Stage.WAITING, "follow_ups": 2}, "light_touch"),  # the courtesy guard's rest
        ({"stage": Stage.DECLINED, "how_met": HowMet.JOB_APPLICATION}, "light_touch"),
    ],
)
def test_each_relationship_and_step_gets_its_template(fields: dict, template: str) -> None:
    assert drafts.choose_template(person(**fields), RULES) == template
    assert draft(person(**fields)).template == template


def test_configured_extra_steps_reuse_the_last_step_template() -> None:
    rules = dataclasses.replace(RULES, steps={**RULES.steps, HowMet.JOB_APPLICATION: (7, 7, 7)})
    contact = person(how_met=HowMet.JOB_APPLICATION, follow_ups=2)
    assert drafts.choose_template(contact, rules) == "application_check_in"


def test_the_application_draft_asks_what_the_hiring_manager_wants_and_for_a_conversation() -> None:
    body = draft(person(how_met=HowMet.JOB_APPLICATION)).body
    assert "interested" in body
    assert "hiring manager" in body
    assert "short conversation" in body


@pytest.mark.parametrize("name", drafts.TEMPLATE_NAMES)
def test_every_draft_is_brief_gracious_and_filled_in(name: str) -> None:
    made = drafts.fill(name, BUILT_IN.by_name[name], person(referred_by="Tom"), "Sam")
    assert "$" not in made.subject + made.body
    assert made.body.startswith("Hi Ann,")
    assert made.body.endswith("\nSam")
    assert len(made.body) < 500
    for pushy in ("subscribe", "newsletter", "mailing list", "sign up", "buy", "offer you"):
        assert pushy not in (made.subject + made.body).lower()


def test_placeholders_take_first_name_company_referrer_and_your_name() -> None:
    made = draft(person(name="Dr. Ann O'Neil", how_met=HowMet.JOB_APPLICATION))
    assert made.subject == "My application to Acme"
    assert made.body.startswith("Hi Ann,\n")
    assert "applied to Acme" in made.body
    assert made.body.endswith("Sam Smith")
    intro = draft(person(how_met=HowMet.REFERRAL, referred_by="Tom\nJones"))
    assert intro.subject == "Introduction via Tom Jones"


def test_blank_cells_still_read_well_and_workbook_text_is_never_a_placeholder() -> None:
    made = draft(person(name="", company="", how_met=HowMet.JOB_APPLICATION), your_name="")
    assert made.body.startswith("Hi there,")
    assert made.subject == "My application for a role with your team"
    assert "applied for a role with your team" in made.body
    assert "organisation" not in made.body
    assert made.body.endswith("whenever it suits you."), "no sign-off left dangling"
    sneaky = draft(person(name="$your_name", company="${company} costs $5"))
    assert sneaky.body.startswith("Hi $your_name,")


def test_every_built_in_file_is_a_known_template_with_known_placeholders() -> None:
    folder = Path(followup.__file__).parent / "templates"
    assert sorted(p.stem for p in folder.glob("*.txt")) == sorted(drafts.TEMPLATE_NAMES)
    assert set(BUILT_IN.by_name) == set(drafts.TEMPLATE_NAMES)
    assert BUILT_IN.problems == ()


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_file_in_the_user_folder_replaces_only_that_template(tmp_path: Path) -> None:
    write(
        tmp_path,
        "event_thanks.txt",
        "\ufeffSubject: Lovely to meet you, $first_name\r\n\r\nHi!\r\n",
    )
    loaded = load_templates(tmp_path)
    assert loaded.problems == ()
    assert loaded.by_name["event_thanks"] == DraftTemplate("Lovely to meet you, $first_name", "Hi!")
    assert loaded.by_name["nudge"] == BUILT_IN.by_name["nudge"]
    made = drafts.draft_for(person(how_met=HowMet.NETWORKING_EVENT), loaded.by_name, RULES, "")
    assert made == Draft("event_thanks", "Lovely to meet you, Ann", "Hi!")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Hello $first_name", 'does not start with a "Subject: ..." line'),
        ("Subject:\n\nHi", 'does not start with a "Subject: ..." line'),
        ("", 'does not start with a "Subject: ..." line'),
        ("Subject: Hi\n\n   \n", "has no message after its Subject line"),
        ("Subject: Hi\n\nHi $firstname,", "uses $firstname, which is not a placeholder"),
        ("Subject: Hi ${nme}\n\nHi", "uses $nme, which is not a placeholder"),
        ("Subject: Caf\xe9\n\nHi".encode("latin-1"), "is not UTF-8 text"),
    ],
)
def test_a_bad_user_template_falls_back_to_the_built_in_and_says_why(
    tmp_path: Path, text: str | bytes, reason: str
) -> None:
    path = write(tmp_path, "nudge.txt", text)
    loaded = load_templates(tmp_path)
    assert loaded.by_name == BUILT_IN.by_name
    [problem] = loaded.problems
    assert str(path) in problem
    assert reason in problem
    assert "built-in" in problem


def test_an_unknown_file_name_or_a_missing_folder_is_reported_not_fatal(tmp_path: Path) -> None:
    write(tmp_path, "thank_you.txt", "Subject: Hi\n\nHi")
    write(tmp_path, "notes.md", "not a template")
    loaded = load_templates(tmp_path)
    assert loaded.by_name == BUILT_IN.by_name
    [problem] = loaded.problems
    assert "thank_you.txt is not used" in problem and "event_thanks" in problem

    missing = load_templates(tmp_path / "nowhere")
    assert missing.by_name == BUILT_IN.by_name
    assert "does not exist" in missing.problems[0]


def test_a_dollar_sign_that_is_not_a_placeholder_is_left_alone(tmp_path: Path) -> None:
    write(tmp_path, "keep_in_touch.txt", "Subject: $$5 coffee?\n\nHi $first_name, it costs $5.")
    template = load_templates(tmp_path).by_name["keep_in_touch"]
    made = drafts.fill("keep_in_touch", template, person(), "")
    assert (made.subject, made.body) == ("$5 coffee?", "Hi Ann, it costs $5.")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"email": "ann@example.com", "linkedin": "x", "phone": "555"}, Channel.EMAIL),
        ({"email": "ann at example", "linkedin": "linkedin.com/in/ann"}, Channel.LINKEDIN),
        ({"linkedin": "linkedin.com/in/ann", "phone": "555 0100"}, Channel.LINKEDIN),
        ({"phone": "555 0100"}, Channel.PHONE),
        ({"email": "  ", "phone": " "}, Channel.NOTE),
        ({}, Channel.NOTE),
    ],
)
def test_the_channel_is_the_first_one_the_row_allows(fields: dict, expected: Channel) -> None:
    assert channel(person(**fields)) == expected


@pytest.mark.parametrize(
    ("logged", "shown"),
    [("email", "by email"), ("linkedin", "by LinkedIn message"), ("phone", "by phone"),
     ("note", "with a handwritten note"), ("coffee", "coffee")],
)  # fmt: skip
def test_a_logged_channel_is_shown_as_the_user_knows_it(logged: str, shown: str) -> None:
    from followup.core.channels import logged_as

    assert logged_as(logged) == shown


def test_talking_points_are_two_lines_without_greeting_or_sign_off() -> None:
    points = drafts.talking_points(draft(person(how_met=HowMet.JOB_APPLICATION)))
    assert len(points) == 2
    assert points[0].startswith("I recently applied to Acme")
    assert points[1] == "Could you share what the hiring manager is most looking for?"
    bare = Draft("nudge", "Hi", "Just checking in. Hope you are well! Speak soon.")
    assert drafts.talking_points(bare) == ("Just checking in.", "Hope you are well!")


@pytest.mark.parametrize("your_name", ["Sam Smith", ""])
def test_talking_points_never_hold_the_greeting_signed_or_not(your_name: str) -> None:
    nudge = draft(person(name="Dave Miller", stage=Stage.WAITING, follow_ups=1), your_name)
    assert drafts.talking_points(nudge) == (
        "Just a gentle follow-up on my last note, in case it got buried.",
        "No pressure at all; I know how busy things get.",
    )


def test_mailto_encodes_ampersands_question_marks_newlines_and_non_ascii() -> None:
    contact = person(
        name="Zoë Ñúñez",
        company="Smith & Sons? Ltd\nLondon",
        how_met=HowMet.JOB_APPLICATION,
        email="zoe+jobs@example.com",
    )
    made = draft(contact, your_name="Søren & Co")
    href = drafts.mailto("zoe+jobs@example.com", made)
    assert href.isascii()
    assert not any(c in href for c in " \r\n<>\"'")
    parts = urlsplit(href)
    assert (parts.scheme, parts.path) == ("mailto", "zoe%2Bjobs@example.com")
    fields = parse_qs(parts.query, strict_parsing=True)
    assert fields["subject"] == ["My application to Smith & Sons? Ltd London"]
    [body] = fields["body"]
    assert body == made.body.replace("\n", "\r\n")
    assert body.startswith("Hi Zoë,\r\n\r\nI recently applied to Smith & Sons? Ltd London")
    assert body.endswith("\r\nSøren & Co")
    assert drafts.mailto("ann@example.com", None) == "mailto:ann@example.com"


@pytest.mark.parametrize(
    ("name", "first"),
    [("Ann Lee", "Ann"), ("Dr. Ann Lee", "Ann"), ("Prof Lee", "Lee"), ("Mr.", ""), ("", "")],
)
def test_first_name_skips_titles(name: str, first: str) -> None:
    assert drafts.first_name(name) == first


def test_the_daily_job_uses_the_configured_folder_and_reports_its_problems(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        '[digest]\nname = "Sam"\ntemplates = "mine"\nmax_items = 1\n', encoding="utf-8"
    )
    write(tmp_path / "mine", "event_thanks.txt", "Subject: So glad we met\n\nHi $first_name!")
    write(tmp_path / "mine", "typo.txt", "Subject: x\n\ny")
    config = load_config(config_file)
    assert (config.digest.templates, config.digest.max_items) == (tmp_path / "mine", 1)

    def due(row: int, name: str) -> tuple[Contact, FollowUp]:
        contact = person(
            row=row, name=name, email=f"{name}@example.com", how_met=HowMet.NETWORKING_EVENT
        )
        return contact, FollowUp(TODAY, Status.DUE_TODAY, 0, "Say thanks.")

    entries = (due(2, "ann"), due(3, "bob"))
    contents = SheetContents("Contacts", 1, {}, 1, tuple(c for c, _ in entries), (), {}, {}, ())
    digest = daily.digest_for(config, Evaluation(contents, entries), TODAY)
    assert "subject=So%20glad%20we%20met&body=Hi%20ann%21" in html.unescape(digest.html)
    assert "typo.txt is not used" in digest.text
    assert digest.listed_rows == (2,)
    assert "and 1 more" in digest.text


def test_every_placeholder_has_a_value() -> None:
    template = DraftTemplate("$name", " | ".join(f"${p}" for p in sorted(drafts.PLACEHOLDERS)))
    contact = person(
        role="CTO",
        referred_by="Tom",
        how_met=HowMet.REFERRAL,
        where_met="PyData",
        notes="Talked about pipelines. Two kids.",
    )
    made = drafts.fill("referral_intro", template, contact, "Sam")
    assert made == Draft(
        "referral_intro",
        "Ann Lee",
        "about pipelines |  to Acme |  at Acme |  at PyData | Acme | Ann | referral | them"
        " | 1 March 2026 | Ann Lee | Tom | CTO | what the hiring manager is most looking for | Sam",
    )


# --- drafts that know the person -------------------------------------------------------------

SHAPES = [
    {},
    {"name": "", "company": "", "role": "", "met_on": None},
    {"name": "Dr.", "company": "  ", "notes": "Talked about"},
    {"where_met": "PyData Berlin", "notes": "Talked about Rust data pipelines. Has two kids."},
    {"where_met": "at the Leeds meetup.", "notes": "Discussed: hiring plans!"},
    {"where_met": "x" * 200, "notes": "Spoke about " + "y" * 200},
    {"role": "Hiring Manager"},
    {"role": "Senior Technical Recruiter", "company": "Globex"},
    {"role": "Talent Acquisition Partner", "referred_by": "Tom"},
    {"notes": "[fill me in] $first_name {x}", "where_met": "<b>Gala</b>"},
]
_BLANKS = ("[", "]", "$", "{", "}", "<", ">", "  ", " ,", " .", " ;", "..")


@pytest.mark.parametrize("name", drafts.TEMPLATE_NAMES)
@pytest.mark.parametrize("shape", range(len(SHAPES)))
@pytest.mark.parametrize("your_name", ["Sam Smith", ""])
def test_no_draft_ever_holds_a_blank_or_a_placeholder(
    name: str, shape: int, your_name: str
) -> None:
    fields = SHAPES[shape]
    made = drafts.fill(name, BUILT_IN.by_name[name], person(**fields), your_name)
    text = made.subject + "\n" + made.body
    typed = "".join(str(value) for value in fields.values())
    for blank in _BLANKS:
        if blank not in typed:  # what the user typed in a cell may hold anything
            assert blank not in text, (blank, text)
    assert made.body.startswith("Hi ")
    last = made.body.splitlines()[-1]
    assert last == your_name if your_name else not last.endswith(","), "no dangling sign-off"


def test_where_we_met_and_what_you_talked_about_make_the_thanks_specific() -> None:
    made = draft(
        person(
            how_met=HowMet.NETWORKING_EVENT,
            where_met="PyData Berlin",
            notes="Talked about Rust data pipelines. She has two kids.",
        )
    )
    assert made.subject == "Great to meet you at PyData Berlin"
    assert made.body == (
        "Hi Ann,\n\nThank you for the conversation at PyData Berlin about Rust data pipelines; "
        "I really enjoyed it. If there is ever anything I can help with, just let me know.\n\n"
        "Best wishes,\nSam Smith"
    )
    private = draft(person(how_met=HowMet.NETWORKING_EVENT, notes="Seemed grumpy. Two kids."))
    assert "grumpy" not in private.body, "only a note saying what you talked about is used"
    assert "Thank you for the conversation; I really enjoyed it." in private.body


def test_the_informational_interview_thanks_names_the_place_and_offers_help() -> None:
    coffee = person(
        how_met=HowMet.INFORMATIONAL_INTERVIEW,
        where_met="Coffee at Café Nero",
        notes="Talked about moving into data engineering. Suggested her blog.",
    )
    assert draft(coffee).body == (
        "Hi Ann,\n\nThank you again for taking the time to talk with me over coffee at Café Nero "
        "about moving into data engineering. Your advice was really helpful, and I will let you "
        "know how I get on. If there is ever anything I can do for you in return, just let me "
        "know.\n\nBest wishes,\nSam Smith"
    )
    update = draft(dataclasses.replace(coffee, follow_ups=1))
    assert "your advice over coffee at Café Nero about moving into data engineering" in update.body
    zoom = draft(person(how_met=HowMet.INFORMATIONAL_INTERVIEW, where_met="Zoom"))
    assert "talk with me on Zoom." in zoom.body


@pytest.mark.parametrize("name", drafts.TEMPLATE_NAMES)
def test_every_first_follow_up_and_thanks_offers_to_help(name: str) -> None:
    if name in ("birthday", "application_follow_up", "application_check_in"):
        return  # a greeting asks for nothing; an application follow-up is the user's ask
    made = drafts.fill(name, BUILT_IN.by_name[name], person(referred_by="Tom"), "Sam")
    assert "help" in made.body or "anything I can do for you" in made.body, made.body


@pytest.mark.parametrize(
    ("company", "notes", "subject", "phrase"),
    [
        ("Acme", "", "My application to Acme", "I recently applied to Acme and"),
        ("", "", "My application for a role with your team", "applied for a role with your team"),
        ("", "Applied for the analyst role. Met at a fair.", "My application for the analyst role",
         "I recently applied for the analyst role and"),
        ("Acme", "applied for the analyst role", "My application for the analyst role at Acme",
         "I recently applied for the analyst role at Acme and"),
        ("Acme", "Applied for the Acme analyst role.", "My application for the Acme analyst role",
         "applied for the Acme analyst role and"),
        ("Acme", "Applied via the website.", "My application to Acme", "applied to Acme and"),
    ],
)  # fmt: skip
def test_the_application_draft_names_the_role_from_notes_and_never_your_organisation(
    company: str, notes: str, subject: str, phrase: str
) -> None:
    made = draft(person(how_met=HowMet.JOB_APPLICATION, company=company, notes=notes))
    assert made.subject == subject
    assert phrase in made.body
    check_in = draft(
        person(how_met=HowMet.JOB_APPLICATION, company=company, notes=notes, follow_ups=1)
    )
    assert "organisation" not in check_in.body and "on my application " in check_in.body


@pytest.mark.parametrize(
    ("role", "asks"),
    [
        ("Engineer", "Could you share what the hiring manager is most looking for?"),
        ("Hiring Manager", "Could you share what you are most looking for in the role?"),
        ("Technical recruiter", "Could you share where my application stands, and what the "
                                "hiring manager is most looking for?"),
    ],
)  # fmt: skip
def test_the_application_draft_speaks_to_the_hiring_manager_or_recruiter(
    role: str, asks: str
) -> None:
    made = draft(person(how_met=HowMet.JOB_APPLICATION, role=role))
    assert asks in made.body


def test_the_action_speaks_to_the_hiring_manager_themself() -> None:
    from followup.core.rules import follow_up

    hiring = person(how_met=HowMet.JOB_APPLICATION, role="Hiring manager", email="a@b.co")
    assert follow_up(hiring, TODAY, RULES).action == (
        "Send a polite follow-up by email: restate your interest and ask what they are looking "
        "for in the role."
    )


def test_the_signature_is_the_sending_accounts_name_when_digest_name_is_empty(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.toml").write_text(
        '[digest]\nto = "Sam Smith <sam@example.com>"\n', encoding="utf-8"
    )
    assert load_config(tmp_path / "config.toml").digest.your_name == "Sam Smith"
    (tmp_path / "config.toml").write_text(
        '[digest]\nto = "sam@example.com"\n[smtp]\nhost = "localhost"\n'
        'from = "Sam S <sam@example.com>"\n',
        encoding="utf-8",
    )
    assert load_config(tmp_path / "config.toml").digest.your_name == "Sam S"
    (tmp_path / "config.toml").write_text('[digest]\nto = "sam@example.com"\n', encoding="utf-8")
    assert load_config(tmp_path / "config.toml").digest.your_name == ""


@given(st.text(max_size=120), st.text(max_size=120))
def test_any_notes_and_place_give_a_phrase_or_nothing(notes: str, where: str) -> None:
    about, place = drafts.topic(notes), drafts.at_place(where)
    assert about == about.strip() and "\n" not in about and len(about) <= 80
    assert place == "" or (place.startswith(" ") and "\n" not in place and len(place) <= 84)
