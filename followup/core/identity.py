"""Who is who: the keys that recognise a person whatever row they are on, and finding the
contact a command names.

Rows move (the user sorts the sheet, inserts a row), so the program never remembers a contact
by row number: it uses their email, else their LinkedIn profile, else name and company, always
compared without case or extra spaces.
"""

from __future__ import annotations

import re
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


def find_contact(contacts: Sequence[Contact], query: str, sheet: str) -> Contact:
    """The contact `query` names: the exact name, else a unique name prefix, else the email.

    Raises UsageError (exit 2) when nobody matches or the match is ambiguous, listing the
    candidates with their rows so the user can type more of the name.
    """
    wanted = fold(query)
    if not wanted:
        raise UsageError("Give the contact's name (or the start of it, or their email).")
    tests: tuple[Callable[[Contact], bool], ...] = (
        lambda c: fold(c.name) == wanted,
        lambda c: fold(c.name).startswith(wanted),
        lambda c: fold(c.email) == wanted,
    )
    for test in tests:
        found = [c for c in contacts if test(c)]
        if len(found) == 1:
            return found[0]
        if found:
            raise UsageError(
                f"{query!r} matches {len(found)} contacts in {sheet}:\n"
                + "\n".join(f"  row {c.row}: {one_line_who(c)}" for c in found)
                + "\nType more of the name, or give the email address."
            )
    raise UsageError(
        f"No contact in {sheet} is called {query!r}, starts with it, or has it as email. "
        "Check the spelling; `followup status` lists everyone."
    )


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
