"""The `followup` command: a thin click layer over the job, one function per command.

This module and the scheduler are the only places that ask the clock what day it is; every
command accepts --today so that tests and users can ask "what would happen on that day?".
Commands import the modules only they need inside their function, so that `followup --help`
and the daily run do not pay for SMTP, keyring, calendar or import code they do not use.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

import click

from followup.config import find_config, load_config
from followup.core.log import CHANNELS
from followup.core.model import FIRST_DAY, LAST_DAY
from followup.errors import DeliveryError, FollowupError, UsageError
from followup.settings import Config


class Context:
    """What every command needs: the validated config and the run's day and time."""

    def __init__(self, config_option: str | None, today_option: date | None) -> None:
        self.config_option = config_option
        self.config_file = find_config(config_option)
        self.path = self.config_file.path
        self.given_today = today_option

    @functools.cached_property
    def config(self) -> Config:
        return load_config(self.path, self.config_file.found)

    @property
    def now(self) -> datetime:
        """This moment (on --today's day if given) in [digest] timezone, else the machine's,
        with its UTC offset: the same clock `followup schedule` reads."""
        from followup.commands.scheduler import on_day

        zone = self.config.digest.timezone
        now = _wall_clock(zone)
        return on_day(self.given_today, now, zone) if self.given_today else now

    @property
    def today(self) -> date:
        return self.given_today or self.now.date()


def _wall_clock(zone: tzinfo | None) -> datetime:
    """The real clock in `zone` (None: the machine's zone)."""
    from followup.commands.scheduler import local_time, utc_now

    return local_time(utc_now(), zone)


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """A YYYY-MM-DD option, within the days followup works with (so no sum of days overflows)."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise click.BadParameter(
            f"{value} is not between {FIRST_DAY} and {LAST_DAY}, the days followup works with."
        )
    return day


def command(group: click.Group, **settings: Any) -> Callable[[Callable[..., None]], click.Command]:
    """A subcommand with the shared --config and --today options, passing a Context first."""

    def decorate(func: Callable[..., None]) -> click.Command:
        @functools.wraps(func)
        def wrapper(config: str | None, today: date | None, **kwargs: Any) -> None:
            func(Context(config, today), **kwargs)

        wrapper = click.option(
            "--today",
            metavar="YYYY-MM-DD",
            callback=_parse_day,
            help="Act as if today were this date.",
        )(wrapper)
        wrapper = click.option(
            "--config",
            metavar="PATH",
            help="Config file (default: $FOLLOWUP_CONFIG, else ./config.toml, else config.toml "
            "in your user config folder).",
        )(wrapper)
        return group.command(**settings)(wrapper)

    return decorate


class FollowupGroup(click.Group):
    """Turns the program's own errors into their message and exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FollowupError as err:
            click.echo(f"followup: {err}", err=True)
            ctx.exit(err.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as err:  # the system refused (a place the run needs): not a bug to report
            if os.environ.get("FOLLOWUP_DEBUG"):
                raise
            click.echo(
                f"followup: Cannot use {err.filename or 'a file or folder'} "
                f"({err.strerror or err}). Check that it exists, that this user may read and "
                "write it, and that the disk has free space.",
                err=True,
            )
            ctx.exit(1)
        except Exception as err:
            if os.environ.get("FOLLOWUP_DEBUG"):
                raise
            click.echo(
                f"followup: unexpected error ({type(err).__name__}: {err}). Nothing was left "
                "half-written. Run again with FOLLOWUP_DEBUG=1 to see where, and please report it.",
                err=True,
            )
            ctx.exit(1)


@click.group(cls=FollowupGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="followup")
def cli() -> None:
    """Reads your contacts workbook and emails you who to follow up with today.

    Start with `followup init`: it creates config.toml and contacts.xlsx with examples here.
    """


@command(cli)
@click.option("--dry-run", is_flag=True, help="Write and send nothing; print the digest.")
@click.option("--force", is_flag=True, help="Send a digest even if one was sent today.")
def run(ctx: Context, dry_run: bool, force: bool) -> None:
    """The daily job: read, compute, deliver the digest, write the status columns."""
    from followup.commands import daily

    report = daily.run_daily(ctx.config, ctx.today, ctx.now, dry_run=dry_run, force=force)
    if dry_run and report.digest:
        click.echo(f"Subject: {report.digest.subject}\n\n{report.digest.text}")
    for message in report.messages:
        click.echo(message)
    if report.error:
        raise report.error


@command(cli)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON: each contact's status, next date and action, and the problems.",
)
def status(ctx: Context, as_json: bool) -> None:
    """Show who is due, as a table or JSON. Writes nothing."""
    from followup.commands.views import status_text

    click.echo(status_text(ctx.config, ctx.today, as_json=as_json))


