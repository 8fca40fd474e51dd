"""Configuration: embedded defaults < TOML file < DOCKD_* environment.

The command line chooses only the file (`dockd --config FILE`); every value comes
from the file or the environment. This module is the models and the pure merge:
reading the file is `dockd.adapters.rules.load_config`'s job.

Unknown keys are errors rather than warnings: on an evidence station a typo in
``retention`` that silently falls back to a default is worse than refusing to start.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from dockd.core.custody import LEGACY_STATION
from dockd.core.net import is_loopback, parse_servers
from dockd.core.station import is_station_id
from dockd.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/dockd/dockd.toml")
ENV_PREFIX = "DOCKD_"
SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreConfig(_Section):
    root: Path = Field(Path("var/store"), description="Root of the write-once evidence store.")
    chunk_mib: int = Field(1, ge=1, le=64, description="Read size of the copy pipeline, in MiB.")
    parallel_files: int = Field(4, ge=1, le=32, description="Files of one recorder copied at once.")
    copy_helpers: bool = Field(
        False,
        description="Copy and read back files of one chunk or less in helper processes, "
        "off the daemon's interpreter lock (off until measured faster on a quiet machine).",
    )


class StationConfig(_Section):
    id: str | None = Field(
        None,
        description="This station's name in the ledger (its sessions and the objects its store "
        "holds): lower-case letters, digits, hyphens, at most 63; unset = dock- and 12 hex of a "
        "hash of /etc/machine-id (the host name without one).",
    )
    key_file: Path | None = Field(
        None,
        description="This station's Ed25519 signing key (PEM, 0600); made at first start, "
        "never replaced; `dockd station key` prints its public key. Default: station.key in "
        "the folder that holds [store] root (var/station.key for `make run`).",
    )
    language: Literal["en", "zh-CN"] | None = Field(
        None,
        description="The language of the nightly e-mail and the CLI's text (zh-CN or en); unset "
        "= the pack's [station] language, en when the pack names none. The status page follows "
        "each browser's Accept-Language instead. JSON outputs keep English keys.",
    )
    timezone: str | None = Field(
        None,
        description="The IANA zone times are shown in to people (e-mail, page, terminal), with "
        "the offset written out, e.g. Asia/Shanghai; unset = the pack's [station] timezone, the "
        "host's zone when the pack names none. The ledger and JSON keep RFC 3339.",
    )

    @field_validator("id")
    @classmethod
    def _is_slug(cls, value: str | None) -> str | None:
        if value is not None and not is_station_id(value):
            raise ValueError(
                f"{value!r} is not a station id: lower-case letters, digits and inner "
                "hyphens, at most 63 characters (e.g. dock-hq-1)"
            )
        if value == LEGACY_STATION:
            raise ValueError(
                f"{value!r} is reserved for the objects and events recorded before stations "
                "had names: choose another id (e.g. dock-hq-1), or leave [station] id unset"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _is_zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone_named(value)
        return value


def zone_named(name: str) -> ZoneInfo:
    """An IANA zone, or a ValueError that says what a zone name looks like."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not an IANA time zone: use a name like Asia/Shanghai or UTC"
        ) from None


class LedgerConfig(_Section):
    url: str = Field(
        "sqlite:///var/ledger.sqlite3",
        description="SQLAlchemy URL of the ledger: sqlite:///PATH (?timeout=SECONDS: how long "
        "a writer waits for the lock, default 60) or postgresql+psycopg://USER:PASSWORD@HOST/DB",
    )

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite:", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        return url


class RulesConfig(_Section):
    dir: Path | None = Field(
        None, description="Directory with recorders/ and policies/; unset = the shipped rules."
    )

    @property
    def effective_dir(self) -> Path:
        return self.dir if self.dir is not None else SHIPPED_RULES


class PolicyConfig(_Section):
    pack: str = Field("dalian-jinpu-ocean", description="Active policy pack id (rules/policies).")


