"""Stations benchmark: many docks on one PostgreSQL ledger and one bucket at once.

An agency runs tens of docks on one shared ledger and one central bucket, and at shift
change they all dock at once. This starts one private PostgreSQL (as
tests/support/postgres.py does) and one SeaweedFS with an Object Lock bucket (as
tests/support/seaweed.py does), and gives every simulated station its own process, store,
`[station] id`, `[central]` section and recorder: generated MP4 recordings on a loop-mounted
image read through a USB-like link (``bench/recorders.py``: ``--recorder-mib-s`` per
recorder, a cgroup blkio throttle; 0 reads at the disk's speed). Then:

1. the baseline: ALONE_RUNS stations, one after the other, each alone on the ledger;
2. STATIONS stations started at the same moment, each ``dockd ingest`` of its recorder;
3. every station's ``dockd forward`` at the same moment, into the one bucket;
4. at the end, ``dockd audit verify`` for every station, one ``--all-stations``, and the
   ledger's own count of each station's recordings.

Per-station throughput is measured two ways: the dock session's own copy rate (bytes
copied / its finished_at - started_at, from the ledger), and the process's wall rate
(bytes / the whole ``dockd ingest`` command, with Python's start-up and the ledger's
opening). Each concurrent station is compared with the median alone rate (min and median
ratios; the target is on the session rate). A failed transaction is a non-zero exit, a
LEDGER_* error on stderr, or an ERROR line in the PostgreSQL log.

Why throttle: on a real dock the recorder's USB read sets the pace and every dock has its
own cores. Here 20 stations share this machine's cores, so with recorders as fast as the
disk (``--recorder-mib-s 0``) each gets about cores/20 of one alone and the ratio measures
the cores. With recorders at a USB 2.0 rate whose sum the machine can hash and verify, what
is left to cost the stations each other is what they share for real: the ledger (each
station's own custody chain and advisory lock) and the bucket.

Writes bench/results/stations.json and prints a summary. Run as root (PostgreSQL's
initdb runs as the postgres user; loop devices, mounts and cgroups).

    .venv/bin/python bench/stations.py [--stations N] [--files N] [--file-mib N]
        [--recorder-mib-s R]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import sqlalchemy as sa
from _pytest.outcomes import Skipped

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: bench/ is on sys.path, the repo is not
    sys.path.insert(0, str(REPO))

from bench.common import git_state  # noqa: E402
from bench.ingest import cpu_model, mp4_header, remove_tree  # noqa: E402
from bench.recorders import Recorder, drop_caches, recorder, throttle_available  # noqa: E402
from tests.support.ntp import ntp_responder  # noqa: E402
from tests.support.postgres import running_postgres  # noqa: E402
from tests.support.seaweed import SeaweedServer, running_seaweed  # noqa: E402

WORK = REPO / "bench" / "work-stations"
RESULTS = REPO / "bench" / "results" / "stations.json"
MIB = 1 << 20
BADGE = "007"
FIRST_START = datetime(2026, 11, 22, 8, 15, 0)
ALONE_RUNS = 3
TARGET_RATIO = 0.8
BUCKET = "agency-evidence"
# a USB 2.0 recorder reads at 10-35 MiB/s; 20 of them at 6 MiB/s (120 MiB/s) is what a
# 2-core bench machine can copy, hash and read back for 20 processes at once
DEFAULT_RECORDER_MIB_S = 6.0


@dataclass(frozen=True)
class Station:
    name: str  # [station] id
    serial: str
    home: Path
    recorder: Recorder

    @property
    def config(self) -> Path:
        return self.home / "dockd.toml"

    @property
    def source(self) -> Path:
        return self.recorder.mount


@dataclass(frozen=True)
class Ingest:
    station: Station
    seconds: float  # the whole `dockd ingest` process
    returncode: int
    stderr: str


def fail(message: str) -> NoReturn:
    raise SystemExit(f"bench/stations.py: ABORT: {message}")


def make_station(
    stack: contextlib.ExitStack,
    name: str,
    serial: str,
    url: str,
    central: SeaweedServer,
    args: argparse.Namespace,
) -> Station:
    """Its own store, config and recorder: random content, so no two stations share an
    object; all of them forward to the one bucket under one prefix, as an agency's do."""
    home = WORK / name
    file_size = args.file_mib * MIB

    def fill(root: Path) -> None:
        folder = root / "DCIM" / "100MEDIA"
        folder.mkdir(parents=True)
        for i in range(args.files):
            start = FIRST_START + timedelta(minutes=10 * i)
            header = mp4_header(file_size, start, 600)
            name_ = f"{serial}_{BADGE}_{start:%Y%m%d%H%M%S}_{i + 1:04d}.MP4"
            with open(folder / name_, "wb") as out:
                out.write(header)
                out.write(os.urandom(file_size - len(header)))

    image_bytes = args.files * file_size * 11 // 10 + 64 * MIB
    card = stack.enter_context(recorder(home, name, image_bytes, fill, args.recorder_mib_s))
    station = Station(name, serial, home, card)
    c = central.central_config(BUCKET)
    station.config.write_text(
        f'[store]\nroot = "{home / "store"}"\n[ledger]\nurl = "{url}"\n'
        f'[station]\nid = "{name}"\n'
        f'[central]\nendpoint = "{c.endpoint}"\nbucket = "{c.bucket}"\n'
        f'region = "{c.region}"\naccess_key = "{c.access_key}"\n'
        f'secret_key = "{c.secret_key.get_secret_value() if c.secret_key else ""}"\n',
        "utf-8",
    )
    return station


