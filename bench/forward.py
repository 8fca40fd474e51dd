"""Forwarding benchmark: dockd's central-store upload against a plain boto3 upload.

dockd's put does more than ``upload_file``: every object is create-only, locked in
COMPLIANCE in the same request, carries its SHA-256 (per part, plus the whole file hashed
again before completing), so the question is what that costs. Both send the same files
to the same loopback SeaweedFS, to fresh keys, objects ``streams`` at a time in a thread
pool (as the forwarder runs them):

1. ``dockd``: `S3CentralStore.put` (``[central] streams`` parts at a time per object),
2. ``boto3``: ``upload_file`` with boto3's default TransferConfig and client.

Two sets, a few long recordings (multipart) and many short ones (single puts); each set
starts with a warm-up round that is not counted, and every round runs the tools in a random
order (``--seed``). Throughput is bytes sent / wall seconds, median over the
rounds; ``upload_ratio`` is dockd's median throughput over boto3's for both sets together
(each round's seconds summed), target >= 0.9.
Then ``docking_ratio`` (bench/forward_dock.py): a recorder docked by `dockd run` while it
forwards a backlog, over the same dock with nothing to forward; target >= 0.8.
Writes bench/results/forward.json and prints a table.

    .venv/bin/python bench/forward.py [--quick] [--rounds N] [--streams N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import socket
import statistics
import struct
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: bench/ is on sys.path, the repo is not
    sys.path.insert(0, str(REPO))

import boto3  # noqa: E402

from bench.common import git_state  # noqa: E402
from bench.forward_dock import docking_with_forwarding  # noqa: E402
from dockd.adapters.central import S3CentralStore  # noqa: E402
from dockd.core.forwarding import CentralPut  # noqa: E402
from tests.support.seaweed import (  # noqa: E402
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    SeaweedServer,
    running_seaweed,
)

WORK = REPO / "bench" / "work-forward"
RESULTS = REPO / "bench" / "results" / "forward.json"
MIB = 1 << 20
TOOLS = ("dockd", "boto3")
TARGETS = {"upload_ratio": (">=", 0.9), "docking_ratio": (">=", 0.8)}


@dataclass(frozen=True)
class Source:
    path: Path
    size: int
    sha256: str  # the ledger's digest, known before forwarding: not timed


def make_sources(root: Path, shapes: list[tuple[int, int]]) -> list[Source]:
    """Incompressible, pairwise-distinct files; one random block stamped per file and
    block keeps generating them cheap."""
    root.mkdir(parents=True)
    block = bytearray(os.urandom(16 * MIB))
    sources: list[Source] = []
    for count, size in shapes:
        for _ in range(count):
            path = root / f"{root.name}-{len(sources):03d}"
            digest = hashlib.sha256()
            with open(path, "wb") as out:
                left, n = size, 0
                while left > 0:
                    block[:16] = struct.pack("<QQ", len(sources), n)
                    chunk = memoryview(block)[: min(left, len(block))]
                    out.write(chunk)
                    digest.update(chunk)
                    left -= len(chunk)
                    n += 1
            sources.append(Source(path, size, digest.hexdigest()))
    return sources


def dockd_upload(server: SeaweedServer, bucket: str, streams: int) -> Callable[..., None]:
    store = S3CentralStore(server.central_config(bucket, streams=streams))
    retain = datetime.now(UTC) + timedelta(days=1)

    def send(sources: list[Source], prefix: str) -> None:
        def one(source: Source) -> None:
            key = f"{prefix}{source.path.name}"
            store.put(CentralPut(key, source.size, source.sha256, retain, False), source.path)

        with ThreadPoolExecutor(streams) as pool:
            list(pool.map(one, sources))

    return send


def boto3_upload(server: SeaweedServer, bucket: str, streams: int) -> Callable[..., None]:
    """What an admin would write: defaults everywhere but the endpoint and the keys."""
    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )

    def send(sources: list[Source], prefix: str) -> None:
        def one(source: Source) -> None:
            client.upload_file(str(source.path), bucket, f"{prefix}{source.path.name}")

        with ThreadPoolExecutor(streams) as pool:
            list(pool.map(one, sources))

    return send


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc: the server's share of the work."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_set(
    name: str,
    sources: list[Source],
    uploads: dict[str, Callable[..., None]],
    rounds: int,
    server_pid: int,
    rng: random.Random,
) -> dict[str, Any]:
    """Wall time is what the target is about; CPU seconds (this process, and the server)
    say what each tool costs however busy the machine is with other work. Whichever tool
    went first in a round was measured faster (the server's state, not the client): a
    discarded warm-up round and a random order per round keep that out of the ratio."""
    total = sum(s.size for s in sources)
    seconds: dict[str, list[float]] = {tool: [] for tool in TOOLS}
    client_cpu: dict[str, list[float]] = {tool: [] for tool in TOOLS}
    server_cpu: dict[str, list[float]] = {tool: [] for tool in TOOLS}
    orders: list[list[str]] = []
    for tool in shuffled(TOOLS, rng):  # warm-up, not counted: a fresh set's first round
        uploads[tool](sources, f"{name}/warm-up/{tool}/")  # is the server's, not the tool's
    for r in range(rounds):
        order = shuffled(TOOLS, rng)
        orders.append(order)
        for tool in order:
            started, cpu, served = time.perf_counter(), time.process_time(), cpu_seconds(server_pid)
            uploads[tool](sources, f"{name}/r{r}/{tool}/")
            seconds[tool].append(time.perf_counter() - started)
            client_cpu[tool].append(time.process_time() - cpu)
            server_cpu[tool].append(cpu_seconds(server_pid) - served)
    mib_s = {tool: total / MIB / statistics.median(s) for tool, s in seconds.items()}
    return {
        "objects": len(sources),
        "bytes": total,
        "orders": orders,
        "seconds": seconds,
        "client_cpu_seconds": client_cpu,
        "server_cpu_seconds": server_cpu,
        "median_mib_s": {tool: round(v, 1) for tool, v in mib_s.items()},
        "upload_ratio": round(mib_s["dockd"] / mib_s["boto3"], 3),
    }


def shuffled(tools: tuple[str, ...], rng: random.Random) -> list[str]:
    order = list(tools)
    rng.shuffle(order)
    return order


def combined(sets: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Both sets as one batch: each round's seconds summed over the sets."""
    total = sum(m["bytes"] for m in sets.values())
    rounds = len(next(iter(sets.values()))["seconds"]["dockd"])

    def summed(measure: str) -> dict[str, list[float]]:
        return {
            tool: [sum(m[measure][tool][r] for m in sets.values()) for r in range(rounds)]
            for tool in TOOLS
        }

    seconds = summed("seconds")
    mib_s = {tool: total / MIB / statistics.median(s) for tool, s in seconds.items()}
    return {
        "objects": sum(m["objects"] for m in sets.values()),
        "bytes": total,
        "seconds": seconds,
        "client_cpu_seconds": summed("client_cpu_seconds"),
        "server_cpu_seconds": summed("server_cpu_seconds"),
        "median_mib_s": {tool: round(v, 1) for tool, v in mib_s.items()},
        "upload_ratio": round(mib_s["dockd"] / mib_s["boto3"], 3),
    }


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()} x{os.cpu_count()}"
    return f"{platform.processor() or platform.machine()} x{os.cpu_count()}"


