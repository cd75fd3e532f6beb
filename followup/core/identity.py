"""Who is who: the keys that recognise a person whatever row they are on, and finding the
contact a command names.

Rows move (the user sorts the sheet, inserts a row), so the program never remembers a contact
by row number: it uses their email, else their LinkedIn profile, else name and company, always
compared without case or extra spaces.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

from followup.core.model import Contact
from followup.errors import UsageError


class Person(Protocol):
    """Anything with the four fields that identify someone (a Contact, an imported card)."""

    @property
    def name(self) -> str: ...
    @property
    def company(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def linkedin(self) -> str: ...


def fold(text: str) -> str:
    """Text compared the way a person reads it: no case, single spaces."""
    return " ".join(text.casefold().split())


_URL_PREFIX = re.compile(r"^(?:https?://)?(?:www\.|[a-z]{2}\.)?")
_URL_SUFFIX = re.compile(r"[?#].*$")


def linkedin_profile(url: str) -> str:
    """A LinkedIn URL reduced to what names the profile ("linkedin.com/in/ann-lee"), so the
    http/https, www/country prefixes, tracking parameters and trailing slash do not matter."""
    return _URL_SUFFIX.sub("", _URL_PREFIX.sub("", fold(url))).rstrip("/")


def identities(person: Person) -> tuple[str, ...]:
    """Every key that identifies the person, most reliable first: email, LinkedIn, name+company."""
    return tuple(_identities(person))


def contact_key(person: Person) -> str:
    """The one key a contact is remembered by between runs (only the first is computed)."""
    return next(_identities(person))


def _identities(person: Person) -> Iterator[str]:
    if email := fold(person.email):
        yield f"email:{email}"
    if profile := linkedin_profile(person.linkedin):
        yield f"linkedin:{profile}"
    yield f"name:{fold(person.name)}|{fold(person.company)}"


def plain(text: str) -> str:
    """Text as a person types it when looking someone up: no case, no accents ("Zoë" is
    "zoe"), no apostrophes ("O'Brien" is "obrien"), single spaces."""
    # Case is folded between two decompositions: each can make what the other must undo
    # (a bold italic math alpha decomposes to a capital alpha; some folded letters decompose).
    bare = _bare(_bare(text).casefold())
    return " ".join(_APOSTROPHES.sub("", bare).split())


def _bare(text: str) -> str:
    """Compatibility-decomposed, without combining marks (accents)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_words(text: str) -> tuple[str, ...]:
    """The whole words of a name, plain: "Mary-Jane O'Brien" is ("mary", "jane", "obrien")."""
    return tuple(word for word in _WORD_BREAK.split(plain(text)) if word)


_APOSTROPHES = re.compile(r"['\u2019\u02bc`]")
_WORD_BREAK = re.compile(r"[\W_]+")
_ROW = re.compile(r"#\s*(\d{1,7})")


def find_contact(
    contacts: Sequence[Contact], query: str, sheet: str, header_row: int = 1
) -> Contact:
    """The contact `query` names: `#ROW`, the email, the whole name, or whole words of it.

    Case, accents and spacing do not matter; "lima" finds "Ana Lima". The start of a word is
    never taken on its own ("a" does not pick the only Ana): it is answered with the names it
    starts, so the user types one. Raises UsageError (exit 2) when nobody matches or several do,
    listing the candidates with their rows, or the closest names.
    """
    wanted = plain(query)
    if not wanted:
        raise UsageError("Give the contact's name (or one word of it), their email, or #ROW.")
    if row := _ROW.fullmatch(wanted):
        return _by_row(contacts, int(row.group(1)), sheet, header_row)
    words = name_words(wanted)
    tests: tuple[Callable[[Contact], bool], ...] = (
        lambda c: plain(c.email) == wanted,
        lambda c: plain(c.name) == wanted,
        lambda c: bool(words) and set(words) <= set(name_words(c.name)),
    )
    for test in tests:
        if found := [c for c in contacts if test(c)]:
            return _one(found, query, sheet)
    if starts := [c for c in contacts if _starts_words(words, name_words(c.name))]:
        raise UsageError(
            f"No name in {sheet} has {query!r} as a whole word; it is the start of "
            + _listed(starts)
            + "\nType the whole word (or the email, or #ROW)."
        )
    raise UsageError(
        f"No contact in {sheet} has {query!r} as their name, a word of it, or their email."
        + _closest(contacts, wanted)
    )


def _by_row(contacts: Sequence[Contact], row: int, sheet: str, header_row: int) -> Contact:
    found = [c for c in contacts if c.row == row]
    if found:
        return found[0]
    if row < 1:
        raise UsageError(f"Rows are numbered from 1; contacts start at row {header_row + 1}.")
    if row == header_row:
        raise UsageError(
            f"Row {row} of {sheet} is the header row; contacts start at row {header_row + 1}."
        )
    if row < header_row:
        raise UsageError(
            f"Row {row} of {sheet} is above the header row ({header_row}); contacts start at "
            f"row {header_row + 1}."
        )
    raise UsageError(f"Row {row} of {sheet} holds no contact. `followup status` lists rows.")


def _one(found: list[Contact], query: str, sheet: str) -> Contact:
    if len(found) == 1:
        return found[0]
    raise UsageError(
        f"{query!r} matches {len(found)} contacts in {sheet}:\n"
        + "\n".join(f"  row {c.row}: {one_line_who(c)}" for c in found)
        + "\nType more of the name, give the email address, or #ROW (like #"
        + f"{found[0].row})."
    )


def _starts_words(words: tuple[str, ...], of: tuple[str, ...]) -> bool:
    """Every typed word starts some word of the name (and at least one word was typed)."""
    return bool(words) and all(any(w.startswith(typed) for w in of) for typed in words)


def _listed(found: Sequence[Contact], most: int = 10) -> str:
    shown = "\n".join(f"  row {c.row}: {one_line_who(c)}" for c in found[:most])
    more = f"\n  and {len(found) - most} more" if len(found) > most else ""
    return ("this name:\n" if len(found) == 1 else "these names:\n") + shown + more


def _closest(contacts: Sequence[Contact], wanted: str) -> str:
    """A sentence naming up to three contacts whose name, or a word of it, is spelled alike."""
    by_spelling: dict[str, list[Contact]] = {}
    for contact in contacts:
        for spelling in {plain(contact.name), *name_words(contact.name)}:
            by_spelling.setdefault(spelling, []).append(contact)
    close = difflib.get_close_matches(wanted, list(by_spelling), n=6, cutoff=0.6)
    found = list({c.row: c for s in close for c in by_spelling[s]}.values())[:3]
    if not found:
        return " Check the spelling; `followup status` lists everyone."
    names = " or ".join(f"{c.name} (row {c.row})" for c in found)
    return f" Did you mean {names}?"


def one_line_who(contact: Contact) -> str:
    """The person in one line: 'Ann Lee, Acme (ann@example.com)'."""
    who = ", ".join(part for part in (contact.name, contact.company) if part)
    return f"{who} ({contact.email})" if contact.email else who


def index_by(people: Iterable[Contact], key: Callable[[Contact], str]) -> dict[str, list[Contact]]:
    """Contacts grouped by a folded key; empty keys are left out."""
    groups: dict[str, list[Contact]] = {}
    for person in people:
        if value := key(person):
            groups.setdefault(value, []).append(person)
    return groups
