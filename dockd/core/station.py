"""A station's name in a shared ledger (`[station] id`): the rule and the default.

Several stations may write one PostgreSQL ledger, so each session and each object
location says which station it belongs to. The name must stay the same across
restarts and reinstalls of the same machine, hence derived from its machine-id.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

MAX_LENGTH: Final = 63
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
# machine-id(5) asks that it be hashed with an application key before it is shown
_APP_KEY: Final = b"dockd station id\x00"


def is_station_id(value: str) -> bool:
    """A short slug: lower-case letters, digits and inner hyphens, at most 63 characters."""
    return _SLUG.fullmatch(value) is not None


def default_station_id(machine_id: str | None, hostname: str) -> str:
    """`dock-` and 12 hex digits of the keyed machine-id; the host name (made a slug)
    where the machine has no machine-id."""
    if machine_id and machine_id.strip():
        digest = hashlib.sha256(_APP_KEY + machine_id.strip().encode("ascii", "replace"))
        return "dock-" + digest.hexdigest()[:12]
    slug = re.sub(r"[^a-z0-9]+", "-", hostname.split(".")[0].lower()).strip("-")
    return slug[:MAX_LENGTH].rstrip("-") or "dock"
