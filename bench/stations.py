"""Stations benchmark: many docks on one PostgreSQL ledger and one bucket at once.

An agency runs tens of docks on one shared ledger and one central bucket, and at shift
change they all dock at once. This starts one private PostgreSQL (as
tests/support/postgres.py does) and one SeaweedFS with an Object Lock bucket (as
tests/support/seaweed.py does), and gives every simulated station its own process, store,
`[station] id`, `[central]` section and recorder: generated MP4 recordings on a loop-mounted
image read through a USB-like link (bench/recorders.py: ``--recorder-mib-s`` per recorder,
default 30 MiB/s, USB 2.0 high speed's usual rate; a cgroup v1 or v2 throttle).

Two sets, each on stations of its own:

- ``bulk``: a shift's recordings (``--files`` x ``--file-mib``), bound by bytes: copy,
  hash, read-back, upload;
- ``ledger``: many short clips (``--small-files`` x ``--small-kib``), bound by the ledger:
  every recording appends custody events to its station's chain, so the per-station chain
  locks and PostgreSQL see hundreds of transactions a second.

For each set: ALONE_RUNS stations one after the other, each alone on the ledger and the
bucket; then ``--stations`` stations started at the same moment. Every station, alone or
not, forwards to the bucket WHILE it ingests, as a dock's daemon does: a forwarding loop
(bench/station_load.py ``forward_loop``, one pass every ``--forward-interval`` s) runs
from before its ingest until its backlog is confirmed. At the end, ``dockd audit verify``
for every station and one ``--all-stations``.

Each station's throughput is measured two ways, and both are judged against
TARGET_RATIO x the median alone station: the dock session's copy rate (bytes / its
finished_at - started_at, from the ledger) and the process's rate (bytes / the whole
``dockd ingest``, with Python's start-up and the ledger's opening). A failed transaction
is a non-zero exit, a LEDGER_* error on stderr (ingest or forwarding), or an ERROR line in
the PostgreSQL log.

What it can and cannot show: the stations share this machine's cores, which a real dock
does not. With 20 recorders at 30 MiB/s (600 MiB/s) a small machine cannot copy, hash and
read back for all at once, so a ratio under the target there is the cores, and says so in
``concurrent.cpu_bound_note``; lower ``--recorder-mib-s`` only to see the ledger's share.

Writes bench/results/stations.json and prints a summary. Run as root (PostgreSQL's
initdb runs as the postgres user; loop devices, mounts and cgroups).

    .venv/bin/python bench/stations.py [--stations N] [--files N] [--file-mib N]
        [--small-files N] [--small-kib N] [--recorder-mib-s R] [--forward-interval S]
        [--sets bulk,ledger]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _pytest.outcomes import Skipped

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: bench/ is on sys.path, the repo is not
    sys.path.insert(0, str(REPO))

from bench.common import git_state  # noqa: E402
from bench.ingest import cpu_model, remove_tree  # noqa: E402
from bench.recorders import drop_caches, throttle_available, throttle_mechanism  # noqa: E402
from bench.station_load import (  # noqa: E402
    BUCKET,
    MIB,
    Forwarding,
    Run,
    Shape,
    Station,
    audit,
    fail,
    forwarding,
    ingest,
    ledger_counts,
    lock_waits,
    machine_load,
    make_station,
)
from bench.stations_figures import (  # noqa: E402
    failed_transactions,
    forwarded,
    outside_session,
    printed,
    summary,
)
from tests.support.ntp import ntp_responder  # noqa: E402
from tests.support.postgres import running_postgres  # noqa: E402
from tests.support.seaweed import SeaweedServer, running_seaweed  # noqa: E402

WORK = REPO / "bench" / "work-stations"
RESULTS = REPO / "bench" / "results" / "stations.json"
ALONE_RUNS = 3
TARGET_RATIO = 0.8
USB2_MIB_S = 30.0  # USB 2.0 high speed mass storage reads 10-35 MiB/s; 30 is a good card


def docked(stations: list[Station], interval: float) -> tuple[list[Run], list[Forwarding]]:
    """The stations' ingests started at once, each with its forwarding loop running."""
    with forwarding(stations, interval) as loops:
        runs = ingest(stations)
    by_name = {f.station.name: f for f in loops}
    return runs, [by_name[r.station.name] for r in runs]


