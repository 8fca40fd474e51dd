"""The station key end to end: a manifest a third party checks with openssl, signed
checkpoints, and a cut-off tail found against a head kept outside the ledger."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dockd.core.custody import event_hash, genesis
from tests.conftest import Dockd

NAME = "ABC123_007_20261122081500_{:04d}.MP4"


@pytest.fixture(autouse=True)
def _openssl() -> None:
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl: apt-get install -y openssl")


def _ingest(dockd: Dockd, tmp_path: Path, n: int = 2) -> dict[str, Any]:
    src = tmp_path / f"rec{n}"
    src.mkdir()
    for i in range(n):
        (src / NAME.format(i + 10 * n)).write_bytes(bytes([i + n]) * 5000)
    dockd.ingest(src, "ABC123")
    return dockd.json("sessions")[-1]


def _key_file(dockd: Dockd) -> Path:
    return dockd.store.parent / "station.key"  # the default: beside [store] root


def _db(dockd: Dockd) -> sqlite3.Connection:
    return sqlite3.connect(dockd.ledger_url.removeprefix("sqlite:///"))


def _openssl_verify(pub: Path, data: Path, sig: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin",
         "-in", str(data), "-sigfile", str(sig)],
        capture_output=True, text=True,
    )  # fmt: skip


def test_a_manifest_signature_verifies_with_openssl_and_fails_after_one_byte(
    dockd: Dockd, tmp_path: Path
) -> None:
    session = _ingest(dockd, tmp_path)
    digest = session["manifest"]
    manifest = dockd.store / "objects" / "blake3" / digest[:2] / digest
    sig = dockd.store / "signatures" / "blake3" / digest[:2] / f"{digest}.sig"
    assert stat.S_IMODE(sig.stat().st_mode) == 0o444 and sig.stat().st_size == 64
    (event,) = [
        e for e in dockd.custody_events("session-finished") if e["subject"] == session["id"]
    ]
    assert event["details"]["manifest_signature"] == sig.read_bytes().hex()

    pub = tmp_path / "station.pub"
    pub.write_text(dockd.run("station", "key", check=True).stdout)
    ok = _openssl_verify(pub, manifest, sig)
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout, ok.stderr

    edited = tmp_path / "manifest"
    data = bytearray(manifest.read_bytes())
    data[len(data) // 2] ^= 0x01
    edited.write_bytes(bytes(data))
    assert _openssl_verify(pub, edited, sig).returncode == 1
    bad_sig = tmp_path / "bad.sig"
    sig_bytes = bytearray(sig.read_bytes())
    sig_bytes[0] ^= 0x01
    bad_sig.write_bytes(bytes(sig_bytes))
    assert _openssl_verify(pub, manifest, bad_sig).returncode == 1


def test_the_key_is_made_0600_once_and_reused(dockd: Dockd, tmp_path: Path) -> None:
    first = dockd.run("station", "key", check=True).stdout
    key = _key_file(dockd)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    pem = key.read_bytes()
    assert first.splitlines()[-1].endswith("registers this key at its first write")
    _ingest(dockd, tmp_path)
    later = dockd.run("station", "key", check=True).stdout
    assert later.splitlines()[:-1] == first.splitlines()[:-1]
    assert later.splitlines()[-1].startswith("registry: station dock-")
    assert key.read_bytes() == pem
    assert first.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert first.splitlines()[-2].startswith("fingerprint: sha256:")


def test_a_key_with_wrong_mode_or_content_is_a_named_error(dockd: Dockd) -> None:
    dockd.run("station", "key", check=True)
    key = _key_file(dockd)
    key.chmod(0o644)
    result = dockd.run("station", "key")
    assert result.returncode == 2
    assert "STATION_KEY_INVALID" in result.stderr and f"chmod 600 {key}" in result.stderr
    key.chmod(0o600)
    key.write_text("not a key\n")
    result = dockd.run("station", "key")
    assert result.returncode == 2 and "is not a PEM private key" in result.stderr
    assert key.read_text() == "not a key\n"  # never replaced


def test_each_session_end_is_followed_by_a_signed_checkpoint(dockd: Dockd, tmp_path: Path) -> None:
    _ingest(dockd, tmp_path)
    with contextlib.closing(_db(dockd)) as db:
        rows = db.execute("SELECT seq, kind, hash, details FROM custody_events ORDER BY seq")
        events = rows.fetchall()
    finished = [seq for seq, kind, _, _ in events if kind == "session-finished"]
    checkpoints = [(seq, json.loads(d)) for seq, kind, _, d in events if kind == "chain-checkpoint"]
    assert finished and {seq + 1 for seq in finished} <= {seq for seq, _ in checkpoints}
    hashes = {seq: h for seq, _, h, _ in events}
    assert all(cp["hash"] == hashes[cp["seq"]] for _, cp in checkpoints)


def test_head_finds_a_cut_off_tail(dockd: Dockd, tmp_path: Path) -> None:
    _ingest(dockd, tmp_path, 1)
    _ingest(dockd, tmp_path, 2)
    report = dockd.run("report", "deadlines", "--json")  # exit 1 when it lists anything
    head = json.loads(report.stdout)["chain_head"]
    recorded = f"{head['seq']}:{head['hash']}"
    kept = dockd.run("audit", "verify", "--head", recorded)
    assert kept.returncode == 0 and f"still holds head {recorded}" in kept.stdout, kept.stdout

    with contextlib.closing(_db(dockd)) as db, db:
        db.execute("DELETE FROM custody_events WHERE seq = ?", (head["seq"],))
    cut = dockd.run("audit", "verify", "--head", recorded)
    assert cut.returncode == 1
    assert f"anchor: the ledger has no event {head['seq']}" in cut.stdout

    with contextlib.closing(_db(dockd)) as db, db:
        db.execute("DELETE FROM custody_events WHERE seq >= ?", (head["seq"] - 3,))
    cut = dockd.run("audit", "verify", "--head", recorded)
    assert cut.returncode == 1 and "cut off" in cut.stdout

    wrong = dockd.run("audit", "verify", "--head", "12:xyz")
    assert wrong.returncode == 2 and "SEQ:HASH" in wrong.stderr


def test_an_edited_checkpoint_fails_its_signature_even_on_a_rehashed_chain(
    dockd: Dockd, tmp_path: Path
) -> None:
    """Full write access to the ledger, no key: edit a checkpoint, recompute every hash."""
    _ingest(dockd, tmp_path)
    assert dockd.run("audit", "verify").returncode == 0
    with contextlib.closing(_db(dockd)) as db, db:
        rows = db.execute(
            "SELECT station, seq, at, kind, subject, actor, details FROM custody_events "
            "ORDER BY seq"
        ).fetchall()
        (station,) = {row[0] for row in rows}
        prev = genesis(station)
        for _, seq, at, kind, subject, actor, raw in rows:
            details = json.loads(raw)
            if kind == "chain-checkpoint":
                details["at"] = "2020-01-01T00:00:00+00:00"
            digest = event_hash(prev, seq, at, kind, subject, actor, details)
            db.execute(
                "UPDATE custody_events SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (json.dumps(details, sort_keys=True, separators=(",", ":")), prev, digest, seq),
            )
            prev = digest
    result = dockd.run("audit", "verify")
    assert result.returncode == 1
    assert "custody chain BROKEN" not in result.stdout  # the chain itself was made to agree
    assert "the signature does not match its head (edited?)" in result.stdout, result.stdout