@command(cli)
def preview(ctx: Context) -> None:
    """Render today's digest to an HTML file and print its path. Sends nothing."""
    from followup.commands.views import write_preview

    click.echo(write_preview(ctx.config, ctx.today))


@command(cli)
@click.argument(
    "place", required=False, metavar="[FOLDER | FILE.xlsx]", type=click.Path(path_type=Path)
)
@click.option("--empty", is_flag=True, help="No example contacts.")
def init(ctx: Context, place: Path | None, empty: bool) -> None:
    """Set up a folder for followup: a config.toml and a contacts workbook with examples.

    With no FOLDER, the current folder. A FILE.xlsx that exists is used as it is. Nothing
    there is overwritten; a folder already set up is left as it is (exit 0).
    """
    from followup.commands import init as setup

    try:
        where = setup.target(place, ctx.config_option, os.environ)
        # init runs where no config may exist yet: the day is in the timezone of the one
        # already there, else the machine's
        zone = where.existing.digest.timezone if where.existing else None
        today = ctx.given_today or _wall_clock(zone).date()
        lines = setup.set_up(where, today, examples=not empty, environ=os.environ)
    except OSError as err:  # a read-only folder, a full disk, a name too long
        raise UsageError(
            f"Cannot create {err.filename or place}: {err.strerror or err}. "
            "Choose another place, or a folder you can write."
        ) from None
    click.echo("\n".join(lines))


@command(cli)
@click.option("--imap", "for_imap", is_flag=True, help="Store the [imap] password instead.")
def password(ctx: Context, for_imap: bool) -> None:
    """Store the SMTP password in the system keyring; it is asked twice and never shown."""
    from followup.commands import doctor as checkup
    from followup.delivery import mailer

    if for_imap:
        _imap_password(ctx)
        return
    smtp = ctx.config.smtp
    if smtp is None:
        raise UsageError(f"[smtp] host is empty in {ctx.path}: set [smtp] host and user first.")
    if not smtp.user:
        raise UsageError(
            f"[smtp] user is empty in {ctx.path}, so {smtp.host} is used without a login "
            "and needs no password."
        )
    problem = checkup.keyring_problem(smtp)
    if problem:  # say so before asking for a password that cannot be kept
        raise UsageError(
            f"Cannot store the password: {problem}. Set the environment variable "
            f"{mailer.PASSWORD_ENV} where followup runs instead."
        )
    _store_password(
        f"SMTP password for {smtp.user} at {smtp.host}",
        lambda secret: mailer.store_password(smtp, secret),
        mailer.PASSWORD_ENV,
    )


def _imap_password(ctx: Context) -> None:
    """`password --imap`: the mailbox's password, kept under its own login and server."""
    from followup.delivery import mailbox

    imap = ctx.config.imap
    if imap is None:
        raise UsageError(f"[imap] host is empty in {ctx.path}: set [imap] host and user first.")
    _store_password(
        f"IMAP password for {imap.user} at {imap.host}",
        lambda secret: mailbox.store_password(imap, secret),
        mailbox.PASSWORD_ENV,
    )


def _store_password(prompt: str, store: Callable[[str], None], variable: str) -> None:
    """Ask twice without echo, store it, and say when an environment variable overrides it."""
    store(click.prompt(prompt, hide_input=True, confirmation_prompt=True))
    click.echo("Stored in the system keyring. `followup doctor` checks that it logs in.")
    if os.environ.get(variable):
        click.echo(f"Note: {variable} is set here, and it wins over the keyring.")


