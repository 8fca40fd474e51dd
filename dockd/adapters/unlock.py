"""Running a vendor's unlock command (SetMSDC and the like) on a USB device."""

from __future__ import annotations

import os
import signal
import subprocess

from dockd.core.said import Said
from dockd.core.unlock import UnlockResult

OUTPUT_LIMIT = 2000


def _printed(out: bytes | None, err: bytes | None) -> str:
    return ((out or b"") + (err or b"")).decode("utf-8", "replace").strip()[-OUTPUT_LIMIT:]


def run_unlock(argv: list[str], timeout_s: float) -> UnlockResult:
    """Run it with no shell and no input; what it printed is kept (bounded) for the ledger.

    Vendor tools are often wrappers around a helper: the tool gets a process group of its
    own, and a timeout kills the whole group, so no helper is left holding the USB device
    (or the output pipe, which would keep this call waiting)."""
    try:
        tool = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        why = Said("cannot run {command}: {error}", command=argv[0], error=exc.strerror or exc)
        return UnlockResult(None, why)
    try:
        out, err = tool.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(tool.pid, signal.SIGKILL)  # the leader is unreaped, so the group exists
        out, err = tool.communicate()
        printed = _printed(out, err)
        if printed:
            why = Said(
                "no answer within {seconds:g} s: {printed}", seconds=timeout_s, printed=printed
            )
        else:
            why = Said("no answer within {seconds:g} s", seconds=timeout_s)
        return UnlockResult(None, why, timed_out=True)
    return UnlockResult(tool.returncode, _printed(out, err))
