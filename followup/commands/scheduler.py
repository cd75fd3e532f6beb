"""`followup schedule`: stay running and do the daily run once a day at [digest] time.

The loop wakes at every minute boundary and asks one question: is today's run due? It is due
from today's send moment on, until it has succeeded in this process or the state file shows
that some run (cron, a person, an earlier loop) delivered today's digest. So a restart, a late
start or a laptop that slept through the send time catches up within a minute, and a digest
never goes out twice. A failed run is logged and retried every RETRY_AFTER, not on every tick;
no error inside the job ends the loop.

Why the `schedule` package is not used: in 1.2.2 `every().day.at("07:30", tz)` needs pytz
(zoneinfo is refused) and its timezone code has needed a run of DST and offset fixes
(dbader/schedule #584, #604, #608; #648 is still open); `run_pending` by design never runs a
job whose time passed while the process was down, so a 09:00 start would skip today; and it
reads `datetime.now()` itself, so it cannot run on an injected clock. As a bare ticker it would
add nothing over `Event.wait(60)`, which also returns the moment SIGTERM or Ctrl-C arrives.

DST: `send_moment` resolves the send time as PEP 495 does with fold=0. A time inside the hour
skipped in spring is read with the offset before the jump (01:30 in London on 29 March 2026 is
02:30 BST); a time inside the hour repeated in autumn is its first occurrence. Either way the
run happens once that day. Instants are compared in UTC, never as wall-clock times.
"""

from __future__ import annotations

import logging
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from logging.handlers import RotatingFileHandler
from pathlib import Path
from zoneinfo import ZoneInfo

from followup.delivery.state import STATE_FILE, State
from followup.errors import FollowupError
from followup.settings import Config

log = logging.getLogger(__name__)

LOG_FILE = "followup.log"
CRON_LOG = "followup-cron.log"
RETRY_AFTER = timedelta(minutes=15)


def utc_now() -> datetime:
    """The real clock, as an aware UTC datetime."""
    return datetime.now(UTC)


def local_time(instant: datetime, zone: tzinfo | None) -> datetime:
    """`instant` as a clock on the wall reads it in `zone` (None: the machine's zone), whole
    seconds, with its true UTC offset: `run` and `schedule` both take their `now` from here, and
    a digest's Date header is that offset (a naive time would go out marked -0000)."""
    return instant.astimezone(zone).replace(microsecond=0)


def on_day(day: date, now: datetime, zone: tzinfo | None) -> datetime:
    """`now`'s wall-clock time on another `day` (--today), with that day's UTC offset."""
    wall = datetime.combine(day, now.time())
    if zone is not None:
        return wall.replace(tzinfo=zone)
    try:
        return wall.astimezone()  # the machine's offset on that day (summer time or not)
    except (OSError, OverflowError):  # a day the system's time functions cannot take
        return wall.replace(tzinfo=now.tzinfo)


def send_moment(day: date, send_time: time, zone: tzinfo | None) -> datetime:
    """The instant of `send_time` on `day` in `zone` (None: the machine's zone)."""
    if zone is None:
        return datetime.combine(day, send_time).astimezone()
    return datetime.combine(day, send_time, tzinfo=zone)


def seconds_to_next_minute(now: datetime) -> float:
    """How long to sleep to wake at the next minute boundary: more than 0, at most 60."""
    return 60 - now.second - now.microsecond / 1_000_000


