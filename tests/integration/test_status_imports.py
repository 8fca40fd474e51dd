"""`dockd status` is a terminal command: it must not load the web stack (Starlette, uvicorn,
Jinja2), which is only for `dockd run`. Checked in a fresh interpreter, after the command
has really run against an empty station."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, write_config

WEB_STACK = ("starlette", "uvicorn", "jinja2")

SCRIPT = """
import contextlib, io, json, sys
from dockd.cli import status
from dockd.cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["--config", sys.argv[1], "status", "--json"])
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2:]))
print(json.dumps({"code": code, "document": json.loads(out.getvalue()), "loaded": loaded}))
"""


def test_dockd_status_does_not_import_the_web_stack(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "dockd.toml",
        tmp_path / "store",
        f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        '\n[web]\nlisten = "127.0.0.1:1"\n',  # nothing answers there: the ledger alone
    )
    env = {
        **os.environ,
        "DOCKD_CLOCK__NTP_SERVERS": '["127.0.0.1:9"]',  # no answer, at once: not synchronised
        "DOCKD_CLOCK__TIMEOUT_SECONDS": "0.5",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(config), *WEB_STACK],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["loaded"] == [], f"`dockd status` imported {found['loaded']}"
    document = found["document"]
    assert document["live"] is False and document["slots"] == []
    bad = any(alert["level"] == "bad" for alert in document["alerts"])
    assert found["code"] == (1 if bad else 0)