def run_set(
    shape: Shape, url: str, central: SeaweedServer, args: argparse.Namespace
) -> tuple[dict[str, Any], list[Station]]:
    code = shape.name[0].upper()
    with contextlib.ExitStack() as recorders:  # unmounted before the next set's are made
        print(
            f"{shape.name}: generating {ALONE_RUNS} + {args.stations} stations x "
            f"{shape.files} x {shape.file_bytes // 1024} KiB ...",
            flush=True,
        )

        def station(kind: str, i: int) -> Station:
            name, serial = f"{shape.name}-{kind}-{i:02d}", f"S{code}{kind[0].upper()}{i:02d}"
            return make_station(
                recorders, WORK, name, serial, shape, url, central, args.recorder_mib_s
            )

        alone = [station("alone", i) for i in range(1, ALONE_RUNS + 1)]
        many = [station("dock", i) for i in range(1, args.stations + 1)]
        alone_runs: list[Run] = []
        alone_loops: list[Forwarding] = []
        for s in alone:
            drop_caches()
            (done,), (loop,) = docked([s], args.forward_interval)
            print(f"  alone {s.name}: {done.seconds:.2f} s exit {done.returncode}", flush=True)
            alone_runs.append(done)
            alone_loops.append(loop)
        drop_caches()
        print(f"  {len(many)} stations at once ...", flush=True)
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        with lock_waits(url) as waiting, machine_load() as machine:
            many_runs, many_loops = docked(many, args.forward_interval)
        wall = time.perf_counter() - t0
        print(f"  all ingested and forwarded in {wall:.2f} s", flush=True)

    ledger = ledger_counts(url)
    per = shape.bytes_per_station / MIB
    alone_session = statistics.median(ledger[s.name]["session_mib_s"] for s in alone)
    alone_process = statistics.median(per / r.seconds for r in alone_runs)
    ingest_wall = max(r.seconds for r in many_runs)
    events = sum(ledger[s.name]["custody_events"] for s in many)
    stations: dict[str, Any] = {}
    for r, loop in zip(many_runs, many_loops, strict=True):
        row = ledger[r.station.name]
        stations[r.station.name] = {
            "session_mib_s": round(row["session_mib_s"], 2),
            "process_mib_s": round(per / r.seconds, 2),
            "ratio_session": round(row["session_mib_s"] / alone_session, 3),
            "ratio_process": round(per / r.seconds / alone_process, 3),
            "process_seconds": round(r.seconds, 3),
            "process_cpu_seconds": round(r.cpu_seconds, 3),
            **outside_session(r, row),
            "recordings": int(row["recordings"]),
            "custody_events": int(row["custody_events"]),
            "forwarding": forwarded(loop, r),
        }
    session_ratios = [s["ratio_session"] for s in stations.values()]
    process_ratios = [s["ratio_process"] for s in stations.values()]
    every = [*alone_runs, *many_runs]
    loops = [*alone_loops, *many_loops]
    objects_each = shape.files + 1  # its recordings and its session's manifest
    wrong = sorted(
        r.station.name for r in every if ledger[r.station.name]["recordings"] != shape.files
    )
    result = {
        "files_per_station": shape.files,
        "file_bytes": shape.file_bytes,
        "bytes_per_station": shape.bytes_per_station,
        "alone": {
            "runs": ALONE_RUNS,
            "session_mib_s_each": [round(ledger[s.name]["session_mib_s"], 2) for s in alone],
            "process_seconds_each": [round(r.seconds, 3) for r in alone_runs],
            "process_cpu_seconds_each": [round(r.cpu_seconds, 3) for r in alone_runs],
            "outside_session_each": [
                outside_session(r, ledger[r.station.name]) for r in alone_runs
            ],
            "session_mib_s_median": round(alone_session, 2),
            "process_mib_s_median": round(alone_process, 2),
            "forwarding_each": {
                r.station.name: forwarded(f, r)
                for r, f in zip(alone_runs, alone_loops, strict=True)
            },
        },
        "concurrent": {
            "stations": args.stations,
            "ingest_wall_seconds": round(ingest_wall, 3),
            "wall_seconds_until_all_forwarded": round(wall, 3),
            "aggregate_ingest_mib_s": round(args.stations * per / ingest_wall, 1),
            "recordings_per_s": round(args.stations * shape.files / ingest_wall, 1),
            "custody_events_per_s": round(events / ingest_wall, 1),
            "cores_used_by_the_ingests": round(
                sum(r.cpu_seconds for r in many_runs) / ingest_wall, 2
            ),
            "bytes_forwarded_during_ingests": sum(
                s["forwarding"]["bytes_sent_by_passes_overlapping_ingest"]
                for s in stations.values()
            ),
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
            "seconds_before_session_median": {
                "alone": round(
                    statistics.median(
                        outside_session(r, ledger[r.station.name])["seconds_before_session"]
                        for r in alone_runs
                    ),
                    3,
                ),
                "at_once": round(
                    statistics.median(s["seconds_before_session"] for s in stations.values()), 3
                ),
            },
            "load_average_1min_before": round(load_before, 2),
            "machine_cpu_while_docking": machine,
            "cpu_bound_note": (
                f"{args.stations} recorders at {args.recorder_mib_s} MiB/s ask for "
                f"{args.stations * args.recorder_mib_s:.0f} MiB/s of copy, hash and read-back "
                f"on {os.cpu_count()} shared cores; aggregate_ingest_mib_s is what they got. "
                "machine_cpu_while_docking.busy_share near 1 means the shared cores were "
                "the limit (ingests, forwarding loops, PostgreSQL, SeaweedFS, other work); "
                "process_cpu_seconds near the alone ones with a low busy share means the "
                "ingests waited (ledger, disk: see connections_waiting_on_a_lock, iowait_share)"
            ),
        },
        "per_station": stations,
        "ratio_session_vs_alone": summary(session_ratios),
        "ratio_process_vs_alone": summary(process_ratios),
        "target_met": {
            "session": min(session_ratios) >= TARGET_RATIO,
            "process": min(process_ratios) >= TARGET_RATIO,
        },
        "failed_transactions": {
            **failed_transactions(every, loops),
            "stations_with_wrong_recording_count": wrong,
        },
        "forwarding": {
            "objects_expected_each": objects_each,
            "stations_confirming_all": sum(
                1 for f in loops if sum(p["confirmed"] for p in f.passes) == objects_each
            ),
            "stations": len(loops),
            "failed_puts": sum(
                forwarded(f, r)["failed"] for r, f in zip(every, loops, strict=True)
            ),
        },
    }
    return result, [*alone, *many]


