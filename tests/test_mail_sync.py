"""core/mail_sync.py: what sent mail, replies and mark-done mails mean, with plain values."""

from __future__ import annotations

import dataclasses
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from followup.core.log import REPLY, LogEntry
from followup.core.mail_sync import (
    MARKED_DONE,
    Message,
    Touch,
    addresses,
    decide,
    mark_subject,
)
from followup.core.model import Contact, Stage

TODAY = date(2026, 3, 11)
ME = "me@example.org"
ANA = Contact(2, "Ana Lima", email="Ana Lima <ana@example.com>; a.lima@work.example")
BO = Contact(3, "Bo Chen", email="bo@example.com", met_on=date(2026, 3, 5), stage=Stage.WAITING)
ANA_TWO = Contact(4, "Ana  lima", company="Globex", phone="+1 555")


def run(*messages: Message, logged=None, applied=frozenset(), subjects=False) -> list[Touch]:
    return decide(
        [ANA, BO, ANA_TWO],
        logged or {},
        messages,
        own_address=ME,
        today=TODAY,
        log_subjects=subjects,
        applied=applied,
    )


def sent(day: int, *to: str, subject: str = "Hi") -> Message:
    return Message("sent", date(2026, 3, day), ME, to, subject, f"<s{day}>")


def inbox(day: int, sender: str, subject: str = "Hi", key: str = "") -> Message:
    return Message("inbox", date(2026, 3, day), sender, (ME,), subject, key or f"<i{day}>")


def test_sent_mail_to_any_address_of_a_contact_counts_once_a_day() -> None:
    touches = run(
        sent(9, "A.LIMA@work.example", subject="Coffee"),
        sent(9, "ana@example.com"),
        sent(10, "someone@else.example", "ana@example.com"),
        sent(12, "ana@example.com"),  # tomorrow: a clock ahead
        subjects=True,
    )
    assert touches == [
        Touch(2, "sent", date(2026, 3, 9), "Coffee"),
        Touch(2, "sent", date(2026, 3, 10), "Hi"),
    ]


def test_mail_to_yourself_is_no_follow_up_even_with_your_address_in_the_workbook() -> None:
    me = Contact(5, "Me Myself", email=ME.upper())
    assert decide([me], {}, [sent(9, ME)], own_address=ME, today=TODAY, log_subjects=False) == []


def test_strangers_and_days_already_logged_are_ignored() -> None:
    logged = {2: [LogEntry(date(2026, 3, 9), "Ana Lima", channel="email")]}
    assert run(sent(9, "ana@example.com"), sent(10, "x@y.example"), logged=logged) == []
    assert run(inbox(10, "x@y.example"), sent(5, "bo@example.com")) == []  # 5: Met on


def test_a_follow_up_typed_by_hand_in_last_contact_is_not_counted_again() -> None:
    """The "How to use" sheet's way: Last contact set to the day and Follow-ups + 1."""
    typed = Contact(2, "Ana Lima", email="ana@example.com", last_contact=date(2026, 3, 9),
                    follow_ups=1)  # fmt: skip
    mails = [sent(9, "ana@example.com"), inbox(9, ME, "followup: done #2 Ana Lima", "<d9>")]
    decided = decide([typed], {}, mails, own_address=ME, today=TODAY, log_subjects=False)
    assert decided == []
    later = decide([typed], {}, [sent(10, "ana@example.com")], own_address=ME, today=TODAY,
                   log_subjects=False)  # fmt: skip
    assert later == [Touch(2, "sent", date(2026, 3, 10))]
    uncounted = dataclasses.replace(typed, follow_ups=0, met_on=date(2026, 3, 9))
    assert decide([uncounted], {}, mails[:1], own_address=ME, today=TODAY,
                  log_subjects=False) == [], "Met on day: part of meeting them"  # fmt: skip


def test_a_reply_from_a_contact_is_noticed_once() -> None:
    logged = {3: [LogEntry(date(2026, 3, 9), "Bo Chen", channel=REPLY)]}
    assert run(inbox(9, "Bo <bo@example.com>"), inbox(10, "BO@example.com"), logged=logged) == [
        Touch(3, "reply", date(2026, 3, 10))
    ]


