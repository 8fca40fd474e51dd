"""Central-store faults on the real SeaweedFS: what the server answers when it is full or
a bucket is over its quota, and what the admin is told (CENTRAL_FULL, nothing marked
forwarded that the bucket does not hold, nothing local lost)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from dockd.adapters.central import S3CentralStore
from dockd.core.forwarding import CentralPut
from dockd.errors import CentralFullError
from tests.conftest import Dockd
from tests.integration.test_central_s3 import PART_MIB, local_object
from tests.integration.test_forward import clips, docked, forward, use_central
from tests.integration.test_policy_packs_e2e import recordings
from tests.support.seaweed import SeaweedServer, unique_bucket_name

MIB = 1 << 20


def tiny_store(server: SeaweedServer) -> tuple[S3CentralStore, str]:
    bucket = server.make_bucket(unique_bucket_name("full"))
    return S3CentralStore(server.central_config(bucket, part_mib=PART_MIB)), bucket


def test_a_full_server_is_central_full_and_stores_nothing(
    tiny_seaweed: SeaweedServer, tmp_path: Path
) -> None:
    store, _ = tiny_store(tiny_seaweed)
    first, first_source = local_object(tmp_path, MIB)
    stored = store.put(first, first_source)
    (tmp_path / "second").mkdir()
    second, second_source = local_object(tmp_path / "second", MIB)
    with pytest.raises(CentralFullError) as raised:
        store.put(second, second_source)
    assert raised.value.code == "CENTRAL_FULL"
    assert second.key in raised.value.message and "InternalError" in raised.value.message
    assert "full or over its quota" in raised.value.message
    assert "quota" in raised.value.hint
    assert store.head(second.key) is None
    head = store.head(stored.key, stored.version_id)
    assert head is not None and (head.size, head.checksum) == (MIB, stored.checksum)


def test_a_full_server_refuses_a_multipart_put_as_central_full_and_leaves_no_upload(
    tiny_seaweed: SeaweedServer, tmp_path: Path
) -> None:
    """SeaweedFS starts the upload on a full server and refuses the first part."""
    store, bucket = tiny_store(tiny_seaweed)
    filler, filler_source = local_object(tmp_path, MIB)
    store.put(filler, filler_source)
    data = os.urandom(2 * PART_MIB * MIB + 1)
    source = tmp_path / "large"
    source.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    large = CentralPut(
        f"objects/blake3/{digest[:2]}/{digest}", len(data), digest, filler.retain_until, False
    )
    with pytest.raises(CentralFullError):
        store.put(large, source)
    assert store.head(large.key) is None
    uploads = tiny_seaweed.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert uploads == []


def test_a_full_server_stops_dockd_forward_as_central_full_and_loses_nothing(
    dockd: Dockd, tmp_path: Path, tiny_seaweed: SeaweedServer
) -> None:
    bucket = tiny_seaweed.make_bucket(unique_bucket_name("full"))
    use_central(dockd, tiny_seaweed, bucket, streams=1)
    docked(dockd, tmp_path, clips("FF01", 3, MIB))
    out = forward(dockd, expect=1)
    assert out["stopped"]["code"] == "CENTRAL_FULL", out
    assert "quota" in out["stopped"]["hint"]
    assert out["failed"] == {"CENTRAL_FULL": 1} and out["left"] >= 1
    held = recordings(dockd).values()
    s3 = tiny_seaweed.client()
    confirmed = [r["central"] for r in held if r["central"]["state"] == "confirmed"]
    for central in confirmed:  # what is marked forwarded, the bucket holds
        head = s3.head_object(Bucket=bucket, Key=central["key"], VersionId=central["version_id"])
        assert head["ObjectLockMode"] == "COMPLIANCE"
    assert len(confirmed) + out["left"] == 4  # 3 recordings and the manifest
    assert {r["central"]["state"] for r in held} <= {"confirmed", "pending"}
    assert all(r["locations"][0] != "central" for r in held)  # every local copy is kept
    check = dockd.run("verify")
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_bucket_over_its_quota_is_central_full_and_what_was_sent_stays_confirmed(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    use_central(dockd, seaweed, central_bucket)
    docked(dockd, tmp_path, clips("FQ01", 2, 700_000), serial="FQ01")
    assert forward(dockd)["confirmed"] == 3
    seaweed.set_quota(central_bucket, 1)  # 1.4 MB in a bucket of 1 MB: read-only
    docked(dockd, tmp_path, clips("FQ02", 1, 1000), serial="FQ02")
    out = forward(dockd, expect=1)
    assert out["stopped"]["code"] == "CENTRAL_FULL", out
    assert (out["confirmed"], out["left"]) == (0, 2)
    states = sorted((r["serial"], r["central"]["state"]) for r in recordings(dockd).values())
    assert states == [("FQ01", "confirmed"), ("FQ01", "confirmed"), ("FQ02", "pending")]
    assert dockd.run("verify").returncode == 0


def rot(server: SeaweedServer, bucket: str, data: bytes, at: int) -> None:
    """Flips one byte of `data` where the bucket's volume files hold it, under S3 and its
    Object Lock, as a failing disk would: HEADs still answer from the filer's metadata."""
    marker = data[at : at + 64]
    found = 0
    for volume in server.data.rglob(f"{bucket}_*.dat"):
        with open(volume, "r+b") as fh:
            raw = fh.read()
            if (offset := raw.find(marker)) >= 0:
                fh.seek(offset)
                fh.write(bytes([raw[offset] ^ 0xFF]))
                found += 1
    assert found == 1, f"{found} volume files of {bucket} hold the bytes at {at}"


@pytest.mark.parametrize(
    ("size", "at"),
    [
        (300_000, 1000),  # the one chunk fails: the GET answers 500 InternalError
        (12 * MIB, 10 * MIB),  # a later chunk fails: the GET breaks after 8 MiB
    ],
)
def test_verify_central_reads_back_rotten_bytes_names_that_key_and_checks_the_others(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str, size: int, at: int
) -> None:
    use_central(dockd, seaweed, central_bucket, part_mib=PART_MIB)
    files = {
        name: os.urandom(n)
        for name, n in zip(clips("FR01", 3, 1), (size, 40_000, 50_000), strict=True)
    }
    docked(dockd, tmp_path, files, serial="FR01")
    assert forward(dockd)["confirmed"] == 4
    victim, victim_data = next(iter(files.items()))
    (rotten,) = [r for r in recordings(dockd).values() if r["path"].endswith(victim)]
    rot(seaweed, central_bucket, victim_data, at)
    check = dockd.run("verify", "--central", "--sample", "100", "--json")
    assert check.returncode == 1, check.stdout + check.stderr
    report = json.loads(check.stdout)
    assert (report["checked"], report["read_back"]) == (4, 4)
    (finding,) = report["findings"]  # the other three are read back clean
    assert (finding["key"], finding["problem"]) == (rotten["central"]["key"], "read-mismatch")
    assert "answers its HEAD but cannot return its bytes" in finding["detail"], finding