def dockd(station: Station, *args: str) -> list[str]:
    """This tree's dockd (not whichever one the venv installed)."""
    return [sys.executable, "-m", "dockd.cli", "--config", str(station.config), *args]


def start(station: Station, *args: str) -> subprocess.Popen[bytes]:
    """A dockd command of this station, its reads of the recorder through the recorder's
    link (the throttle's cgroup is entered before dockd starts)."""
    out_file, err_file = (station.home / f"{args[0]}.{kind}" for kind in ("out", "err"))
    with open(out_file, "wb") as out, open(err_file, "wb") as err:  # files: a pipe can fill
        return subprocess.Popen(
            dockd(station, *args),
            stdout=out,
            stderr=err,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            preexec_fn=station.recorder.enter,
        )


def ingest(stations: list[Station]) -> list[Ingest]:
    return at_once(stations, "ingest", "{source}", "--serial", "{serial}")


def at_once(stations: list[Station], *args: str) -> list[Ingest]:
    """Start one command on every station at once; each one's wall time to its own exit."""
    started = time.perf_counter()
    running = {}
    for s in stations:
        argv = [a.format(source=s.source, serial=s.serial) for a in args]
        running[s.name] = (s, start(s, *argv))
    done: dict[str, Ingest] = {}
    deadline = started + 600
    while running:
        if time.perf_counter() > deadline:
            fail(f"{args[0]} still running after 600 s: {sorted(running)}")
        for name, (station, proc) in list(running.items()):
            if proc.poll() is not None:
                err = (station.home / f"{args[0]}.err").read_text(errors="replace")
                done[name] = Ingest(station, time.perf_counter() - started, proc.returncode, err)
                del running[name]
        time.sleep(0.01)
    return [done[s.name] for s in stations]


def session_rates(url: str) -> dict[str, dict[str, float]]:
    """Each station's dock session as the ledger recorded it: bytes, seconds, recordings."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(
                sa.text(
                    "SELECT station, bytes_copied, copied, started_at, finished_at "
                    "FROM dock_sessions"
                )
            ).all()
            located: dict[str, int] = {
                str(station): int(n)
                for station, n in c.execute(
                    sa.text(
                        "SELECT station, count(*) FROM object_locations "
                        "WHERE removed_at IS NULL GROUP BY station"
                    )
                )
            }
    finally:
        engine.dispose()
    out: dict[str, dict[str, float]] = {}
    for station, nbytes, copied, started, finished in rows:
        seconds = (finished - started).total_seconds()
        out[station] = {
            "bytes": int(nbytes),
            "recordings": int(copied),
            "session_seconds": seconds,
            "session_mib_s": nbytes / MIB / seconds,
            "objects_held": int(located.get(station, 0)),
        }
    return out


@contextlib.contextmanager
def lock_waits(url: str) -> Iterator[list[int]]:
    """Sample, every 0.2 s, how many ledger connections wait on a PostgreSQL lock (the
    custody chain's advisory lock among them): what queues the stations on each other."""
    samples: list[int] = []
    stop = threading.Event()
    engine = sa.create_engine(url)
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"
    )

    def sample() -> None:
        with engine.connect() as c:
            while not stop.wait(0.2):
                samples.append(int(c.execute(query).scalar_one()))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()
        engine.dispose()


def audit(station: Station, *scope: str) -> dict[str, Any]:
    proc = subprocess.run(
        dockd(station, "audit", "verify", "--json", *scope),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
        timeout=600,
    )
    try:
        found: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"exit": proc.returncode, "stdout": proc.stdout[-500:], "stderr": proc.stderr[-500:]}
    return {
        "exit": proc.returncode,
        "chain_broken": found.get("broken"),
        "differences": len(found.get("differences") or []),
        "events": found.get("events"),
        "anchor_findings": [str(a) for a in found.get("anchors") or []][:5],
    }