def test_mark_done_mails_come_only_from_the_user_and_name_the_person() -> None:
    subject = mark_subject("done", ANA)
    assert subject == "followup: done #2 Ana Lima"
    assert run(inbox(10, "other@example.com", subject)) == []
    assert run(inbox(10, ME, subject, "<k>")) == [
        Touch(2, "done", date(2026, 3, 10), MARKED_DONE, key="<k>")
    ]
    assert run(inbox(10, ME, subject, "<k>"), applied=frozenset({"<k>"})) == []
    for messages in (
        (inbox(9, ME, subject), sent(9, "ana@example.com")),
        (sent(9, "ana@example.com"), inbox(9, ME, subject)),
    ):
        assert len(run(*messages)) == 1  # one follow-up a day, however it is recorded
    # Namesakes: the row decides; a row that is neither names nobody.
    assert run(inbox(10, ME, "followup: done #4 ana lima"))[0].row == 4
    assert run(inbox(10, ME, "followup: done #9 Ana Lima")) == []
    assert run(inbox(10, ME, "followup: done #3 Nobody Here")) == []
    snooze = run(inbox(10, ME, "FollowUp: snooze #3 Bo Chen 14", "<z>"))
    assert snooze == [Touch(3, "snooze", date(2026, 3, 10), days=14, key="<z>")]
    assert run(inbox(10, ME, "followup: snooze #3 Bo Chen")) == []  # how long?
    assert run(inbox(10, ME, "Re: followup: done #3 Bo Chen")) == []


def test_a_name_that_ends_in_digits_is_not_read_as_days() -> None:
    agent = Contact(7, "Agent 47", phone="+1 555")
    other = Contact(8, "Agent", phone="+1 556")

    def one(subject: str) -> list[Touch]:
        message = inbox(10, ME, subject)
        return decide([agent, other], {}, [message], own_address=ME, today=TODAY,
                      log_subjects=False)  # fmt: skip

    assert [t.row for t in one(mark_subject("done", agent))] == [7]
    [snooze] = one(mark_subject("snooze", agent, 14))
    assert (snooze.row, snooze.days) == (7, 14)
    assert [(t.row, t.days) for t in one("followup: snooze #8 Agent 47")] == [(8, 47)]


ADDRESS = st.from_regex(r"[a-z0-9._+-]{1,12}@[a-z0-9-]{1,10}\.[a-z]{2,6}", fullmatch=True)
SEPARATOR = st.sampled_from([",", ";", " ", "\n", ", ", "; ", " / "])


@given(st.text())
def test_any_cell_text_gives_addresses_without_an_error(text: str) -> None:
    for address in addresses(text):
        assert "@" in address
        assert address == address.casefold()


@given(st.lists(st.tuples(st.sampled_from(["", "Ana Lima ", '"Lima, Ana" ']), ADDRESS),
                min_size=1, max_size=4), SEPARATOR)  # fmt: skip
def test_several_addresses_in_one_cell_are_all_found(
    people: list[tuple[str, str]], separator: str
) -> None:
    cell = separator.join(f"{name}<{address}>" if name else address for name, address in people)
    assert addresses(cell) == {address.rstrip(".").casefold() for _, address in people}


@given(st.text())
def test_any_subject_decides_without_an_error(subject: str) -> None:
    run(inbox(10, ME, subject), Message("sent", date(2026, 1, 1), ME, (subject,), subject))


def test_a_snooze_mail_never_sets_a_past_day_nor_an_earlier_one_than_the_cell_holds() -> None:
    def snoozed(day: int, days: int, held: date | None) -> bool:
        ana = dataclasses.replace(ANA, follow_up_on=held)
        message = inbox(day, ME, f"followup: snooze #2 Ana Lima {days}", key=f"<z{day}-{days}>")
        touches = decide([ana], {}, [message], own_address=ME, today=TODAY, log_subjects=False)
        return [t.kind for t in touches] == ["snooze"]

    assert snoozed(2, 14, None), "to 16 March"
    assert snoozed(2, 9, None), "to today"
    assert not snoozed(2, 8, None), "to yesterday: past"
    assert not snoozed(2, 14, date(2026, 6, 1)), "a later day is held"
    assert snoozed(2, 14, date(2026, 3, 16)), "the same day"
    assert snoozed(10, 14, date(2026, 3, 20)), "a later day than the one held"
