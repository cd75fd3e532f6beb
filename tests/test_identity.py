"""Finding the contact a command names: whole words, accents, email, #ROW, and the messages
when the name is ambiguous, only the start of a word, or unknown."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.core.identity import find_contact, name_words, plain
from followup.core.model import Contact
from followup.errors import UsageError

PEOPLE = (
    Contact(row=2, name="Zoë O'Brien", email="zoe@example.com"),
    Contact(row=3, name="Ana Lima", company="Fabrikam"),
    Contact(row=4, name="Priya  Shah"),
    *(Contact(row=5 + n, name=f"Person{n} Test") for n in range(1, 12)),
)


def found(query: str) -> int:
    return find_contact(PEOPLE, query, "Contacts").row


@pytest.mark.parametrize(
    ("query", "row"),
    [
        ("zoe", 2),  # accents ignored
        ("ZOË", 2),
        ("obrien", 2),  # the apostrophe ignored
        ("zoe o'brien", 2),
        ("zoe@example.com", 2),
        ("lima", 3),  # any whole word, the surname too
        ("  ana   LIMA ", 3),
        ("priya shah", 4),
        ("person1", 6),  # a whole word wins over the longer Person10, Person11
        ("#3", 3),
        ("# 16", 16),
    ],
)
def test_a_contact_is_found_by_any_whole_word_email_or_row(query: str, row: int) -> None:
    assert found(query) == row


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("a", "No name in Contacts has 'a' as a whole word; it is the start of this name:\n"
              "  row 3: Ana Lima, Fabrikam\nType the whole word (or the email, or #ROW)."),
        ("test", "'test' matches 11 contacts in Contacts:\n  row 6: Person1 Test\n"),
        ("pers", "it is the start of these names:\n  row 6: Person1 Test\n"),
        ("#99", "Row 99 of Contacts holds no contact."),
        ("#1", "Row 1 of Contacts is the header row; contacts start at row 2."),
        ("#0", "Rows are numbered from 1; contacts start at row 2."),
        ("lmia", "Did you mean Ana Lima (row 3)?"),
        ("qqqq", "Check the spelling; `followup status` lists everyone."),
        ("  ", "Give the contact's name (or one word of it), their email, or #ROW."),
    ],
)  # fmt: skip
def test_a_start_an_ambiguity_or_a_miss_is_explained(query: str, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        found(query)
    assert message in str(raised.value)


def test_a_long_list_of_starts_is_cut_short() -> None:
    with pytest.raises(UsageError) as raised:
        found("p")
    assert "  and 2 more\n" in str(raised.value)


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.lists(names, min_size=1, max_size=6), names)
def test_any_query_finds_one_contact_or_says_why(people: list[str], query: str) -> None:
    contacts = [Contact(row=n, name=name) for n, name in enumerate(people, start=2)]
    try:
        contact = find_contact(contacts, query, "Contacts")
    except UsageError as error:
        assert str(error)
        return
    words = set(name_words(query))
    typed = plain(query)
    assert (
        typed == plain(contact.name)
        or (words and words <= set(name_words(contact.name)))
        or typed == f"#{contact.row}"
        or typed.startswith("#")
    ), "a contact is found only by its whole name, whole words of it, or its row"


@settings(max_examples=300, deadline=None)
@given(st.lists(names, min_size=1, max_size=6))
def test_every_word_of_a_unique_name_finds_it(people: list[str]) -> None:
    contacts = [Contact(row=n, name=name) for n, name in enumerate(people, start=2)]
    for contact in contacts:
        for word in name_words(contact.name):
            owners = [c for c in contacts if word in name_words(c.name)]
            if len(owners) == 1 and not any(plain(c.name) == word for c in contacts):
                assert find_contact(contacts, word, "Contacts") == contact


@given(names)
def test_plain_text_is_stable(text: str) -> None:
    assert plain(plain(text)) == plain(text)
    assert name_words(plain(text)) == name_words(text)


def test_a_letter_that_decomposes_to_a_capital_is_still_found() -> None:
    """Found by hypothesis: a math bold alpha decomposes to a capital alpha, which must then
    lose its case too."""
    math_alpha, small_alpha = "\U0001d790", "\u03b1"
    assert find_contact([Contact(row=2, name=f":{math_alpha}")], small_alpha, "Contacts").row == 2
