"""What the benchmarks share: which dockd code a result was measured on."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def git_state() -> dict[str, Any]:
    """Another engineer edits dockd/ concurrently: say which code was measured.

    The fingerprint hashes the sources themselves, so uncommitted edits count too.
    """
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "dockd"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    digest = hashlib.sha256()
    for source in sorted((REPO / "dockd").rglob("*.py")):
        digest.update(str(source.relative_to(REPO)).encode() + b"\0" + source.read_bytes())
    return {"commit": head, "dockd_dirty": bool(dirty), "dockd_sha256": digest.hexdigest()}