@command(cli)
def doctor(ctx: Context) -> None:
    """Check config, workbook, password, SMTP login and recent digests; say what to fix.

    Exits 0 when every check passes, 1 when one fails, 2 when the config is broken.
    """
    from followup.commands import doctor as checkup

    checks = checkup.diagnose(ctx.path, lambda _config: ctx.today, ctx.config_file.found)
    click.echo(checkup.render(checks, sys.stdout.encoding))
    checkup.verdict(checks)


@command(cli)
def schedule(ctx: Context) -> None:
    """Stay running and do `run` once a day at [digest] time. Ctrl-C stops it.

    A digest missed while this was not running (or the computer slept) is sent at once.
    """
    from followup.commands import daily, scheduler

    if ctx.given_today:
        raise UsageError("`followup schedule` follows the real clock; it takes no --today.")
    config = ctx.config
    log_file = scheduler.start_logging(config.state_dir)

    def daily_run(now: datetime) -> None:
        report = daily.run_daily(config, now.date(), now)
        for message in report.messages:
            scheduler.log.info(message)
        if report.error:
            raise report.error

    loop = scheduler.DailyScheduler(
        daily_run, config.digest.send_time, config.digest.timezone, config.state_dir
    )
    stop = scheduler.stop_on_signals()
    click.echo(f"Logging to {log_file}")
    click.echo(f"Next run: {loop.describe_next_run()}. Press Ctrl-C to stop.")
    loop.run(stop)


@command(cli, name="cron-line")
def cron_line(ctx: Context) -> None:
    """Print a crontab line that runs followup daily at [digest] time from this install."""
    from followup.commands import scheduler

    click.echo(scheduler.cron_line(ctx.config, sys.executable, ctx.now))


@command(cli)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the .ics (default: followup.ics in the outbox folder).",
)
def calendar(ctx: Context, out: Path | None) -> None:
    """Write the follow-ups of the next [digest] lookahead_days as an .ics file; print its path.

    One all-day event per person; overdue ones are on today. Importing a newer file into your
    calendar updates the events instead of adding copies.
    """
    from followup.commands.views import write_calendar

    click.echo(write_calendar(ctx.config, ctx.today, ctx.now, out))


@command(cli)
@click.argument("name", nargs=-1, required=True)
@click.option(
    "--on", metavar="YYYY-MM-DD", callback=_parse_day, help="When you followed up (default today)."
)
@click.option("--note", default="", help="A few words about it, for the Log sheet.")
@click.option(
    "--channel",
    type=click.Choice(CHANNELS, case_sensitive=False),
    help="How you reached them (default: email, else LinkedIn, else phone, by what the row has).",
)
@click.option("--again", is_flag=True, help="Record a second follow-up with them on the same day.")
def done(
    ctx: Context,
    name: tuple[str, ...],
    on: date | None,
    note: str,
    channel: str | None,
    again: bool,
) -> None:
    """Record a follow-up: sets Last contact, adds 1 to Follow-ups, adds a row to the Log sheet.

    NAME is the contact's name or any whole word of it ("lima" for Ana Lima), their email, or
    #ROW, in any case and without accents. `followup undo` takes it back. Nothing changes
    (exit 1) while the workbook is open in Excel or LibreOffice; close it and run again.
    """
    from followup.commands import edits
    from followup.commands.change import apply

    change = apply(
        ctx.config,
        ctx.today,
        ctx.now,
        lambda evaluation: edits.plan_done(
            evaluation,
            ctx.config,
            " ".join(name),
            on=on or ctx.today,
            channel=channel,
            note=note,
            today=ctx.today,
            again=again,
        ),
    )
    click.echo("\n".join(change.lines))


@command(cli)
@click.argument("words", nargs=-1, required=True, metavar="NAME [DAYS]")
@click.option("--until", metavar="YYYY-MM-DD", callback=_parse_day, help="The day to remind you.")
def snooze(ctx: Context, words: tuple[str, ...], until: date | None) -> None:
    """Set Follow up on: be reminded of NAME in DAYS days, or on --until DATE.

    NAME is found as by `done`. That date wins over the computed one; `followup undo` takes
    it back. Nothing changes (exit 1) while the workbook is open in Excel or LibreOffice.
    """
    from followup.commands import edits
    from followup.commands.change import apply

    days, words = edits.split_days(words)
    day = edits.snooze_until(days, until, ctx.today)
    change = apply(
        ctx.config,
        ctx.today,
        ctx.now,
        lambda evaluation: edits.plan_snooze(evaluation, " ".join(words), day, today=ctx.today),
    )
    click.echo("\n".join(change.lines))


