"""What a user sees when an ingest goes wrong: a killed dockd, a full store, a recorder
file that changes under the copy, a damaged store, a tampered ledger, a bad config.

Everything runs for real: dockd as a separate process, the store on a real
filesystem (a loop-mounted ext4 where it must fill up), the ledger in SQLite read
back with the sqlite3 module. The invariant checked after every failure is the one
that makes the store evidence: no object exists whose bytes do not hash to its name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from blake3 import blake3

from tests.conftest import REPO, Dockd, write_config
from tests.support.media import small_ext4
from tests.support.stepping import step_until

MIB = 1 << 20
_READ = 4 * MIB


# -- helpers ---------------------------------------------------------------------------


def b3_of(path: Path) -> str:
    h = blake3()
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ):
            h.update(chunk)
    return h.hexdigest()


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ):
            h.update(chunk)
    return h.hexdigest()


def make_recordings(folder: Path, names: list[str], size: int) -> dict[str, str]:
    """Files of ``size`` bytes with distinct content; {name: BLAKE3}.

    One random block is shared (urandom of hundreds of MiB would dominate the test
    time) and each file starts with its own 8-byte index, so every file hashes apart.
    """
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(min(size, 16 * MIB))
    digests = {}
    for index, name in enumerate(names):
        path = folder / name
        left = size
        h = blake3()
        with open(path, "wb") as fh:
            head = index.to_bytes(8, "little") + os.urandom(56)
            for piece in (head, *([block] * (size // len(block) + 1))):
                piece = piece[:left]
                fh.write(piece)
                h.update(piece)
                left -= len(piece)
                if not left:
                    break
        digests[name] = h.hexdigest()
    return digests


def ledger_path(dockd: Dockd) -> Path:
    assert dockd.ledger_url.startswith("sqlite:///")
    return Path(dockd.ledger_url.removeprefix("sqlite:///"))


def query(ledger: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the ledger the way an auditor would: a separate, read-only connection."""
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def tamper(ledger: Path, sql: str) -> None:
    db = sqlite3.connect(ledger, timeout=30)
    try:
        with db:
            changed = db.execute(sql).rowcount
        assert changed == 1, f"{sql!r} changed {changed} rows"
    finally:
        db.close()


def verified_count(ledger: Path) -> int:
    if not ledger.exists():
        return 0
    try:
        return int(query(ledger, "SELECT count(*) FROM recordings")[0][0])
    except sqlite3.Error:  # not created or migrated yet
        return 0


def partial_sizes(dockd: Dockd) -> list[int]:
    """Sizes of staged copies in progress; files come and go while we look."""
    sizes: list[int] = []
    try:
        with os.scandir(dockd.store / "tmp") as listing:
            folders = [entry.path for entry in listing]
    except FileNotFoundError:  # dockd has not prepared the store yet
        return sizes
    for folder in folders:
        try:
            with os.scandir(folder) as entries:
                sizes += [e.stat().st_size for e in entries if e.name.endswith(".part")]
        except FileNotFoundError:  # a staging folder or file went away as we looked
            continue
    return sizes


def assert_objects_named_by_content(dockd: Dockd) -> set[str]:
    """Nothing half-published: every object's bytes hash to its name. Returns the names."""
    names = set()
    for obj in dockd.objects():
        assert obj.parent.name == obj.name[:2], obj
        assert b3_of(obj) == obj.name, f"{obj} does not hash to its name"
        names.add(obj.name)
    return names


def load_manifest(dockd: Dockd, blake3_hex: str) -> dict[str, Any]:
    path = dockd.store / "objects" / "blake3" / blake3_hex[:2] / blake3_hex
    assert b3_of(path) == blake3_hex
    manifest: dict[str, Any] = json.loads(path.read_bytes())
    return manifest


