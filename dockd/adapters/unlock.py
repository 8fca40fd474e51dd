"""Running a vendor's unlock command (SetMSDC and the like) on a USB device."""

from __future__ import annotations

import subprocess

from dockd.core.said import Said
from dockd.core.unlock import UnlockResult

OUTPUT_LIMIT = 2000


def run_unlock(argv: list[str], timeout_s: float) -> UnlockResult:
    """Run it with no shell and no input; what it printed is kept (bounded) for the ledger."""
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        why = Said("no answer within {seconds:g} s", seconds=timeout_s)
        return UnlockResult(None, why, timed_out=True)
    except OSError as exc:
        why = Said("cannot run {command}: {error}", command=argv[0], error=exc.strerror or exc)
        return UnlockResult(None, why)
    output = (done.stdout + done.stderr).decode("utf-8", "replace").strip()
    return UnlockResult(done.returncode, output[-OUTPUT_LIMIT:])
