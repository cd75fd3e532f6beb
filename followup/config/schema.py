"""config.toml's declared schema: every key with its section, default, help and check, in
the order `followup init` writes them; checking raw values against it, and rendering it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from followup.config.values import (
    MAX_TIMEOUT,
    address,
    clock_time,
    expect,
    file_name,
    folders,
    host,
    one_line,
    one_of,
    path_text,
    relationships,
    rule_cadence,
    rule_steps,
    seconds,
    timezone,
    weekday,
    whole,
)
from followup.core.model import MAX_DAYS, RuleSettings


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


_RULES = RuleSettings()
_BOOL = expect(bool, "true or false")
_DAYS = whole(0, MAX_DAYS, " of days")

SCHEMA: tuple[Key, ...] = (
    Key(
        "workbook",
        "path",
        "contacts.xlsx",
        "The contacts workbook, relative to this file.",
        file_name,
    ),
    Key(
        "workbook",
        "sheet",
        "",
        "Sheet to read; empty: the first sheet with a Name column.",
        one_line,
    ),
    Key(
        "workbook",
        "date_order",
        "MDY",
        "How to read dates typed as text: MDY or DMY.",
        lambda v: one_of("mdy", "dmy")(v).upper(),
    ),
    Key(
        "workbook",
        "backups",
        7,
        "How many backup copies (0-1,000) to keep in .followup-backups/.",
        whole(0, 1000),
    ),
    Key(
        "digest", "to", "", "Your own email address: the only address followup writes to.", address
    ),
    Key(
        "digest",
        "name",
        "",
        "Your name, used to sign drafted messages; empty: the name in smtp.from or digest.to.",
        one_line,
    ),
    Key("digest", "time", "07:30", "Time of day `followup schedule` sends the digest.", clock_time),
    Key(
        "digest",
        "review_day",
        "monday",
        "Day whose digest tells the story of the week (monday ... sunday), or off.",
        weekday,
    ),
    Key(
        "digest",
        "timezone",
        "",
        'Timezone for "today", e.g. "Europe/London"; empty: the machine\'s.',
        timezone,
    ),
    Key(
        "digest",
        "lookahead_days",
        7,
        f"Contacts due within this many days (0-{MAX_DAYS:,}) are 'coming up'.",
        _DAYS,
    ),
    Key("digest", "send_when_empty", False, "Send a digest even when nobody is due.", _BOOL),
    Key(
        "digest",
        "outbox",
        "outbox",
        "Folder for digests written to disk or not yet sent.",
        path_text,
    ),
    Key(
        "digest",
        "max_items",
        15,
        "Most people listed in one digest (0-10,000; 0: no limit); the rest are counted.",
        whole(0, 10_000),
    ),
    Key(
        "digest",
        "templates",
        "",
        "Folder of your own drafts: each .txt replaces the built-in of that name.",
        path_text,
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
        weekday,
    ),
    Key("smtp", "host", "", "SMTP server; empty: digests are only written to the outbox.", host),
    Key(
        "smtp",
        "port",
        0,
        "SMTP port; 0: 587 for starttls, 465 for ssl, 25 for none.",
        whole(0, 65_535),
    ),
    Key(
        "smtp",
        "security",
        "starttls",
        "starttls, ssl or none (a relay on this computer only).",
        one_of("starttls", "ssl", "none"),
    ),
    Key("smtp", "user", "", "Login name; empty: send without logging in.", one_line),
    Key("smtp", "from", "", "Sender address; empty: user if an address, else digest.to.", address),
    Key(
        "smtp",
        "timeout",
        30,
        f"Seconds (1-{MAX_TIMEOUT}) to wait for the server before giving up.",
        seconds,
    ),
    Key(
        "rules",
        "steps",
        {h.value: list(d) for h, d in _RULES.steps.items()},
        f"Days (1-{MAX_DAYS:,}) after each touch, per relationship, before the cadence.",
        rule_steps,
    ),
    Key(
        "rules",
        "cadence",
        dict(_RULES.cadence),
        f"Days (1-{MAX_DAYS:,}) between check-ins by priority.",
        rule_cadence,
    ),
    Key(
        "rules",
        "stop_after_steps",
        ["job application"],
        "Relationships that close after their steps instead of moving to the cadence.",
        relationships,
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
        whole(1, 1000),
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
        whole(0, 365),
    ),
    Key(
        "imap",
        "host",
        "",
        "IMAP server whose mail headers update Last contact; empty: no mailbox is read.",
        host,
    ),
    Key(
        "imap",
        "port",
        0,
        "IMAP port; 0: 993 for ssl, 143 for starttls and none.",
        whole(0, 65_535),
    ),
    Key(
        "imap",
        "security",
        "ssl",
        "ssl, starttls or none (a server on this computer only).",
        one_of("ssl", "starttls", "none"),
    ),
    Key("imap", "user", "", "Login name, usually your email address.", one_line),
    Key(
        "imap", "sent", "", "Sent folder; empty: the one marked as Sent, or a usual name.", one_line
    ),
    Key("imap", "inbox", ["INBOX"], "Folders where replies arrive.", folders),
    Key(
        "imap",
        "days_back",
        90,
        f"Days (1-{MAX_DAYS:,}) of mail the first sync reads.",
        whole(1, MAX_DAYS, " of days"),
    ),
    Key("imap", "log_subjects", False, "Put a message's subject in its Log row.", _BOOL),
    Key(
        "imap",
        "timeout",
        60,
        f"Seconds (1-{MAX_TIMEOUT}) a whole sync may take; then the run goes on without it.",
        seconds,
    ),
)

_BY_NAME = {key.dotted: key for key in SCHEMA}


def check_value(dotted: str, value: Any) -> Any:
    """`value` as key `dotted` ("workbook.path") accepts it; ValueError says what it must be.
    For values that go into a config.toml from elsewhere (`followup init PATH`)."""
    return _BY_NAME[dotted].check(value)


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
