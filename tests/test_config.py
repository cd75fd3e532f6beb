"""The config schema: defaults, validation messages that name the key, and the shipped file."""

import dataclasses
from pathlib import Path

import pytest
from cli_helpers import followup, write_config

from followup.config import SCHEMA, load_config, render_config
from followup.core.model import HowMet, RuleSettings
from followup.errors import ConfigError
from followup.settings import Config, DigestSettings, WorkbookSettings

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_is_the_rendered_schema():
    assert (ROOT / "config.toml").read_text(encoding="utf-8") == render_config()


def test_empty_file_gives_spec_defaults(tmp_path):
    config = load_config(write(tmp_path, ""))
    assert config.workbook.path == tmp_path / "contacts.xlsx"
    assert config.digest.outbox == tmp_path / "outbox"
    assert config.smtp is None
    assert config.rules == RuleSettings()
    assert config.workbook.backups == 7


def test_the_config_holds_one_settings_object_per_section_of_the_file(tmp_path):
    """A section added to the schema needs its own settings object in Config, so that an adapter
    can be given just that section."""
    fields = dataclasses.fields(Config)
    sections = [field.name.rstrip("_") for field in fields if field.name != "source"]
    assert sections == list(dict.fromkeys(key.section for key in SCHEMA))
    config = load_config(write(tmp_path, '[workbook]\nsheet = "People"\n'))
    assert config.workbook == WorkbookSettings(tmp_path / "contacts.xlsx", "People", "MDY", 7)
    assert isinstance(config.digest, DigestSettings) and config.state_dir == config.digest.outbox


def test_rendered_config_loads_to_the_defaults(tmp_path):
    config = load_config(write(tmp_path, render_config()))
    assert config.rules == RuleSettings()
    assert {k.dotted for k in SCHEMA} >= {"workbook.path", "smtp.security", "rules.steps"}


def test_rules_override(tmp_path):
    config = load_config(
        write(
            tmp_path,
            '[rules]\nsteps = {"networking event" = [3, 10]}\ncadence = {A = 14}\n'
            "stop_after_steps = []\nskip_weekends = false\n[digest]\nlookahead_days = 3\n",
        )
    )
    assert config.rules.steps[HowMet.NETWORKING_EVENT] == (3, 10)
    assert config.rules.steps[HowMet.JOB_APPLICATION] == (7, 7)
    assert config.rules.cadence == {"A": 14, "B": 90, "C": 180}
    assert config.rules.stop_after_steps == frozenset()
    assert config.rules.skip_weekends is False
    assert config.rules.lookahead_days == 3


@pytest.mark.parametrize("section", ["smtp", "imap"])
@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.0.3", True),
        ("::1", True),
        ("[::1]", True),
        ("imap.example.org", False),
        ("192.168.1.10", False),
        ("localhost.example.org", False),
        ("::2", False),
    ],
)
def test_security_none_is_only_for_a_server_on_this_computer(
    tmp_path: Path, section: str, host: str, allowed: bool
) -> None:
    """The password (and every header or digest) would cross the network unencrypted."""
    path = write(
        tmp_path,
        f'[digest]\nto = "me@example.org"\n[{section}]\nhost = "{host}"\nsecurity = "none"\n'
        'user = "me"\n',
    )
    if allowed:
        assert getattr(load_config(path), section).security == "none"
        return
    with pytest.raises(ConfigError, match=rf'\[{section}\] security = "none" sends everything'):
        load_config(path)


def test_security_none_for_a_remote_host_stops_a_command_with_exit_2(tmp_path: Path) -> None:
    write_config(tmp_path, '[imap]\nhost = "imap.example.org"\nsecurity = "none"\nuser = "me"\n')
    ran = followup(tmp_path, "status")
    assert ran.returncode == 2
    assert '[imap] security = "none" sends everything unencrypted' in ran.stderr
    assert "'imap.example.org'" in ran.stderr