def popen_ingest(dockd: Dockd, src: Path, serial: str, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dockd.cli",
                "--config",
                str(dockd.config),
                "ingest",
                str(src),
                "--serial",
                serial,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("run as root")


@contextmanager
def writable_ext4(img: Path, mnt: Path, size_mib: int, *mkfs_args: str) -> Iterator[Path]:
    """``small_ext4``, made sure to be writable.

    A write-blocked recorder's loop device keeps its BLKROSET flag after it is
    detached (the dock tests leave such devices behind), and ``mount -o loop`` on
    one silently mounts read-only. Clearing the flag of detached loop devices is
    harmless; a read-only mount is still reported plainly rather than as a dockd
    failure.
    """
    blockdev = shutil.which("blockdev", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    for dev in Path("/sys/block").glob("loop*"):
        detached = not (dev / "loop" / "backing_file").exists()
        if blockdev and detached and (dev / "ro").read_text().strip() != "0":
            subprocess.run([blockdev, "--setrw", f"/dev/{dev.name}"], check=False)
    with small_ext4(img, mnt, size_mib, *mkfs_args) as root:
        if os.statvfs(root).f_flag & os.ST_RDONLY:
            pytest.fail(f"{img} was mounted read-only (loop device write-blocked?)")
        yield root


# -- a dockd killed mid-copy -----------------------------------------------------------


def test_killed_mid_copy_then_redocked_copies_only_what_is_missing(
    dockd: Dockd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKD_STORE__PARALLEL_FILES", "1")  # one file in flight at a time
    src = tmp_path / "recorder"
    names = [f"clip{i}.avi" for i in range(10)]
    digests = make_recordings(src, names, 48 * MIB)
    ledger = ledger_path(dockd)

    proc = popen_ingest(dockd, src, "SNKILL", tmp_path / "killed.log")
    try:
        caught = step_until(proc, lambda: verified_count(ledger) >= 1 and any(partial_sizes(dockd)))
        if not caught:
            pytest.fail(
                "the ingest finished before it could be killed mid-copy:\n"
                + (tmp_path / "killed.log").read_text()
            )
        proc.send_signal(signal.SIGKILL)  # a stopped process dies of SIGKILL too
    finally:
        proc.kill()
        proc.wait()  # reap it: a zombie still answers kill(pid, 0) as alive

    copied_before = verified_count(ledger)
    assert 1 <= copied_before < len(names)
    # The kill left incomplete copies in staging, never in objects/.
    assert dockd.staging_files(), "killed mid-copy, yet no staged copy was left behind"
    assert_objects_named_by_content(dockd)

    rerun = dockd.ingest(src, "SNKILL")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert dockd.staging_files() == []
    assert list((dockd.store / "tmp").iterdir()) == [], "the dead dockd's staging is left over"

    recordings = dockd.json("recordings")
    assert sorted(r["path"] for r in recordings) == names  # each exactly once
    for r in recordings:
        assert r["blake3"] == digests[r["path"]]
        assert b3_of(dockd.store / r["object"]) == r["blake3"]

    first, second = dockd.json("sessions")
    assert first["state"] == "interrupted"
    assert first["error_code"] == "DOCKD_DIED"
    assert "session-abandoned" in [p["code"] for p in first["problems"]]
    assert first["recordings"] == copied_before
    assert second["state"] == "completed"
    assert second["recordings"] == len(names) - copied_before
    assert second["already_verified"] == copied_before
    assert {r["session"] for r in recordings} <= {first["id"], second["id"]}
    assert sum(r["session"] == second["id"] for r in recordings) == len(names) - copied_before

    # Everything in the store is accounted for by the ledger (an object the kill left
    # published but unrecorded is recorded by the re-run as the same content).
    stored = assert_objects_named_by_content(dockd)
    assert stored == {r["blake3"] for r in recordings} | {second["manifest"]}

    audit = dockd.run("audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr


# -- a store that fills up -------------------------------------------------------------


@pytest.mark.root
def test_store_full_fails_the_session_and_publishes_nothing_half_written(
    tmp_path: Path,
) -> None:
    need_root()
    src = tmp_path / "recorder"
    names = [f"clip{i}.avi" for i in range(5)]
    digests = make_recordings(src, names, 12 * MIB)
    source_before = {n: sha256_of(src / n) for n in names}

    with writable_ext4(tmp_path / "store.img", tmp_path / "mnt", size_mib=40) as mnt:
        store = mnt / "store"
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        d = Dockd(write_config(tmp_path / "dockd.toml", store, url), store, url)

        result = d.ingest(src, "SNFULL")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "STORE_FULL" in result.stdout + result.stderr

        [session] = d.json("sessions")
        assert session["state"] == "failed"
        assert session["error_code"] == "STORE_FULL"
        assert "STORE_FULL" in [p["code"] for p in session["problems"]]
        assert d.staging_files() == []

        stored = assert_objects_named_by_content(d)
        recordings = d.json("recordings")
        assert len(recordings) < len(names), "40 MiB cannot hold 60 MiB of recordings"
        for r in recordings:
            assert r["blake3"] == digests[r["path"]]
        # What is verified is listed; what is not in the store is not claimed.
        assert {r["blake3"] for r in recordings} == {h for h in digests.values() if h in stored}
        assert session["recordings"] == len(recordings)
        if session["manifest"] is not None:
            manifest = load_manifest(d, session["manifest"])
            assert manifest["state"] == "failed"
            assert sorted(m["path"] for m in manifest["recordings"]) == sorted(
                r["path"] for r in recordings
            )
            assert sorted(manifest["not_copied"]) == sorted(
                set(names) - {r["path"] for r in recordings}
            )

        audit = d.run("audit", "verify")
        assert audit.returncode == 0, audit.stdout + audit.stderr

    assert {n: sha256_of(src / n) for n in names} == source_before


@pytest.mark.root
def test_recording_larger_than_the_free_space_is_refused_before_it_is_copied(
    tmp_path: Path,
) -> None:
    """The store reserves a recording's size before reading it: a long recording that
    cannot fit fails at once, naming its size, instead of after most of it was read."""
    need_root()
    src = tmp_path / "recorder"
    digests = make_recordings(src, ["a_small.avi"], MIB)
    digests |= make_recordings(src, ["b_long.avi"], 64 * MIB)
    with writable_ext4(tmp_path / "store.img", tmp_path / "mnt", size_mib=40) as mnt:
        store = mnt / "store"
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        config = write_config(tmp_path / "dockd.toml", store, url)
        # one file at a time: side by side, the small copy could meet the disk full for the
        # instant the long one's refused reservation held its blocks, and fail with it
        text = config.read_text("utf-8").replace("[store]\n", "[store]\nparallel_files = 1\n", 1)
        config.write_text(text, "utf-8")
        d = Dockd(config, store, url)
        used_before = shutil.disk_usage(mnt).used

        result = d.ingest(src, "SNLONG")
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"reserving {64 * MIB} bytes for a recording" in result.stdout + result.stderr
        [session] = d.json("sessions")
        assert session["error_code"] == "STORE_FULL"
        assert [r["path"] for r in d.json("recordings")] == ["a_small.avi"]
        assert d.staging_files() == []
        assert assert_objects_named_by_content(d) >= {digests["a_small.avi"]}
        assert shutil.disk_usage(mnt).used - used_before < 4 * MIB, "nothing of it was kept"


@pytest.mark.root
def test_recordings_copied_side_by_side_are_stored_contiguously(tmp_path: Path) -> None:
    """Two streams writing at once would interleave their blocks on disk without the
    reservation; each object must come out in a few extents, as a plain copy would.
    The disk has an evidence disk's geometry (4 KiB blocks, 128 MiB groups), not a tiny
    filesystem's, whose 8 MiB groups would split every file whatever dockd did."""
    need_root()
    src = tmp_path / "recorder"
    make_recordings(src, [f"clip{i}.avi" for i in range(4)], 48 * MIB)
    disk = (tmp_path / "store.img", tmp_path / "mnt", 400, "-T", "default")
    with writable_ext4(*disk) as mnt:
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        d = Dockd(write_config(tmp_path / "dockd.toml", mnt, url), mnt, url)
        result = d.ingest(src, "SNFRAG")
        assert result.returncode == 0, result.stdout + result.stderr
        extents = {}
        for obj in d.objects():
            if obj.stat().st_size == 48 * MIB:
                report = subprocess.run(
                    ["filefrag", str(obj)], capture_output=True, text=True, check=True
                ).stdout
                extents[obj.name] = int(report.rsplit(":", 1)[1].split()[0])
        assert len(extents) == 4
        assert max(extents.values()) <= 3, extents


@pytest.mark.root
def test_store_at_the_root_of_a_freshly_formatted_disk_is_accepted(tmp_path: Path) -> None:
    """The usual station setup: a dedicated evidence disk, mkfs'd and mounted, is [store] root.

    A fresh ext4 already holds ``lost+found``; that is the filesystem's, not foreign data.
    """
    need_root()
    src = tmp_path / "recorder"
    digests = make_recordings(src, ["a.avi"], MIB)
    with writable_ext4(tmp_path / "disk.img", tmp_path / "evidence", size_mib=16) as mnt:
        assert [p.name for p in mnt.iterdir()] == ["lost+found"]
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        d = Dockd(write_config(tmp_path / "dockd.toml", mnt, url), mnt, url)
        result = d.ingest(src, "SNDISK")
        assert result.returncode == 0, result.stdout + result.stderr
        assert [r["blake3"] for r in d.json("recordings")] == [digests["a.avi"]]


# -- a recorder file that changes under the copy ---------------------------------------


def test_file_that_keeps_growing_is_reported_and_not_recorded(dockd: Dockd, tmp_path: Path) -> None:
    src = tmp_path / "recorder"
    digests = make_recordings(src, ["a_done.avi", "c_done.avi"], MIB)
    make_recordings(src, ["b_live.avi"], 256 * MIB)
    live = src / "b_live.avi"

    stop = threading.Event()
    appended = []

    def keep_recording() -> None:
        with open(live, "ab", buffering=0) as fh:
            while not stop.is_set():
                appended.append(fh.write(os.urandom(4096)))
                time.sleep(0.003)

    writer = threading.Thread(target=keep_recording, daemon=True)
    writer.start()
    try:
        result = dockd.ingest(src, "SNLIVE")
    finally:
        stop.set()
        writer.join()
    assert appended, "the writer never ran"

    assert result.returncode == 1, result.stdout + result.stderr
    [session] = dockd.json("sessions")
    assert session["state"] == "completed_with_problems"
    assert [p["code"] for p in session["problems"] if p["path"] == "b_live.avi"] == [
        "source-changed"
    ]
    recordings = dockd.json("recordings")
    assert sorted(r["path"] for r in recordings) == ["a_done.avi", "c_done.avi"]
    for r in recordings:
        assert r["blake3"] == digests[r["path"]]
    # Neither attempt at the live file was published.
    stored = assert_objects_named_by_content(dockd)
    assert stored == {r["blake3"] for r in recordings} | {session["manifest"]}
    assert dockd.staging_files() == []


def test_file_truncated_mid_copy_never_publishes_a_wrong_hash(dockd: Dockd, tmp_path: Path) -> None:
    src = tmp_path / "recorder"
    src.mkdir()
    big = src / "a_big.avi"
    block = os.urandom(16 * MIB)
    full, half = blake3(), blake3()
    with open(big, "wb") as fh:
        for i in range(32):
            fh.write(block)
            full.update(block)
            if i < 16:
                half.update(block)
    full_size, half_size = 32 * len(block), 16 * len(block)
    small = make_recordings(src, ["z_small.avi"], MIB)  # copied after the big one

    stop = threading.Event()
    truncated_at: list[int] = []

    def truncate_once_copy_starts() -> None:
        while not stop.is_set():
            # Larger than the small file: the big file's copy, under way.
            sizes = [s for s in partial_sizes(dockd) if s > MIB]
            if sizes:
                os.truncate(big, half_size)
                truncated_at.append(max(sizes))
                return
            time.sleep(0.001)

    cutter = threading.Thread(target=truncate_once_copy_starts, daemon=True)
    cutter.start()
    try:
        result = dockd.ingest(src, "SNTRUNC")
    finally:
        stop.set()
        cutter.join()
    assert truncated_at, "the file was never truncated during the copy"
    assert truncated_at[0] < half_size, "truncated too late to be sure the copy saw it"
    assert result.returncode == 0, result.stdout + result.stderr

    [session] = dockd.json("sessions")
    recordings = dockd.json("recordings")
    assert all(r["size"] != full_size and r["blake3"] != full.hexdigest() for r in recordings)
    # dockd saw the change and copied the file again once it was stable: the truncated bytes
    [rec] = [r for r in recordings if r["path"] == "a_big.avi"]
    assert rec["size"] == half_size
    assert rec["blake3"] == half.hexdigest()
    assert b3_of(dockd.store / rec["object"]) == half.hexdigest()
    assert sha256_of(dockd.store / rec["object"]) == rec["sha256"] == sha256_of(big)
    assert [r["blake3"] for r in recordings if r["path"] == "z_small.avi"] == [small["z_small.avi"]]

    stored = assert_objects_named_by_content(dockd)
    assert full.hexdigest() not in stored
    assert stored == {r["blake3"] for r in recordings} | {session["manifest"]}

    # The manifest (what a court sees) says exactly what the ledger says.
    manifest = load_manifest(dockd, session["manifest"])
    assert manifest["session"] == session["id"]
    assert manifest["state"] == session["state"]

    def entries(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted((i["path"], i["size"], i["blake3"], i["sha256"], i["object"]) for i in items)

    assert entries(manifest["recordings"]) == entries(
        [r for r in recordings if r["session"] == session["id"]]
    )
    # the manifest keeps the English record; the session adds the template and values
    english = [{k: p[k] for k in ("path", "code", "message")} for p in session["problems"]]
    assert manifest["problems"] == english
    assert manifest["not_copied"] == []


# -- damage found by `dockd verify` ----------------------------------------------------


@pytest.mark.root
def test_verify_finds_corrupt_and_missing_objects_and_touches_nothing(
    dockd: Dockd, tmp_path: Path
) -> None:
    need_root()  # objects are chattr +i; lifting that needs CAP_LINUX_IMMUTABLE
    src = tmp_path / "recorder"
    make_recordings(src, ["a.avi", "b.avi", "c.avi"], MIB)
    result = dockd.ingest(src, "SNVERIFY")
    assert result.returncode == 0, result.stdout + result.stderr
    recs = {r["path"]: r for r in dockd.json("recordings")}
    corrupt, missing, intact = (
        dockd.store / recs[n]["object"] for n in ("a.avi", "b.avi", "c.avi")
    )

    subprocess.run(["chattr", "-i", str(corrupt), str(missing)], check=True)
    with open(corrupt, "r+b") as fh:
        fh.seek(12345)
        byte = fh.read(1)
        fh.seek(12345)
        fh.write(bytes([byte[0] ^ 0xFF]))
    damaged = corrupt.read_bytes()
    missing.unlink()

    result = dockd.run("verify", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["checked"] == 4  # three recordings and the session manifest
    assert report["ok"] == 2
    findings = {f["object"]: f for f in report["findings"]}
    assert set(findings) == {recs["a.avi"]["object"], recs["b.avi"]["object"]}
    assert findings[recs["a.avi"]["object"]]["problem"] == "corrupt"
    assert findings[recs["a.avi"]["object"]]["blake3"] == recs["a.avi"]["blake3"]
    assert findings[recs["a.avi"]["object"]]["found_blake3"] == blake3(damaged).hexdigest()
    assert findings[recs["a.avi"]["object"]]["found_sha256"] == hashlib.sha256(damaged).hexdigest()
    assert findings[recs["b.avi"]["object"]]["problem"] == "missing"
    assert findings[recs["b.avi"]["object"]]["blake3"] == recs["b.avi"]["blake3"]

    # Verify repairs nothing: the damage is evidence and stays as it was.
    assert corrupt.read_bytes() == damaged
    assert not missing.exists()
    assert b3_of(intact) == intact.name

    text = dockd.run("verify")
    assert text.returncode == 1
    assert f"corrupt: {recs['a.avi']['object']}" in text.stdout
    assert f"missing: {recs['b.avi']['object']}" in text.stdout

    audit = dockd.run("audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    events = query(
        ledger_path(dockd),
        "SELECT details FROM custody_events WHERE kind = 'store-verified' ORDER BY seq",
    )
    assert len(events) == 2
    details = json.loads(events[0][0])
    assert details["checked"] == 4 and details["ok"] == 2
    assert sorted(f["problem"] for f in details["findings"]) == ["corrupt", "missing"]


# -- a tampered custody chain ----------------------------------------------------------


def _ingested_ledger(dockd: Dockd, tmp_path: Path) -> Path:
    make_recordings(tmp_path / "recorder", ["a.avi", "b.avi"], MIB)
    result = dockd.ingest(tmp_path / "recorder", "SNCHAIN")
    assert result.returncode == 0, result.stdout + result.stderr
    audit = dockd.run("audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    return ledger_path(dockd)


def test_edited_custody_event_breaks_the_chain(dockd: Dockd, tmp_path: Path) -> None:
    ledger = _ingested_ledger(dockd, tmp_path)
    tamper(ledger, "UPDATE custody_events SET details = '{}' WHERE seq = 2")
    result = dockd.run("audit", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN at event 2" in result.stdout


def test_removed_custody_event_breaks_the_chain(dockd: Dockd, tmp_path: Path) -> None:
    ledger = _ingested_ledger(dockd, tmp_path)
    [(last,)] = query(ledger, "SELECT max(seq) FROM custody_events")
    assert last >= 3
    tamper(ledger, f"DELETE FROM custody_events WHERE seq = {last - 1}")
    result = dockd.run("audit", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert f"expected event {last - 1}" in result.stdout


def test_removed_newest_custody_event_is_detected(dockd: Dockd, tmp_path: Path) -> None:
    """Deleting the last events (the session-finished record and the checkpoint after it)
    must not pass the audit.

    The ledger still shows the session as finished and its recordings as verified,
    but the chain no longer holds the events that say so.
    """
    ledger = _ingested_ledger(dockd, tmp_path)
    kinds = query(ledger, "SELECT seq, kind FROM custody_events ORDER BY seq DESC LIMIT 2")
    assert [kind for _, kind in kinds] == ["chain-checkpoint", "session-finished"]
    for seq, _ in kinds:
        tamper(ledger, f"DELETE FROM custody_events WHERE seq = {seq}")
    result = dockd.run("audit", "verify")
    assert result.returncode == 1, (
        "a truncated custody chain passes `audit verify`:\n" + result.stdout
    )


# -- hostile configuration -------------------------------------------------------------


def test_unknown_config_key_is_refused_by_name(tmp_path: Path) -> None:
    store, ledger = tmp_path / "store", tmp_path / "ledger.sqlite3"
    config = tmp_path / "dockd.toml"
    config.write_text(
        f'[store]\nroot = "{store}"\nrooot = "x"\n\n[ledger]\nurl = "sqlite:///{ledger}"\n', "utf-8"
    )
    make_recordings(tmp_path / "recorder", ["a.avi"], 1024)
    d = Dockd(config, store, f"sqlite:///{ledger}")
    result = d.ingest(tmp_path / "recorder", "SNCFG")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "store.rooot" in result.stderr
    assert "CONFIG_INVALID" in result.stderr
    assert not store.exists() and not ledger.exists(), "nothing may be touched on a bad config"


def test_unsupported_ledger_url_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "store"
    config = write_config(tmp_path / "dockd.toml", store, "mysql://x")
    make_recordings(tmp_path / "recorder", ["a.avi"], 1024)
    d = Dockd(config, store, "mysql://x")
    result = d.ingest(tmp_path / "recorder", "SNCFG")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "ledger.url" in result.stderr
    assert not store.exists()