class ClockConfig(_Section):
    ntp_servers: list[str] = Field(
        default_factory=list,
        description="NTP servers, `host` or `host:port`; none = ask chrony or timesyncd.",
    )
    cache_seconds: float = Field(
        60.0, ge=0, description="A station clock measurement is reused this long."
    )
    timeout_seconds: float = Field(1.0, gt=0, le=30, description="Per NTP server.")

    @field_validator("ntp_servers")
    @classmethod
    def _servers_parse(cls, servers: list[str]) -> list[str]:
        parse_servers(servers)
        return servers


class WebConfig(_Section):
    listen: str = Field("127.0.0.1:8470", description="host:port of the status pages.")
    token: SecretStr | None = Field(
        None,
        description="Bearer token for the status pages (browsers: any user, the token as "
        "password); needed, or basic_auth, when listen is not a loopback address.",
    )
    basic_auth: str | None = Field(
        None,
        description="'user:pbkdf2_sha256$iterations$salt_hex$hash_hex' "
        "(python -m dockd.web.access hash-password USER).",
    )
    tls_cert: Path | None = Field(
        None,
        description="PEM certificate (chain) of the status pages; with tls_key the pages are "
        "served over HTTPS only. Needed when listen is not a loopback address.",
    )
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert.")


def _address(value: str) -> str:
    from email.utils import parseaddr  # the e-mail package: only for a config with [mail]

    if "\r" in value or "\n" in value or "@" not in parseaddr(value)[1]:
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


class MailConfig(_Section):
    host: str = Field("localhost", description="SMTP relay.")
    port: int = Field(25, ge=1, le=65535, description="25 or 587 (starttls), 465 (tls).")
    security: Literal["none", "starttls", "tls"] = Field(
        "none",
        description='"none" (a relay on this host), "starttls", or "tls" from the first byte.',
    )
    username: str | None = Field(None, description="SMTP login; unset = no AUTH.")
    password: SecretStr | None = Field(
        None, description="With username (or DOCKD_MAIL__PASSWORD); keep dockd.toml 0640."
    )
    cafile: Path | None = Field(
        None, description="PEM CA certificate trusted for the relay instead of the system CAs."
    )
    timeout_seconds: float = Field(30.0, gt=0, le=300, description="Per SMTP operation.")
    sender: str = Field("dockd@localhost")
    recipients: list[str] = Field(default_factory=list, description="Get every report.")
    recipients_by_unit: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Unit -> addresses; they also get each report with an item of that unit.",
    )
    scope: Literal["station", "agency"] = Field(
        "station",
        description="What the nightly report covers: this station's sessions, offloads and "
        "verify runs, or (agency) those of every station on the ledger, each late offload "
        "naming its station; `dockd report deadlines --all-stations` asks for the agency's.",
    )
    send_when_empty: bool = Field(
        True, description='Send "nothing to report" too; false: send nothing on a clean day.'
    )
    outbox: Path = Field(
        Path("var/outbox"), description="Reports not sent yet (sent first next time)."
    )

    @field_validator("sender")
    @classmethod
    def _sender_is_an_address(cls, sender: str) -> str:
        return _address(sender)

    @field_validator("recipients")
    @classmethod
    def _recipients_are_addresses(cls, recipients: list[str]) -> list[str]:
        return [_address(a) for a in recipients]

    @field_validator("recipients_by_unit")
    @classmethod
    def _unit_recipients_are_addresses(cls, by_unit: dict[str, list[str]]) -> dict[str, list[str]]:
        return {unit: [_address(a) for a in addresses] for unit, addresses in by_unit.items()}

    @model_validator(mode="after")
    def _login_is_safe(self) -> MailConfig:
        if self.password is not None and self.username is None:
            raise ValueError("password is set but username is not")
        if self.username is not None and self.security == "none" and not is_loopback(self.host):
            raise ValueError(
                f'username is set with security = "none": the password would cross the '
                f'network to {self.host} in clear; use "starttls" or "tls"'
            )
        return self


