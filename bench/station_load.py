"""The parts of bench/stations.py that drive one simulated station: its recorder, its
`dockd ingest`, its background forwarding, and what the ledger says afterwards.

A real dock forwards from inside `dockd run` (dockd/daemon/forwarding.py: one Forwarder,
a pass, a pause, the next pass) while its slots copy. ``forward_loop`` is that loop in a
process of its own, so the bench can run it beside a `dockd ingest` without udev: it is
started as ``python -m bench.station_load forward-loop CONFIG STOP INTERVAL`` and prints
one JSON line per pass, until STOP exists and a pass has left nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
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

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: bench/ is on sys.path, the repo is not
    sys.path.insert(0, str(REPO))

from bench.ingest import mp4_header  # noqa: E402
from bench.recorders import Recorder, recorder  # noqa: E402
from tests.support.seaweed import SeaweedServer  # noqa: E402

MIB = 1 << 20
BADGE = "007"
FIRST_START = datetime(2026, 11, 22, 8, 15, 0)
BUCKET = "agency-evidence"
DEADLINE_S = 1800
PASSES_AFTER_STOP = 10  # a forwarding loop that cannot finish its backlog is a failure


@dataclass(frozen=True)
class Shape:
    """One set of recordings every station of a set gets: bytes-bound or ledger-bound."""

    name: str
    files: int
    file_bytes: int
    spacing_s: int  # between two recordings' starts, also each one's duration

    @property
    def bytes_per_station(self) -> int:
        return self.files * self.file_bytes


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
class Run:
    station: Station
    started: float  # time.time(): the forwarding loops' pass lines use the same clock
    seconds: float  # the whole `dockd ingest` process
    cpu_seconds: float  # its user + system time: tells waiting from sharing the cores
    returncode: int
    stderr: str


@dataclass(frozen=True)
class Forwarding:
    station: Station
    returncode: int
    passes: list[dict[str, Any]]
    stderr: str

    def during(self, run: Run) -> list[dict[str, Any]]:
        """The passes that ran, at least in part, while `run` ingested."""
        end = run.started + run.seconds
        return [p for p in self.passes if p["started"] < end and p["ended"] > run.started]


def fail(message: str) -> NoReturn:
    raise SystemExit(f"bench/stations.py: ABORT: {message}")


def make_station(
    stack: contextlib.ExitStack,
    work: Path,
    name: str,
    serial: str,
    shape: Shape,
    url: str,
    central: SeaweedServer,
    read_mib_s: float,
) -> Station:
    """Its own store, config and recorder: random content, so no two stations share an
    object; all of them forward to the one bucket under one prefix, as an agency's do."""
    home = work / name

    def fill(root: Path) -> None:
        folder = root / "DCIM" / "100MEDIA"
        folder.mkdir(parents=True)
        for i in range(shape.files):
            start = FIRST_START + timedelta(seconds=shape.spacing_s * i)
            header = mp4_header(shape.file_bytes, start, shape.spacing_s)
            name_ = f"{serial}_{BADGE}_{start:%Y%m%d%H%M%S}_{i + 1:04d}.MP4"
            with open(folder / name_, "wb") as out:
                out.write(header)
                out.write(os.urandom(shape.file_bytes - len(header)))

    image_bytes = shape.bytes_per_station * 11 // 10 + shape.files * 8192 + 64 * MIB
    card = stack.enter_context(recorder(home, name, image_bytes, fill, read_mib_s))
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


def _popen(
    station: Station, what: str, argv: list[str], throttled: bool
) -> subprocess.Popen[bytes]:
    """Output to files (a pipe can fill); only the ingest reads the recorder, so only it
    enters the recorder's throttled cgroup before it starts."""
    out_file, err_file = (station.home / f"{what}.{kind}" for kind in ("out", "err"))
    with open(out_file, "wb") as out, open(err_file, "wb") as err:
        return subprocess.Popen(
            argv,
            stdout=out,
            stderr=err,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            preexec_fn=station.recorder.enter if throttled else None,
        )


def ingest(stations: list[Station]) -> list[Run]:
    """Every station's `dockd ingest` of its recorder started at once; each one's wall
    time to its own exit."""
    started, wall = time.perf_counter(), time.time()
    running = {
        s.name: (
            s,
            _popen(s, "ingest", dockd(s, "ingest", str(s.source), "--serial", s.serial), True),
        )
        for s in stations
    }
    done: dict[str, Run] = {}
    while running:
        if time.perf_counter() > started + DEADLINE_S:
            fail(f"ingest still running after {DEADLINE_S} s: {sorted(running)}")
        for name, (station, proc) in list(running.items()):
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                seconds = time.perf_counter() - started
                proc.returncode = os.waitstatus_to_exitcode(status)
                err = (station.home / "ingest.err").read_text(errors="replace")
                cpu = usage.ru_utime + usage.ru_stime
                done[name] = Run(station, wall, seconds, cpu, proc.returncode, err)
                del running[name]
        time.sleep(0.01)
    return [done[s.name] for s in stations]


