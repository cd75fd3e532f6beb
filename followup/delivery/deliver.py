"""Getting the day's digest to the user: to disk, or by SMTP with the outbox as a safety net.

Every digest is written to the outbox before any attempt to send it, and a day counts as
delivered only once its digest reached the user. Digests of earlier days still queued are not
sent late and stale beside today's: today's opens with a line saying which days it replaces and
why they were not sent (`late_notice`), and once it is sent they move to the outbox's
replaced/ folder. Without a digest today, the queue goes out oldest first. A failure is
returned, not raised, so the job can still write the workbook first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

from followup.core.digest import Digest, to_message
from followup.core.model import day_name
from followup.delivery.outbox import Outbox, day_of
from followup.delivery.state import State
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


def late_notice(
    settings: DigestSettings, smtp: SmtpSettings | None, today: date, why: str
) -> list[str]:
    """The line today's digest opens with when digests of earlier days wait in the queue: it
    replaces them (deliver sets them aside once it is sent), and says `why` they were not sent
    (the state's last_failure)."""
    if smtp is None:
        return []
    outbox = Outbox(settings.outbox)
    days = sorted({day for path in outbox.queued_before(today) if (day := day_of(path))})
    if not days:
        return []
    names = ", ".join(map(day_name, days[:-1])) + " and " * (len(days) > 1) + day_name(days[-1])
    return [
        f"The digest{'s' * (len(days) > 1)} of {names} could not be sent then"
        + (f" ({why.rstrip('.')})" if why else "")
        + f". This one replaces {'them' if len(days) > 1 else 'it'}; "
        f"{'they are' if len(days) > 1 else 'it is'} kept in {outbox.replaced_folder}."
    ]


def deliver(
    settings: DigestSettings,
    smtp: SmtpSettings | None,
    digest: Digest | None,
    now: datetime,
    *,
    state: State,
    force: bool,
    calendar: bytes | None = None,
    keys: Mapping[int, str] | None = None,
) -> Outcome:
    """Deliver `digest` unless one was already delivered that day (or `force`), plus the queue:
    by `smtp`, or (None) only to the outbox.

    `state` is the run's, loaded once (State.load); the delivery is recorded in it.
    `calendar`, when given, is attached to today's digest as followup.ics. `keys` maps the
    digest's rows to contact keys, remembered with a delivery for Last reminded.
    """
    outcome = Outcome(messages=[state.warning] if state.warning else [])
    failure = ""
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
            failure = _send_queue(settings.to, smtp, outbox, digest, now, outcome, calendar)
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
    if outcome.delivered or failure != state.last_failure:
        state.last_failure = failure
        try:
            state.save()
        except OSError as err:  # only a delivery's record matters: why one failed is a nicety
            if outcome.delivered:
                outcome.messages.append(
                    f"Could not record the delivery in {state.path} ({err.strerror or err}), "
                    "so the next run may deliver today's digest again. Check that the disk has "
                    "free space."
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
) -> str:
    """Queue today's digest and send it, then set aside the earlier days' it replaces; without
    one, send the queue oldest first. Each at most once. Returns why sending failed, or ""."""
    todays: Path | None = None
    queue = outbox.pending()
    replaced: list[Path] = []
    if digest:
        message = to_message(digest, smtp.sender, to, now)
        todays = outbox.add(_attach(message, calendar), digest.day)
        outbox.withdraw(todays)  # an undelivered earlier digest of today is superseded
        replaced = outbox.queued_before(digest.day)
        queue = [p for p in outbox.pending() if p not in replaced]
    if not queue:
        return ""
    from followup.delivery import mailer  # yagmail, keyring and ssl load only when used

    try:
        password = mailer.resolve_password(smtp)
        for path in queue:
            mailer.send(Outbox.load(path), smtp, password)
            if path == todays:
                outcome.delivered = digest
            outcome.messages.append(f"Sent {path.stem} to {to}.")
            _file(outbox.mark_sent, path, outcome, "the next run sends it again")
    except (DeliveryError, ConfigError) as err:  # no password is a failed delivery too
        left = len(outbox.pending())
        outcome.error = (
            f"{err} {left} digest{'s' * (left != 1)} kept in {outbox.pending_folder}; "
            "the next run sends the newest, saying which days it replaces."
        )
        return str(err)
    if outcome.delivered and replaced:
        for path in replaced:
            _file(outbox.set_aside, path, outcome, "the next run sends it late")
        outcome.messages.append(
            f"Today's digest replaces {len(replaced)} earlier one{'s' * (len(replaced) > 1)} "
            f"that could not be sent; kept in {outbox.replaced_folder}."
        )
    return ""


def _file(move: Callable[[Path], Path], path: Path, outcome: Outcome, otherwise: str) -> None:
    """Move a digest out of pending/; a failure to move it is a warning, not a failed delivery."""
    try:
        move(path)
    except OSError as err:
        outcome.messages.append(
            f"Could not move {path.name} out of {path.parent} ({err.strerror or err}), so "
            f"{otherwise}."
        )


def _attach(message: EmailMessage, calendar: bytes | None) -> EmailMessage:
    """Add the .ics of the coming follow-ups ([digest] attach_calendar) to the digest."""
    if calendar:
        from followup.delivery.calendar import FILENAME  # icalendar loads only when used

        message.add_attachment(calendar, maintype="text", subtype="calendar", filename=FILENAME)
    return message
