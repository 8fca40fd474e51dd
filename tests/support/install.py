"""dockd installed the way the README installs it on a dock: Debian's python3, a virtualenv
of its own, `pip install .` from a copy of this checkout.

It lives under /opt, not /tmp or /root: the unit runs with PrivateTmp= and ProtectHome=,
so an ExecStart under either would not even be visible to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SYSTEM_PYTHON = Path("/usr/bin/python3")


@contextmanager
def installed_dockd(repo: Path) -> Iterator[Path]:
    """The installed `dockd` executable, removed afterwards."""
    base = Path(f"/opt/dockd-test-{os.getpid()}")
    shutil.rmtree(base, ignore_errors=True)
    try:
        checkout = base / "checkout"  # pip must not write build/ into the repository
        shutil.copytree(
            repo,
            checkout,
            ignore=shutil.ignore_patterns(".venv", ".git", "var", "bench", "tests", "*.egg-info"),
        )
        venv = base / "venv"
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True)
        installed = subprocess.run(
            [str(venv / "bin/pip"), "install", "--quiet", str(checkout)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert installed.returncode == 0, installed.stderr[-3000:]
        yield venv / "bin/dockd"
    finally:
        shutil.rmtree(base, ignore_errors=True)
