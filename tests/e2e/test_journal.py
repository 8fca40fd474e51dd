"""dockd's logs as an admin sees them: structured journal entries, readable console lines.

Each case logs from a fresh Python process (structlog is configured once per
process, as in dockd) and reads the journal back with journalctl, filtered on
a session id unique to the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from dockd.adapters.journal import MESSAGE_IDS

REPO = Path(__file__).resolve().parents[2]

pytest.importorskip(
    "systemd.journal",
    reason="pip install systemd-python (needs: apt-get install libsystemd-dev pkg-config)",
)

PRELUDE = """
import os, sys
import structlog
from dockd.adapters.journal import configure_logging
configure_logging(target=sys.argv[1])
session = sys.argv[2]
log = structlog.get_logger("dockd.test").bind(
    serial="SN-E2E-7", slot="3", session=session, recording=None
)
"""


def run_logging(
    target: str, session: str, body: str, **popen: Any
) -> subprocess.CompletedProcess[str]:
    """Run PRELUDE + body in a new interpreter, like a dockd process."""
    popen.setdefault("capture_output", True)
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + body, target, session],
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
        **popen,
    )
    assert result.returncode == 0, result.stderr
    return result


def read_journal(session: str, expected: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Entries of one test session; journald may take a moment to make them visible."""
    deadline = time.monotonic() + timeout
    entries: list[dict[str, Any]] = []
    while True:
        subprocess.run(["journalctl", "--sync"], capture_output=True, check=False, timeout=10)
        out = subprocess.run(
            [
                "journalctl",
                "-o",
                "json",
                "--no-pager",
                "SYSLOG_IDENTIFIER=dockd",
                f"DOCKD_SESSION={session}",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        entries = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
        if len(entries) >= expected or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


def by_event(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["DOCKD_EVENT"]: e for e in entries}


@pytest.fixture
def session() -> str:
    return f"e2e-{uuid.uuid4().hex}"


def test_key_events_are_structured_journal_entries(journald: None, session: str) -> None:
    result = run_logging(
        "journal",
        session,
        'log.info("docked")\n'
        'log.warning("problem", path="DCIM/100/x.mp4", code="SYMLINK", message="a link")\n',
    )
    assert result.stdout == ""  # the journal target writes nothing to the console
    assert result.stderr == ""
    events = by_event(read_journal(session, expected=2))
    assert set(events) == {"docked", "problem"}

    docked = events["docked"]
    assert docked["DOCKD_EVENT"] == "docked"
    assert docked["DOCKD_SERIAL"] == "SN-E2E-7"
    assert docked["DOCKD_SLOT"] == "3"
    assert docked["DOCKD_SESSION"] == session
    assert docked["MESSAGE_ID"] == MESSAGE_IDS["docked"]
    assert docked["PRIORITY"] == "6"
    assert docked["SYSLOG_IDENTIFIER"] == "dockd"
    assert docked["MESSAGE"] == f"docked serial=SN-E2E-7 slot=3 session={session}"
    assert "DOCKD_RECORDING" not in docked  # None values are left out
    assert docked["CODE_FUNC"] == "<module>"  # the caller, not the logging adapter

    problem = events["problem"]
    assert problem["MESSAGE_ID"] == MESSAGE_IDS["problem"]
    assert problem["PRIORITY"] == "4"
    assert problem["DOCKD_SERIAL"] == "SN-E2E-7"
    assert problem["DOCKD_CODE"] == "SYMLINK"
    assert problem["DOCKD_PATH"] == "DCIM/100/x.mp4"
    assert problem["DOCKD_MESSAGE"] == "a link"  # a bound "message" never replaces MESSAGE
    assert problem["MESSAGE"].startswith("problem serial=SN-E2E-7 slot=3 ")
    assert 'message="a link"' in problem["MESSAGE"]


def test_exception_carries_traceback_and_odd_names_survive(journald: None, session: str) -> None:
    run_logging(
        "journal",
        session,
        "try:\n"
        "    raise OSError(5, 'Input/output error')\n"
        "except OSError:\n"
        "    log.exception('internal-error', path=os.fsdecode(b'DCIM/\\xff.mp4'))\n",
    )
    [entry] = read_journal(session, expected=1)
    assert entry["DOCKD_EVENT"] == "internal-error"
    assert entry["PRIORITY"] == "3"
    assert "MESSAGE_ID" not in entry  # not a key event
    assert "Traceback (most recent call last)" in entry["TRACEBACK"]
    assert "OSError: [Errno 5] Input/output error" in entry["TRACEBACK"]
    assert entry["MESSAGE"].endswith("(OSError: [Errno 5] Input/output error)")
    assert "path=DCIM/\\xff.mp4" in entry["MESSAGE"]
    # Not UTF-8: journalctl -o json shows the exact bytes as a list of numbers.
    assert bytes(entry["DOCKD_PATH"]) == b"DCIM/\xff.mp4"


def test_auto_uses_the_journal_only_when_stderr_is_the_journal(
    journald: None, tmp_path: Path
) -> None:
    """systemd sets JOURNAL_STREAM=<dev>:<ino> of the stderr it connected to journald."""
    stderr_file = tmp_path / "stderr"
    body = 'log.info("docked")\n'

    as_service = f"e2e-{uuid.uuid4().hex}"
    with stderr_file.open("w") as err:
        st = os.fstat(err.fileno())
        env = {**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        run_logging(
            "auto",
            as_service,
            body,
            capture_output=False,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
        )
    assert stderr_file.read_text() == ""
    assert [e["DOCKD_EVENT"] for e in read_journal(as_service, expected=1)] == ["docked"]

    # A child whose stderr was redirected inherits the variable, not the stream.
    redirected = f"e2e-{uuid.uuid4().hex}"
    env = {**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
    result = run_logging("auto", redirected, body, env=env)
    assert "docked" in result.stderr
    assert read_journal(redirected, expected=1, timeout=1.0) == []


def test_console_writes_a_readable_line_to_stderr_only(session: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    result = run_logging(
        "console",
        session,
        'log.info("docked")\nlog.warning("problem", code="SYMLINK")\n',
        env=env,
    )
    assert result.stdout == ""  # stdout is reserved for --json
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert "\x1b[" not in result.stderr  # no colours when stderr is not a terminal
    docked, problem = lines
    assert "[info     ] docked" in docked
    for pair in ("serial=SN-E2E-7", "slot=3", f"session={session}"):
        assert pair in docked
    assert "[warning  ] problem" in problem
    assert "code=SYMLINK" in problem
