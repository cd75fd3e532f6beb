"""How a contact can be reached, chosen in one place from what their row holds.

The suggested action ("Send a thank-you by email"), the draft in the digest and the channel
`followup done` logs by default all ask `channel`, so they always agree: an Email cell that
does not hold a usable address never makes any of them say "by email".
"""

from __future__ import annotations

import re
from enum import StrEnum

from followup.core.model import Contact

_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


class Channel(StrEnum):
    """A way to reach a contact; the values are also the Log's channel names."""

    EMAIL = "email"
    LINKEDIN = "linkedin"
    PHONE = "phone"
    NOTE = "note"  # nothing to reach them by: a handwritten note


PHRASES: dict[Channel, str] = {
    Channel.EMAIL: "by email",
    Channel.LINKEDIN: "by LinkedIn message",
    Channel.PHONE: "by phone",
    Channel.NOTE: "with a handwritten note (or find their email)",
}
"""How the suggested action says each channel."""


def logged_as(channel: str) -> str:
    """A Log channel as the user knows it ("linkedin" -> "by LinkedIn message"); a channel
    typed by hand is shown as typed."""
    if channel == Channel.NOTE:
        return "with a handwritten note"
    return PHRASES[Channel(channel)] if channel in tuple(Channel) else channel


def channel(contact: Contact) -> Channel:
    """Email when the address is usable, else LinkedIn, else phone, else a note."""
    if email_address(contact):
        return Channel.EMAIL
    if contact.linkedin.strip():
        return Channel.LINKEDIN
    if contact.phone.strip():
        return Channel.PHONE
    return Channel.NOTE


def email_address(contact: Contact) -> str | None:
    """The Email cell when it holds one address that can safely become a link."""
    address = contact.email.strip()
    return address if _EMAIL.fullmatch(address) else None
