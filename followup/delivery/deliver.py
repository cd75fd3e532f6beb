"""Getting the day's digest to the user: to disk, or by SMTP with the outbox as a safety net.

Every digest is written to the outbox before any attempt to send it, queued digests go out
oldest first before today's, and a day counts as delivered only once its digest reached the
user. A failure is returned, not raised, so the job can still write the workbook first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

from followup.core.digest import Digest, to_message
from followup.delivery.outbox import Outbox
from followup.delivery.state import STATE_FILE, State
from followup.errors import ConfigError, DeliveryError
from followup.settings import DigestSettings, SmtpSettings

_SENDER_WITHOUT_SMTP = "followup <followup@localhost>"


@dataclass
class Outcome:
    """What delivery did: the digest that reached the user (if any), notes, and any failure."""

    delivered: Digest | None = None
    messages: list[str] = field(default_factory=list)
    error: str = ""
    last_day: date | None = None
    """The day of the last digest that reached the user (this run's or an earlier one's)."""
    last_listed: frozenset[str] = frozenset()
    """The contact keys that digest listed: their Last reminded is `last_day`."""


def deliver(
    settings: DigestSettings,
    smtp: SmtpSettings | None,
    digest: Digest | None,
    now: datetime,
    *,
    force: bool,
    calendar: bytes | None = None,
    keys: Mapping[int, str] | None = None,
) -> Outcome:
    """Deliver `digest` unless one was already delivered that day (or `force`), plus the queue:
    by `smtp`, or (None) only to the outbox.

    `calendar`, when given, is attached to today's digest as followup.ics. `keys` maps the
    digest's rows to contact keys, remembered with a delivery for Last reminded.
    """
    state = State.load(settings.state_dir / STATE_FILE)
    outcome = Outcome(messages=[state.warning] if state.warning else [])
    if digest and state.delivered_on(digest.day) and not force:
        at = f" at {state.last_at:%H:%M}" if state.last_at else ""
        outcome.messages.append(
            f"Today's digest was already delivered{at}; `followup run --force` sends another."
        )
        digest = None
    outbox = Outbox(settings.outbox)
    outbox.tidy()
    try:
        if smtp is None:
            if digest:
                sender = _SENDER_WITHOUT_SMTP
                message = to_message(digest, sender, settings.to or sender, now)
                eml = outbox.keep(_attach(message, calendar), digest.day)
                outcome.delivered = digest
                outcome.messages.append(f"Digest written to {eml.with_suffix('.html')}")
        else:
            _send_queue(settings.to, smtp, outbox, digest, now, outcome, calendar)
    except OSError as err:  # a read-only outbox or a full disk
        outcome.error = (
            f"Could not write the digest in {settings.outbox} ({err.strerror or err}). Make that "
            "folder writable and check that the disk has free space, or set [digest] outbox in "
            "config.toml to another folder."
        )
    if outcome.delivered:
        listed = (keys or {}).get
        state.record_delivery(
            outcome.delivered.day,
            now,
            filter(None, map(listed, outcome.delivered.listed_rows)),
            outcome.delivered.weekly,
        )
        try:
            state.save()
        except OSError as err:
            outcome.messages.append(
                f"Could not record the delivery in {state.path} ({err.strerror or err}), so "
                "the next run may deliver today's digest again. Check that the disk has free "
                "space."
            )
    outcome.last_day, outcome.last_listed = state.last_day, state.last_listed
    return outcome


def _send_queue(
    to: str,
    smtp: SmtpSettings,
    outbox: Outbox,
    digest: Digest | None,
    now: datetime,
    outcome: Outcome,
    calendar: bytes | None,
) -> None:
    """Queue today's digest, then send everything pending, oldest first, each at most once."""
    todays: Path | None = None
    if digest:
        outbox.withdraw(digest.day)  # an undelivered earlier digest of today is superseded
        message = to_message(digest, smtp.sender, to, now)
        todays = outbox.add(_attach(message, calendar), digest.day)
    queue = outbox.pending()
    if not queue:
        return
    from followup.delivery import mailer  # yagmail, keyring and ssl load only when used

    try:
        password = mailer.resolve_password(smtp)
        for path in queue:
            mailer.send(Outbox.load(path), smtp, password)
            if path == todays:
                outcome.delivered = digest
            outcome.messages.append(f"Sent {path.stem} to {to}.")
            try:
                outbox.mark_sent(path)
            except OSError as err:  # it was sent: a warning, not a failed delivery
                outcome.messages.append(
                    f"Could not move {path.name} to {outbox.sent_folder} "
                    f"({err.strerror or err}), so the next run sends it again."
                )
    except (DeliveryError, ConfigError) as err:  # no password is a failed delivery too
        left = len(outbox.pending())
        outcome.error = (
            f"{err} {left} digest{'s' * (left != 1)} kept in {outbox.pending_folder}; "
            "the next run sends them first."
        )


def _attach(message: EmailMessage, calendar: bytes | None) -> EmailMessage:
    """Add the .ics of the coming follow-ups ([digest] attach_calendar) to the digest."""
    if calendar:
        from followup.delivery.calendar import FILENAME  # icalendar loads only when used

        message.add_attachment(calendar, maintype="text", subtype="calendar", filename=FILENAME)
    return message
