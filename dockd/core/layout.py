"""The store layout: where a content-addressed object lives, and which names are safe.

Both are pure so that `verify`, the manifest and a person with only `b3sum`
agree on the same paths.
"""

from __future__ import annotations

import re

from dockd.core.profiles import RecorderProfile
from dockd.core.said import Said

LAYOUT_VERSION = 1
_HEX64 = re.compile(r"[0-9a-f]{64}")


def object_key(blake3_hex: str) -> str:
    """Store-relative path of the object with this BLAKE3: objects/blake3/<2 hex>/<64 hex>."""
    if not _HEX64.fullmatch(blake3_hex):
        raise ValueError(f"not a lower-case BLAKE3 hex digest: {blake3_hex!r}")
    return f"objects/blake3/{blake3_hex[:2]}/{blake3_hex}"


def unsafe_component(name: bytes) -> Said | None:
    """Why a directory entry name cannot be part of a path on the volume, or None if it can."""
    if name in (b"", b".", b".."):
        return Said("the name {name} would escape or alias the volume", name=repr(name))
    if b"/" in name or b"\0" in name:
        return Said("the name contains '/' or NUL")
    return None


def extension(name: bytes) -> str:
    head, dot, ext = name.rpartition(b".")
    return ext.decode("ascii", "replace").lower() if dot and head else ""


def is_recording(profile: RecorderProfile, path: bytes) -> bool:
    """Whether a regular file at this relative path is a recording under the profile."""
    if extension(path.rpartition(b"/")[2]) not in profile.extensions:
        return False
    for root in profile.media_roots:
        prefix = root.strip("/").encode()
        if not prefix or path.lower().startswith(prefix.lower() + b"/"):
            return True
    return False
