"""`dockd run` killed in the middle of a multipart upload and started again: the daemon's
first pass aborts the upload it had begun (never another's) and sends the object again,
against a real SeaweedFS with Object Lock. The kill lands mid-upload by stepping the
daemon (tests/support/stepping.py), not by hoping the upload is slow."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import unfreeze
from tests.e2e.harness import Daemon, wait_for
from tests.support.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedServer
from tests.support.stepping import step_until

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1 << 20
SIZE = 17 * MIB  # four parts of 5 MiB


def a_day_hence() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


def uploads(s3: S3Client, bucket: str) -> list[tuple[str, str]]:
    listed = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return [(u["Key"], u["UploadId"]) for u in listed]


def test_a_daemon_killed_mid_multipart_aborts_its_upload_at_restart_and_sends_again(
    tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    s3 = seaweed.client()
    daemon = Daemon(tmp_path)
    daemon.write_config(
        f'watch_dirs = ["{tmp_path / "drop"}"]\nsettle_seconds = 1.0\n'
        # no bay: the test recorders other runs on this host plug are not docked here
        'ports = ["dockd-test-drop-folder-only"]\n'
        f'[central]\nendpoint = "{seaweed.endpoint}"\nbucket = "{central_bucket}"\n'
        f'access_key = "{ACCESS_KEY}"\nsecret_key = "{SECRET_KEY}"\n'
        "streams = 1\npart_mib = 5\n"
    )
    daemon.start()
    try:
        folder = tmp_path / "drop" / "SN78" / "DCIM"
        folder.mkdir(parents=True)
        (folder / "SN78_007_20261123080000_0001.MP4").write_bytes(b"\x5a" * SIZE)

        def a_part_is_stored() -> bool:
            return any(
                s3.list_parts(Bucket=central_bucket, Key=key, UploadId=upload).get("Parts")
                for key, upload in uploads(s3, central_bucket)
            )

        assert daemon.process is not None
        assert step_until(daemon.process, a_part_is_stored, timeout_s=300)
        assert daemon.stop(signal.SIGKILL) == -signal.SIGKILL  # stopped mid-upload, killed
        ((key, _),) = uploads(s3, central_bucket)  # the one the daemon began
        (rec,) = daemon.recordings()
        assert (rec["central"]["state"], key.endswith(rec["object"])) == ("pending", True)

        # another station holding the same bytes is sending them now: left alone
        theirs = s3.create_multipart_upload(
            Bucket=central_bucket,
            Key=key,
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=a_day_hence(),
        )["UploadId"]
        daemon.start()

        def confirmed() -> bool:
            (found,) = daemon.recordings()
            return bool(found["central"]["state"] == "confirmed")

        wait_for(confirmed, 120, "the recording to be sent again and confirmed")
        assert uploads(s3, central_bucket) == [(key, theirs)]  # its own, aborted
        (rec,) = daemon.recordings()
        head = s3.head_object(Bucket=central_bucket, Key=key, ChecksumMode="ENABLED")
        assert (head["ContentLength"], head["ObjectLockMode"]) == (SIZE, "COMPLIANCE")
        assert (
            head["ChecksumSHA256"].endswith("-4")
            and head["VersionId"] == rec["central"]["version_id"]
        )
        assert "central-upload-aborted" in daemon.log.read_text()
        assert daemon.stop() == 0
    finally:
        if daemon.process is not None:
            daemon.stop(signal.SIGKILL)
        unfreeze(tmp_path / "store")