class DaemonConfig(_Section):
    max_parallel: int = Field(4, ge=1, le=64, description="Recorders copied at once.")
    mount_root: Path = Field(Path("/run/dockd/mnt"), description="Where recorders are mounted.")
    watch_dirs: list[Path] = Field(
        default_factory=list, description="Drop folders to ingest: <dir>/<recorder serial>/..."
    )
    settle_seconds: float = Field(
        5.0, ge=0, description="A drop-folder file is taken after this long unchanged."
    )
    drop_profile: str = Field("generic", description="Recorder profile of drop-folder files.")
    ports: list[str] = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        description='The bays whose USB disks are recorders: udev ID_PATH globs, "*" = every '
        "USB port (the disk holding / or the store never is).",
    )
    clear_after_offload: bool = Field(
        False,
        description="Delete a recorder's files once their copies are verified (and confirmed "
        "centrally when [central] is set), where the pack's [clearing] allows it. Needs the "
        "unit's read-write device rule: see systemd/dockd.service.",
    )


class CentralConfig(_Section):
    """The agency's central WORM store: an S3 bucket with Object Lock (COMPLIANCE). Absent,
    dockd is a single box and its own store is the only copy."""

    endpoint: str = Field(description="S3 endpoint URL, e.g. https://s3.example.gov.cn:9000.")
    bucket: str = Field(description="Bucket made with Object Lock enabled (refused otherwise).")
    region: str = Field("us-east-1", description="The bucket's region (signing).")
    access_key: str = Field(description="This station's S3 access key.")
    secret_key: SecretStr | None = Field(None, description="Its secret key, or secret_key_file.")
    secret_key_file: Path | None = Field(
        None, description="File holding the secret key (0600), instead of secret_key."
    )
    prefix: str = Field("", description="Prepended to every key: <prefix>objects/blake3/…")
    local_retention_days: int = Field(
        30,
        ge=0,
        description="Days a confirmed object stays in the local store before it may be freed.",
    )
    part_mib: int = Field(
        16, ge=5, le=512, description="Objects above this go multipart, in parts of this size."
    )
    streams: int = Field(4, ge=1, le=32, description="Parts or objects sent at once.")
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="Per S3 request.")
    pass_interval_seconds: float = Field(
        300.0,
        ge=1,
        le=86400,
        description="The daemon's forwarding passes between dock sessions: the wait after one "
        "ends before the next, e.g. after the server was unreachable.",
    )
    upkeep_takeover_minutes: float = Field(
        60.0,
        ge=0,
        le=10080,
        description="Minutes another station's central object may lag the lock the ledger "
        "wants (a hold placed, a retention grown) before this station updates it instead: "
        "the sending dock may be burnt or stolen. The takeover is a custody event here.",
    )

    @model_validator(mode="after")
    def _one_secret(self) -> CentralConfig:
        if (self.secret_key is None) == (self.secret_key_file is None):
            raise ValueError("give exactly one of central.secret_key and central.secret_key_file")
        return self


class Config(_Section):
    station: StationConfig = StationConfig()
    store: StoreConfig = StoreConfig()
    ledger: LedgerConfig = LedgerConfig()
    rules: RulesConfig = RulesConfig()
    policy: PolicyConfig = PolicyConfig()
    clock: ClockConfig = ClockConfig()
    web: WebConfig = WebConfig()
    mail: MailConfig = MailConfig()
    daemon: DaemonConfig = DaemonConfig()
    central: CentralConfig | None = None


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """``DOCKD_STORE__ROOT=/x`` -> {"store": {"root": "/x"}}; values parse as TOML when they can."""
    out: dict[str, dict[str, Any]] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        try:
            value: Any = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out.setdefault(section, {})[key] = value
    return out


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError, origin: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        lines.append(f"{key}: {item['msg']} (from {origin})")
    return "; ".join(lines)


def effective_config(
    data: Mapping[str, Any] | None,
    origin: str,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Merge the file's `data` (None: none) under the DOCKD_* environment (os.environ by
    default); `origin` names the file in errors."""
    environ = os.environ if environ is None else environ
    env = _env_overrides(environ)
    if env:
        origin += " + DOCKD_* environment"
    merged = _merge(dict(data or {}), env)
    try:
        return Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from exc
