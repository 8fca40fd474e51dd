"""The README's install on a real dock: `pip install .` into a virtualenv of its own.

An editable checkout hides what a wheel leaves out (migrations, templates, the rules):
here dockd runs from site-packages, with the rules copied where the README puts them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import REPO, unfreeze, write_config


def test_pip_installed_dockd_runs_with_the_rules_installed_beside_its_config(
    tmp_path: Path, installed_dockd: Path
) -> None:
    dockd = installed_dockd
    # as on a dock: no PYTHONPATH pointing back into a checkout
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run(
        [str(dockd.with_name("python")), "-c", "import dockd; print(dockd.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=env,
    ).stdout
    assert "site-packages" in where, f"not the installed copy: {where}"

    config = write_config(
        tmp_path / "dockd.toml", tmp_path / "store", f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(dockd), "--config", str(config), *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=tmp_path,
            env=env,
        )

    missing = run("policy", "show")
    assert missing.returncode == 2, missing.stdout + missing.stderr
    assert "RULES_INVALID" in missing.stderr and "/etc/dockd/rules" in missing.stderr

    shutil.copytree(REPO / "rules", tmp_path / "rules")
    config.write_text(config.read_text() + f'\n[rules]\ndir = "{tmp_path / "rules"}"\n')
    assert run("policy", "show").returncode == 0

    recorder = tmp_path / "recorder" / "DCIM"
    recorder.mkdir(parents=True)
    # A valid container, named an hour ago in the generic profile's zone: nothing for the
    # session to flag (no corrupt container, no clock drift, not late), so it exits 0.
    start = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(hours=1)
    with wave.open(str(recorder / f"SN1_007_{start:%Y%m%d%H%M%S}_0001.WAV"), "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(1)
        clip.setframerate(1000)
        clip.writeframes(b"\x80" * 2000)
    try:
        ingest = run("ingest", str(recorder.parent), "--serial", "SN1")
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr
        assert "1 copied and verified" in ingest.stdout, ingest.stdout + ingest.stderr
        assert run("verify").returncode == 0
        assert run("audit", "verify").returncode == 0
    finally:
        unfreeze(tmp_path / "store")
