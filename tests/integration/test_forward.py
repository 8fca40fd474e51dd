"""Forwarding against a real S3 server with Object Lock (SeaweedFS): the real `dockd
ingest`, `dockd forward`, `dockd recordings --json` and `dockd verify --central`, with
what the bucket holds read back by a plain boto3 client, not by dockd."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import select

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import CustodyEventRow, RecordingRow
from dockd.adapters.store.lease import LEASE_FILE
from dockd.app import load_config, open_ledger
from tests.conftest import REPO, Dockd
from tests.integration.test_policy_packs_e2e import (
    audit_ok,
    ingest,
    local_now,
    name,
    recorder,
    recordings,
)
from tests.support.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedServer
from tests.support.stations import TwoStations, two_stations

__all__ = ["two_stations"]  # the fixture, used by name

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

PREFIX = "station-7/"
_CENTRAL = "\n[central]\n"  # use_central adds the table last


def use_central(dockd: Dockd, seaweed: SeaweedServer, bucket: str, **central: object) -> None:
    """Adds `[central]` to the config the test wrote (its last table: a second call
    replaces the first one's), keeping everything else in it, `[station]` included."""
    values: dict[str, object] = {
        "endpoint": seaweed.endpoint,
        "bucket": bucket,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "timeout_seconds": 5,
        "prefix": PREFIX,
        **central,
    }
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
    written = dockd.config.read_text("utf-8").partition(_CENTRAL)[0]
    dockd.config.write_text(f"{written}{_CENTRAL}{lines}", "utf-8")


def docked(dockd: Dockd, tmp_path: Path, files: dict[str, bytes], serial: str = "FW01") -> None:
    ingest(dockd, recorder(tmp_path / f"rec-{serial}", files), serial)


def clips(serial: str, count: int, size: int) -> dict[str, bytes]:
    start = local_now() - timedelta(hours=2)
    return {
        name(serial, "4711", start + timedelta(minutes=i), i + 1): bytes([i % 251]) * size
        + f"{serial} clip {i}".encode()
        for i in range(count)
    }


def forward(dockd: Dockd, expect: int = 0) -> dict[str, Any]:
    result = dockd.run("forward", "--json", timeout=300)
    assert result.returncode == expect, result.stdout + result.stderr
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def b64_sha256(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def central_rows(dockd: Dockd) -> dict[str, dict[str, Any]]:
    db = dockd.ledger_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(db)) as con:
        con.row_factory = sqlite3.Row
        rows = con.execute("SELECT * FROM central_copies").fetchall()
    return {r["blake3"]: dict(r) for r in rows}


def test_the_whole_path(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    use_central(dockd, seaweed, central_bucket)
    docked(dockd, tmp_path, clips("FW01", 3, 50_000))
    out = forward(dockd)
    assert (out["sent"], out["left"], out["failed"], out["stopped"]) == (
        4,
        0,
        {},
        None,
    )  # + manifest
    s3 = seaweed.client()
    for rec in recordings(dockd).values():
        central = rec["central"]
        assert central["state"] == "confirmed" and central["key"] == PREFIX + rec["object"]
        assert rec["locations"][-1] == "central" and len(rec["locations"]) == 2
        head = s3.head_object(
            Bucket=central_bucket,
            Key=central["key"],
            VersionId=central["version_id"],
            ChecksumMode="ENABLED",
        )
        assert head["ContentLength"] == rec["size"]
        assert head["ChecksumSHA256"] == b64_sha256(rec["sha256"])
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] >= datetime.fromisoformat(rec["retain_until"])
        assert head["ObjectLockRetainUntilDate"] == datetime.fromisoformat(central["retain_until"])
        with pytest.raises(ClientError):
            s3.delete_object(
                Bucket=central_bucket, Key=central["key"], VersionId=central["version_id"]
            )
    again = forward(dockd)
    assert (again["sent"], again["adopted"], again["left"]) == (0, 0, 0)
    text = dockd.run("forward")
    assert text.returncode == 0 and "0 confirmed (0 sent, 0 adopted" in text.stdout, text.stdout
    assert ", 0 left (" in text.stdout
    assert len(dockd.custody_events("central-confirmed")) == 4
    audit_ok(dockd)
    check = dockd.run("verify", "--central", "--sample", "100", "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    report = json.loads(check.stdout)
    assert (report["checked"], report["read_back"], report["findings"]) == (4, 4, [])


def test_forward_without_central_is_a_config_error(dockd: Dockd) -> None:
    result = dockd.run("forward")
    assert result.returncode == 2
    assert "CONFIG_INVALID" in result.stderr and "no [central] section" in result.stderr


def test_a_bucket_without_object_lock_is_refused(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, unlocked_bucket: str
) -> None:
    use_central(dockd, seaweed, unlocked_bucket)
    docked(dockd, tmp_path, clips("FW02", 1, 1000))
    result = dockd.run("forward")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "CENTRAL_NO_OBJECT_LOCK" in result.stderr
    assert seaweed.client().list_objects_v2(Bucket=unlocked_bucket).get("KeyCount") == 0
    assert central_rows(dockd) == {}
    assert {r["central"]["state"] for r in recordings(dockd).values()} == {"pending"}


def test_the_server_stopped_mid_forward_and_restarted(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    use_central(dockd, seaweed, central_bucket, streams=1, timeout_seconds=2)
    docked(dockd, tmp_path, clips("FW03", 40, 200_000))
    running = subprocess.Popen(
        [sys.executable, "-m", "dockd.cli", "--config", str(dockd.config), "forward", "--json"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not central_rows(dockd) and time.monotonic() < deadline:
            time.sleep(0.05)
        seaweed.stop()
        stdout, stderr = running.communicate(timeout=300)
    finally:
        if running.poll() is None:
            running.kill()
        seaweed.start()
    assert running.returncode == 1, stdout + stderr
    out = json.loads(stdout)
    assert out["stopped"]["code"] == "CENTRAL_UNREACHABLE" and out["left"] > 0
    s3 = seaweed.client()
    confirmed = [r for r in central_rows(dockd).values() if r["state"] == "confirmed"]
    assert 0 < len(confirmed) < 41
    for row in confirmed:  # nothing is marked confirmed that the server does not hold
        head = s3.head_object(Bucket=central_bucket, Key=row["key"], VersionId=row["version_id"])
        assert head["ObjectLockMode"] == "COMPLIANCE"
    assert not [r for r in central_rows(dockd).values() if r["state"] != "confirmed"]
    # a restarted SeaweedFS may take a few seconds before its volume server takes writes
    use_central(dockd, seaweed, central_bucket, streams=1, timeout_seconds=30)
    out = forward(dockd)
    assert out["left"] == 0 and out["confirmed"] == 41 - len(confirmed)
    audit_ok(dockd)


_KILLED = """
import os, signal, sys
from dockd.adapters.central_multipart import MultipartUpload
from dockd.cli.main import main

real = MultipartUpload._send_part
def send_then_die(self, key, upload_id, number, *rest):
    answer = real(self, key, upload_id, number, *rest)
    if number == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return answer
MultipartUpload._send_part = send_then_die
main(["--config", sys.argv[1], "forward"])
"""


def test_a_dock_killed_mid_multipart_aborts_and_sends_again(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    use_central(dockd, seaweed, central_bucket, part_mib=5, streams=1)
    big = {name("FW04", "4711", local_now() - timedelta(hours=1)): b"\x5a" * (17 << 20)}
    docked(dockd, tmp_path, big, "FW04")
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED, str(dockd.config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stdout + killed.stderr
    s3 = seaweed.client()
    (rec,) = recordings(dockd).values()
    unfinished = s3.list_multipart_uploads(Bucket=central_bucket).get("Uploads", [])
    assert [u["Key"] for u in unfinished] == [PREFIX + rec["object"]]
    assert rec["central"]["state"] == "pending"
    # another station holding the same bytes is sending them now: its upload is left alone
    theirs = s3.create_multipart_upload(
        Bucket=central_bucket,
        Key=PREFIX + rec["object"],
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=1),
    )["UploadId"]
    out = forward(dockd)
    assert out["aborted_uploads"] == [PREFIX + rec["object"]] and out["left"] == 0
    left = s3.list_multipart_uploads(Bucket=central_bucket).get("Uploads", [])
    assert [u["UploadId"] for u in left] == [theirs]
    (rec,) = recordings(dockd).values()
    head = s3.head_object(Bucket=central_bucket, Key=PREFIX + rec["object"], ChecksumMode="ENABLED")
    assert head["ContentLength"] == 17 << 20 and head["ChecksumSHA256"].endswith("-4")
    assert rec["central"]["state"] == "confirmed"


def test_the_same_object_sent_with_another_part_size_is_adopted(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    """Its COMPOSITE checksum is not the one 5 MiB parts give: adopted after a read-back."""
    use_central(dockd, seaweed, central_bucket, part_mib=5)
    data = b"\x3c" * (13 << 20)
    docked(dockd, tmp_path, {name("FW11", "4711", local_now() - timedelta(hours=1)): data}, "FW11")
    (rec,) = recordings(dockd).values()
    s3, key = seaweed.client(), PREFIX + rec["object"]
    until = datetime.now(UTC) + timedelta(days=3650)
    upload = s3.create_multipart_upload(
        Bucket=central_bucket,
        Key=key,
        ChecksumAlgorithm="SHA256",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=until,
    )["UploadId"]
    parts: list[CompletedPartTypeDef] = []
    for number, start in enumerate(range(0, len(data), 6 << 20), 1):
        body = data[start : start + (6 << 20)]
        checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
        etag = s3.upload_part(
            Bucket=central_bucket,
            Key=key,
            UploadId=upload,
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag, "ChecksumSHA256": checksum})
    s3.complete_multipart_upload(
        Bucket=central_bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
    )
    out = forward(dockd)
    assert (out["adopted"], out["sent"], out["failed"]) == (1, 1, {})  # + the manifest
    (rec,) = recordings(dockd).values()
    assert rec["central"]["state"] == "confirmed" and rec["central"]["key"] == key


def legal_hold(s3: Any, bucket: str, central: dict[str, Any]) -> str:
    answer = s3.get_object_legal_hold(
        Bucket=bucket, Key=central["key"], VersionId=central["version_id"]
    )
    return str(answer["LegalHold"]["Status"])


def test_a_legal_hold_found_on_an_adopted_object_stays_on(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    """The agency's storage admin put the object under a legal hold: dockd never lifts it."""
    use_central(dockd, seaweed, central_bucket)
    docked(dockd, tmp_path, clips("FW12", 1, 5000), "FW12")
    (rec,) = recordings(dockd).values()
    s3, key = seaweed.client(), PREFIX + rec["object"]
    data = next(iter(clips("FW12", 1, 5000).values()))
    s3.put_object(
        Bucket=central_bucket,
        Key=key,
        Body=data,
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=b64_sha256(rec["sha256"]),
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=3650),
        ObjectLockLegalHoldStatus="ON",
    )
    assert forward(dockd)["adopted"] == 1
    (rec,) = recordings(dockd).values()
    assert legal_hold(s3, central_bucket, rec["central"]) == "ON"
    assert forward(dockd)["lock_updated"] == 0
    assert legal_hold(s3, central_bucket, rec["central"]) == "ON"
    audit_ok(dockd)


def test_a_hold_placed_after_forwarding_reaches_the_central_legal_hold(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    use_central(dockd, seaweed, central_bucket)
    docked(dockd, tmp_path, clips("FW05", 1, 5000))
    forward(dockd)
    (rec,) = recordings(dockd).values()
    s3 = seaweed.client()
    assert legal_hold(s3, central_bucket, rec["central"]) == "OFF"
    dockd.run("holds", "add", str(rec["id"]), "--case", "A-2026-17", "--by", "sgt01", check=True)
    out = forward(dockd)
    assert out["lock_updated"] == 2  # the recording and its session's manifest
    (rec,) = recordings(dockd).values()
    assert legal_hold(s3, central_bucket, rec["central"]) == "ON" and rec["central"]["legal_hold"]
    listing = dockd.run("holds", "list")
    hold_id = listing.stdout.split()[0]
    dockd.run("holds", "release", hold_id, "--reason", "case closed", "--by", "sgt01", check=True)
    assert forward(dockd)["lock_updated"] == 2
    (rec,) = recordings(dockd).values()
    assert legal_hold(s3, central_bucket, rec["central"]) == "OFF"
    assert len(dockd.custody_events("central-lock-updated")) == 4
    audit_ok(dockd)


def test_a_retention_extension_reaches_the_central_retain_until(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    use_central(dockd, seaweed, central_bucket)
    docked(dockd, tmp_path, clips("FW06", 1, 5000))
    forward(dockd)
    (rec,) = recordings(dockd).values()
    later = datetime.fromisoformat(rec["retain_until"]) + timedelta(days=400)
    ledger = open_ledger(load_config(dockd.config))
    try:  # what a longer retention class would do: the row and its custody event
        with ledger.transaction() as s:
            row = s.get_one(RecordingRow, rec["id"])
            row.retain_until = later
            s.flush()
            ledger.append_custody(
                s, datetime.now(UTC), "recording-reclassified", str(rec["id"]), facts(row)
            )
    finally:
        ledger.close()
    out = forward(dockd)
    assert out["lock_updated"] == 2  # the recording, and its manifest takes the latest date
    (rec,) = recordings(dockd).values()
    head = seaweed.client().head_object(
        Bucket=central_bucket, Key=rec["central"]["key"], VersionId=rec["central"]["version_id"]
    )
    assert head["ObjectLockRetainUntilDate"] == later
    assert datetime.fromisoformat(rec["central"]["retain_until"]) == later
    audit_ok(dockd)


def test_local_copies_are_freed_only_after_the_local_retention_days(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    use_central(dockd, seaweed, central_bucket, local_retention_days=30)
    docked(dockd, tmp_path, clips("FW07", 2, 5000))
    out = forward(dockd)
    assert out["freed"] == 0 and len(dockd.objects()) == 3
    use_central(dockd, seaweed, central_bucket, local_retention_days=0)
    held = next(iter(recordings(dockd).values()))
    dockd.run("holds", "add", str(held["id"]), "--case", "B-9", "--by", "sgt01", check=True)
    out = forward(dockd)
    # the held one is freed only once its central legal hold was set and confirmed
    assert (out["lock_updated"], out["freed"]) == (2, 3)
    assert dockd.objects() == []
    for rec in recordings(dockd).values():
        assert rec["locations"] == ["central"]
    assert len(dockd.custody_events("local-copy-freeing")) == 3
    assert len(dockd.custody_events("local-copy-freed")) == 3
    verify = dockd.run("verify")
    assert verify.returncode == 0 and "verified 0 objects" in verify.stdout, verify.stdout
    audit_ok(dockd)
    check = dockd.run("verify", "--central", "--sample", "100")
    assert check.returncode == 0, check.stdout + check.stderr


def test_verify_central_names_a_copy_that_differs_and_audit_sees_the_edit(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    use_central(dockd, seaweed, central_bucket)
    docked(dockd, tmp_path, clips("FW08", 1, 5000))
    forward(dockd)
    (rec,) = recordings(dockd).values()
    db = dockd.ledger_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(db)) as con, con:  # a SQL shell claims a hold the bucket lacks
        con.execute("UPDATE central_copies SET legal_hold = 1 WHERE blake3 = ?", (rec["blake3"],))
    check = dockd.run("verify", "--central", "--json")
    assert check.returncode == 1, check.stdout + check.stderr
    (finding,) = json.loads(check.stdout)["findings"]
    assert finding["problem"] == "not-confirmed" and finding["key"] == PREFIX + rec["object"]
    assert finding["detail"] == "legal hold OFF, expected ON"
    audit = dockd.run("audit", "verify")
    assert audit.returncode == 1 and "central_copies" in audit.stdout, audit.stdout


@pytest.mark.root
def test_two_stations_on_one_postgresql_ledger_forward_only_their_own(
    tmp_path: Path, seaweed: SeaweedServer, central_bucket: str, two_stations: TwoStations
) -> None:

    stations = two_stations.by_name
    for i, dockd in enumerate(stations.values()):
        use_central(dockd, seaweed, central_bucket)
        docked(dockd, tmp_path, clips(f"ST0{i}", i + 1, 4000), f"ST0{i}")
    east, west = stations["dock-east"], stations["dock-west"]
    assert forward(east)["sent"] == 2  # its one recording and its manifest
    assert forward(west)["sent"] == 3
    assert forward(east)["sent"] == 0 and forward(west)["sent"] == 0
    report = json.loads(east.run("verify", "--central", "--json").stdout)
    assert (report["checked"], report["findings"]) == (2, [])
    report = json.loads(west.run("verify", "--central", "--json").stdout)
    assert (report["checked"], report["findings"]) == (3, [])
    states = {r["central"]["state"] for r in east.json("recordings")}
    assert states == {"confirmed"}
    listed = seaweed.client().list_objects_v2(Bucket=central_bucket, Prefix=PREFIX)
    assert listed["KeyCount"] == 5
    audit_ok(east)


def test_two_stations_holding_the_same_bytes_each_free_their_own_copy(
    tmp_path: Path, seaweed: SeaweedServer, central_bucket: str, two_stations: TwoStations
) -> None:
    """One recording's bytes docked at both: one central object, sent once; each station
    frees its own copy by its own intent on its own chain, and verifies the one object."""
    same = b"\x42" * 6000 + b"one clip, copied from a recorder docked at both stations"
    stations = two_stations.by_name
    for i, dockd in enumerate(stations.values()):
        use_central(dockd, seaweed, central_bucket, local_retention_days=0)
        start = local_now() - timedelta(hours=1)
        docked(dockd, tmp_path, {name(f"SH0{i}", "4711", start): same}, f"SH0{i}")
    east, west = stations["dock-east"], stations["dock-west"]
    first = forward(east)
    assert (first["sent"], first["freed"]) == (2, 2)  # the recording and a manifest
    second = forward(west)
    assert (second["sent"], second["freed"]) == (1, 2)  # only its own manifest
    ledger = open_ledger(load_config(west.config))
    try:
        freeing = ledger.read(
            lambda s: sorted(
                (e.station, e.subject)
                for e in s.scalars(
                    select(CustodyEventRow).where(CustodyEventRow.kind.in_(FREE_KINDS))
                )
            )
        )
    finally:
        ledger.close()
    shared = [r for r in west.json("recordings") if r["sha256"] == sha256_of(same)]
    assert len({r["blake3"] for r in shared}) == 1 and len(shared) == 2
    for station in stations:  # each one's intent before its own free
        assert freeing.count((station, shared[0]["blake3"])) == 2
    assert [r["locations"] for r in shared] == [["central"], ["central"]]
    for dockd in stations.values():
        report = json.loads(dockd.run("verify", "--central", "--json").stdout)
        assert report["findings"] == []
    audit_ok(east)


FREE_KINDS = ("local-copy-freeing", "local-copy-freed")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_bad_credentials_are_a_configuration_error(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    use_central(dockd, seaweed, central_bucket, secret_key="not-the-secret")
    docked(dockd, tmp_path, clips("FW09", 1, 1000))
    result = dockd.run("forward")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "CENTRAL_AUTH_FAILED" in result.stderr and "secret_key" in result.stderr
    assert central_rows(dockd) == {}


def test_a_forward_beside_a_running_pass_waits_its_turn(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    """Passes of one store take turns (the daemon's and a `dockd forward`): the one that
    starts may abort unfinished uploads only because none is another live pass's."""

    use_central(dockd, seaweed, central_bucket)
    docked(dockd, tmp_path, clips("FW10", 1, 1000))
    fd = os.open(dockd.store / LEASE_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a pass of another process is running
    waiting = subprocess.Popen(
        [sys.executable, "-m", "dockd.cli", "--config", str(dockd.config), "forward", "--json"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lease = str(dockd.store / LEASE_FILE)

        def at_the_lease() -> bool:  # it opened the lease file: it is in flock, or past it
            fds = Path(f"/proc/{waiting.pid}/fd")
            return any(os.path.realpath(fd) == lease for fd in fds.iterdir())

        deadline = time.monotonic() + 60
        while not at_the_lease():
            assert waiting.poll() is None and time.monotonic() < deadline, "never reached it"
            time.sleep(0.05)
        time.sleep(1)
        assert waiting.poll() is None and central_rows(dockd) == {}
    finally:
        os.close(fd)
    stdout, stderr = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, stdout + stderr
    assert json.loads(stdout)["sent"] == 2
    assert "waiting for the daemon's forwarding pass to finish" in stderr
