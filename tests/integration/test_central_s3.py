"""S3CentralStore against a real SeaweedFS: what the server enforces is what dockd relies on
(create-only puts, SHA-256 checksums, COMPLIANCE retention, legal holds)."""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from dockd.adapters.central import S3CentralStore
from dockd.core.forwarding import CentralPut
from dockd.errors import (
    CentralAuthError,
    CentralChecksumError,
    CentralError,
    CentralKeyExistsError,
    CentralNoObjectLockError,
    CentralUnreachableError,
    ConfigError,
    LocalCopyUnreadableError,
)
from tests.support.seaweed import SECRET_KEY, SeaweedServer

MIB = 1 << 20
PART_MIB = 5
LARGE = 2 * PART_MIB * MIB + 12345  # three parts


def retain_until(days: int = 1) -> datetime:
    """Whole seconds: S3 keeps retain-until dates to the second."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


def local_object(tmp_path: Path, size: int, *, legal_hold: bool = False) -> tuple[CentralPut, Path]:
    data = os.urandom(size)
    source = tmp_path / f"object-{size}"
    source.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    key = f"objects/blake3/{digest[:2]}/{digest}"  # any local key; its name is not checked
    return CentralPut(key, size, digest, retain_until(), legal_hold), source


@pytest.fixture
def store(seaweed: SeaweedServer, central_bucket: str) -> S3CentralStore:
    return S3CentralStore(
        seaweed.central_config(central_bucket, prefix="station-7/", part_mib=PART_MIB)
    )


def test_single_put_is_stored_create_only_and_locked(store: S3CentralStore, tmp_path: Path) -> None:
    item, source = local_object(tmp_path, 100_000)
    upload = store.put(item, source)
    head = store.head(upload.key)
    expected = base64.b64encode(bytes.fromhex(item.sha256)).decode()
    assert head is not None
    assert (upload.key, upload.parts, upload.checksum) == (f"station-7/{item.key}", 0, expected)
    assert (head.version_id, head.size, head.checksum) == (upload.version_id, item.size, expected)
    assert (head.lock_mode, head.retain_until, head.legal_hold) == (
        "COMPLIANCE",
        item.retain_until,
        False,
    )


def test_multipart_put_is_stored_with_composite_checksum_and_legal_hold(
    store: S3CentralStore, tmp_path: Path
) -> None:
    item, source = local_object(tmp_path, LARGE, legal_hold=True)
    upload = store.put(item, source)
    head = store.head(upload.key, upload.version_id)
    assert head is not None
    assert (upload.parts, head.size, head.checksum, head.checksum_type) == (
        3,
        LARGE,
        upload.checksum,
        "COMPOSITE",
    )
    assert (head.lock_mode, head.retain_until, head.legal_hold) == (
        "COMPLIANCE",
        item.retain_until,
        True,
    )


def test_a_multipart_put_paces_itself_before_every_part(
    seaweed: SeaweedServer, central_bucket: str, tmp_path: Path
) -> None:
    """The daemon's pace blocks while a slot copies: it must be asked before each part is
    read and before it is sent."""
    asked: list[int] = []
    config = seaweed.central_config(central_bucket, prefix="station-7/", part_mib=PART_MIB)
    paced = S3CentralStore(config, pace=lambda: asked.append(len(asked)))
    item, source = local_object(tmp_path, LARGE)
    assert paced.put(item, source).parts == 3
    # before each of the 3 parts' reads and sends, and before the read finding the end
    assert len(asked) == 7


def test_composite_checksum_is_what_checksum_of_computes(
    store: S3CentralStore, tmp_path: Path
) -> None:
    item, source = local_object(tmp_path, LARGE)
    assert store.checksum_of(source, item.size) == store.put(item, source).checksum


def test_read_streams_the_stored_bytes(store: S3CentralStore, tmp_path: Path) -> None:
    item, source = local_object(tmp_path, LARGE)
    upload = store.put(item, source)
    assert b"".join(store.read(upload.key, upload.version_id)) == source.read_bytes()


def test_second_put_is_refused_and_the_first_version_stays(
    store: S3CentralStore, tmp_path: Path
) -> None:
    item, source = local_object(tmp_path, 4096)
    first = store.put(item, source)
    source.write_bytes(os.urandom(4096))
    other = CentralPut(
        item.key, 4096, hashlib.sha256(source.read_bytes()).hexdigest(), retain_until(), False
    )
    with pytest.raises(CentralKeyExistsError):
        store.put(other, source)
    head = store.head(first.key)
    assert head is not None and (head.version_id, head.checksum) == (
        first.version_id,
        first.checksum,
    )


def test_second_multipart_put_is_refused_at_completion(
    store: S3CentralStore, seaweed: SeaweedServer, central_bucket: str, tmp_path: Path
) -> None:
    item, source = local_object(tmp_path, LARGE)
    store.put(item, source)
    with pytest.raises(CentralKeyExistsError):
        store.put(item, source)
    assert seaweed.client().list_multipart_uploads(Bucket=central_bucket).get("Uploads", []) == []


def test_wrong_sha256_is_refused_and_nothing_is_stored(
    store: S3CentralStore, tmp_path: Path
) -> None:
    item, source = local_object(tmp_path, 4096)
    wrong = CentralPut(
        item.key, item.size, hashlib.sha256(b"other").hexdigest(), retain_until(), False
    )
    with pytest.raises(CentralChecksumError):
        store.put(wrong, source)
    assert store.head(f"station-7/{item.key}") is None


def test_damaged_local_copy_is_not_completed(
    store: S3CentralStore, seaweed: SeaweedServer, central_bucket: str, tmp_path: Path
) -> None:
    item, source = local_object(tmp_path, LARGE)
    with open(source, "r+b") as fh:  # one flipped byte in the second part
        fh.seek(PART_MIB * MIB + 10)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(CentralChecksumError, match=str(source)):
        store.put(item, source)
    assert store.head(f"station-7/{item.key}") is None
    assert seaweed.client().list_multipart_uploads(Bucket=central_bucket).get("Uploads", []) == []


def delete_bypassing_governance(
    seaweed: SeaweedServer, bucket: str, key: str, version: str
) -> None:
    """What an admin key may do to a GOVERNANCE lock, and to a COMPLIANCE lock nobody may:
    a plain delete is refused for both modes, so it cannot tell them apart."""
    seaweed.client().delete_object(
        Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True
    )


def test_server_refuses_to_delete_a_locked_version(
    store: S3CentralStore, seaweed: SeaweedServer, central_bucket: str, tmp_path: Path
) -> None:
    upload = store.put(*local_object(tmp_path, 4096))
    with pytest.raises(ClientError) as refused:
        delete_bypassing_governance(seaweed, central_bucket, upload.key, upload.version_id)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert store.head(upload.key, upload.version_id) is not None


def test_the_same_delete_removes_a_governance_locked_version(
    seaweed: SeaweedServer, central_bucket: str
) -> None:
    """The control: were dockd's lock GOVERNANCE, the test above would fail."""
    answer = seaweed.client().put_object(
        Bucket=central_bucket,
        Key="station-7/governance",
        Body=b"governance",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=retain_until(),
    )
    version = answer["VersionId"]
    delete_bypassing_governance(seaweed, central_bucket, "station-7/governance", version)
    with pytest.raises(ClientError) as gone:
        seaweed.client().head_object(
            Bucket=central_bucket, Key="station-7/governance", VersionId=version
        )
    assert gone.value.response["Error"]["Code"] == "404"


