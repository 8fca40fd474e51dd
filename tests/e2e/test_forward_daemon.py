"""`dockd run` with `[central]`: what the daemon docks reaches the agency's bucket (a real
SeaweedFS with Object Lock) in the background, without anyone running `dockd forward`."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import unfreeze
from tests.e2e.harness import Daemon, wait_for
from tests.support.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedServer


def test_a_docked_recording_is_forwarded_in_the_background(
    tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> None:
    daemon = Daemon(tmp_path)
    daemon.write_config(
        f'watch_dirs = ["{tmp_path / "drop"}"]\nsettle_seconds = 1.0\n'
        f'[central]\nendpoint = "{seaweed.endpoint}"\nbucket = "{central_bucket}"\n'
        f'access_key = "{ACCESS_KEY}"\nsecret_key = "{SECRET_KEY}"\nstreams = 2\n'
    )
    daemon.start()
    try:
        folder = tmp_path / "drop" / "SN77" / "DCIM"
        folder.mkdir(parents=True)
        (folder / "SN77_007_20261123080000_0001.MP4").write_bytes(b"forward me " * 30_000)

        def confirmed() -> bool:
            found = [r for r in daemon.recordings() if r["serial"] == "SN77"]
            return bool(found) and found[0]["central"]["state"] == "confirmed"

        wait_for(confirmed, 90, "the docked recording to be confirmed centrally")
        (rec,) = [r for r in daemon.recordings() if r["serial"] == "SN77"]
        head = seaweed.client().head_object(
            Bucket=central_bucket, Key=rec["central"]["key"], ChecksumMode="ENABLED"
        )
        assert head["ContentLength"] == rec["size"] and head["ObjectLockMode"] == "COMPLIANCE"
        assert daemon.stop() == 0
        assert "forward-pass" in daemon.log.read_text()
    finally:
        if daemon.process is not None:
            daemon.stop()
        unfreeze(tmp_path / "store")
