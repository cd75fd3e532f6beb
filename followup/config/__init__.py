"""config.toml as a declared schema: every key with its type, default and help, checked once.

`load_config` is called at start-up; after it returns, the rest of the program can trust every
value. A bad file raises ConfigError naming the file and the key, never a traceback. What it
returns is `settings.Config`: one settings object per section, each built by its own function
(`_workbook`, `_digest`, `_smtp`, `_rules`, `_imap`). The schema is `schema.py` (its checks
`values.py`); which file is used, and reading it, `files.py`. The rest of the program imports
what this package names.
"""

from __future__ import annotations

import email.utils
import tomllib
from pathlib import Path
from typing import Any

from followup.config.files import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    ConfigFile,
    config_fix,
    find_config,
    missing_config,
    read_toml,
    user_config_file,
    where_missing,
)
from followup.config.schema import (
    SCHEMA,
    Key,
    check_value,
    checked_values,
    render_config,
    unknown_keys,
)
from followup.config.values import is_loopback
from followup.core.model import RuleSettings
from followup.errors import ConfigError
from followup.settings import (
    Config,
    DigestSettings,
    ImapSettings,
    ImportSettings,
    SmtpSettings,
    WorkbookSettings,
)

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "SCHEMA",
    "ConfigFile",
    "Key",
    "check_value",
    "checked_values",
    "config_fix",
    "config_from",
    "find_config",
    "load_config",
    "missing_config",
    "read_toml",
    "render_config",
    "unknown_keys",
    "user_config_file",
    "where_missing",
]

_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}


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
    security = _secured(v, "smtp", source)
    sender, sender_key = _sender(v)
    return SmtpSettings(
        host=v["smtp.host"],
        port=v["smtp.port"] or _DEFAULT_PORTS[security],
        security=security,
        user=v["smtp.user"],
        sender=sender,
        timeout=v["smtp.timeout"],
        sender_key=sender_key,
    )


def _sender(v: dict[str, Any]) -> tuple[str, str]:
    """The From address and the key it came from: [smtp] from, else the login when it is an
    address, else [digest] to. Relays often log in with a name ("apikey", "sam"), and a From
    without a domain is refused or filed as spam."""
    if v["smtp.from"]:
        return v["smtp.from"], "[smtp] from"
    if "@" in email.utils.parseaddr(v["smtp.user"])[1]:
        return v["smtp.user"], "[smtp] user"
    return v["digest.to"], "[digest] to"


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
    security = _secured(v, "imap", source)
    return ImapSettings(
        host=v["imap.host"],
        port=v["imap.port"] or _IMAP_PORTS[security],
        security=security,
        user=v["imap.user"],
        sent=v["imap.sent"],
        inbox=v["imap.inbox"],
        days_back=v["imap.days_back"],
        log_subjects=v["imap.log_subjects"],
        timeout=v["imap.timeout"],
        own_address=v["digest.to"] or v["imap.user"],
    )


def _secured(v: dict[str, Any], section: str, source: Path) -> str:
    """The section's security; "none" only for a server on this computer, since the password
    would cross the network in clear text."""
    security: str = v[f"{section}.security"]
    host: str = v[f"{section}.host"]
    if security == "none" and not is_loopback(host):
        raise ConfigError(
            f'{source}: [{section}] security = "none" sends everything unencrypted, the password '
            "too, so it is only for a server on this computer (localhost, 127.0.0.1 or ::1), "
            f'not {host!r}. Use "ssl" or "starttls".'
        )
    return security


def _is_file(path: Path) -> bool:
    """Whether something other than a folder is at `path` (a name too long is not a folder)."""
    try:
        return path.exists() and not path.is_dir()
    except OSError:
        return True
