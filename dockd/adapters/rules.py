"""THE TOML loader: recorder profiles, policy packs and the config file.

Reading a file and parsing it is the only I/O rules and settings need; every
failure (missing, unreadable, not TOML, not the model) becomes a `DockdError` with
the file's name and the key at fault, so an operator can act on it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from dockd.config import DEFAULT_CONFIG_PATH, Config, effective_config
from dockd.errors import ConfigError, DockdError, RulesError
from dockd.ui.i18n import N_

if TYPE_CHECKING:  # their models are built when first read: `dockd sessions` reads neither
    from dockd.core.policy import PolicyPack
    from dockd.core.profiles import RecorderProfile

M = TypeVar("M", bound=BaseModel)

_RULES_HINT = N_(
    "An installed dockd carries no rules: copy the repository's rules/ to "
    '/etc/dockd/rules and set [rules] dir = "/etc/dockd/rules".'
)


def read_toml(file: Path, error: type[DockdError] = RulesError, what: str = "") -> dict[str, Any]:
    """`what` names the file for the operator ("config file "); `error` sets the exit code."""
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{what}{file} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {what}{file}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{file} is not valid TOML: {exc}") from exc


def _model(model: type[M], file: Path) -> M:
    try:
        return model.model_validate(read_toml(file))
    except ValidationError as exc:
        keys = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RulesError("{file}: {keys}", file=file, keys=keys) from exc


def load_profiles(rules_dir: Path) -> dict[str, RecorderProfile]:
    """Read every recorder profile; one bad file stops start-up with its name and key."""
    from dockd.core.profiles import RecorderProfile

    folder = rules_dir / "recorders"
    if not folder.is_dir():
        raise RulesError(
            "{folder} is not a directory of recorder profiles", hint=_RULES_HINT, folder=folder
        )
    profiles: dict[str, RecorderProfile] = {}
    for file in sorted(folder.glob("*.toml")):
        profile = _model(RecorderProfile, file)
        if profile.id != file.stem:
            raise RulesError(
                "{file}: id {profile_id!r} must equal the file name {stem!r}",
                file=file,
                profile_id=profile.id,
                stem=file.stem,
            )
        profiles[profile.id] = profile
    if not profiles:
        raise RulesError("no recorder profiles in {folder}", folder=folder)
    return profiles


def load_policy(rules_dir: Path, pack_id: str) -> PolicyPack:
    from dockd.core.policy import PolicyPack

    folder = rules_dir / "policies"
    if not folder.is_dir():
        raise RulesError(
            "{folder} is not a directory of policy packs", hint=_RULES_HINT, folder=folder
        )
    file = folder / f"{pack_id}.toml"
    if not file.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.toml"))) or "none"
        raise RulesError(
            "no policy pack {pack_id!r} in {folder} (known: {known})",
            hint="Set [policy] pack to one of the known packs.",
            pack_id=pack_id,
            folder=folder,
            known=known,
        )
    pack = _model(PolicyPack, file)
    if pack.id != pack_id:
        raise RulesError(
            "{file}: id {pack_id!r} must equal the file name {pack_id2!r}",
            file=file,
            pack_id=pack.id,
            pack_id2=pack_id,
        )
    return pack


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """The effective configuration: `path`, else /etc/dockd/dockd.toml when it exists,
    else the embedded defaults; then the DOCKD_* environment (os.environ by default)."""
    file = path if path is not None else DEFAULT_CONFIG_PATH
    if path is None and not file.exists():
        return effective_config(None, "embedded defaults", environ)
    return effective_config(read_toml(file, ConfigError, "config file "), str(file), environ)
