"""`dockd forward` told to stop (SIGTERM or SIGINT) mid-multipart, against a real
SeaweedFS: it exits 1 ("something left") with the pass's summary rather than a
traceback, the upload is left unfinished, nothing is marked, and the next run aborts the
upload and confirms the object. The signal lands mid-upload by stepping the process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO, Dockd
from tests.integration.test_forward import PREFIX, docked, forward, use_central
from tests.integration.test_policy_packs_e2e import local_now, name, recordings
from tests.support.seaweed import SeaweedServer
from tests.support.stepping import step_until

SIZE = (8 * 5 + 1) << 20  # nine parts of 5 MiB


@pytest.mark.parametrize("told", [signal.SIGTERM, signal.SIGINT])
def test_dockd_forward_told_to_stop_mid_multipart_exits_1_and_the_next_run_sends(
    dockd: Dockd, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str, told: int
) -> None:
    use_central(dockd, seaweed, central_bucket, part_mib=5, streams=1)
    big = {name("FW21", "4711", local_now() - timedelta(hours=1)): b"\x6e" * SIZE}
    docked(dockd, tmp_path, big, "FW21")
    (rec,) = recordings(dockd).values()
    s3, key = seaweed.client(), PREFIX + rec["object"]

    def parts() -> int:
        listed = s3.list_multipart_uploads(Bucket=central_bucket).get("Uploads", [])
        return sum(
            len(
                s3.list_parts(Bucket=central_bucket, Key=key, UploadId=u["UploadId"]).get(
                    "Parts", []
                )
            )
            for u in listed
        )

    process = subprocess.Popen(
        [sys.executable, "-m", "dockd.cli", "--config", str(dockd.config), "forward", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert step_until(process, lambda: parts() > 0, timeout_s=300)
        # continued first: a signal sent to a stopped process goes to whichever of its
        # threads wakes first, a running one's to its main thread, as systemd's does
        process.send_signal(signal.SIGCONT)
        process.send_signal(told)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1, out + err
    assert "Traceback" not in err
    summary = json.loads(out)
    assert summary["stopped"]["code"] == "FORWARDING_STOPPED"
    assert signal.Signals(told).name in summary["stopped"]["message"]
    # the recording (oldest first) and the session's manifest are left
    assert (summary["confirmed"], summary["left"], summary["failed"]) == (0, 2, {}), out
    (upload,) = s3.list_multipart_uploads(Bucket=central_bucket).get("Uploads", [])
    assert upload["Key"] == key and 0 < parts() < 9  # left unfinished, not completed
    assert "Versions" not in s3.list_object_versions(Bucket=central_bucket, Prefix=key)
    assert recordings(dockd)[rec["path"]]["central"]["state"] == "pending"

    again = forward(dockd)
    assert again["aborted_uploads"] == [key] and again["left"] == 0
    assert s3.list_multipart_uploads(Bucket=central_bucket).get("Uploads", []) == []
    head = s3.head_object(Bucket=central_bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ContentLength"] == SIZE and head["ChecksumSHA256"].endswith("-9")
    assert recordings(dockd)[rec["path"]]["central"]["state"] == "confirmed"