def test_smtp_defaults_port_by_security(tmp_path):
    config = load_config(
        write(tmp_path, '[digest]\nto = "me@example.org"\n[smtp]\nhost = "h"\nsecurity = "ssl"\n')
    )
    assert config.smtp is not None
    assert (config.smtp.port, config.smtp.security, config.smtp.sender) == (
        465,
        "ssl",
        "me@example.org",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[workbook]\ndate_order = 'YMD'\n", "[workbook] date_order must be one of"),
        ("[workbook]\nbackups = -1\n", "[workbook] backups must be a whole number"),
        ("[digest]\ntime = 'breakfast'\n", "[digest] time must be a time of day"),
        ("[digest]\ntimezone = 'Mars/Olympus'\n", "[digest] timezone must be a timezone name"),
        ("[smtp]\nsecurity = 'tls13'\n", "[smtp] security must be one of"),
        ("[smtp]\nhost = 'smtp.example.org'\n", "[digest] to is empty"),
        ("[rules]\nsteps = {dinner = [2]}\n", "'dinner' is not a relationship"),
        ("[rules]\ncadence = {D = 3}\n", "'D' is not a priority"),
        ("[rules]\nsteps = {referral = [0]}\n", "each from 1 to 3,650"),
        ("[digest]\nsend_when_empty = 'yes'\n", "must be true or false"),
        ("[workbok]\npath = 'x.xlsx'\n", "unknown key workbok"),
        ("[smtp]\npassword = 'secret'\n", "unknown key smtp.password"),
        ("[rules\n", "is not valid TOML"),
        ("[digest]\nlookahead_days = 3000000\n", "[digest] lookahead_days must be a whole"),
        ("[rules]\ncadence = {A = 999999999}\n", "[rules] cadence A must be a whole number of"),
        ("[rules]\nsteps = {referral = [99999999999]}\n", "[rules] steps 'referral' must be"),
        ("[rules]\nnudge_days = 3651\n", "[rules] nudge_days must be a whole number of days"),
        ("[smtp]\ntimeout = 1e20\n", "[smtp] timeout must be a number of seconds from 1 to 600"),
        ("[smtp]\ntimeout = nan\n", "[smtp] timeout must be a number of seconds"),
        ("[smtp]\nport = 65536\n", "[smtp] port must be a whole number from 0 to 65,535"),
        ('[workbook]\npath = "a\\u0000b.xlsx"\n', "[workbook] path must be a file or folder"),
        ('[workbook]\npath = ""\n', "[workbook] path must name a file"),
        ('[digest]\noutbox = "out\\u0000box"\n', "[digest] outbox must be a file or folder"),
        ('[digest]\nto = "me@example.com\\r\\nBcc: x@y.z"\n', "[digest] to must be one line"),
        ('[digest]\nto = "me"\n', "[digest] to must be an email address"),
        ('[digest]\ntimezone = "Europe"\n', "[digest] timezone must be a timezone name"),
        ('[digest]\ntime = "07:30+02:00"\n', "[digest] time must be a time of day"),
        ('[smtp]\nhost = "smtp .example.org"\n', "[smtp] host must be a server name"),
        (f'[smtp]\nhost = "{"a" * 64}.example.org"\n', "[smtp] host must be a server name"),
        ("workbook = 5\n", "[workbook] must be a section"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert expected in str(raised.value)
    assert str(path) in str(raised.value)
    assert raised.value.exit_code == 2


def test_missing_file_says_how_to_create_one(tmp_path):
    with pytest.raises(ConfigError, match="followup init"):
        load_config(tmp_path / "nope.toml")


def test_an_outbox_that_names_a_file_is_refused_before_anything_is_read(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"\[digest\] outbox names the file .*notes.txt"):
        load_config(write(tmp_path, '[digest]\noutbox = "notes.txt"\n'))


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        (
            '[workbook]\npath = "."\n',
            r"\[workbook\] path names the folder .*; set it to the workbook",
        ),
        ('[workbook]\npath = "sub"\n', r"\[workbook\] path names the folder .*sub; set it to"),
        ('[digest]\ntemplates = "notes.txt"\n', r"\[digest\] templates names the file .*notes.txt"),
    ],
)
def test_a_path_of_the_wrong_kind_is_refused_naming_its_key(tmp_path, lines, says):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "sub").mkdir()
    with pytest.raises(ConfigError, match=says) as raised:
        load_config(write(tmp_path, lines))
    assert raised.value.exit_code == 2


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_a_config_not_saved_as_utf8_says_to_save_it_so(tmp_path, encoding):
    path = tmp_path / "config.toml"
    path.write_bytes('[digest]\nname = "Jörg"\n'.encode(encoding))
    with pytest.raises(ConfigError, match="it is not saved as UTF-8 text") as raised:
        load_config(path)
    assert "save it with the encoding UTF-8" in str(raised.value)
    assert "codec" not in str(raised.value)


def test_a_config_saved_with_a_byte_order_mark_reads_normally(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b"[digest]\nlookahead_days = 3\n")
    assert load_config(path).rules.lookahead_days == 3


def test_a_config_path_with_a_nul_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not a file name"):
        load_config(tmp_path / "con\x00fig.toml")