def table(report: dict[str, Any]) -> str:
    lines = [
        f"{'set':<8} {'objects':>7} {'MiB':>6} {'dockd MiB/s':>12} {'boto3 MiB/s':>12} "
        f"{'ratio':>6}   CPU s dockd/boto3 (client, server)"
    ]
    for name, m in report["sets"].items():
        cpu = {
            tool: (
                statistics.median(m["client_cpu_seconds"][tool]),
                statistics.median(m["server_cpu_seconds"][tool]),
            )
            for tool in TOOLS
        }
        lines.append(
            f"{name:<8} {m['objects']:>7} {m['bytes'] // MIB:>6} "
            f"{m['median_mib_s']['dockd']:>12} {m['median_mib_s']['boto3']:>12} "
            f"{m['upload_ratio']:>6}   {cpu['dockd'][0]:.1f}/{cpu['boto3'][0]:.1f}, "
            f"{cpu['dockd'][1]:.1f}/{cpu['boto3'][1]:.1f}"
        )
    lines.append(f"upload_ratio (all): {report['upload_ratio']}  target {TARGETS['upload_ratio']}")
    dock = report["docking"]["median_mib_s"]
    lines.append(
        f"docking MiB/s without forwarding {dock['without']}, with {dock['with']}: "
        f"docking_ratio {report['docking_ratio']}  target {TARGETS['docking_ratio']}; "
        f"per round {report['docking']['ratio_per_round']}"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="dockd forwarding (upload) benchmark")
    parser.add_argument("--quick", action="store_true", help="2 x 64 MiB and 16 x 1 MiB")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each tool (median)")
    parser.add_argument("--streams", type=int, default=4, help="[central] streams")
    parser.add_argument("--dock-rounds", type=int, default=5, help="docks in each mode")
    parser.add_argument("--seed", type=int, default=None, help="of the random tool order")
    args = parser.parse_args()
    if min(args.rounds, args.streams, args.dock_rounds) < 1:
        parser.error("--rounds, --streams and --dock-rounds must be at least 1")
    large, small = ((2, 64 * MIB), (16, MIB)) if args.quick else ((8, 64 * MIB), (64, MIB))
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    rng = random.Random(seed)
    shutil.rmtree(WORK, ignore_errors=True)
    code_before = git_state()
    try:
        sources = {
            "large": make_sources(WORK / "large", [large]),
            "small": make_sources(WORK / "small", [small]),
        }
        with running_seaweed(WORK / "seaweed") as server:
            bucket = server.make_bucket("bench-forward", object_lock=True)
            uploads = {
                "dockd": dockd_upload(server, bucket, args.streams),
                "boto3": boto3_upload(server, bucket, args.streams),
            }
            sets = {
                name: bench_set(name, group, uploads, args.rounds, server.pid, rng)
                for name, group in sources.items()
            }
            docking = docking_with_forwarding(server, WORK / "dock", args.dock_rounds, args.quick)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    sets["all"] = combined(sets)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "boto3": boto3.__version__,
        "server": "SeaweedFS weed mini on 127.0.0.1 (tests/support/seaweed.py)",
        "git": code_before,
        "dockd_changed_during_run": git_state()["dockd_sha256"] != code_before["dockd_sha256"],
        "quick": args.quick,
        "rounds": args.rounds,
        "warm_up_rounds_discarded": 1,
        "order_seed": seed,
        "streams": args.streams,
        "ratio_is": "dockd median MiB/s / boto3 upload_file median MiB/s (higher is better)",
        "targets": TARGETS,
        "sets": sets,
        "upload_ratio": sets["all"]["upload_ratio"],
        "docking": docking,
        "docking_ratio": docking["docking_ratio"],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
