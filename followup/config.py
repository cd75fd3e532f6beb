"""config.toml as a declared schema: every key with its type, default and help, checked once.

`load_config` is called at start-up; after it returns, the rest of the program can trust every
value. A bad file raises ConfigError naming the file and the key, never a traceback.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from followup.errors import ConfigError
from followup.model import HowMet, RuleSettings

DEFAULT_CONFIG = "config.toml"


@dataclass(frozen=True)
class Key:
    """One config key: where it lives, what it must be, its default and a line of help."""

    section: str
    name: str
    default: Any
    help: str
    check: Callable[[Any], Any] | None = None

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"


def _expect(kind: type, what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise ValueError(f"must be {what}")
        return value

    return check


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a whole number, 0 or more")
    return value


def _at_least_one(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("must be a whole number, 1 or more")
    return value


def _one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in choices:
            raise ValueError(f"must be one of {', '.join(repr(c) for c in choices)}")
        return value.lower()

    return check


def _clock_time(value: Any) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError('must be a time of day like "07:30"') from None


def _timezone(value: Any) -> ZoneInfo | None:
    if value == "":
        return None
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
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
        if not isinstance(days, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in days
        ):
            raise ValueError(f"{name!r} must be a list of whole numbers of days, each 1 or more")
        steps[_how_met(name)] = tuple(days)
    return steps


def _cadence(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError("must be a table like {A = 30, B = 90, C = 180}")
    cadence = dict(_RULES.cadence)
    for tier, days in value.items():
        if tier.upper() not in cadence:
            raise ValueError(f"{tier!r} is not a priority; use A, B or C")
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ValueError(f"{tier} must be a whole number of days, 1 or more")
        cadence[tier.upper()] = days
    return cadence


def _relationships(value: Any) -> frozenset[HowMet]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError('must be a list like ["job application"]')
    return frozenset(_how_met(v) for v in value)


_RULES = RuleSettings()
_TEXT = _expect(str, "text in quotes")
_BOOL = _expect(bool, "true or false")

SCHEMA: tuple[Key, ...] = (
    Key(
        "workbook", "path", "contacts.xlsx", "The contacts workbook, relative to this file.", _TEXT
    ),
    Key(
        "workbook", "sheet", "", "Sheet to read; empty: the first sheet with a Name column.", _TEXT
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
        "How many backup copies to keep in .followup-backups/.",
        _positive_int,
    ),
    Key("digest", "to", "", "Your own email address: the only address followup writes to.", _TEXT),
    Key("digest", "name", "", "Your name, used to sign drafted messages.", _TEXT),
    Key(
        "digest", "time", "07:30", "Time of day `followup schedule` sends the digest.", _clock_time
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
        "Contacts due within this many days are 'coming up'.",
        _positive_int,
    ),
    Key("digest", "send_when_empty", False, "Send a digest even when nobody is due.", _BOOL),
    Key("digest", "outbox", "outbox", "Folder for digests written to disk or not yet sent.", _TEXT),
    Key(
        "digest",
        "max_items",
        15,
        "Most people listed in one digest; the rest are counted. 0: no limit.",
        _positive_int,
    ),
    Key(
        "digest",
        "templates",
        "",
        "Folder of your own drafts: each .txt replaces the built-in of that name.",
        _TEXT,
    ),
    Key(
        "digest",
        "attach_calendar",
        False,
        "Attach followup.ics (the coming follow-ups) to the digest.",
        _BOOL,
    ),
    Key("smtp", "host", "", "SMTP server; empty: digests are only written to the outbox.", _TEXT),
    Key(
        "smtp",
        "port",
        0,
        "SMTP port; 0: 587 for starttls, 465 for ssl, 25 for none.",
        _positive_int,
    ),
    Key(
        "smtp",
        "security",
        "starttls",
        "starttls, ssl or none (local relays only).",
        _one_of("starttls", "ssl", "none"),
    ),
    Key("smtp", "user", "", "Login name; empty: send without logging in.", _TEXT),
    Key("smtp", "from", "", "Sender address; empty: the user, else digest.to.", _TEXT),
    Key("smtp", "timeout", 30, "Seconds to wait for the server before giving up.", _positive_int),
    Key(
        "rules",
        "steps",
        {h.value: list(d) for h, d in _RULES.steps.items()},
        "Days after each touch, per relationship, before the cadence.",
        _steps,
    ),
    Key("rules", "cadence", dict(_RULES.cadence), "Days between check-ins by priority.", _cadence),
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
        _positive_int,
    ),
    Key(
        "rules",
        "declined_days",
        _RULES.declined_days,
        "Days before a light touch after a decline.",
        _positive_int,
    ),
    Key(
        "rules",
        "max_unanswered",
        _RULES.max_unanswered,
        "Unanswered follow-ups (Waiting for reply) before giving them space.",
        _at_least_one,
    ),
    Key(
        "rules",
        "rest_days",
        _RULES.rest_days,
        "Then days of space before one light, no-ask check-in.",
        _positive_int,
    ),
    Key(
        "rules",
        "skip_weekends",
        _RULES.skip_weekends,
        "Move computed dates off Saturday and Sunday.",
        _BOOL,
    ),
)

_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send; the password is never here (see mailer.resolve_password)."""

    host: str
    port: int
    security: Literal["starttls", "ssl", "none"]
    user: str
    sender: str
    timeout: float