class DailyScheduler:
    """Runs `job(local_now)` once a day at `send_time` in `zone`, catching up on a missed time.

    `now` returns an aware datetime (the real clock by default, a fake one in tests).
    """

    def __init__(
        self,
        job: Callable[[datetime], None],
        send_time: time,
        zone: ZoneInfo | None,
        state_dir: Path,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._job = job
        self._send_time = send_time
        self._zone = zone
        self._state_file = state_dir / STATE_FILE
        self._now = now
        self._done_on: date | None = None
        self._failed_at: datetime | None = None

    def _local(self, instant: datetime) -> datetime:
        return local_time(instant, self._zone)

    def _done(self, day: date) -> bool:
        """Whether `day`'s run is over: it succeeded here, or any run delivered its digest."""
        if self._done_on != day and State.load(self._state_file).delivered_on(day):
            self._done_on = day
            log.info("The digest for %s was already delivered by another run.", day)
        return self._done_on == day

    def _next_run(self, now: datetime) -> datetime:
        """When the job is next due, in UTC: at or before `now` when it is due now."""
        day = self._local(now).date()
        if self._done(day):
            day += timedelta(days=1)
        at = send_moment(day, self._send_time, self._zone).astimezone(UTC)
        if self._failed_at is not None:
            at = max(at, self._failed_at + RETRY_AFTER)
        return at

    def describe_next_run(self) -> str:
        """The next run as a person reads it: "now" or "Thu 12 Mar 07:30 GMT"."""
        now = self._now().astimezone(UTC)
        at = self._next_run(now)
        return "now" if at <= now else f"{self._local(at):%a %d %b %H:%M %Z}"

    def tick(self) -> None:
        """One wake-up: run the job if today's run is due and not waiting out a failure."""
        now = self._now().astimezone(UTC)
        if self._next_run(now) > now:
            return
        local = self._local(now)
        try:
            self._job(local)
        except FollowupError as err:
            log.log(logging.INFO if err.exit_code == 0 else logging.ERROR, "%s", err)
        except Exception:
            log.exception("The daily run failed unexpectedly.")
        else:
            self._done_on, self._failed_at = local.date(), None
            log.info("Daily run done. Next run: %s.", self.describe_next_run())
            return
        self._failed_at = now
        log.info("Trying again at %s.", self.describe_next_run())

    def run(self, stop: threading.Event, sleep: Callable[[float], object] | None = None) -> None:
        """Tick at every minute boundary until `stop` is set (`sleep` defaults to stop.wait)."""
        sleep = sleep or stop.wait
        zone = getattr(self._zone, "key", "this machine's timezone")
        log.info("Started: the daily run is at %s (%s).", f"{self._send_time:%H:%M}", zone)
        while not stop.is_set():
            self.tick()
            sleep(seconds_to_next_minute(self._now()))
        log.info("followup schedule stopped.")


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM and Ctrl-C set, so the loop finishes its run and stops cleanly."""
    stop = threading.Event()

    def handle(_signum: int, _frame: object) -> None:
        # Setting the event from another thread: the handler runs in the main thread, which may
        # hold the event's own lock inside stop.wait(), and setting it here would deadlock.
        threading.Thread(target=stop.set).start()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


def start_logging(folder: Path) -> Path:
    """Send this process's log to stderr and to a rotating file in `folder`; return the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    root = logging.getLogger("followup")
    root.setLevel(logging.INFO)
    for handler in (
        RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"),
        logging.StreamHandler(sys.stderr),
    ):
        handler.setFormatter(formatter)
        root.addHandler(handler)
    return path


def _machine_clock_differs(zone: ZoneInfo, year: int) -> bool:
    """Whether this machine's local time differs from `zone` at some point in `year`."""
    instants = [datetime(year, month, 15, 12, tzinfo=UTC) for month in (1, 4, 7, 10)]
    return any(i.astimezone().utcoffset() != i.astimezone(zone).utcoffset() for i in instants)


def cron_line(config: Config, python: str, now: datetime) -> str:
    """Crontab lines that run the daily job at [digest] time with this install's absolute paths."""
    source = config.source.resolve()
    folder = source.parent
    command = " ".join(
        [
            f"cd {shlex.quote(str(folder))} &&",
            f"{shlex.quote(python)} -m followup run --config {shlex.quote(str(source))}",
            f">> {shlex.quote(str(folder / CRON_LOG))} 2>&1",
        ]
    )
    at, zone = config.digest.send_time, config.digest.timezone
    lines = [
        f"# followup: the daily digest at {at:%H:%M}. Install: `crontab -e`, paste these lines."
    ]
    if zone is not None and _machine_clock_differs(zone, now.year):
        lines.append(
            f"# cron uses this machine's timezone, not [digest] timezone {zone.key}: "
            "change the hour below, or use `followup schedule`."
        )
    escaped = command.replace("%", "\\%")  # cron turns an unescaped % into a newline
    lines.append(f"{at.minute} {at.hour} * * * {escaped}")
    return "\n".join(lines)
