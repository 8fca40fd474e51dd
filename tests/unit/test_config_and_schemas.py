"""Configuration layering and errors; shipped rules and committed schemas stay true."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from dockd.adapters.rules import load_config, load_profiles
from dockd.app import mail_settings
from dockd.errors import ConfigError, RulesError
from dockd.schemas import all_schemas, render

REPO = Path(__file__).resolve().parents[2]


def test_embedded_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(None, environ={}) if not Path("/etc/dockd/dockd.toml").exists() else None
    if config is None:
        pytest.skip("/etc/dockd/dockd.toml exists on this machine")
    assert config.store.root == Path("var/store")
    assert config.ledger.url.startswith("sqlite:///")
    assert config.rules.effective_dir == REPO / "rules"


def test_file_then_env(tmp_path: Path) -> None:
    file = tmp_path / "dockd.toml"
    file.write_text('[store]\nroot = "/srv/a"\n[daemon]\nmax_parallel = 2\n')
    env = {"DOCKD_STORE__ROOT": "/srv/b", "DOCKD_CLOCK__NTP_SERVERS": '["a", "b:123"]'}
    config = load_config(file, environ=env)
    assert config.store.root == Path("/srv/b")
    assert config.clock.ntp_servers == ["a", "b:123"]
    assert config.daemon.max_parallel == 2


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[store]\nrooot = "/x"\n', "store.rooot"),
        ('[ledger]\nurl = "mysql://x"\n', "ledger.url"),
        ("[daemon]\nmax_parallel = 0\n", "daemon.max_parallel"),
        ("[nonsense]\n", "nonsense"),
        ("[store\n", "not valid TOML"),
    ],
)
def test_wrong_config_names_the_key(tmp_path: Path, text: str, named: str) -> None:
    file = tmp_path / "dockd.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(file, environ={})
    assert named in caught.value.message
    assert caught.value.exit_code == 2


def test_mail_settings_from_file_and_environment(tmp_path: Path) -> None:
    file = tmp_path / "dockd.toml"
    file.write_text(
        '[mail]\nhost = "relay.example.org"\nport = 587\nsecurity = "starttls"\n'
        'username = "dock7"\nrecipients = ["ops@example.org"]\n'
        'recipients_by_unit = { "交警大队" = ["Traffic Desk <traffic@example.org>"] }\n'
    )
    config = load_config(file, environ={"DOCKD_MAIL__PASSWORD": "s3cret"})
    assert "s3cret" not in repr(config) and "s3cret" not in config.model_dump_json()
    settings = mail_settings(config.mail)
    assert (settings.host, settings.port, settings.security) == (
        "relay.example.org",
        587,
        "starttls",
    )
    assert (settings.username, settings.password) == ("dock7", "s3cret")
    assert settings.recipients_by_unit == {"交警大队": ["Traffic Desk <traffic@example.org>"]}
    assert settings.send_when_empty and settings.outbox == Path("var/outbox")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[mail]\nrecipients = ["not an address"]\n', "mail.recipients"),
        ('[mail]\nsender = "dockd@x\\nBcc: a@evil"\n', "mail.sender"),
        ('[mail]\nrecipients_by_unit = { A = ["nobody"] }\n', "mail.recipients_by_unit"),
        ('[mail]\nsecurity = "ssl"\n', "mail.security"),
        ('[mail]\npassword = "x"\n', "username"),
        ('[mail]\nhost = "relay.example.org"\nusername = "u"\npassword = "p"\n', "in clear"),
    ],
)
def test_wrong_mail_config(tmp_path: Path, text: str, named: str) -> None:
    file = tmp_path / "dockd.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(file, environ={})
    assert named in caught.value.message


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})


def test_committed_schemas_are_current() -> None:
    for name, schema in all_schemas().items():
        committed = (REPO / "schemas" / name).read_text("utf-8")
        assert committed == render(schema), f"schemas/{name} is stale: run `make schemas`"


def test_shipped_profiles_validate_against_their_schema() -> None:
    schema = json.loads((REPO / "schemas" / "recorder-profile.schema.json").read_text())
    files = sorted((REPO / "rules" / "recorders").glob("*.toml"))
    assert {f.stem for f in files} >= {"generic", "dcim"}
    for file in files:
        jsonschema.validate(tomllib.loads(file.read_text()), schema)
    assert set(load_profiles(REPO / "rules")) == {f.stem for f in files}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (
            'id = "x"\ndescription = "d"\ntimezone = "Mars/Olympus"\nextensions = ["mp4"]\n',
            "time zone",
        ),
        ('id = "x"\ndescription = "d"\ntimezone = "UTC"\nextensions = []\n', "extensions"),
        (
            'id = "x"\ndescription = "d"\ntimezone = "UTC"\nextensions = ["mp4"]\n'
            '[[name_patterns]]\nregex = "(unclosed"\ntime_format = "%Y"\n',
            "regular expression",
        ),
        ('id = "other"\ndescription = "d"\ntimezone = "UTC"\nextensions = ["mp4"]\n', "file name"),
    ],
)
def test_bad_profile_names_file_and_key(tmp_path: Path, body: str, named: str) -> None:
    (tmp_path / "recorders").mkdir()
    (tmp_path / "recorders" / "x.toml").write_text(body)
    with pytest.raises(RulesError) as caught:
        load_profiles(tmp_path)
    assert "x.toml" in caught.value.message and named in caught.value.message