@command(cli)
def sync(ctx: Context) -> None:
    """Read the headers of new mail in your Sent folder and inbox ([imap] in config.toml).

    Mail you sent to a contact's Email sets their Last contact and adds a follow-up and a Log
    row; a reply from a contact sets Waiting for reply back to Active; your "mark done" and
    "snooze" mails from the digest are applied. The daily run does this first by itself.
    Nothing is ever written to the mailbox: no message is marked read. Exit 4 when the
    mailbox or one of its folders cannot be read (the other folders are still synced), 1 when
    the workbook is open.
    """
    from followup.commands.sync import sync_mail
    from followup.delivery.mailbox import MailboxError

    try:
        synced = sync_mail(ctx.config, ctx.today, ctx.now)
    except MailboxError as error:
        raise DeliveryError(str(error)) from None
    click.echo("\n".join(synced.lines))
    if synced.problems:
        raise DeliveryError(" ".join(synced.problems))


@command(cli)
def undo(ctx: Context) -> None:
    """Take back the last `done` or `snooze`: its cells and its Log row.

    Only once, and only while those cells still hold what it wrote: an edit you made since is
    never overwritten. Nothing changes (exit 1) while the workbook is open.
    """
    from followup.commands.undo import undo_last

    change = undo_last(ctx.config, ctx.today, ctx.now)
    click.echo("\n".join(change.lines))


@command(cli, name="import")
@click.argument("kind", type=click.Choice(["linkedin", "vcard"], case_sensitive=False))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--how", default="Keep in touch", show_default=True, help="How we met, for everyone added."
)
@click.option(
    "--met-on",
    metavar="YYYY-MM-DD",
    callback=_parse_day,
    help="Met on for people the file gives no date (vCards never do).",
)
@click.option(
    "--priority",
    type=click.Choice(["A", "B", "C"], case_sensitive=False),
    default="C",
    show_default=True,
    help="Priority for everyone added (A: check in every 30 days, B: 90, C: 180).",
)
@click.option("--dry-run", is_flag=True, help="Print who would be added; change nothing.")
def import_contacts(
    ctx: Context, kind: str, file: Path, how: str, met_on: date | None, priority: str, dry_run: bool
) -> None:
    """Add the people in LinkedIn's Connections.csv or a vCard file who are not in the workbook.

    New contacts go below the last one; people already there (same email, LinkedIn profile,
    or name and company) are skipped and listed, and existing rows are never changed. Their
    first check-ins are spread over the next [import] spread_days (Follow up on), unless the
    rules give one sooner.
    """
    from followup.commands import importers
    from followup.commands.change import apply
    from followup.commands.import_plan import plan_import, rows_in_use
    from followup.core.model import HowMet
    from followup.workbook.cells import parse_how_met

    how_met = parse_how_met(how)
    if not isinstance(how_met, HowMet):
        raise UsageError(f"--how {how!r}: {getattr(how_met, 'message', 'give a value')}")
    try:
        text = importers.decode(file.read_bytes())
    except OSError as err:
        raise UsageError(f"Cannot read {file}: {err.strerror or err}.") from None
    if kind.lower() == "linkedin":
        people, warnings = importers.read_linkedin(text, ctx.config.workbook.date_order)
    else:
        people, warnings = importers.read_vcard(text), []
    change = apply(
        ctx.config,
        ctx.today,
        ctx.now,
        lambda evaluation: plan_import(
            evaluation,
            people,
            how_met=how_met,
            met_on=met_on,
            rows_in_use=rows_in_use(ctx.config.workbook.path, evaluation.contents.sheet),
            dry_run=dry_run,
            priority=priority.upper(),
            today=ctx.today,
            config=ctx.config,
        ),
        dry_run=dry_run,
    )
    click.echo("\n".join([*warnings, *change.lines]))
    if dry_run:
        click.echo("Dry run: nothing was changed.")


def main() -> None:
    """Entry point of the `followup` command and `python -m followup`."""
    cli(prog_name="followup")