def test_server_refuses_to_shorten_retention(
    store: S3CentralStore, seaweed: SeaweedServer, central_bucket: str, tmp_path: Path
) -> None:
    upload = store.put(*local_object(tmp_path, 4096))  # retained for a day
    shorter = retain_until(0) + timedelta(hours=1)  # still in the future
    with pytest.raises(ClientError) as refused:
        seaweed.client().put_object_retention(
            Bucket=central_bucket,
            Key=upload.key,
            VersionId=upload.version_id,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": shorter},
        )
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_extend_retention_is_visible(store: S3CentralStore, tmp_path: Path) -> None:
    upload = store.put(*local_object(tmp_path, 4096))
    later = retain_until(400)
    store.extend_retention(upload.key, upload.version_id, later)
    head = store.head(upload.key, upload.version_id)
    assert head is not None and head.retain_until == later


def test_legal_hold_is_set_and_released(store: S3CentralStore, tmp_path: Path) -> None:
    upload = store.put(*local_object(tmp_path, 4096))
    store.set_legal_hold(upload.key, upload.version_id, True)
    held = store.head(upload.key, upload.version_id)
    store.set_legal_hold(upload.key, upload.version_id, False)
    released = store.head(upload.key, upload.version_id)
    assert held is not None and released is not None
    assert (held.legal_hold, released.legal_hold) == (True, False)


def test_locked_bucket_passes_the_check(store: S3CentralStore) -> None:
    store.check_bucket()


def test_bucket_without_object_lock_is_refused(
    seaweed: SeaweedServer, unlocked_bucket: str
) -> None:
    with pytest.raises(CentralNoObjectLockError, match=unlocked_bucket):
        S3CentralStore(seaweed.central_config(unlocked_bucket)).check_bucket()


def test_wrong_secret_is_an_auth_error(
    seaweed: SeaweedServer, central_bucket: str, tmp_path: Path
) -> None:
    store = S3CentralStore(seaweed.central_config(central_bucket, secret_key="not-the-secret"))
    with pytest.raises(CentralAuthError, match=central_bucket):
        store.put(*local_object(tmp_path, 4096))