def failures(runs: list[Ingest]) -> dict[str, Any]:
    return {
        "nonzero_exits": sum(1 for r in runs if r.returncode != 0),
        "ledger_errors": sum(len(re.findall(r"LEDGER_[A-Z_]+", r.stderr)) for r in runs),
        "stderr_of_failed": {r.station.name: r.stderr[-500:] for r in runs if r.returncode != 0},
    }


def forwarded(runs: list[Ingest], wall: float, objects_each: int) -> dict[str, Any]:
    """Every station's `dockd forward --json` into the one bucket: each must confirm its
    recordings and its session's manifest, and exit 0."""
    confirmed: dict[str, int | None] = {}
    for r in runs:
        out = (r.station.home / "forward.out").read_text(errors="replace")
        try:
            confirmed[r.station.name] = int(json.loads(out)["confirmed"])
        except (ValueError, KeyError):
            confirmed[r.station.name] = None
    return {
        "wall_seconds": round(wall, 3),
        "stations": len(runs),
        "exit_0": sum(1 for r in runs if r.returncode == 0),
        "objects_expected_each": objects_each,
        "stations_confirming_all": sum(1 for n in confirmed.values() if n == objects_each),
        "confirmed_each": confirmed,
        **failures(runs),
    }


def ratio_summary(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    file_size = args.file_mib * MIB
    per_station = args.files * file_size
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(running_postgres(WORK / "pg"))
        except Skipped as exc:
            fail(f"cannot start PostgreSQL: {exc.msg}")
        total = args.stations + ALONE_RUNS
        print(f"generating {total} stations x {args.files} x {args.file_mib} MiB ...", flush=True)
        central = stack.enter_context(running_seaweed(WORK / "seaweed"))
        central.make_bucket(BUCKET)
        alone = [
            make_station(stack, f"alone-{i:02d}", f"SNA{i:02d}", url, central, args)
            for i in range(1, ALONE_RUNS + 1)
        ]
        many = [
            make_station(stack, f"dock-{i:02d}", f"SND{i:02d}", url, central, args)
            for i in range(1, args.stations + 1)
        ]

        alone_runs = []
        for station in alone:  # the first one also creates the schema (migrations)
            drop_caches()
            (done,) = ingest([station])
            print(f"alone {station.name}: {done.seconds:.2f} s exit {done.returncode}", flush=True)
            alone_runs.append(done)
        drop_caches()
        print(f"{len(many)} stations at once ...", flush=True)
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        with lock_waits(url) as waiting:
            many_runs = ingest(many)
        wall = time.perf_counter() - t0
        print(f"  all done in {wall:.2f} s; forwarding, all at once ...", flush=True)
        t0 = time.perf_counter()
        forwards = at_once([*alone, *many], "forward", "--json")
        forward_wall = time.perf_counter() - t0
        print(f"  all forwarded in {forward_wall:.2f} s", flush=True)

        sessions = session_rates(url)
        audits = {s.name: audit(s) for s in [*alone, *many]}
        agency = audit(many[0], "--all-stations")
        pg_log = (WORK / "pg" / "postgres.log").read_text(errors="replace")

    alone_session = statistics.median(sessions[s.name]["session_mib_s"] for s in alone)
    alone_process = statistics.median(per_station / MIB / r.seconds for r in alone_runs)
    session_ratios = [sessions[s.name]["session_mib_s"] / alone_session for s in many]
    process_ratios = [per_station / MIB / r.seconds / alone_process for r in many_runs]
    pg_errors = [line for line in pg_log.splitlines() if " ERROR: " in line]
    bad_counts = {name: s for name, s in sessions.items() if s["recordings"] != args.files}
    return {
        "stations": args.stations,
        "recorder_read_mib_s": args.recorder_mib_s or "unthrottled",
        "files_per_station": args.files,
        "file_bytes": file_size,
        "bytes_per_station": per_station,
        "alone": {
            "runs": ALONE_RUNS,
            "session_mib_s_each": [round(sessions[s.name]["session_mib_s"], 1) for s in alone],
            "process_seconds_each": [round(r.seconds, 3) for r in alone_runs],
            "session_mib_s_median": round(alone_session, 1),
            "process_mib_s_median": round(alone_process, 1),
        },
        "concurrent": {
            "wall_seconds": round(wall, 3),
            "aggregate_mib_s": round(args.stations * per_station / MIB / wall, 1),
            "session_mib_s_each": {
                s.name: round(sessions[s.name]["session_mib_s"], 1) for s in many
            },
            "process_seconds_each": {r.station.name: round(r.seconds, 3) for r in many_runs},
            "connections_waiting_on_a_lock": {
                "samples": len(waiting),
                "mean": round(statistics.mean(waiting), 2) if waiting else None,
                "max": max(waiting, default=None),
                "share_of_samples_with_a_waiter": round(
                    sum(1 for w in waiting if w) / len(waiting), 3
                )
                if waiting
                else None,
            },
            "load_average_1min_before": round(load_before, 2),
        },
        "forward_all_at_once": forwarded(forwards, forward_wall, args.files + 1),
        "ratio_session_vs_alone": ratio_summary(session_ratios),
        "ratio_process_vs_alone": ratio_summary(process_ratios),
        "target": f"each station >= {TARGET_RATIO} x alone",
        "target_met": min(session_ratios) >= TARGET_RATIO,
        "failed_transactions": {
            **failures([*alone_runs, *many_runs]),
            "postgres_log_errors": len(pg_errors),
            "postgres_log_error_lines": pg_errors[:20],
            "stations_with_wrong_recording_count": sorted(bad_counts),
        },
        "audit_verify": {
            "command": "dockd audit verify, per station; then dockd audit verify --all-stations",
            "passed": sum(1 for a in audits.values() if a["exit"] == 0),
            "chain_intact_and_rows_match": sum(
                1
                for a in audits.values()
                if a.get("chain_broken") is None and a.get("differences") == 0
            ),
            "all_stations": agency,
            "each": audits,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="many stations on one PostgreSQL ledger")
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--file-mib", type=int, default=8)
    parser.add_argument(
        "--recorder-mib-s",
        type=float,
        default=DEFAULT_RECORDER_MIB_S,
        help="each recorder's read rate (USB link); 0: as fast as the disk",
    )
    parser.add_argument("--keep-work", action="store_true")
    args = parser.parse_args()
    if args.recorder_mib_s and (why := throttle_available()):
        fail(f"cannot throttle the recorders ({why}); run as root, or --recorder-mib-s 0")
    if os.geteuid() != 0:
        fail("run as root (PostgreSQL's initdb, loop devices and mounts)")
    remove_tree(WORK)
    WORK.mkdir(parents=True)
    code_before = git_state()
    started = time.perf_counter()
    try:
        with ntp_responder(0.0) as server:
            os.environ["DOCKD_CLOCK__NTP_SERVERS"] = f'["{server}"]'
            measured = run(args)
    finally:
        if not args.keep_work:
            remove_tree(WORK)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "git": code_before,
        "dockd_changed_during_run": git_state()["dockd_sha256"] != code_before["dockd_sha256"],
        "total_seconds": round(time.perf_counter() - started, 1),
        "shared_machine_note": (
            "other engineers run tests on this machine at the same time: see "
            "concurrent.load_average_1min_before"
        ),
        "throttle_note": (
            f"each recorder reads at {args.recorder_mib_s} MiB/s through a cgroup blkio "
            "throttle on its loop device (bench/recorders.py), as a recorder's USB link sets "
            "a real dock's pace; 0 = unthrottled, where the stations only measure the "
            f"{os.cpu_count()} shared cores"
        ),
        **measured,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    failed = report["failed_transactions"]
    print(
        f"alone: {report['alone']['session_mib_s_median']} MiB/s per session; "
        f"{args.stations} at once: {report['concurrent']['aggregate_mib_s']} MiB/s aggregate\n"
        f"per-station session ratio vs alone: {report['ratio_session_vs_alone']}\n"
        f"per-station process ratio vs alone: {report['ratio_process_vs_alone']}\n"
        f"failed: {failed['nonzero_exits']} exits, {failed['ledger_errors']} ledger errors, "
        f"{failed['postgres_log_errors']} PostgreSQL errors\n"
        f"audit verify: exit 0 on {report['audit_verify']['passed']}/{args.stations + ALONE_RUNS}"
        f"; chain intact and rows matching on "
        f"{report['audit_verify']['chain_intact_and_rows_match']}; --all-stations exit "
        f"{report['audit_verify']['all_stations']['exit']}\n"
        f"forward, all at once: exit 0 on {report['forward_all_at_once']['exit_0']}, "
        f"all confirmed on {report['forward_all_at_once']['stations_confirming_all']}\n"
        f"total {report['total_seconds']} s; wrote {RESULTS}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
