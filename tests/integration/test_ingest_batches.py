"""A dockd killed at the boundaries of a copy batch, for real: its own process, a real store
and SQLite ledger, SIGKILL at the exact step.

A batch is staged, made durable (one syncfs), linked and read back, its links made durable,
then recorded in one transaction. The two kills that matter are after the batch was made
durable but before anything was linked (only staged garbage may remain) and after the links
were made durable but before the ledger commit (objects without ledger rows: the next
docking must verify and record them, each once).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, Dockd
from tests.integration.test_ingest_failures import (
    assert_objects_named_by_content,
    ledger_path,
    make_recordings,
    verified_count,
)

# Runs dockd's own command line after replacing one step of the batch with SIGKILL.
_KILLED_AT = """
import os, signal, sys
from dockd.adapters.ledger.sessions import Ledger
from dockd.adapters.store.objects import ObjectStore
owner = {"publish": ObjectStore, "add_recordings": Ledger}[sys.argv[1]]
setattr(owner, sys.argv[1], lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))
from dockd.cli.main import main
sys.argv = ["dockd", *sys.argv[2:]]
sys.exit(main())
"""
FILES = 40


def ingest_killed_at(step: str, dockd: Dockd, src: Path, serial: str) -> int:
    argv = ["--config", str(dockd.config), "ingest", str(src), "--serial", serial]
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_AT, step, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    return proc.returncode


@pytest.mark.parametrize(
    ("step", "linked"),
    [
        pytest.param("publish", False, id="after-the-durable-flush-before-any-link"),
        pytest.param("add_recordings", True, id="after-the-links-before-the-ledger-commit"),
    ],
)
def test_killed_at_a_batch_boundary_then_redocked_records_each_file_once(
    dockd: Dockd, tmp_path: Path, step: str, linked: bool
) -> None:
    src = tmp_path / "recorder"
    names = [f"clip{i:02}.avi" for i in range(FILES)]
    digests = make_recordings(src, names, 64 * 1024)

    assert ingest_killed_at(step, dockd, src, "SNBATCH") == -9
    assert verified_count(ledger_path(dockd)) == 0
    left = assert_objects_named_by_content(dockd)
    assert left <= set(digests.values())
    if linked:
        # the first batch (all 40 files, or fewer if its half-second timer closed it
        # first on a busy machine) is in the store, unrecorded
        assert left, "killed before the ledger commit, yet no object was linked"
    else:
        assert left == set()
        assert dockd.staging_files(), "killed after the durable flush, yet nothing staged"

    rerun = dockd.ingest(src, "SNBATCH")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert dockd.staging_files() == []
    recordings = dockd.json("recordings")
    assert sorted(r["path"] for r in recordings) == names  # each exactly once
    assert {r["path"]: r["blake3"] for r in recordings} == digests
    first, second = dockd.json("sessions")
    assert (first["state"], first["error_code"], first["recordings"]) == (
        "interrupted",
        "DOCKD_DIED",
        0,
    )
    assert (second["state"], second["recordings"]) == ("completed", FILES)
    stored = assert_objects_named_by_content(dockd)
    assert stored == set(digests.values()) | {second["manifest"]}
    audit = dockd.run("audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
