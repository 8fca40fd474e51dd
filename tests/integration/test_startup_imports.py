"""A one-shot `dockd` loads only what its command uses (issue 17): `--help` loads no
library, and an ingest on a ledger already at the newest revision loads no Alembic, no
web stack and none of structlog's optional extras (rich, colorama), yet still checks the
revision and writes its custody events. Checked in a fresh interpreter, after the command
has really run; the time itself is bench/cli.py's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from dockd.adapters.ledger.engine import MIGRATIONS, SCHEMA_REVISION, schema_revision
from tests.conftest import REPO, Dockd, write_config

LIBRARIES = ("sqlalchemy", "pydantic", "structlog", "rich", "alembic")
# rich and colorama: structlog's optional extras, imported by structlog unless hidden
NOT_FOR_AN_INGEST = (
    "alembic",
    "starlette",
    "uvicorn",
    "jinja2",
    "boto3",
    "psycopg",
    "rich",
    "colorama",
)

# an empty ingest collects some 20 times after start-up (the interpreter's own start, the
# session); start-up itself, without the pause, adds about 200
_MOST_COLLECTIONS = 60
# what is made after the exit's freeze (this script's own output); without it, 150,000
_MOST_LEFT = 1000

SCRIPT = """
import contextlib, gc, io, json, sys
from dockd.cli.main import main
argv, watched = json.loads(sys.argv[1]), sys.argv[2:]
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(argv)
    except SystemExit as exc:  # --help
        code = exc.code
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(watched))
collections = sum(generation["collections"] for generation in gc.get_stats())
views = sys.modules.get("dockd.core.views")
read_back = views is not None and views.SessionView.__pydantic_complete__
import atexit
atexit._run_exitfuncs()
left = len(gc.get_objects())
print(json.dumps(
    {"code": code, "out": out.getvalue(), "loaded": loaded, "gc": collections,
     "read_back": read_back, "left_at_exit": left}
))
"""


def _run(argv: list[str], watched: tuple[str, ...]) -> dict[str, object]:
    """`dockd ARGV` in a fresh interpreter: its exit code, stdout, which of `watched` it
    imported, how many times the garbage collector ran, whether it built a session's
    view (`read_back`: read the session back from the ledger to show it) and how many
    objects the interpreter's last collections would walk once the exit handlers ran."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(argv), *watched],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith("DOCKD_")},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_importing_the_command_line_loads_no_library() -> None:
    code = f"import sys, dockd.cli.main; print(sorted(set(sys.modules) & set({LIBRARIES!r})))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == "[]"


def test_dockd_help_loads_no_library() -> None:
    found = _run(["--help"], LIBRARIES)
    assert found["code"] == 0
    assert "ingest" in str(found["out"]) and "sessions" in str(found["out"])
    assert found["loaded"] == []


def test_an_ingest_on_a_current_ledger_loads_no_alembic_and_still_records(
    dockd: Dockd, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["--config", str(dockd.config), "ingest", str(empty), "--serial", "SN1", "--json"]
    first = _run(argv, NOT_FOR_AN_INGEST)
    assert first["loaded"] == ["alembic"], "a new ledger is migrated by Alembic"
    checkpoints = len(dockd.custody_events("chain-checkpoint"))
    again = _run(argv, NOT_FOR_AN_INGEST)
    assert again["loaded"] == []
    # start-up pauses the collector (`dockd.app.start_up`): without that, over 200 runs
    assert isinstance(again["gc"], int) and again["gc"] < _MOST_COLLECTIONS
    # frozen at exit (`dockd.services.heap`): else the exit walks some 150,000 objects,
    # a third of the ingest's CPU
    assert isinstance(again["left_at_exit"], int) and again["left_at_exit"] < _MOST_LEFT
    session = json.loads(str(again["out"]))
    assert session["files_seen"] == 0 and session["manifest"] is not None
    started = [e["subject"] for e in dockd.custody_events("session-started")]
    finished = [e["subject"] for e in dockd.custody_events("session-finished")]
    assert started[-1] == finished[-1] == session["id"] and len(started) == 2
    # the chain's head after the session, signed
    assert len(dockd.custody_events("chain-checkpoint")) == checkpoints + 1


def test_a_ledger_behind_the_newest_revision_is_still_migrated(tmp_path: Path) -> None:
    """The revision check is a read, not a skip: a ledger an older dockd left behind is
    brought up to date by the next command, however quick that command is."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    older = ScriptDirectory.from_config(config).get_revision(SCHEMA_REVISION).down_revision
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, str(older))
    dockd_config = write_config(tmp_path / "dockd.toml", tmp_path / "store", url)
    found = _run(["--config", str(dockd_config), "sessions", "--json"], ("alembic",))
    assert found["code"] == 0 and json.loads(str(found["out"])) == []
    assert found["loaded"] == ["alembic"]
    assert schema_revision(engine) == SCHEMA_REVISION


def test_an_ingest_reads_its_session_back_only_to_print_it_as_json(
    dockd: Dockd, tmp_path: Path
) -> None:
    """Without `--json` the lines come from the outcome; reading the session back (a
    query and a view model built) is for the JSON alone."""
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["--config", str(dockd.config), "ingest", str(empty), "--serial", "SN1"]
    as_json = _run([*argv, "--json"], NOT_FOR_AN_INGEST)
    assert as_json["read_back"] is True
    plain = _run(argv, NOT_FOR_AN_INGEST)
    assert plain["read_back"] is False
    assert plain["code"] == as_json["code"]
    shown = json.loads(str(as_json["out"]))["id"]
    said = dockd.custody_events("session-started")[-1]["subject"]
    assert said != shown and said in str(plain["out"])  # the outcome's own line
