"""How long a one-shot `dockd` takes: `dockd --help`, `dockd sessions --json`, `dockd status`
and `dockd ingest` of an empty folder on a warm ledger and store, against `python3 -c pass`
and the libraries every ledger command loads (SQLAlchemy's ORM, pydantic, structlog as
dockd imports it: without rich and colorama), measured in the same run, interleaved.
Two more floors say what the ORM costs: the same libraries with SQLAlchemy Core alone,
and the ORM's floor plus the ledger's table classes with their mappers configured.

Each round runs every command once, in a shuffled order, as a fresh process (the
interpreter the venv's `dockd` script uses, `-m dockd.cli`); the figures are medians
over the rounds of the wall time, the CPU time (user + system, which a busy machine
inflates less) and the peak RSS (never under this script's own, about 19 MiB: Linux
counts the parent's pages the child had before its exec). dockd's bytecode is compiled
first, as `make install` does: a dock never runs from source. The ledger is created
(and migrated) and the store laid out before timing: "warm" means both exist, not that
they are empty (each ingest round adds a dock session). One `-X importtime` run of the
ingest says where its time goes, by library. Goals (issue 17): an empty ingest under
0.4 s; `--help` under 0.25 s.
Results: bench/results/cli.json.

    python bench/cli.py [--rounds N]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, git_state

GOALS_S = {"dockd --help": 0.25, "dockd ingest EMPTY": 0.4}
RESULTS = REPO / "bench" / "results" / "cli.json"
INGEST = "dockd ingest EMPTY"
# the one problem an empty folder's session has on a dock without NTP: not a failure here
CLOCK_PROBLEM = "station-clock-unsynchronised"
FLOOR = "import sqlalchemy.orm, pydantic, structlog"
_STRUCTLOG = "from dockd.adapters.journal import import_structlog; import_structlog()"
_FLOOR_CODE = f"import sqlalchemy.orm, pydantic; {_STRUCTLOG}"
# the floor a ledger path on SQLAlchemy Core alone would have, and what the ORM's table
# classes and mapper set-up add to the ORM's: the ORM's share of an ingest, in one run
CORE_FLOOR = "import sqlalchemy, pydantic, structlog (no ORM)"
_CORE_FLOOR_CODE = f"import sqlalchemy, sqlalchemy.dialects.sqlite, pydantic; {_STRUCTLOG}"
ORM_TABLES = "... + the ledger's ORM classes, mappers configured"
_ORM_TABLES_CODE = (
    f"{_FLOOR_CODE}; import dockd.adapters.ledger.schema; sqlalchemy.orm.configure_mappers()"
)
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \| (\s*)([\w.]+)")


def _commands(config: Path, empty: Path) -> dict[str, list[str]]:
    dockd = [sys.executable, "-m", "dockd.cli"]
    return {
        "python3 -c pass": [sys.executable, "-c", "pass"],
        # the floor of any command that writes the ledger: its three libraries, imported
        # as dockd imports them
        FLOOR: [sys.executable, "-c", _FLOOR_CODE],
        CORE_FLOOR: [sys.executable, "-c", _CORE_FLOOR_CODE],
        ORM_TABLES: [sys.executable, "-c", _ORM_TABLES_CODE],
        "dockd --help": [*dockd, "--help"],
        "dockd sessions --json": [*dockd, "--config", str(config), "sessions", "--json"],
        "dockd status": [*dockd, "--config", str(config), "status"],
        INGEST: [*dockd, "--config", str(config), "ingest", str(empty), "--serial", "BENCH"],
    }


def _once(cmd: list[str], env: dict[str, str], expect: set[int]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of one fresh process."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in expect:
            err.seek(0)
            raise SystemExit(f"{cmd} exited {proc.returncode}: {err.read().decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def _check_ingest(cmd: list[str], env: dict[str, str]) -> int:
    """The empty folder's session as `--json` shows it, so the timed runs are known to do
    the whole ingest; its exit code (1: the clock problem), which every timed run repeats."""
    done = subprocess.run([*cmd, "--json"], capture_output=True, text=True, env=env, cwd=REPO)
    session = json.loads(done.stdout)
    codes = {problem["code"] for problem in session["problems"]}
    if session["files_seen"] != 0 or not codes <= {CLOCK_PROBLEM}:
        raise SystemExit(f"the empty ingest did not go as expected: {done.stdout}")
    return done.returncode


def _import_breakdown(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Milliseconds of import, by top-level package (self times summed), from one run."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *cmd[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    spent: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        found = _IMPORT_LINE.match(line)
        if found:
            spent[found[3].split(".")[0]] += int(found[1])
    top = dict(spent.most_common(12))
    top["(other)"] = sum(spent.values()) - sum(top.values())
    top["(all imports)"] = sum(spent.values())
    return {name: round(us / 1000, 1) for name, us in top.items()}


def _collections(cmd: list[str], env: dict[str, str]) -> int:
    """How many times the garbage collector ran during one run of `cmd` (a `-m dockd.cli`
    command): start-up pauses it (`dockd.app.start_up`); when that breaks, this grows
    from about 20 to over 200, some 80 ms."""
    count = (
        "import atexit, gc, runpy, sys; atexit.register(lambda: print("
        "sum(s['collections'] for s in gc.get_stats()), file=sys.stderr)); "
        "sys.argv = ['dockd', *sys.argv[1:]]; runpy.run_module('dockd.cli', run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", count, *cmd[3:]], capture_output=True, text=True, env=env, cwd=REPO
    )
    return int(done.stderr.strip().splitlines()[-1])


def _figures(wall: list[float], cpu: list[float], rss: list[int], base: float) -> dict[str, Any]:
    return {
        "median_s": round(statistics.median(wall), 4),
        "min_s": round(min(wall), 4),
        "max_s": round(max(wall), 4),
        "over_python_s": round(statistics.median(wall) - base, 4),
        "cpu_median_s": round(statistics.median(cpu), 4),
        "peak_rss_mib": round(max(rss) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    rounds = parser.parse_args().rounds
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKD_")}
    compileall.compile_dir(REPO / "dockd", quiet=1)  # as the installed venv has it
    tmp = tempfile.mkdtemp(prefix="dockd-bench-cli-")
    try:
        config, empty = Path(tmp) / "dockd.toml", Path(tmp) / "empty"
        empty.mkdir()
        config.write_text(
            f'[store]\nroot = "{tmp}/store"\n\n[ledger]\nurl = "sqlite:///{tmp}/ledger.sqlite3"\n'
        )
        commands = _commands(config, empty)
        start = time.perf_counter()
        listed = subprocess.run(  # creates and migrates the ledger
            commands["dockd sessions --json"], capture_output=True, text=True, env=env, cwd=REPO
        ).stdout
        first = time.perf_counter() - start
        assert json.loads(listed) == [], listed
        expect = {name: {0} for name in commands}
        expect[INGEST] = {_check_ingest(commands[INGEST], env)}
        expect["dockd status"] = {0, 1}  # 1 while it shows a "bad" alert (the clock, say)
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        rss: dict[str, list[int]] = {name: [] for name in commands}
        for _ in range(rounds):
            order = list(commands)
            random.shuffle(order)
            for name in order:
                w, c, r = _once(commands[name], env, expect[name])
                wall[name].append(w)
                cpu[name].append(c)
                rss[name].append(r)
        breakdown = _import_breakdown(commands[INGEST], env)
        collections = _collections(commands[INGEST], env)
    finally:  # the store's objects are immutable (chattr +i) where the filesystem allows
        subprocess.run(["chattr", "-R", "-i", tmp], check=False, capture_output=True)
        shutil.rmtree(tmp)
    base = statistics.median(wall["python3 -c pass"])
    figures = {name: _figures(wall[name], cpu[name], rss[name], base) for name in commands}
    for name, goal in GOALS_S.items():
        figures[name] |= {"goal_s": goal, "met": figures[name]["median_s"] < goal}
    result = {
        "what": "a fresh process each: wall time (median of the rounds), CPU time and peak RSS; "
        "the ledger and store exist, bytecode is compiled",
        "rounds": rounds,
        "first_sessions_run_with_migration_s": round(first, 4),
        "commands": figures,
        "ingest_imports_ms_by_package": breakdown,
        "ingest_gc_collections": collections,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "code": git_state(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for name, f in figures.items():
        print(
            f"{name:<44} {f['median_s'] * 1000:7.1f} ms wall, {f['cpu_median_s'] * 1000:7.1f} ms "
            f"CPU, {f['peak_rss_mib']:6.1f} MiB (median of {rounds})"
        )
    print("ingest imports, ms:", json.dumps(breakdown))
    print("ingest garbage collections:", collections)


if __name__ == "__main__":
    main()