def shapes(args: argparse.Namespace) -> list[Shape]:
    known = {
        "bulk": Shape("bulk", args.files, args.file_mib * MIB, 600),
        "ledger": Shape("ledger", args.small_files, args.small_kib * 1024, 30),
    }
    wanted = [name.strip() for name in args.sets.split(",") if name.strip()]
    if unknown := [n for n in wanted if n not in known]:
        fail(f"unknown --sets {unknown}: choose from {sorted(known)}")
    return [known[n] for n in wanted]


def create_schema(url: str) -> None:
    """The first ledger open migrates: done before any timed run, so no alone station
    pays for it and no forwarding loop waits on an ingest's migration."""
    from dockd.adapters.ledger.engine import LedgerEngine

    LedgerEngine(url).engine.dispose()


def run(args: argparse.Namespace) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(running_postgres(WORK / "pg"))
        except Skipped as exc:
            fail(f"cannot start PostgreSQL: {exc.msg}")
        create_schema(url)
        central = stack.enter_context(running_seaweed(WORK / "seaweed"))
        central.make_bucket(BUCKET)
        sets: dict[str, Any] = {}
        everyone: list[Station] = []
        for shape in shapes(args):
            sets[shape.name], made = run_set(shape, url, central, args)
            everyone += made
        audits = {s.name: audit(s) for s in everyone}
        agency = audit(everyone[0], "--all-stations")
        pg_log = (WORK / "pg" / "postgres.log").read_text(errors="replace")
    pg_errors = [line for line in pg_log.splitlines() if " ERROR: " in line]
    intact = sum(
        1 for a in audits.values() if a.get("chain_broken") is None and a.get("differences") == 0
    )
    all_failures = [s["failed_transactions"] for s in sets.values()]
    no_failures = not pg_errors and all(
        not f["ingest_nonzero_exits"]
        and not f["forwarding_nonzero_exits"]
        and not f["ledger_errors"]
        and not f["stations_with_wrong_recording_count"]
        for f in all_failures
    )
    chains = intact == len(audits) and agency["exit"] == 0
    forwarded_all = all(
        s["forwarding"]["stations_confirming_all"] == s["forwarding"]["stations"]
        for s in sets.values()
    )
    return {
        "stations": args.stations,
        "recorder_read_mib_s": args.recorder_mib_s or "unthrottled",
        "forward_interval_s": args.forward_interval,
        "sets": sets,
        "target": (
            f"every station's session AND process rate >= {TARGET_RATIO} x alone, in every set; "
            "no failed transaction; every chain verifies; every object forwarded"
        ),
        "target_met": no_failures
        and chains
        and forwarded_all
        and all(s["target_met"]["session"] and s["target_met"]["process"] for s in sets.values()),
        "postgres_log_errors": len(pg_errors),
        "postgres_log_error_lines": pg_errors[:20],
        "audit_verify": {
            "command": "dockd audit verify, per station; then dockd audit verify --all-stations",
            "stations": len(audits),
            "passed": sum(1 for a in audits.values() if a["exit"] == 0),
            "chain_intact_and_rows_match": intact,
            "all_stations": agency,
            "each": audits,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="many stations on one PostgreSQL ledger")
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--files", type=int, default=20, help="bulk set: recordings each")
    parser.add_argument("--file-mib", type=int, default=16, help="bulk set: MiB each")
    parser.add_argument("--small-files", type=int, default=500, help="ledger set: clips each")
    parser.add_argument("--small-kib", type=int, default=64, help="ledger set: KiB each")
    parser.add_argument("--sets", default="bulk,ledger", help="bulk, ledger or both")
    parser.add_argument(
        "--recorder-mib-s",
        type=float,
        default=USB2_MIB_S,
        help="each recorder's read rate (its USB link); 0: as fast as the disk",
    )
    parser.add_argument(
        "--forward-interval", type=float, default=1.0, help="s between forwarding passes"
    )
    parser.add_argument("--keep-work", action="store_true")
    args = parser.parse_args()
    if min(args.stations, args.files, args.file_mib, args.small_files, args.small_kib) < 1:
        parser.error("--stations, --files, --file-mib, --small-files, --small-kib: at least 1")
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
        "throttle_note": (
            f"each recorder reads at {args.recorder_mib_s} MiB/s through a "
            f"{throttle_mechanism()} throttle on its loop device (bench/recorders.py), as a "
            "recorder's USB link sets a real dock's pace; 0 = unthrottled"
        ),
        **measured,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(printed(report, RESULTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