@contextlib.contextmanager
def forwarding(stations: list[Station], interval: float) -> Iterator[list[Forwarding]]:
    """Each station's forwarding loop, running for the duration of the block; on leaving,
    the loops are told to stop and each finishes its backlog first. The list is filled
    then."""
    stop = stations[0].home.parent / f"stop-{stations[0].name}"
    stop.unlink(missing_ok=True)
    loop = [sys.executable, "-m", "bench.station_load", "forward-loop"]
    loops = [
        (s, _popen(s, "forward", [*loop, str(s.config), str(stop), str(interval)], False))
        for s in stations
    ]
    for station, proc in loops:  # a dock's forwarder is up before a recorder arrives
        out = station.home / "forward.out"
        deadline = time.perf_counter() + 120
        while not out.read_bytes().count(b"\n"):
            if proc.poll() is not None or time.perf_counter() > deadline:
                err = (station.home / "forward.err").read_text(errors="replace")
                fail(f"{station.name}'s forwarding loop did not make its first pass: {err[-500:]}")
            time.sleep(0.05)
    results: list[Forwarding] = []
    try:
        yield results
    finally:
        stop.touch()
        for station, proc in loops:
            try:
                code = proc.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            lines = (station.home / "forward.out").read_text(errors="replace").splitlines()
            passes = [json.loads(line) for line in lines if line.startswith("{")]
            err = (station.home / "forward.err").read_text(errors="replace")
            results.append(Forwarding(station, code, passes, err))


def forward_loop(config: Path, stop: Path, interval: float) -> int:
    """What the daemon's background forwarder does, one process per station."""
    from dockd.app import build, load_config

    forwarder = build(load_config(config)).forwarder()
    after_stop = 0
    while True:
        stopping, started = stop.exists(), time.time()  # a pass sees what was there at its start
        summary = forwarder.run_pass()
        line = {
            "started": started,
            "ended": time.time(),
            "confirmed": summary.confirmed,
            "sent": summary.sent,
            "bytes_sent": summary.bytes_sent,
            "left": summary.left,
            "failed": summary.failed,
            "stopped": None if summary.stopped is None else summary.stopped.code,
        }
        print(json.dumps(line), flush=True)
        if stopping:
            if summary.complete:
                return 0
            after_stop += 1
            if after_stop >= PASSES_AFTER_STOP:
                return 1
        time.sleep(interval)


def ledger_counts(url: str) -> dict[str, dict[str, float]]:
    """Each station's dock session as the ledger recorded it, with its custody events."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(
                sa.text(
                    "SELECT station, bytes_copied, copied, started_at, finished_at "
                    "FROM dock_sessions"
                )
            ).all()
            located: dict[str, int] = dict(
                c.execute(
                    sa.text(
                        "SELECT station, count(*) FROM object_locations "
                        "WHERE removed_at IS NULL GROUP BY station"
                    )
                ).all()
            )
            events: dict[str, int] = dict(
                c.execute(
                    sa.text("SELECT station, count(*) FROM custody_events GROUP BY station")
                ).all()
            )
    finally:
        engine.dispose()
    out: dict[str, dict[str, float]] = {}
    for station, nbytes, copied, started, finished in rows:
        started, finished = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (started, finished))
        seconds = (finished - started).total_seconds()
        out[station] = {
            "session_started": started.timestamp(),
            "session_finished": finished.timestamp(),
            "bytes": int(nbytes),
            "recordings": int(copied),
            "session_seconds": seconds,
            "session_mib_s": nbytes / MIB / seconds,
            "objects_held": int(located.get(station, 0)),
            "custody_events": int(events.get(station, 0)),
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
        timeout=DEADLINE_S,
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


def machine_cpu() -> tuple[int, int, int]:
    """All cores' (busy, iowait, total) jiffies since boot, from /proc/stat."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    busy = user + nice + system + irq + softirq + steal
    return busy, iowait, busy + iowait + idle


@contextlib.contextmanager
def machine_load() -> Iterator[dict[str, float]]:
    """The whole machine's CPU during the block (every process, PostgreSQL, SeaweedFS and
    other engineers' work too): busy and I/O-wait shares of all cores."""
    found: dict[str, float] = {}
    before = machine_cpu()
    try:
        yield found
    finally:
        busy, iowait, total = (a - b for a, b in zip(machine_cpu(), before, strict=True))
        found["busy_share"] = round(busy / total, 3) if total else 0.0
        found["iowait_share"] = round(iowait / total, 3) if total else 0.0


def ledger_errors(stderr: str) -> int:
    return len(re.findall(r"LEDGER_[A-Z_]+", stderr))


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "forward-loop":
        raise SystemExit("usage: python -m bench.station_load forward-loop CONFIG STOP INTERVAL")
    sys.exit(forward_loop(Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])))
