"""Retention expiry survives being killed: the real `dockd retention expire`, SIGKILLed
at the step under test (the store's deletion is wrapped in the killed process only,
so production carries no crash hook), then run again to finish the job."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO, Dockd
from tests.integration.test_policy_packs_e2e import (
    audit_ok,
    ingest,
    local_now,
    name,
    recorder,
    recordings,
    use_pack,
)

# runs the real CLI with ObjectStore.remove_expired wrapped: SIGKILL before or after it
_KILLED = """
import os, signal, sys
from dockd.adapters.store.objects import ObjectStore
from dockd.cli.main import main

real = ObjectStore.remove_expired
def remove_then_die(self, key):
    if sys.argv[1] == "after":
        real(self, key)
    os.kill(os.getpid(), signal.SIGKILL)
ObjectStore.remove_expired = remove_then_die
main(["--config", sys.argv[2], "retention", "expire", "--by", "admin02"])
"""


def _expired_recording(dockd: Dockd, tmp_path: Path) -> str:
    """One recording 13 months old under Qidong's 12 months for routine footage; its key."""
    use_pack(dockd, "qidong")
    old = name("QD09", "3309", local_now() - timedelta(days=400))
    ingest(dockd, recorder(tmp_path / "rec", {old: b"past retention"}), "QD09")
    return str(recordings(dockd)[old]["object"])


@pytest.mark.parametrize("when", ["before", "after"])
def test_an_expiry_killed_mid_way_is_on_the_chain_and_the_next_run_finishes_it(
    dockd: Dockd, tmp_path: Path, when: str
) -> None:
    key = _expired_recording(dockd, tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED, when, str(dockd.config)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stdout + killed.stderr

    (intent,) = dockd.custody_events("object-expiry-started")
    assert intent["subject"] == key and intent["actor"] == "admin02"
    assert dockd.custody_events("object-expired") == [], "the removal was never marked"
    assert (dockd.store / key).exists() == (when == "before")
    dry = dockd.run("retention", "expire", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "1 object(s) expirable" in dry.stdout and "previous run started" in dry.stdout

    done = dockd.run("retention", "expire", "--by", "admin03")
    assert done.returncode == 0, done.stderr
    assert "1 object(s) expired" in done.stdout, done.stdout
    assert not (dockd.store / key).exists()
    (mark,) = dockd.custody_events("object-expired")
    assert mark["subject"] == key and mark["actor"] == "admin03"
    assert len(dockd.custody_events("object-expiry-started")) == 1, "the intent is not repeated"
    assert all(r["expired_at"] for r in recordings(dockd).values())
    again = dockd.run("retention", "expire")
    assert again.returncode == 0 and "0 object(s) expired" in again.stdout
    audit_ok(dockd)
