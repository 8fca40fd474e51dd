"""`dockd run` told to stop (SIGTERM) in the middle of a multipart upload, against a real
SeaweedFS with Object Lock: it exits promptly with its normal code, sends no part after
the one in flight, marks nothing it did not confirm, and the next start aborts the upload
and sends the object again. The signal lands mid-upload by stepping the daemon
(tests/support/stepping.py), not by hoping the upload is slow."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import unfreeze
from tests.e2e.harness import Daemon, wait_for
from tests.support.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedServer
from tests.support.stepping import step_until

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1 << 20
PART_MIB = 5
PARTS = 17
SIZE = (PARTS - 1) * PART_MIB * MIB + MIB
EXIT_BOUND_S = 15.0  # a few seconds of shutdown, and the one 5 MiB part in flight


def uploads(s3: S3Client, bucket: str) -> list[tuple[str, str]]:
    listed = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return [(u["Key"], u["UploadId"]) for u in listed]


def parts(s3: S3Client, bucket: str, key: str, upload: str) -> int:
    return len(s3.list_parts(Bucket=bucket, Key=key, UploadId=upload).get("Parts", []))


def test_sigterm_mid_multipart_stops_the_upload_and_the_next_start_sends_it(
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
        f"streams = 1\npart_mib = {PART_MIB}\n"
    )
    daemon.start()
    try:
        folder = tmp_path / "drop" / "SN79" / "DCIM"
        folder.mkdir(parents=True)
        (folder / "SN79_007_20261123080000_0001.MP4").write_bytes(b"\x5b" * SIZE)

        def a_part_is_stored() -> bool:
            return any(parts(s3, central_bucket, k, u) for k, u in uploads(s3, central_bucket))

        process = daemon.process
        assert process is not None
        assert step_until(process, a_part_is_stored, timeout_s=300)
        ((key, upload),) = uploads(s3, central_bucket)
        stored_when_told = parts(s3, central_bucket, key, upload)
        # continued first: a signal sent to a stopped process goes to whichever of its
        # threads wakes first, a running one's to its main thread, as systemd's does
        process.send_signal(signal.SIGCONT)
        process.send_signal(signal.SIGTERM)
        told = time.monotonic()
        try:
            code = process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            raise AssertionError("dockd run did not exit within 120 s of SIGTERM") from None
        took = time.monotonic() - told
        daemon.process = None
        assert code == 0
        assert took < EXIT_BOUND_S, f"exited {took:.1f} s after SIGTERM"

        # left, not completed: the parts in flight, and those sent before the handler ran
        # (at once on the main thread; at the main loop's next poll, within a second, when
        # the kernel gives the signal to a slot's or the web server's thread)
        assert uploads(s3, central_bucket) == [(key, upload)]
        assert stored_when_told <= parts(s3, central_bucket, key, upload) < PARTS
        assert "Versions" not in s3.list_object_versions(Bucket=central_bucket, Prefix=key)
        (rec,) = daemon.recordings()
        assert (rec["central"]["state"], key.endswith(rec["object"])) == ("pending", True)
        log = daemon.log.read_text()
        assert "central-pass-stopped" in log and "FORWARDING_STOPPED" in log
        assert "dockd is stopping" in log

        daemon.start()

        def confirmed() -> bool:
            (found,) = daemon.recordings()
            return bool(found["central"]["state"] == "confirmed")

        wait_for(confirmed, 120, "the recording to be sent again and confirmed")
        assert uploads(s3, central_bucket) == []  # the cut upload, aborted at start
        assert "central-upload-aborted" in daemon.log.read_text()
        (rec,) = daemon.recordings()
        head = s3.head_object(Bucket=central_bucket, Key=key, ChecksumMode="ENABLED")
        assert (head["ContentLength"], head["ObjectLockMode"]) == (SIZE, "COMPLIANCE")
        assert head["ChecksumSHA256"].endswith(f"-{PARTS}")
        assert head["VersionId"] == rec["central"]["version_id"]
        assert daemon.stop() == 0
    finally:
        if daemon.process is not None:
            daemon.stop(signal.SIGKILL)
        unfreeze(tmp_path / "store")