def test_secret_key_file_is_read(
    seaweed: SeaweedServer, central_bucket: str, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text(SECRET_KEY + "\n")
    config = seaweed.central_config(central_bucket, secret_key=None, secret_key_file=secret)
    S3CentralStore(config).check_bucket()


def test_missing_secret_key_file_is_a_config_error_naming_it(
    seaweed: SeaweedServer, central_bucket: str, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-secret"
    config = seaweed.central_config(central_bucket, secret_key=None, secret_key_file=missing)
    with pytest.raises(ConfigError, match=str(missing)):
        S3CentralStore(config)


def test_stopped_server_is_unreachable_then_a_restarted_one_takes_the_put(
    seaweed: SeaweedServer, central_bucket: str, tmp_path: Path
) -> None:
    impatient = S3CentralStore(
        seaweed.central_config(central_bucket, part_mib=PART_MIB, timeout_seconds=1)
    )
    item, source = local_object(tmp_path, LARGE)
    seaweed.stop()
    try:
        started = time.monotonic()
        with pytest.raises(CentralUnreachableError, match=seaweed.endpoint):
            impatient.put(item, source)
        elapsed = time.monotonic() - started
    finally:
        seaweed.start()
    assert elapsed < 10
    # A freshly restarted server on a busy machine may be slow: the usual timeout.
    store = S3CentralStore(seaweed.central_config(central_bucket, part_mib=PART_MIB))
    head = store.head(store.put(item, source).key)
    assert head is not None and head.size == LARGE


def test_abort_unfinished_aborts_a_killed_docks_upload(
    store: S3CentralStore, seaweed: SeaweedServer, central_bucket: str
) -> None:
    client = seaweed.client()
    key = "station-7/objects/blake3/ab/abandoned"
    upload_id = client.create_multipart_upload(
        Bucket=central_bucket,
        Key=key,
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=retain_until(),
    )["UploadId"]
    client.upload_part(
        Bucket=central_bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=os.urandom(MIB)
    )
    # another station sending the same bytes (the same key) and another object, both live
    live = [
        client.create_multipart_upload(
            Bucket=central_bucket,
            Key=other,
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=retain_until(),
        )["UploadId"]
        for other in (key, "station-7/objects/blake3/cd/live-elsewhere")
    ]
    assert store.abort_unfinished({upload_id}) == [key]
    left = client.list_multipart_uploads(Bucket=central_bucket).get("Uploads", [])
    assert sorted(u["UploadId"] for u in left) == sorted(live)


def test_head_of_a_key_never_sent_is_none(store: S3CentralStore) -> None:
    assert store.head("station-7/objects/blake3/00/never-sent") is None


def test_truncated_local_copy_is_not_sent(store: S3CentralStore, tmp_path: Path) -> None:
    item, source = local_object(tmp_path, 4096)
    source.write_bytes(source.read_bytes()[:4000])
    with pytest.raises(CentralChecksumError, match=str(source)):
        store.put(item, source)
    assert store.head(f"station-7/{item.key}") is None


def test_object_needing_too_many_parts_is_refused_before_sending(
    store: S3CentralStore, tmp_path: Path
) -> None:
    item, source = local_object(tmp_path, 4096)
    huge = CentralPut(item.key, 10_001 * PART_MIB * MIB, item.sha256, item.retain_until, False)
    with pytest.raises(CentralError) as refused:
        store.put(huge, source)
    assert type(refused.value) is CentralError and "part_mib" in refused.value.hint


class FailingRead(io.FileIO):
    """A local copy whose disk fails after the first part (EIO), as a bad sector does."""

    def read(self, size: int | None = -1, /) -> bytes:
        if self.tell() > 0:
            raise OSError(errno.EIO, "Input/output error")
        return super().read(size)


def test_a_local_read_error_is_named_and_frees_its_part_buffer(
    store: S3CentralStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More failed reads than there are part buffers: each must give its buffer back, or
    the next multipart upload blocks for ever."""
    bad, bad_source = local_object(tmp_path, LARGE)
    good, good_source = local_object(tmp_path, LARGE + 1)
    monkeypatch.setattr(
        "dockd.adapters.central_multipart.open_local",
        lambda source: (FailingRead if source == bad_source else io.FileIO)(source, "rb"),
    )
    for _ in range(store._config.streams + 2):
        with pytest.raises(LocalCopyUnreadableError, match="Input/output error"):
            store.put(bad, bad_source)
    done: list[str] = []
    sender = threading.Thread(
        target=lambda: done.append(store.put(good, good_source).key), daemon=True
    )
    sender.start()
    sender.join(60)
    assert done == [f"station-7/{good.key}"]
    assert store.head(f"station-7/{bad.key}") is None
