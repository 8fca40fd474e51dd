"""How long `dockd` takes to start: `dockd --help` and `dockd sessions --json` on an
empty ledger, against `python3 -c pass` measured in the same run, interleaved, and
against importing SQLAlchemy's ORM and pydantic alone (the floor of any command that
reads the ledger).

Each round runs the three commands once, in a shuffled order, as fresh processes
(the interpreter the venv's `dockd` script uses, `-m dockd.cli`); the figures are
medians over the rounds. The ledger is created (and migrated) once before timing:
"empty" means no dock sessions, not a ledger that still needs its schema. The goal
is under 0.25 s for both commands on the dock. Results: bench/results/cli.json.

    python bench/cli.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, git_state

GOAL_S = 0.25
RESULTS = REPO / "bench" / "results" / "cli.json"


def _commands(config: Path) -> dict[str, list[str]]:
    dockd = [sys.executable, "-m", "dockd.cli"]
    return {
        "python3 -c pass": [sys.executable, "-c", "pass"],
        # the floor of any command that reads the ledger: its two libraries, imported
        "import sqlalchemy.orm, pydantic": [
            sys.executable,
            "-c",
            "import sqlalchemy.orm, pydantic",
        ],
        "dockd --help": [*dockd, "--help"],
        "dockd sessions --json": [*dockd, "--config", str(config), "sessions", "--json"],
    }


def _once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=env, cwd=REPO, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{cmd} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    rounds = parser.parse_args().rounds
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKD_")}
    with tempfile.TemporaryDirectory(prefix="dockd-bench-cli-") as tmp:
        config = Path(tmp) / "dockd.toml"
        config.write_text(
            f'[store]\nroot = "{tmp}/store"\n\n[ledger]\nurl = "sqlite:///{tmp}/ledger.sqlite3"\n'
        )
        commands = _commands(config)
        first = _once(commands["dockd sessions --json"], env)  # creates and migrates it
        listed = subprocess.run(
            commands["dockd sessions --json"], capture_output=True, text=True, env=env, cwd=REPO
        ).stdout
        assert json.loads(listed) == [], listed
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(rounds):
            order = list(commands)
            random.shuffle(order)
            for name in order:
                times[name].append(_once(commands[name], env))
    baseline = statistics.median(times["python3 -c pass"])
    result = {
        "what": "wall time of a fresh process, median of the rounds; the ledger exists and "
        "holds no dock session",
        "rounds": rounds,
        "goal_s": GOAL_S,
        "first_sessions_run_with_migration_s": round(first, 4),
        "commands": {
            name: {
                "median_s": round(statistics.median(t), 4),
                "min_s": round(min(t), 4),
                "max_s": round(max(t), 4),
                "over_python_s": round(statistics.median(t) - baseline, 4),
                **({"met": statistics.median(t) < GOAL_S} if name.startswith("dockd") else {}),
            }
            for name, t in times.items()
        },
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "code": git_state(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for name, figures in result["commands"].items():
        print(f"{name:<24} {figures['median_s'] * 1000:7.1f} ms (median of {rounds})")


if __name__ == "__main__":
    main()