@dataclass(frozen=True)
class Config:
    """The validated configuration. Paths are absolute (relative ones are from the file)."""

    source: Path
    workbook: Path
    sheet: str | None
    date_order: str
    backups: int
    to: str
    your_name: str
    send_time: time
    timezone: ZoneInfo | None
    send_when_empty: bool
    attach_calendar: bool
    outbox: Path
    max_items: int
    templates: Path | None
    smtp: SmtpSettings | None
    rules: RuleSettings

    @property
    def state_dir(self) -> Path:
        """Where the program keeps its own small files (state, lock, logs)."""
        return self.outbox


def config_path(option: str | None) -> Path:
    """The config file to use: --config, else $FOLLOWUP_CONFIG, else ./config.toml."""
    return Path(option or os.environ.get("FOLLOWUP_CONFIG") or DEFAULT_CONFIG)


def load_config(path: Path) -> Config:
    """Read and validate config.toml; raise ConfigError naming the file and key on any fault."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"No config file at {path}. Run `followup init` to create one, or pass --config PATH."
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"Cannot read {path}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            f"{path} is not valid TOML: {err}. Fix that line and run again."
        ) from None
    values = _validate(raw, path)
    return _build(values, path.resolve().parent, path)


def unknown_keys(raw: dict[str, Any]) -> list[str]:
    """Dotted names of keys the schema does not know (typos, old keys)."""
    known = {(k.section, k.name) for k in SCHEMA}
    sections = {k.section for k in SCHEMA}
    found = []
    for section, table in raw.items():
        if section not in sections or not isinstance(table, dict):
            found.append(section)
            continue
        found.extend(f"{section}.{name}" for name in table if (section, name) not in known)
    return found


def _validate(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    unknown = unknown_keys(raw)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {', '.join(unknown)}. Check the spelling; "
            "`followup init --help` shows where the documented keys are."
        )
    values = {}
    for key in SCHEMA:
        value = raw.get(key.section, {}).get(key.name, key.default)
        try:
            values[key.dotted] = key.check(value) if key.check else value
        except ValueError as err:
            raise ConfigError(f"{path}: [{key.section}] {key.name} {err}.") from None
    return values


def _build(v: dict[str, Any], base: Path, source: Path) -> Config:
    smtp = None
    if v["smtp.host"]:
        security = v["smtp.security"]
        smtp = SmtpSettings(
            host=v["smtp.host"],
            port=v["smtp.port"] or _DEFAULT_PORTS[security],
            security=security,
            user=v["smtp.user"],
            sender=v["smtp.from"] or v["smtp.user"] or v["digest.to"],
            timeout=float(v["smtp.timeout"] or 30),
        )
        if not v["digest.to"]:
            raise ConfigError(f"{source}: [digest] to is empty; set it to your own email address.")
    return Config(
        source=source,
        workbook=base / v["workbook.path"],
        sheet=v["workbook.sheet"] or None,
        date_order=v["workbook.date_order"],
        backups=v["workbook.backups"],
        to=v["digest.to"],
        your_name=v["digest.name"],
        send_time=v["digest.time"],
        timezone=v["digest.timezone"],
        send_when_empty=v["digest.send_when_empty"],
        attach_calendar=v["digest.attach_calendar"],
        outbox=base / v["digest.outbox"],
        max_items=v["digest.max_items"],
        templates=base / v["digest.templates"] if v["digest.templates"] else None,
        smtp=smtp,
        rules=RuleSettings(
            steps=v["rules.steps"],
            cadence=v["rules.cadence"],
            stop_after_steps=v["rules.stop_after_steps"],
            nudge_days=v["rules.nudge_days"],
            declined_days=v["rules.declined_days"],
            max_unanswered=v["rules.max_unanswered"],
            rest_days=v["rules.rest_days"],
            skip_weekends=v["rules.skip_weekends"],
            lookahead_days=v["digest.lookahead_days"],
        ),
    )


def render_config(workbook: str = "contacts.xlsx") -> str:
    """A commented config.toml listing every key with its default and help (used by init)."""
    lines = ["# followup settings. Every key is optional; the value shown is the default."]
    section = ""
    for key in SCHEMA:
        if key.section != section:
            section = key.section
            lines += ["", f"[{section}]"]
        value = workbook if key.dotted == "workbook.path" else key.default
        line = f"{key.name} = {_toml(value)}"
        lines.append(
            f"{line.ljust(32)} # {key.help}" if len(line) < 32 else f"# {key.help}\n{line}"
        )
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return str(value)
