"""The outbox folder: where every digest is written, so that none is ever lost.

Layout, inside `[digest] outbox` (default `outbox/`):

    outbox/
      2026-03-11 Follow-ups.html  a digest delivered to disk (no [smtp] host): open in a browser
      2026-03-11 Follow-ups.eml   the same digest as an email (Outlook, Apple Mail, Thunderbird)
      pending/                    digests waiting for the SMTP server; the next run sends them
      sent/                       a copy of every digest the SMTP server accepted
      replaced/                   earlier digests that waited in pending/ while a newer one,
                                  which says so, went out in their place

Every .eml has a .html twin with the same name. A second digest on the same day (`--force`) is
"2026-03-11 Follow-ups 2.eml", and so on. A digest meant for SMTP is written to pending/ before
it is sent and moved to sent/ only once the server has accepted it, so a crash, a timeout or a
refused login leaves it in pending/. Files are written whole or not at all (see atomic.py).
"""

from __future__ import annotations

import re
from datetime import date
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import cast

from followup.atomic import remove_stale_temps, write_atomic
from followup.core.digest import MESSAGE_POLICY

_NAME = re.compile(r"(\d{4}-\d{2}-\d{2}) Follow-ups(?: (\d+))?\.eml")


class Outbox:
    """The outbox folder and its pending/ and sent/ subfolders (created when first needed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pending_folder = folder / "pending"
        self.sent_folder = folder / "sent"
        self.replaced_folder = folder / "replaced"

    def tidy(self) -> None:
        """Remove the temp files a run killed while writing left in these folders."""
        for folder in (self.folder, self.pending_folder, self.sent_folder, self.replaced_folder):
            remove_stale_temps(folder)

    def keep(self, message: EmailMessage, day: date) -> Path:
        """Deliver to disk: write the digest into the outbox folder itself; return the .eml."""
        return _write(message, _free_name(day, self.folder))

    def add(self, message: EmailMessage, day: date) -> Path:
        """Queue the digest in pending/ for SMTP; return its .eml."""
        return _write(
            message, _free_name(day, self.pending_folder, self.sent_folder, self.replaced_folder)
        )

    def pending(self) -> list[Path]:
        """The queued .eml files, oldest first."""
        if not self.pending_folder.is_dir():
            return []
        return sorted(self.pending_folder.glob("*.eml"), key=_age)

    def queued_before(self, day: date) -> list[Path]:
        """The queued digests of days before `day`: the ones a digest of `day` replaces."""
        return [eml for eml in self.pending() if (queued := day_of(eml)) and queued < day]

    def withdraw(self, fresher: Path) -> None:
        """Drop the queued digests of `fresher`'s day but it: it replaces them. Called only
        once `fresher` is written, so a failed write never leaves that day without one."""
        for eml in self.pending():
            if eml != fresher and day_of(eml) == day_of(fresher):
                eml.with_suffix(".html").unlink(missing_ok=True)
                eml.unlink()

    def mark_sent(self, path: Path) -> Path:
        """Move a pending digest (and its .html) to sent/; return where the .eml is now."""
        return _move(path, self.sent_folder)

    def set_aside(self, path: Path) -> Path:
        """Move a pending digest that a newer one replaced to replaced/; return where it is."""
        return _move(path, self.replaced_folder)

    @staticmethod
    def load(path: Path) -> EmailMessage:
        """Read back a saved digest, exactly as it was written."""
        with path.open("rb") as file:
            # An EmailPolicy makes the parser build an EmailMessage; the digests' own one
            # sends its headers folded as they were written.
            return cast(EmailMessage, BytesParser(policy=MESSAGE_POLICY).parse(file))


def day_of(path: Path) -> date | None:
    """The day a digest's file is for, from its name ("2026-03-11 Follow-ups 2.eml")."""
    match = _NAME.fullmatch(path.name)
    return date.fromisoformat(match[1]) if match else None


def _move(path: Path, folder: Path) -> Path:
    """Move a digest's .eml (and its .html) into `folder`, under the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    path.replace(target)
    html = path.with_suffix(".html")
    if html.exists():
        html.replace(target.with_suffix(".html"))
    return target


def _free_name(day: date, folder: Path, *also: Path) -> Path:
    """The first "<day> Follow-ups[ n].eml" that is not taken in `folder` nor in `also`."""
    n = 1
    while True:
        name = f"{day.isoformat()} Follow-ups{f' {n}' if n > 1 else ''}.eml"
        taken = (
            (f / name).exists() or (f / name).with_suffix(".html").exists() for f in (folder, *also)
        )
        if not any(taken):
            return folder / name
        n += 1


def _write(message: EmailMessage, eml: Path) -> Path:
    """The .html first, so that a queued .eml always has its readable twin."""
    body = message.get_body(preferencelist=("html",))
    if body is not None:
        write_atomic(eml.with_suffix(".html"), body.get_content().encode("utf-8"))
    write_atomic(eml, bytes(message))
    return eml


def _age(path: Path) -> tuple[str, int, str]:
    """Sort key: the day in the name, then the number after it (2 before 10)."""
    match = _NAME.fullmatch(path.name)
    if match:
        return match[1], int(match[2] or 1), path.name
    return path.name, 0, path.name
