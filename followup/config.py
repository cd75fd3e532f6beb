"""config.toml as a declared schema: every key with its type, default and help, checked once.

`load_config` is called at start-up; after it returns, the rest of the program can trust every
value. A bad file raises ConfigError naming the file and the key, never a traceback. What it
returns is `settings.Config`: one settings object per section, each built by its own function
(`_workbook`, `_digest`, `_smtp`, `_rules`, `_imap`).
"""

from __future__ import annotations

import email.utils
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from followup.core.model import MAX_DAYS, HowMet, RuleSettings
from followup.errors import ConfigError
from followup.settings import (
    Config,
    DigestSettings,
    ImapSettings,
    ImportSettings,
    SmtpSettings,
    WorkbookSettings,
)

DEFAULT_CONFIG = "config.toml"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CONFIG_ENV = "FOLLOWUP_CONFIG"


@dataclass(frozen=True)
class Key:
    """One config key: where it lives, what it must be, its default and a line of help."""

    section: str
    name: str
    default: Any
    help: str
    check: Callable[[Any], Any]
    """Returns the value as the program uses it; raises ValueError saying what it must be."""

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"


def _expect(kind: type, what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise ValueError(f"must be {what}")
        return value

    return check


def _whole(low: int, high: int, unit: str = "") -> Callable[[Any], int]:
    """A whole number from `low` to `high`: every number the program uses has a sane range."""

    def check(value: Any) -> int:
        if not _is_whole(value, low, high):
            raise ValueError(f"must be a whole number{unit} from {low:,} to {high:,}")
        return value

    return check


def _is_whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _seconds(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 1 <= value <= _MAX_TIMEOUT  # NaN fails this too
    ):
        raise ValueError(f"must be a number of seconds from 1 to {_MAX_TIMEOUT}")
    return float(value)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(what: str) -> Callable[[Any], str]:
    """Text without control characters: in a setting they are typos, and they would break a
    mail header (CR LF), a file name (NUL) or the config.toml that `init` writes."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"must be {what} in quotes")
        if _CONTROL.search(value):
            raise ValueError(f"must be {what}, without control characters")
        return value

    return check


_line = _text("one line of text")
_path = _text("a file or folder name")


def _file(value: Any) -> str:
    if not _path(value).strip():
        raise ValueError("must name a file")
    return value


def _address(value: Any) -> str:
    if _line(value) and "@" not in email.utils.parseaddr(value)[1]:
        raise ValueError('must be an email address like "you@example.com", or ""')
    return value


def _host(value: Any) -> str:
    """A name the network can look up: no spaces, labels of 1 to 63 characters."""
    refusal = 'must be a server name like "smtp.gmail.com", or ""'
    if _line(value) and (len(value) > 253 or any(c.isspace() for c in value)):
        raise ValueError(refusal)
    try:
        value.encode("idna")
    except UnicodeError:
        raise ValueError(refusal) from None
    return value


def _weekday(value: Any) -> int | None:
    """A day of the week by name ("Monday", "mon", any case) as 0-6; "off" or empty: None."""
    if isinstance(value, str):
        name = value.strip().lower()
        if name in ("", "off"):
            return None
        for number, day in enumerate(_WEEKDAYS):
            if len(name) >= 3 and day.startswith(name):
                return number
    raise ValueError("must be a day of the week, such as monday, or off")


def _one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in choices:
            raise ValueError(f"must be one of {', '.join(repr(c) for c in choices)}")
        return value.lower()

    return check


def _clock_time(value: Any) -> time:
    try:
        clock = time.fromisoformat(str(value))
    except ValueError:
        clock = None
    if clock is None or clock.tzinfo is not None:  # the timezone is [digest] timezone's
        raise ValueError('must be a time of day like "07:30"')
    return clock


def _timezone(value: Any) -> ZoneInfo | None:
    if value == "":
        return None
    try:
        return ZoneInfo(_line(value))
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder of zones
        raise ValueError(
            'must be a timezone name like "Europe/London", or "" for the machine\'s'
        ) from None


def _how_met(value: str) -> HowMet:
    try:
        return HowMet(value.strip().lower())
    except ValueError:
        names = ", ".join(repr(h.value) for h in HowMet)
        raise ValueError(f"{value!r} is not a relationship; use one of {names}") from None


def _steps(value: Any) -> dict[HowMet, tuple[int, ...]]:
    if not isinstance(value, dict):
        raise ValueError('must be a table like {"networking event" = [2]}')
    steps = dict(_RULES.steps)
    for name, days in value.items():
        if not isinstance(days, list) or not all(_is_whole(d, 1, MAX_DAYS) for d in days):
            raise ValueError(
                f"{name!r} must be a list of whole numbers of days, each from 1 to {MAX_DAYS:,}"
            )
        steps[_how_met(name)] = tuple(days)
    return steps


def _cadence(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError("must be a table like {A = 30, B = 90, C = 180}")
    cadence = dict(_RULES.cadence)
    for tier, days in value.items():
        if tier.upper() not in cadence:
            raise ValueError(f"{tier!r} is not a priority; use A, B or C")
        if not _is_whole(days, 1, MAX_DAYS):
            raise ValueError(f"{tier} must be a whole number of days from 1 to {MAX_DAYS:,}")
        cadence[tier.upper()] = days
    return cadence


def _relationships(value: Any) -> frozenset[HowMet]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError('must be a list like ["job application"]')
    return frozenset(_how_met(v) for v in value)


def _folders(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError('must be a list of folder names like ["INBOX"]')
    return tuple(_line(v) for v in value)


_RULES = RuleSettings()
_BOOL = _expect(bool, "true or false")
_MAX_TIMEOUT = 600
_DAYS = _whole(0, MAX_DAYS, " of days")

SCHEMA: tuple[Key, ...] = (
    Key(
        "workbook", "path", "contacts.xlsx", "The contacts workbook, relative to this file.", _file
    ),
    Key(
        "workbook", "sheet", "", "Sheet to read; empty: the first sheet with a Name column.", _line
    ),
    Key(
        "workbook",
        "date_order",
        "MDY",
        "How to read dates typed as text: MDY or DMY.",
        lambda v: _one_of("mdy", "dmy")(v).upper(),
    ),
    Key(
        "workbook",
        "backups",
        7,
        "How many backup copies (0-1,000) to keep in .followup-backups/.",
        _whole(0, 1000),
    ),
    Key(
        "digest", "to", "", "Your own email address: the only address followup writes to.", _address
    ),
    Key(
        "digest",
        "name",
        "",
        "Your name, used to sign drafted messages; empty: the name in smtp.from or digest.to.",
        _line,
    ),
    Key(
        "digest", "time", "07:30", "Time of day `followup schedule` sends the digest.", _clock_time
    ),
    Key(
        "digest",
        "review_day",
        "monday",
        "Day whose digest tells the story of the week (monday ... sunday), or off.",
        _weekday,
    ),
    Key(
        "digest",
        "timezone",
        "",
        'Timezone for "today", e.g. "Europe/London"; empty: the machine\'s.',
        _timezone,
    ),
    Key(
        "digest",
        "lookahead_days",
        7,
        f"Contacts due within this many days (0-{MAX_DAYS:,}) are 'coming up'.",
        _DAYS,
    ),
    Key("digest", "send_when_empty", False, "Send a digest even when nobody is due.", _BOOL),
    Key("digest", "outbox", "outbox", "Folder for digests written to disk or not yet sent.", _path),
    Key(
        "digest",
        "max_items",
        15,
        "Most people listed in one digest (0-10,000; 0: no limit); the rest are counted.",
        _whole(0, 10_000),
    ),
    Key(
        "digest",
        "templates",
        "",
        "Folder of your own drafts: each .txt replaces the built-in of that name.",
        _path,
    ),
    Key(
        "digest",
        "attach_calendar",
        False,
        "Attach followup.ics (the coming follow-ups) to the digest.",
        _BOOL,
    ),
    Key(
        "digest",
        "needs_info_day",
        "monday",
        "Day whose digest names the people who need a date (monday ... sunday), or off.",
        _weekday,
    ),
    Key("smtp", "host", "", "SMTP server; empty: digests are only written to the outbox.", _host),
    Key(
        "smtp",
        "port",
        0,
        "SMTP port; 0: 587 for starttls, 465 for ssl, 25 for none.",
        _whole(0, 65_535),
    ),
    Key(
        "smtp",
        "security",
        "starttls",
        "starttls, ssl or none (local relays only).",
        _one_of("starttls", "ssl", "none"),
    ),
    Key("smtp", "user", "", "Login name; empty: send without logging in.", _line),
    Key("smtp", "from", "", "Sender address; empty: the user, else digest.to.", _address),
    Key(
        "smtp",
        "timeout",
        30,
        f"Seconds (1-{_MAX_TIMEOUT}) to wait for the server before giving up.",
        _seconds,
    ),
    Key(
        "rules",
        "steps",
        {h.value: list(d) for h, d in _RULES.steps.items()},
        f"Days (1-{MAX_DAYS:,}) after each touch, per relationship, before the cadence.",
        _steps,
    ),
    Key(
        "rules",
        "cadence",
        dict(_RULES.cadence),
        f"Days (1-{MAX_DAYS:,}) between check-ins by priority.",
        _cadence,
    ),
    Key(
        "rules",
        "stop_after_steps",
        ["job application"],
        "Relationships that close after their steps instead of moving to the cadence.",
        _relationships,
    ),
    Key(
        "rules",
        "nudge_days",
        7,
        "Days after your last message before one nudge (Waiting for reply).",
        _DAYS,
    ),
    Key(
        "rules",
        "declined_days",
        _RULES.declined_days,
        "Days before a light touch after a decline.",
        _DAYS,
    ),
    Key(
        "rules",
        "max_unanswered",
        _RULES.max_unanswered,
        "Unanswered follow-ups (Waiting for reply) before giving them space.",
        _whole(1, 1000),
    ),
    Key(
        "rules",
        "rest_days",
        _RULES.rest_days,
        "Then days of space before one light, no-ask check-in.",
        _DAYS,
    ),
    Key(
        "rules",
        "skip_weekends",
        _RULES.skip_weekends,
        "Move computed dates off Saturday and Sunday.",
        _BOOL,
    ),
    Key(
        "import",
        "spread_days",
        60,
        "New people's first check-ins spread over this many days (0-365; 0: not spread).",
        _whole(0, 365),
    ),
    Key(
        "imap",
        "host",
        "",
        "IMAP server whose mail headers update Last contact; empty: no mailbox is read.",
        _host,
    ),
    Key(
        "imap",
        "port",
        0,
        "IMAP port; 0: 993 for ssl, 143 for starttls and none.",
        _whole(0, 65_535),
    ),
    Key(
        "imap",
        "security",
        "ssl",
        "ssl, starttls or none (local servers only).",
        _one_of("ssl", "starttls", "none"),
    ),
    Key("imap", "user", "", "Login name, usually your email address.", _line),
    Key("imap", "sent", "", "Sent folder; empty: the one marked as Sent, or a usual name.", _line),
    Key("imap", "inbox", ["INBOX"], "Folders where replies arrive.", _folders),
    Key(
        "imap",
        "days_back",
        90,
        f"Days (1-{MAX_DAYS:,}) of mail the first sync reads.",
        _whole(1, MAX_DAYS, " of days"),
    ),
    Key("imap", "log_subjects", False, "Put a message's subject in its Log row.", _BOOL),
)

_BY_NAME = {key.dotted: key for key in SCHEMA}

_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}


def check_value(dotted: str, value: Any) -> Any:
    """`value` as key `dotted` ("workbook.path") accepts it; ValueError says what it must be.
    For values that go into a config.toml from elsewhere (`followup init PATH`)."""
    return _BY_NAME[dotted].check(value)


@dataclass(frozen=True)
class ConfigFile:
    """The config file a command uses, and how it was found (`followup doctor` says both)."""

    path: Path
    found: str
    """How: given with --config, from $FOLLOWUP_CONFIG, in this folder, in your user config
    folder; empty when neither folder has one (the path is then ./config.toml)."""


def user_config_file() -> Path:
    """config.toml in the user's config folder: ~/.config/followup on Linux, ~/Library/
    Application Support/followup on macOS, %APPDATA%\\followup on Windows."""
    import platformdirs  # only when the current folder has no config.toml

    folder = platformdirs.user_config_dir("followup", appauthor=False, roaming=True)
    return Path(folder) / DEFAULT_CONFIG


def find_config(option: str | None, environ: Mapping[str, str] = os.environ) -> ConfigFile:
    """The config file to use: --config, else $FOLLOWUP_CONFIG, else ./config.toml, else the
    one in the user config folder. A file named by --config or the variable is used even when
    it is missing (load_config then says so): a typo there must not pick another config."""
    if option:
        return ConfigFile(Path(option), "given with --config")
    if environ.get(CONFIG_ENV):
        return ConfigFile(Path(environ[CONFIG_ENV]), f"from ${CONFIG_ENV}")
    here = Path(DEFAULT_CONFIG)
    if here.exists():
        return ConfigFile(here, "in this folder")
    user = user_config_file()
    if user.exists():
        return ConfigFile(user, "in your user config folder")
    return ConfigFile(here, "")


def missing_config(path: Path, found: str = "") -> str:
    """What to do when there is no config file at `path` (`found` as in ConfigFile)."""
    if found in ("", "in this folder"):
        where = f"No config.toml in this folder ({Path.cwd()}) nor in {user_config_file().parent}."
    else:
        where = f"No config file at {path} ({found})."
    return f"{where} {config_fix(path, found)}"


def config_fix(path: Path, found: str = "") -> str:
    """How to get a config file where none was found."""
    if found in ("", "in this folder"):
        return (
            "To start here, run `followup init`: it creates config.toml and contacts.xlsx "
            "(`followup init FOLDER` sets up another folder). Or pass --config PATH."
        )
    return f"Check that path, or create the file there with `followup init --config {path}`."


def load_config(path: Path, found: str = "given with --config") -> Config:
    """Read and validate config.toml; raise ConfigError naming the file and key on any fault."""
    try:
        raw = read_toml(path)
    except FileNotFoundError:
        raise ConfigError(missing_config(path, found)) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"Cannot read {path}: it is not saved as UTF-8 text (Notepad's 'Unicode' and "
            "Windows-1252 are not). Open it in a text editor, save it with the encoding UTF-8, "
            "and run again."
        ) from None
    except OSError as err:
        raise ConfigError(f"Cannot read {path}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            f"{path} is not valid TOML: {err}. Fix that line and run again."
        ) from None
    except ValueError:  # a NUL in the path
        raise ConfigError(f"Cannot read {path!r}: that is not a file name.") from None
    return config_from(raw, path)


def config_from(raw: dict[str, Any], source: Path) -> Config:
    """The Config of a parsed config.toml read from `source` (paths are relative to its folder),
    or ConfigError naming the first key that is wrong."""
    return _build(_validate(raw, source), source.resolve().parent, source)


def _no_folder(path: Path, source: Path, key: str, what: str) -> None:
    """Raise ConfigError when `key`'s path names a folder, where it must name a file."""
    if path.is_dir():
        raise ConfigError(f"{source}: {key} names the folder {path}; set it to {what}.")


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML; a byte-order mark (Windows Notepad writes one) is not part of it."""
    return tomllib.loads(path.read_text(encoding="utf-8-sig"))


def unknown_keys(raw: dict[str, Any]) -> list[str]:
    """Dotted names of keys the schema does not know (typos, old keys)."""
    known = {(k.section, k.name) for k in SCHEMA}
    sections = {k.section for k in SCHEMA}
    found = []
    for section, table in raw.items():
        if section not in sections:
            found.append(section)
        elif isinstance(table, dict):
            found.extend(f"{section}.{name}" for name in table if (section, name) not in known)
    return found


def checked_values(raw: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[Key, ValueError]]]:
    """Every key's value as the schema takes it (its default when the file has none), and the
    keys whose value it refuses, with why: load_config stops at the first, doctor lists all."""
    values: dict[str, Any] = {}
    refused = []
    for key in SCHEMA:
        table = raw.get(key.section, {})
        value = table.get(key.name, key.default) if isinstance(table, dict) else key.default
        try:
            values[key.dotted] = key.check(value)
        except ValueError as err:
            refused.append((key, err))
    return values, refused


def _validate(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    for section in dict.fromkeys(key.section for key in SCHEMA):
        if not isinstance(raw.get(section, {}), dict):
            raise ConfigError(
                f"{path}: [{section}] must be a section: a line [{section}] with its keys below."
            )
    unknown = unknown_keys(raw)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {', '.join(unknown)}. Check the spelling; a config.toml "
            "that `followup init` writes in an empty folder lists every key with its help."
        )
    values, refused = checked_values(raw)
    for key, err in refused[:1]:
        raise ConfigError(f"{path}: [{key.section}] {key.name} {err}.")
    return values


def _build(v: dict[str, Any], base: Path, source: Path) -> Config:
    """The Config of validated values: one settings object per section, each built below.
    Where two sections are at fault, [smtp] is named before [digest] outbox."""
    smtp = _smtp(v, source)
    return Config(
        source=source,
        workbook=_workbook(v, base, source),
        digest=_digest(v, base, source),
        smtp=smtp,
        rules=_rules(v),
        import_=ImportSettings(spread_days=v["import.spread_days"]),
        imap=_imap(v, source),
    )


def _workbook(v: dict[str, Any], base: Path, source: Path) -> WorkbookSettings:
    path = base / v["workbook.path"]
    _no_folder(path, source, "[workbook] path", "the workbook file, like contacts.xlsx")
    return WorkbookSettings(
        path=path,
        sheet=v["workbook.sheet"] or None,
        date_order=v["workbook.date_order"],
        backups=v["workbook.backups"],
    )


def _digest(v: dict[str, Any], base: Path, source: Path) -> DigestSettings:
    outbox = base / v["digest.outbox"]
    if _is_file(outbox):
        raise ConfigError(
            f"{source}: [digest] outbox names the file {outbox}; set it to a folder (followup "
            "creates it)."
        )
    templates = base / v["digest.templates"] if v["digest.templates"] else None
    if templates is not None and _is_file(templates):
        raise ConfigError(
            f"{source}: [digest] templates names the file {templates}; set it to the folder "
            "that holds your draft templates."
        )
    return DigestSettings(
        to=v["digest.to"],
        your_name=v["digest.name"]
        or _display_name(v["smtp.from"])
        or _display_name(v["digest.to"]),
        send_time=v["digest.time"],
        timezone=v["digest.timezone"],
        send_when_empty=v["digest.send_when_empty"],
        attach_calendar=v["digest.attach_calendar"],
        outbox=outbox,
        max_items=v["digest.max_items"],
        templates=templates,
        needs_info_day=v["digest.needs_info_day"],
        review_day=v["digest.review_day"],
    )


def _display_name(address: str) -> str:
    """The name in "Ann Lee <ann@example.com>", or "" for a bare address."""
    return " ".join(email.utils.parseaddr(address)[0].split())


def _smtp(v: dict[str, Any], source: Path) -> SmtpSettings | None:
    if not v["smtp.host"]:
        return None
    if not v["digest.to"]:
        raise ConfigError(f"{source}: [digest] to is empty; set it to your own email address.")
    security = v["smtp.security"]
    return SmtpSettings(
        host=v["smtp.host"],
        port=v["smtp.port"] or _DEFAULT_PORTS[security],
        security=security,
        user=v["smtp.user"],
        sender=v["smtp.from"] or v["smtp.user"] or v["digest.to"],
        timeout=v["smtp.timeout"],
    )


def _rules(v: dict[str, Any]) -> RuleSettings:
    return RuleSettings(
        steps=v["rules.steps"],
        cadence=v["rules.cadence"],
        stop_after_steps=v["rules.stop_after_steps"],
        nudge_days=v["rules.nudge_days"],
        declined_days=v["rules.declined_days"],
        max_unanswered=v["rules.max_unanswered"],
        rest_days=v["rules.rest_days"],
        skip_weekends=v["rules.skip_weekends"],
        lookahead_days=v["digest.lookahead_days"],
    )


def _imap(v: dict[str, Any], source: Path) -> ImapSettings | None:
    if not v["imap.host"]:
        return None
    if not v["imap.user"]:
        raise ConfigError(
            f"{source}: [imap] host is set but [imap] user is empty; set user to your "
            "mailbox's login (usually your email address)."
        )
    security = v["imap.security"]
    return ImapSettings(
        host=v["imap.host"],
        port=v["imap.port"] or _IMAP_PORTS[security],
        security=security,
        user=v["imap.user"],
        sent=v["imap.sent"],
        inbox=v["imap.inbox"],
        days_back=v["imap.days_back"],
        log_subjects=v["imap.log_subjects"],
        own_address=v["digest.to"] or v["imap.user"],
    )


def _is_file(path: Path) -> bool:
    """Whether something other than a folder is at `path` (a name too long is not a folder)."""
    try:
        return path.exists() and not path.is_dir()
    except OSError:
        return True


def render_config(workbook: str = "contacts.xlsx") -> str:
    """A commented config.toml listing every key with its default and help (used by init)."""
    lines = ["# followup settings. Every key is optional; the value shown is the default."]
    section = ""
    for key in SCHEMA:
        if key.section != section:
            section = key.section
            lines += ["", f"[{section}]"]
        value = workbook if key.dotted == "workbook.path" else key.default
        line = f"{key.name} = {_toml_value(value)}"
        lines.append(
            f"{line.ljust(32)} # {key.help}" if len(line) < 32 else f"# {key.help}\n{line}"
        )
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    """A value as TOML writes it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
        )
    return str(value)
