"""Deadline-report benchmark: the nightly report on three years of a big station's ledger.

The report must stay fast however long the station has run, so this builds the
ledger such a station would have and times the report on it:

1. a fresh SQLite ledger under bench/work-report/, its schema made by dockd's own
   migrations (``Ledger(url)``), then bulk-loaded with the stdlib ``sqlite3`` module:
   2 000 officers, each with one recorder; one dock session per officer per working
   day for three years (~1.5 M sessions, 99.9 % sealed by two operators, 0.5 % with a
   drift violation); N recordings spread over them (2 % offloaded late), one object
   per recording and one manifest object per session; a few thousand interruptions,
   a few holds and one ``store-verified`` custody event per night; then ``ANALYZE``.
   Secondary indexes are dropped for the load and re-created from the migrations'
   own SQL, so the schema measured is exactly the one the migrations make.
2. ``LedgerReport(Ledger(url)).deadline_report(now - 24 h, now, pack, now)`` with the
   dandong-civil-affairs pack (two-person seal: it also lists unsealed sessions) and
   the dalian-jinpu-ocean pack, RUNS times each with cold caches (page cache dropped,
   ledger re-opened) and RUNS times warm; the counts in every section must equal what
   the generator put in the window, or the run is aborted.
3. ``dockd report deadlines --since 24h --json`` as a subprocess, end to end.
4. Every statement the report runs is traced; each is replayed alone (cold and warm)
   with its ``EXPLAIN QUERY PLAN``, with and without ``sqlite_stat1`` (dockd itself
   never runs ANALYZE, so a real station plans without statistics). A query that is
   slow, or that scans a table growing with history, is tried again with each index
   that could serve it: a new one is created by hand in the synthetic ledger and
   dropped again, one the migrations already make is dropped and put back. The whole
   report is also timed with the recommended new indexes, and without the existing ones.

Writes bench/results/report.json and prints a table. Run as root for cold caches.

    .venv/bin/python bench/report.py [--recordings N] [--keep] [--runs R] [--seed S]
    .venv/bin/python bench/report.py --reuse [--recordings N]   # re-time a --keep ledger
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

from sqlalchemy import event

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: bench/ is on sys.path, the repo is not
    sys.path.insert(0, str(REPO))

from bench.common import git_state  # noqa: E402
from dockd.adapters.ledger.report import LedgerReport  # noqa: E402
from dockd.adapters.ledger.sessions import Ledger  # noqa: E402
from dockd.adapters.rules import load_policy  # noqa: E402
from dockd.core.custody import GENESIS, canonical_json, event_hash  # noqa: E402
from dockd.core.policy import PolicyPack  # noqa: E402
from dockd.core.retention import add_months  # noqa: E402
from dockd.core.views import DeadlineReport  # noqa: E402

WORK = REPO / "bench" / "work-report"
RESULTS = REPO / "bench" / "results" / "report.json"
RULES = REPO / "rules"
DOCKD = Path(sys.executable).with_name("dockd")
PACKS = {"dandong": "dandong-civil-affairs", "dalian": "dalian-jinpu-ocean"}
HEAVY = "dandong"  # its data shape (retention, two-person seal) is the station's

OFFICERS = 2_000
UNITS = 40
DAYS = 3 * 365
BATCH = 50_000
COMMIT_ROWS = 1_000_000
RUNS = 5
TARGET_S = 2.0
LATE_SHARE = 0.02
VIOLATION_SHARE = 0.005
UNSEALED_SHARE = 0.001
REASSIGNED_SHARE = 0.05
HOLD_SHARE = 0.0005
INTERRUPTIONS = 3_000
OPERATORS = [f"op{n:02d}" for n in range(1, 13)]
SLOW_COLD_S = 0.25  # one statement alone taking an eighth of the budget from disk
SLOW_WARM_S = 0.05
SLOW_ATTRIBUTED_S = 0.25  # one statement text, all its executions, ORM work included
BIG_TABLE_ROWS = 100_000  # a full scan of a table this big grows with history

US = 1_000_000
MINUTE = 60 * US
HOUR = 60 * MINUTE
DAY = 24 * HOUR
SHIFT = 8 * HOUR
COPY_BYTES_PER_US = 150  # 150 MB/s
LOCAL = 8 * HOUR  # the dcim profile's zone, Asia/Shanghai: UTC+8 all year, no DST
_EPOCH = datetime(1970, 1, 1)

# The columns the migrations make, in their order; checked against the ledger at start.
COLUMNS: dict[str, tuple[str, ...]] = {
    table: tuple(columns.split())
    for table, columns in {
        "recorders": "id serial profile first_seen last_seen",
        "devices": "serial model registered_at",
        "assignments": "id serial badge name unit since until",
        "dock_sessions": "id recorder_id serial profile slot source host pid boot_id "
        "started_at finished_at state files_seen copied already_verified bytes_copied "
        "error_code manifest_blake3 station_offset_s station_server station_stratum "
        "station_delay_s station_synchronised station_method station_measured_at "
        "station_detail recorder_drift_s recorder_clock_method recorder_clock_measured_at "
        "recorder_clock_detail drift_verdict sealed_at",
        "attestations": "id session_id operator at",
        "objects": "blake3 sha256 size key kind protections stored_at removed_at",
        "recordings": "id session_id recorder_id serial path path_raw size mtime_ns start end "
        "duration_s time_source badge name_serial sequence important blake3 sha256 object_key "
        "protections verified_at verify_method corrected_start corrected_end deadline late "
        "late_by_s retention_class retain_until expired_at",
        "holds": "id recording_id kind reference placed_at placed_by released_at released_by "
        "release_reason",
        "interruptions": "id session_id serial before_recording after_recording gap_start "
        "gap_end gap_s detected_at",
        "custody_events": "seq at kind subject actor details prev_hash hash",
    }.items()
}
RELOADED_INDEXES = ("dock_sessions", "attestations", "recordings", "interruptions", "holds")

# Which part of the report a statement serves (matched on the whitespace-normalised SQL).
SECTIONS = (
    ("FROM assignments ORDER BY", "custodians: who held each recorder when"),
    ("recordings.late IS 1", "late offloads"),
    ("FROM holds", "late offloads: holds (selectin load)"),
    ("GROUP BY dock_sessions.serial", "overdue recorders: last dock of every recorder"),
    ("assignments.until IS NULL", "overdue recorders: current custodians"),
    ("drift_verdict IN", "drift violations"),
    ("FROM interruptions", "interruptions"),
    ("recordings.id IN", "interruptions: paths of the clips around each gap"),
    ("sealed_at IS NULL", "unsealed sessions"),
    ("FROM attestations", "unsealed sessions: attestations (one query per session)"),
    ("FROM custody_events", "verify failures"),
    ("BEGIN", "read transaction (BEGIN IMMEDIATE)"),
)


@dataclass(frozen=True)
class Candidate:
    """An index that could serve a slow statement, and the line that would add it."""

    match: str
    table: str
    orm: str
    name: str
    columns: tuple[str, ...]
    where: str | None = None

    @property
    def create_sql(self) -> str:
        where = f" WHERE {self.where}" if self.where else ""
        return f"CREATE INDEX {self.name} ON {self.table} ({', '.join(self.columns)}){where}"

    @property
    def sqlalchemy(self) -> str:
        cols = ", ".join(f'"{c}"' for c in self.columns)
        where = (
            f', sqlite_where=text("{self.where}"), postgresql_where=text("{self.where}")'
            if self.where
            else ""
        )
        return f'Index("{self.name}", {cols}{where})'


CANDIDATES = (
    Candidate(
        "GROUP BY dock_sessions.serial",
        "dock_sessions",
        "DockSessionRow",
        "ix_dock_sessions_serial_started",
        ("serial", "started_at"),
    ),
    Candidate(
        "dock_sessions.sealed_at IS NULL",
        "dock_sessions",
        "DockSessionRow",
        "ix_dock_sessions_sealed_at",
        ("sealed_at",),
    ),
    Candidate(
        "dock_sessions.sealed_at IS NULL",
        "dock_sessions",
        "DockSessionRow",
        "ix_dock_sessions_unsealed",
        ("started_at",),
        where="sealed_at IS NULL",
    ),
)


def fail(message: str) -> None:
    """A fast wrong report is no result: stop rather than report it."""
    raise SystemExit(f"bench/report.py: ABORT: {message}")


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


_DATES: dict[int, str] = {}


def ts(us: int) -> str:
    """What SQLAlchemy's DateTime binds on SQLite (UTCDateTime: naive UTC), i.e.
    ``(_EPOCH + timedelta(microseconds=us)).isoformat(" ", "microseconds")``, faster."""
    day, rest = divmod(us, DAY)
    date = _DATES.get(day)
    if date is None:
        date = _DATES[day] = (_EPOCH + timedelta(days=day)).date().isoformat()
    seconds, micro = divmod(rest, US)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{date} {hour:02d}:{minute:02d}:{second:02d}.{micro:06d}"


_RETAIN: dict[tuple[int, int], tuple[int, bool]] = {}


def retain_until_us(end_us: int, months: int) -> int:
    """dockd.core.retention.retain_until (calendar months, a short month's whole last day),
    cached per day."""
    day, rest = divmod(end_us, DAY)
    found = _RETAIN.get((day, months))
    if found is None:
        midnight = from_us(day * DAY)
        later = add_months(midnight, months)
        found = _RETAIN[day, months] = (
            to_us(later.replace(hour=0, microsecond=0, second=0, minute=0)),
            later.hour == 23,
        )
    target, clamped = found
    return target + (DAY - 1 if clamped else rest)


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch; a naive moment is UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


# --- the synthetic station ----------------------------------------------------------


@dataclass
class Expected:
    """What the report over (anchor - 24 h, anchor] must find, counted while generating."""

    late_offloads: int = 0
    overdue_recorders: int = 0
    drift_violations: int = 0
    interruptions: int = 0
    unsealed_sessions: int = 0
    verify_failures: int = 0

    def for_pack(self, pack: PolicyPack) -> dict[str, int]:
        counts = dict(vars(self))
        if not pack.offload.two_person_seal:
            counts["unsealed_sessions"] = 0
        return counts


@dataclass
class Loaded:
    anchor: datetime
    rows: dict[str, int]
    expected: Expected
    seconds: dict[str, float] = field(default_factory=dict)
    fk: str = "not checked"
    schema: dict[str, Any] = field(default_factory=dict)  # what the migrations made

    def save(self, file: Path, recordings: int, seed: int) -> None:
        file.write_text(
            json.dumps(
                {
                    "recordings": recordings,
                    "seed": seed,
                    "anchor": self.anchor.isoformat(),
                    "rows": self.rows,
                    "expected": vars(self.expected),
                    "seconds": self.seconds,
                    "fk": self.fk,
                    "schema": self.schema,
                }
            )
        )

    @classmethod
    def restore(cls, file: Path, recordings: int) -> Loaded:
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict) or data.get("recordings") != recordings:
            fail(f"--reuse: no ledger of {recordings:,} recordings in {file.parent} (--keep one)")
        anchor = datetime.fromisoformat(data["anchor"])
        expected = Expected(**data["expected"])
        return cls(anchor, data["rows"], expected, data["seconds"], data["fk"], data["schema"])


class Writer:
    """Buffers rows per table: an executemany of every BATCH rows of a table, inside
    transactions of about COMMIT_ROWS rows (each commit rewrites every page the
    random-key indexes dirtied, so fewer commits write far less)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
        self.counts = dict.fromkeys(COLUMNS, 0)
        self.pending = 0
        self.insert_s = self.commit_s = 0.0
        self.sql = {}
        for table, cols in COLUMNS.items():
            names = ", ".join(f'"{c}"' for c in cols)
            marks = ", ".join("?" * len(cols))
            self.sql[table] = f"INSERT INTO {table} ({names}) VALUES ({marks})"

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        buffer = self.rows[table]
        buffer.append(row)
        if len(buffer) >= BATCH:
            self.flush()

    def flush(self, commit: bool = False) -> None:
        mark = time.perf_counter()
        if not self.con.in_transaction:
            self.con.execute("BEGIN")
        for table, rows in self.rows.items():
            if rows:
                self.con.executemany(self.sql[table], rows)
                self.counts[table] += len(rows)
                self.pending += len(rows)
                rows.clear()
        done = time.perf_counter()
        self.insert_s += done - mark
        if commit or self.pending >= COMMIT_ROWS:
            self.con.execute("COMMIT")
            self.pending = 0
            self.commit_s += time.perf_counter() - done


def check_columns(con: sqlite3.Connection) -> None:
    """The loader must fill exactly the columns the migrations made."""
    for table, cols in COLUMNS.items():
        info = con.execute(f"PRAGMA table_info({table})").fetchall()
        have = [r[1] for r in info]
        required = {r[1] for r in info if r[3] and r[4] is None and not r[5]}
        if missing := [c for c in cols if c not in have]:
            fail(f"{table} has no column(s) {missing}: the migrations changed, update COLUMNS")
        if unfilled := sorted(required - set(cols)):
            fail(f"{table}: NOT NULL column(s) {unfilled} are not generated; update COLUMNS")
        if extra := [c for c in have if c not in cols]:
            log(f"note: {table} has nullable column(s) {extra} the generator leaves NULL")


def random_hex(rng: Random) -> str:
    return rng.randbytes(32).hex()


def load(db: Path, recordings: int, seed: int) -> Loaded:
    """Bulk-load the synthetic station into a ledger the migrations just made."""
    rng = Random(seed)
    anchor = datetime.now(UTC)
    anchor_us = to_us(anchor)
    since_us, until_us = anchor_us - DAY, anchor_us
    pack = load_policy(RULES, PACKS[HEAVY])
    deadline_us = int(pack.offload.deadline_hours * HOUR)
    months = pack.retention.routine_months
    expected = Expected()
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-6000000")  # 6 GB: the PK autoindexes take random keys
    check_columns(con)
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({', '.join('?' * len(RELOADED_INDEXES))}) ORDER BY name",
        RELOADED_INDEXES,
    ).fetchall()
    for name, _ in indexes:
        con.execute(f"DROP INDEX {name}")
    out = Writer(con)

    # officers, recorders, custody --------------------------------------------------
    serials = [f"SN{i + 1:05d}" for i in range(OFFICERS)]
    badges = [f"{210000 + i + 1}" for i in range(OFFICERS)]
    names = [f"Officer {i + 1:04d}" for i in range(OFFICERS)]
    units = [f"Unit {i % UNITS + 1:02d}" for i in range(OFFICERS)]
    midnight = to_us(anchor.replace(hour=0, minute=0, second=0, microsecond=0))
    first_day = midnight - (DAYS - 1) * DAY
    registered = first_day - 30 * DAY
    jitter = [rng.randrange(0, 20 * MINUTE) for _ in range(OFFICERS)]

    # pass 1: every session's officer and times, then in the order they happened
    log("planning sessions")
    cutoff = anchor_us - 30 * MINUTE  # every session has finished by the anchor
    officer_of, shift_of, start_of = array("H"), array("q"), array("q")
    for day in range(DAYS):
        day_us = first_day + day * DAY
        for i in range(OFFICERS):
            if (day + i) % 7 >= 5:  # rest days, staggered so every day looks alike
                continue
            shift = day_us + (i % 3) * SHIFT + jitter[i]
            start = shift + SHIFT + rng.randrange(2 * MINUTE, 40 * MINUTE)
            if start < cutoff:
                officer_of.append(i)
                shift_of.append(shift)
                start_of.append(start)
    order = sorted(range(len(start_of)), key=start_of.__getitem__)
    sessions = len(order)
    first_seen, last_seen = [0] * OFFICERS, [0] * OFFICERS
    for s in order:
        i = officer_of[s]
        first_seen[i] = first_seen[i] or start_of[s]
        last_seen[i] = start_of[s]

    # recordings per session: exactly N, and several per session even when N is small
    mean = recordings / sessions
    share = min(1.0, mean / 4)
    base, frac = int(mean / share), mean / share - int(mean / share)
    counts = array("H", (0 for _ in range(sessions)))
    for s in range(sessions):
        if rng.random() < share:
            counts[s] = base + (rng.random() < frac)
    active = [s for s in range(sessions) if counts[s]] or list(range(sessions))
    diff = recordings - sum(counts)
    while diff:
        s = rng.choice(active)
        if diff > 0:
            counts[s] += 1
            diff -= 1
        elif counts[s]:
            counts[s] -= 1
            diff += 1
    pairs = sum(max(c - 1, 0) for c in counts)
    gap_chance = min(0.2, INTERRUPTIONS / pairs) if pairs else 0.0

    for i in range(OFFICERS):
        out.add("recorders", (i + 1, serials[i], "dcim", ts(first_seen[i]), ts(last_seen[i])))
        out.add("devices", (serials[i], "DSJ-V9", ts(registered)))
    assignment = 0
    current_since = [registered + DAY] * OFFICERS
    carried_by = [(0, "")] * OFFICERS  # (until, badge) of a former custodian
    for i in range(OFFICERS):
        since = registered + DAY
        if rng.random() < REASSIGNED_SHARE:  # someone else carried it first
            handover = first_day + rng.randrange(DAYS) * DAY + 7 * HOUR
            assignment += 1
            out.add(
                "assignments",
                (
                    assignment,
                    serials[i],
                    f"{290000 + i + 1}",
                    f"Former officer {i + 1:04d}",
                    units[i],
                    ts(since),
                    ts(handover),
                ),
            )
            since = handover
            carried_by[i] = (handover, f"{290000 + i + 1}")
        current_since[i] = since
        assignment += 1
        out.add(
            "assignments", (assignment, serials[i], badges[i], names[i], units[i], ts(since), None)
        )
    for i in range(OFFICERS):
        if anchor_us - max(last_seen[i], current_since[i]) - deadline_us > 0:
            expected.overdue_recorders += 1

    # pass 2: sessions, recordings, objects, attestations, interruptions, holds ---------
    log(f"writing {sessions:,} sessions and {recordings:,} recordings")
    random, choice = rng.random, rng.choice

    def randrange(low: int, high: int) -> int:  # Random.randrange, 10x cheaper
        return low + int(random() * (high - low))

    boots = [(str(uuid.UUID(int=rng.getrandbits(128), version=4)), randrange(300, 4000))]
    boot_every = 30 * DAY
    rec_id = attest_id = gap_id = hold_id = 0
    shown = time.perf_counter()
    for n, s in enumerate(order):
        i, shift, start = officer_of[s], shift_of[s], start_of[s]
        k = counts[s]
        serial = serials[i]
        badge = carried_by[i][1] if start < carried_by[i][0] else badges[i]
        boot = (start - first_day) // boot_every
        while len(boots) <= boot:
            boots.append(
                (str(uuid.UUID(int=rng.getrandbits(128), version=4)), randrange(300, 4000))
            )
        boot_id, pid = boots[boot]
        session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        violation = random() < VIOLATION_SHARE
        if violation:
            drift_s = choice((-1, 1)) * rng.uniform(30.0, 600.0)
        else:
            drift_s = rng.uniform(-1.9, 1.9)
        drift_us = int(drift_s * US)
        verified = start + 5 * US
        clip = shift + randrange(0, HOUR)
        budget = 5 * HOUR // max(k, 1)  # the clips end before the shift does
        previous: tuple[int, int] | None = None  # (id, reported end) of the last clip
        gaps: list[tuple[int, int, int, int, int]] = []
        total = 0
        for seq in range(1, k + 1):
            rec_id += 1
            duration = randrange(60 * US, max(61 * US, min(1800 * US, budget - 10 * US)))
            size = duration * randrange(900, 1100) // 1000  # ~8 Mbit/s
            verified += size // COPY_BYTES_PER_US + randrange(200_000, 800_000)
            late = random() < LATE_SHARE
            interrupted = False
            if late:  # a clip from an earlier shift, docked only now
                true_end = verified - deadline_us - randrange(MINUTE, 36 * HOUR)
                true_start = true_end - duration
            else:
                if previous is not None:
                    interrupted = random() < gap_chance
                    clip += randrange(3 * MINUTE, 40 * MINUTE) if interrupted else randrange(0, US)
                true_start, true_end = clip, clip + duration
                clip = true_end
            start_rep, end_rep = true_start + drift_us, true_end + drift_us
            deadline = true_end + deadline_us  # from the corrected end, as ingest judges
            late_by = verified - deadline
            if (late_by > 0) != late:
                fail(f"generator bug: recording {rec_id} late={late} but late_by={late_by}")
            if late and since_us <= verified < until_us:
                expected.late_offloads += 1
            if interrupted and previous is not None:
                gaps.append((previous[0], rec_id, previous[1], start_rep, start_rep - previous[1]))
            if not late:
                previous = (rec_id, end_rep)
            held = random() < HOLD_SHARE
            retain_us = retain_until_us(true_end + LOCAL, months) - LOCAL  # local calendar
            expired_us = retain_us + randrange(HOUR, 23 * HOUR)
            expired = ts(expired_us) if not held and expired_us < anchor_us else None
            digest, sha = random_hex(rng), random_hex(rng)
            key = f"objects/blake3/{digest[:2]}/{digest}"
            path = f"DCIM/100MEDIA/{from_us(start_rep + LOCAL):%Y%m%d_%H%M%S}_{seq:04d}.MP4"
            verified_ts = ts(verified)
            out.add(
                "objects",
                (digest, sha, size, key, "recording", "mode-0444,immutable", verified_ts, expired),
            )
            out.add(
                "recordings",
                (
                    rec_id,
                    session_id,
                    i + 1,
                    serial,
                    path,
                    path.encode(),
                    size,
                    end_rep * 1000,
                    ts(start_rep),
                    ts(end_rep),
                    duration / US,
                    "name",
                    badge,
                    None,
                    seq,
                    random() < 0.03,
                    digest,
                    sha,
                    key,
                    "mode-0444,immutable",
                    verified_ts,
                    "o_direct",
                    ts(true_start),
                    ts(true_end),
                    ts(deadline),
                    late,
                    max(0.0, late_by / US),
                    "routine",
                    ts(retain_us),
                    expired,
                ),
            )
            if held and (placed := verified + randrange(DAY, 30 * DAY)) < anchor_us:
                hold_id += 1
                out.add(
                    "holds",
                    (
                        hold_id,
                        rec_id,
                        "case",
                        f"CASE-{from_us(placed):%Y}-{hold_id:05d}",
                        ts(placed),
                        "admin01",
                        None,
                        None,
                        None,
                    ),
                )
            total += size
        finished = verified + 3 * US
        manifest = random_hex(rng)
        out.add(
            "objects",
            (
                manifest,
                random_hex(rng),
                2048 + 600 * k,
                f"objects/blake3/{manifest[:2]}/{manifest}",
                "manifest",
                "mode-0444,immutable",
                ts(finished),
                None,
            ),
        )
        sealed_at = finished + randrange(5 * MINUTE, 2 * HOUR)
        sealed: int | None = sealed_at
        if random() < UNSEALED_SHARE or sealed_at >= anchor_us:
            sealed = None
            expected.unsealed_sessions += 1
        if violation and since_us <= start < until_us:
            expected.drift_violations += 1
        started_ts = ts(start)
        out.add(
            "dock_sessions",
            (
                session_id,
                i + 1,
                serial,
                "dcim",
                f"slot-{i % 8 + 1}",
                f"/run/dockd/mnt/{serial}",
                "dock-01",
                pid,
                boot_id,
                started_ts,
                ts(finished),
                "completed",
                k,
                k,
                0,
                total,
                None,
                manifest,
                rng.uniform(-0.005, 0.005),
                "10.20.0.1:123",
                2,
                rng.uniform(0.0005, 0.004),
                True,
                "ntp",
                started_ts,
                "ntp 10.20.0.1:123 stratum 2",
                drift_s,
                "clock-file",
                started_ts,
                "clock file MISC/TIME.TXT",
                "violation" if violation else "ok",
                ts(sealed) if sealed is not None else None,
            ),
        )
        first, second = rng.sample(OPERATORS, 2)
        if sealed is not None:
            attest_id += 2
            out.add(
                "attestations",
                (attest_id - 1, session_id, first, ts(sealed - randrange(MINUTE, 30 * MINUTE))),
            )
            out.add("attestations", (attest_id, session_id, second, ts(sealed)))
        elif random() < 0.5:
            attest_id += 1
            at = finished + randrange(MINUTE, 20 * MINUTE)
            out.add("attestations", (attest_id, session_id, first, ts(min(at, anchor_us - 1))))
        for before, after, gap_start, gap_end, gap_us in gaps:
            gap_id += 1
            out.add(
                "interruptions",
                (
                    gap_id,
                    session_id,
                    serial,
                    before,
                    after,
                    ts(gap_start),
                    ts(gap_end),
                    gap_us / US,
                    ts(finished),
                ),
            )
            if since_us <= finished < until_us:
                expected.interruptions += 1
        if time.perf_counter() - shown > 30:
            shown = time.perf_counter()
            log(
                f"  {n + 1:,}/{sessions:,} sessions, {rec_id:,}/{recordings:,} recordings "
                f"in {shown - started:.0f} s"
            )

    # one store verification a night, on a valid custody chain ------------------------
    prev = GENESIS
    objects = recordings + sessions
    for day in range(1, DAYS + 1):
        at_us = first_day + day * DAY + 2 * HOUR + randrange(0, 20 * MINUTE)
        if at_us >= anchor_us:
            break
        seq = day
        verified_at = from_us(at_us).replace(tzinfo=UTC).isoformat()
        checked = objects * day // DAYS
        details = {"checked": checked, "ok": checked, "findings": []}
        digest = event_hash(
            prev, seq, verified_at, "store-verified", "/var/lib/dockd/store", "dockd", details
        )
        body = canonical_json(details).decode("utf-8")
        out.add(
            "custody_events",
            (
                seq,
                verified_at,
                "store-verified",
                "/var/lib/dockd/store",
                "dockd",
                body,
                prev,
                digest,
            ),
        )
        prev = digest
    out.flush(commit=True)
    seconds["generate_and_insert"] = time.perf_counter() - started
    seconds["of_which_executemany"] = out.insert_s
    seconds["of_which_commit"] = out.commit_s

    log(f"re-creating {len(indexes)} indexes")
    mark = time.perf_counter()
    for _, sql in indexes:
        con.execute(sql)
    seconds["indexes"] = time.perf_counter() - mark
    log("ANALYZE")
    mark = time.perf_counter()
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    seconds["analyze"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - started
    con.close()
    return Loaded(anchor, out.counts, expected, seconds)


def sanity(db: Path, url: str, fk_check: bool) -> str:
    """The ledger reads the rows back through the ORM, and every reference resolves."""
    ledger = Ledger(url)
    try:
        con = sqlite3.connect(db)
        (session_id,) = con.execute(
            "SELECT id FROM dock_sessions WHERE copied > 0 LIMIT 1"
        ).fetchone()
        view = ledger.session(session_id)
        if view is None or view.started_at.tzinfo is None:
            fail(f"the ledger cannot read session {session_id} back")
        result = "skipped (more than 1 M recordings)"
        if fk_check:
            broken = con.execute("PRAGMA foreign_key_check").fetchmany(5)
            if broken:
                fail(f"foreign keys do not resolve: {broken}")
            result = "ok"
        con.close()
    finally:
        ledger.close()
    return result


# --- timing ------------------------------------------------------------------------------


def drop_caches(files: Sequence[Path]) -> str:
    """Cold cache: the whole page cache as root, else at least the ledger's own pages."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return "drop_caches (whole page cache)"
    except OSError:
        for file in files:
            if file.exists():
                fd = os.open(file, os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
        return "posix_fadvise DONTNEED (ledger files only)"


@dataclass
class Bench:
    db: Path
    url: str
    anchor: datetime
    runs: int
    cold_method: str = ""

    def cold(self) -> None:
        wal, shm = (self.db.with_name(self.db.name + s) for s in ("-wal", "-shm"))
        self.cold_method = drop_caches((self.db, wal, shm))

    def report(self, ledger: Ledger, pack: PolicyPack) -> DeadlineReport:
        since, until = self.anchor - timedelta(hours=24), self.anchor
        return LedgerReport(ledger).deadline_report(since, until, pack, self.anchor, agency=True)


def r3(values: Sequence[float]) -> list[float]:
    return [round(v, 3) for v in values]


def counts_of(report: DeadlineReport | dict[str, Any]) -> dict[str, int]:
    if isinstance(report, dict):
        return {name: len(report[name]) for name in vars(Expected())}
    return {name: len(getattr(report, name)) for name in vars(Expected())}


def time_report(bench: Bench, pack: PolicyPack, expected: dict[str, int]) -> dict[str, Any]:
    """RUNS cold calls (caches dropped, ledger re-opened), then RUNS warm calls: wall
    seconds, and this process's CPU seconds (less disturbed by other load on the host)."""
    out: dict[str, list[float]] = {
        k: [] for k in ("cold", "warm", "cold_cpu", "warm_cpu", "ledger_open_cold")
    }
    load = [os.getloadavg()[0]]

    def timed(ledger: Ledger, kind: str) -> DeadlineReport:
        wall, cpu = time.perf_counter(), time.process_time()
        report = bench.report(ledger, pack)
        out[kind].append(time.perf_counter() - wall)
        out[f"{kind}_cpu"].append(time.process_time() - cpu)
        if (found := counts_of(report)) != expected:
            fail(f"{pack.id}: the report found {found}, the generator put in {expected}")
        return report

    for _ in range(bench.runs):
        bench.cold()
        mark = time.perf_counter()
        ledger = Ledger(bench.url)
        out["ledger_open_cold"].append(time.perf_counter() - mark)
        try:
            timed(ledger, "cold")
        finally:
            ledger.close()
    ledger = Ledger(bench.url)
    try:
        bench.report(ledger, pack)
        for _ in range(bench.runs):
            timed(ledger, "warm")
    finally:
        ledger.close()
    load.append(os.getloadavg()[0])
    return {**{k: r3(v) for k, v in out.items()}, "loadavg_1m_before_after": load}


def write_config(url: str) -> Path:
    config = WORK / "dockd.toml"
    config.write_text(
        f'[ledger]\nurl = "{url}"\n\n[store]\nroot = "{WORK / "store"}"\n\n'
        f'[policy]\npack = "{PACKS[HEAVY]}"\n'
    )
    return config


def time_cli(bench: Bench, config: Path) -> dict[str, Any]:
    """`dockd report deadlines --since 24h --json` end to end (start-up, migrations check,
    report, JSON); exit 1 only means the report is not empty."""
    argv = [str(DOCKD), "--config", str(config), "report", "deadlines", "--since", "24h", "--json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKD_")}
    out: dict[str, Any] = {"argv": ["dockd", *argv[1:]]}
    out |= {k: [] for k in ("cold", "warm", "cold_cpu", "warm_cpu")}
    out["loadavg_1m_before_after"] = [os.getloadavg()[0]]
    for kind in ("cold", "warm"):
        for _ in range(bench.runs):
            if kind == "cold":
                bench.cold()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            mark = time.perf_counter()
            proc = subprocess.run(argv, capture_output=True, env=env, cwd=WORK, check=False)
            out[kind].append(round(time.perf_counter() - mark, 3))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            out[f"{kind}_cpu"].append(round(cpu, 3))
            try:
                data = json.loads(proc.stdout)
            except json.JSONDecodeError:
                data = None
            if proc.returncode not in (0, 1) or not isinstance(data, dict):
                fail(
                    f"dockd report deadlines exit {proc.returncode}: {proc.stderr.decode()[-2000:]}"
                )
            out["exit"], out["counts"] = proc.returncode, counts_of(data)
    out["loadavg_1m_before_after"].append(os.getloadavg()[0])
    return out


# --- what each statement costs ---------------------------------------------------------


@dataclass
class Statement:
    sql: str
    params: tuple[Any, ...]
    executions: int = 0
    attributed_s: float = 0.0


def trace(bench: Bench, pack: PolicyPack) -> tuple[list[Statement], float]:
    """Every statement of one warm report, with the time until the next one starts (its
    execution, fetch and ORM work)."""
    marks: list[tuple[float, str, tuple[Any, ...]]] = []

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        marks.append((time.perf_counter(), statement, tuple(parameters or ())))

    ledger = Ledger(bench.url)
    try:
        bench.report(ledger, pack)
        event.listen(ledger.engine, "before_cursor_execute", before)
        mark = time.perf_counter()
        bench.report(ledger, pack)
        end = time.perf_counter()
        event.remove(ledger.engine, "before_cursor_execute", before)
    finally:
        ledger.close()
    found: dict[str, Statement] = {}
    for n, (at, sql, params) in enumerate(marks):
        following = marks[n + 1][0] if n + 1 < len(marks) else end
        key = " ".join(sql.split())
        statement = found.setdefault(key, Statement(key, params))
        statement.executions += 1
        statement.attributed_s += following - at
    return list(found.values()), end - mark


def plan(con: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[str]:
    """EXPLAIN QUERY PLAN as the sqlite3 shell indents it."""
    depth: dict[int, int] = {}
    lines = []
    for node, parent, _, detail in con.execute("EXPLAIN QUERY PLAN " + sql, params):
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return lines


def bare_schema(db: Path) -> sqlite3.Connection:
    """The ledger's schema without data or sqlite_stat1: how a station that never ran
    ANALYZE (dockd does not) plans."""
    src = sqlite3.connect(db)
    rows = src.execute(
        "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "ORDER BY type = 'index', rowid"
    ).fetchall()
    src.close()
    bare = sqlite3.connect(":memory:")
    for (sql,) in rows:
        bare.execute(sql)
    return bare


def run_sql(bench: Bench, sql: str, params: Sequence[Any], cold: bool) -> tuple[float, int]:
    if cold:
        bench.cold()
    con = sqlite3.connect(bench.db)
    try:
        con.execute("SELECT count(*) FROM sqlite_schema").fetchall()  # parse the schema first
        mark = time.perf_counter()
        rows = con.execute(sql, params).fetchall()
        return time.perf_counter() - mark, len(rows)
    finally:
        con.close()


def replay(bench: Bench, sql: str, params: Sequence[Any]) -> dict[str, Any]:
    """The statement alone through sqlite3 (execute + fetchall): medians of a few runs."""
    runs = max(1, min(3, bench.runs))
    cold = [run_sql(bench, sql, params, True)[0] for _ in range(runs)]
    _, rows = run_sql(bench, sql, params, False)
    warm = [run_sql(bench, sql, params, False)[0] for _ in range(runs)]
    return {
        "cold": round(statistics.median(cold), 4),
        "warm": round(statistics.median(warm), 4),
        "rows": rows,
    }


def section_of(sql: str) -> str:
    return next((label for key, label in SECTIONS if key in sql), "?")


def full_scans(lines: Sequence[str], rows: dict[str, int]) -> list[str]:
    out = []
    for line in lines:
        words = line.split()
        if words[:1] == ["SCAN"] and rows.get(words[1], 0) >= BIG_TABLE_ROWS:
            out.append(f"{line.strip()} ({rows[words[1]]:,} rows)")
    return out


def analyse(
    bench: Bench, statements: list[Statement], rows: dict[str, int]
) -> list[dict[str, Any]]:
    con = sqlite3.connect(bench.db)
    bare = bare_schema(bench.db)
    out = []
    for st in statements:
        entry: dict[str, Any] = {
            "section": section_of(st.sql),
            "sql": st.sql,
            "executions": st.executions,
            "attributed_s": round(st.attributed_s, 4),
        }
        out.append(entry)
        if not st.sql.startswith("SELECT"):
            continue
        entry["params"] = [p if isinstance(p, int | float | str) else repr(p) for p in st.params]
        entry["plan"] = plan(con, st.sql, st.params)
        entry["plan_without_stat1"] = plan(bare, st.sql, st.params)
        entry["sqlite_s"] = replay(bench, st.sql, st.params)
        why = []
        if entry["sqlite_s"]["cold"] >= SLOW_COLD_S:
            why.append(f"cold {entry['sqlite_s']['cold']:.3f} s >= {SLOW_COLD_S} s")
        if entry["sqlite_s"]["warm"] >= SLOW_WARM_S:
            why.append(f"warm {entry['sqlite_s']['warm']:.3f} s >= {SLOW_WARM_S} s")
        if st.attributed_s >= SLOW_ATTRIBUTED_S:
            why.append(
                f"{st.executions} execution(s) take {st.attributed_s:.3f} s of the report "
                f">= {SLOW_ATTRIBUTED_S} s"
            )
        scans = full_scans(entry["plan"], rows) or full_scans(entry["plan_without_stat1"], rows)
        why += [f"full scan: {s}" for s in scans]
        entry["slow_because"] = why
    con.close()
    bare.close()
    return out


def measured(bench: Bench, entry: dict[str, Any]) -> dict[str, Any]:
    """The statement's plans and timing in the ledger as it is now."""
    con = sqlite3.connect(bench.db)
    bare = bare_schema(bench.db)
    try:
        return {
            "plan": plan(con, entry["sql"], entry["params"]),
            "plan_without_stat1": plan(bare, entry["sql"], entry["params"]),
            "sqlite_s": replay(bench, entry["sql"], entry["params"]),
        }
    finally:
        con.close()
        bare.close()


def described(candidate: Candidate, in_schema: bool) -> dict[str, Any]:
    return {
        "index": candidate.sqlalchemy,
        "in": f"{candidate.orm}.__table_args__ (dockd/adapters/ledger/schema.py)",
        "create_sql": candidate.create_sql,
        "in_schema": in_schema,
    }


def try_index(bench: Bench, candidate: Candidate, entry: dict[str, Any]) -> dict[str, Any]:
    """A new index: create it by hand in the synthetic ledger, measure, drop it again."""
    con = sqlite3.connect(bench.db, isolation_level=None)
    mark = time.perf_counter()
    con.execute(candidate.create_sql)
    built = time.perf_counter() - mark
    con.execute(f"ANALYZE {candidate.name}")
    con.close()
    try:
        with_it = measured(bench, entry)
    finally:
        drop_index(bench.db, candidate.name)
    without = {k: entry[k] for k in ("plan", "plan_without_stat1", "sqlite_s")}
    return described(candidate, False) | {
        "build_s": round(built, 3),
        "with": with_it,
        "without": without,
    }


def try_without(bench: Bench, candidate: Candidate, entry: dict[str, Any]) -> dict[str, Any]:
    """An index the migrations already make: drop it, measure, put it back as it was."""
    con = sqlite3.connect(bench.db, isolation_level=None)
    (sql,) = con.execute(
        "SELECT sql FROM sqlite_schema WHERE name = ?", (candidate.name,)
    ).fetchone()
    con.close()
    drop_index(bench.db, candidate.name)
    try:
        without = measured(bench, entry)
    finally:
        con = sqlite3.connect(bench.db, isolation_level=None)
        con.execute(sql)
        con.execute(f"ANALYZE {candidate.name}")
        con.close()
    with_it = {k: entry[k] for k in ("plan", "plan_without_stat1", "sqlite_s")}
    return described(candidate, True) | {"with": with_it, "without": without}


def alembic_version(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return ",".join(v for (v,) in con.execute("SELECT version_num FROM alembic_version"))
    finally:
        con.close()


def index_names(db: Path) -> set[str]:
    con = sqlite3.connect(db)
    try:
        return {n for (n,) in con.execute("SELECT name FROM sqlite_schema WHERE type = 'index'")}
    finally:
        con.close()


def drop_index(db: Path, name: str) -> None:
    con = sqlite3.connect(db, isolation_level=None)
    con.execute(f"DROP INDEX IF EXISTS {name}")  # its sqlite_stat1 row goes with it
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def propose(bench: Bench, entry: dict[str, Any]) -> tuple[Candidate | None, list[Candidate]]:
    """Measure every candidate for a slow statement, with and without it. Of the new ones,
    recommend the first listed (the plainest) unless another is clearly faster from disk.
    (The recommended new index, the candidates the migrations already make.)"""
    matching = [c for c in CANDIDATES if c.match in entry["sql"]]
    entry["proposed"] = []
    present = index_names(bench.db)
    old = [c for c in matching if c.name in present]
    new = [c for c in matching if c.name not in present]
    for candidate in old:
        log(f"  without {candidate.name} (the migrations make it)")
        entry["proposed"].append(try_without(bench, candidate, entry))
    for candidate in new:
        log(f"  trying {candidate.name}")
        entry["proposed"].append(try_index(bench, candidate, entry))
    scans = any(line.strip().startswith("SCAN") for line in entry["plan"])
    if old and not new:
        entry["note"] = (
            f"{', '.join(c.name for c in old)} (already in the migrations) serves it; no other "
            "index does better"
            + (
                ": what is left is a scan of that index, which grows with every dock "
                "session; only a different query makes it constant (a code change)"
                if scans
                else ""
            )
        )
    elif not matching:
        if not scans and entry["executions"] > 1:
            entry["note"] = (
                f"every execution already uses an index; the cost is {entry['executions']} "
                "round trips (one per row of the query before it): batch them with one "
                "IN (...) query, a code change, not an index"
            )
        elif not scans:
            entry["note"] = "already uses an index: what is left is reading its rows"
        else:
            entry["note"] = "no candidate index for this statement"
    if not new:
        entry["recommended"] = None
        return None, old
    tried = [t for t in entry["proposed"] if not t["in_schema"]]
    colds = [t["with"]["sqlite_s"]["cold"] for t in tried]
    best = min(range(len(colds)), key=colds.__getitem__)
    clearly = colds[0] - colds[best] > max(0.3 * colds[0], 0.05)
    pick = best if clearly else 0
    for n, t in enumerate(tried):
        t["recommended"] = n == pick
    entry["recommended"] = tried[pick]["index"]
    return new[pick], old


def with_indexes(
    bench: Bench,
    add: list[Candidate],
    remove: list[Candidate],
    packs: dict[str, PolicyPack],
    expected: Expected,
    config: Path,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole report, and the command, again with some indexes added (new ones) or
    removed (ones the migrations make); the ledger is put back as it was afterwards."""
    con = sqlite3.connect(bench.db, isolation_level=None)
    saved = [
        con.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (c.name,)).fetchone()[0]
        for c in remove
    ]
    for candidate in remove:
        con.execute(f"DROP INDEX {candidate.name}")
    for candidate in add:
        con.execute(candidate.create_sql)
        con.execute(f"ANALYZE {candidate.name}")
    con.close()
    try:
        seconds = {
            short: time_report(bench, pack, expected.for_pack(pack))
            for short, pack in packs.items()
        }
        return seconds, time_cli(bench, config)
    finally:
        for candidate in add:
            drop_index(bench.db, candidate.name)
        con = sqlite3.connect(bench.db, isolation_level=None)
        for candidate, sql in zip(remove, saved, strict=True):
            con.execute(sql)
            con.execute(f"ANALYZE {candidate.name}")
        con.close()


# --- report ------------------------------------------------------------------------------


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()} x{os.cpu_count()}"
    return f"{platform.processor() or platform.machine()} x{os.cpu_count()}"


TIMES = ("cold", "warm", "cold_cpu", "warm_cpu")


def met(seconds: dict[str, Any], pick: Callable[[list[float]], float]) -> bool:
    return all(pick(t[k]) < TARGET_S for t in seconds.values() for k in ("cold", "warm"))


def spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):6.3f} / {max(values):6.3f}"


def table(result: dict[str, Any]) -> str:
    lines = [
        f"\ndeadline report: {result['recordings']:,} recordings, {result['sessions']:,} "
        f"sessions, ledger {result['db_size_mib']:,.0f} MiB (loaded in "
        f"{result['load_seconds']:.0f} s); cold = {result['cold_cache']}",
        f"  {'seconds':<38}{'cold median / max':>20}{'warm median / max':>20}{'warm CPU':>10}",
    ]
    rows = [(f"deadline_report {k}", t) for k, t in result["report_seconds"].items()]
    rows.append(("dockd report deadlines", result["cli_seconds"]))
    for k, t in (result.get("report_seconds_with_indexes") or {}).items():
        rows.append((f"deadline_report {k} + new indexes", t))
    if result.get("cli_seconds_with_indexes"):
        rows.append(("dockd report + new indexes", result["cli_seconds_with_indexes"]))
    for k, t in (result.get("report_seconds_without_schema_indexes") or {}).items():
        rows.append((f"deadline_report {k} - schema idx", t))
    if result.get("cli_seconds_without_schema_indexes"):
        rows.append(("dockd report - schema idx", result["cli_seconds_without_schema_indexes"]))
    for label, t in rows:
        cpu = statistics.median(t["warm_cpu"])
        lines.append(f"  {label:<38}{spread(t['cold']):>20}{spread(t['warm']):>20}{cpu:>10.3f}")
    verdict = {True: "met", False: "MISSED", None: "-"}
    lines.append(f"  target: {result['target']}")
    lines.append(
        f"  target met: {verdict[result['target_met']]}; every run: "
        f"{verdict[result['target_met_every_run']]}; with the proposed indexes: "
        f"{verdict[result['target_met_with_indexes']]}"
    )
    lines.append(f"\nslow queries: {len(result['slow_queries'])}")
    for q in result["slow_queries"]:
        s = q.get("sqlite_s", {})
        lines.append(
            f"  - {q['section']}: alone {s.get('cold', 0):.3f} s cold, {s.get('warm', 0):.3f} s "
            f"warm; {q['executions']} execution(s), {q['attributed_s']:.3f} s in the report"
        )
        lines.append(f"    why: {'; '.join(q['slow_because'])}")
        lines += [f"    plan: {line}" for line in q.get("plan", [])]
        for tried in q.get("proposed", []):
            w, wo = tried["with"]["sqlite_s"], tried["without"]["sqlite_s"]
            mark = "*" if tried.get("recommended") else " "
            where = "in the migrations" if tried["in_schema"] else "new"
            lines.append(
                f"   {mark}{tried['index']} ({where}): with {w['cold']:.3f} s cold / "
                f"{w['warm']:.3f} s warm, without {wo['cold']:.3f} / {wo['warm']:.3f}"
            )
            lines += [f"      with: {line}" for line in tried["with"]["plan"]]
            lines += [f"      without: {line}" for line in tried["without"]["plan"]]
        if "note" in q:
            lines.append(f"    note: {q['note']}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="dockd deadline-report benchmark")
    parser.add_argument("--recordings", type=int, default=10_000_000, help="N recordings")
    parser.add_argument("--keep", action="store_true", help="leave bench/work-report/ behind")
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs, cold and warm")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument(
        "--reuse", action="store_true", help="time the ledger a --keep run left (no load)"
    )
    args = parser.parse_args()
    if not DOCKD.exists():
        fail(f"{DOCKD} is missing: run with the venv's python")
    if args.recordings < 1 or args.runs < 1:
        fail("--recordings and --runs must be positive")
    db = WORK / "ledger.sqlite3"
    url = f"sqlite:///{db}"
    meta = WORK / "load.json"
    if not args.reuse:
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir(parents=True)
    os.environ["SQLITE_TMPDIR"] = str(WORK)  # index sorts spill here, not to /tmp
    code_before = git_state()
    packs = {short: load_policy(RULES, pack_id) for short, pack_id in PACKS.items()}
    try:
        if args.reuse:
            loaded = Loaded.restore(meta, args.recordings)
            log(f"reusing the ledger loaded at {loaded.anchor:%Y-%m-%d %H:%M} UTC")
        else:
            Ledger(url).close()  # the migrations make the schema
            schema = {"alembic": alembic_version(db), "indexes": sorted(index_names(db))}
            loaded = load(db, args.recordings, args.seed)
            log(f"loaded in {loaded.seconds['total']:.0f} s: {loaded.rows}")
            loaded.fk = sanity(db, url, fk_check=args.recordings <= 1_000_000)
            loaded.schema = schema
            loaded.save(meta, args.recordings, args.seed)
        for leftover in CANDIDATES:  # left behind by an interrupted run
            if leftover.name not in loaded.schema["indexes"]:
                drop_index(db, leftover.name)
        size = sum(f.stat().st_size for f in WORK.glob("ledger.sqlite3*"))
        bench = Bench(db, url, loaded.anchor, args.runs)

        seconds = {}
        for short, pack in packs.items():
            log(f"timing deadline_report ({pack.id})")
            seconds[short] = time_report(bench, pack, loaded.expected.for_pack(pack))
        log("timing dockd report deadlines")
        config = write_config(url)
        cli = time_cli(bench, config)

        log("tracing the report's statements")
        statements, traced = trace(bench, packs[HEAVY])
        queries = analyse(bench, statements, loaded.rows)
        slow = [q for q in queries if q.get("slow_because")]
        chosen: list[Candidate] = []
        existing: list[Candidate] = []
        for q in slow:
            log(f"slow: {q['section']}")
            candidate, old = propose(bench, q)
            if candidate is not None and candidate not in chosen:
                chosen.append(candidate)
            existing += [c for c in old if c not in existing]
        indexed = indexed_cli = unindexed = unindexed_cli = None
        if chosen:
            log(f"timing the report with {', '.join(c.name for c in chosen)}")
            indexed, indexed_cli = with_indexes(bench, chosen, [], packs, loaded.expected, config)
        if existing:
            log(f"timing the report without {', '.join(c.name for c in existing)}")
            unindexed, unindexed_cli = with_indexes(
                bench, [], existing, packs, loaded.expected, config
            )
        schema_after = alembic_version(db)
    finally:
        if not args.keep:
            shutil.rmtree(WORK, ignore_errors=True)
    code_after = git_state()
    changed = code_after["dockd_sha256"] != code_before["dockd_sha256"]
    result = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "sqlite": sqlite3.sqlite_version,
        "dockd": subprocess.run(
            [str(DOCKD), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "git": code_before,
        "dockd_changed_during_run": changed,
        "recordings": args.recordings,
        "sessions": loaded.rows["dock_sessions"],
        "rows": loaded.rows,
        "db_size_mib": round(size / (1 << 20), 1),
        "load_seconds": round(loaded.seconds["total"], 1),
        "load_breakdown_s": {k: round(v, 1) for k, v in loaded.seconds.items()},
        "foreign_key_check": loaded.fk,
        "schema": {
            "alembic_version": loaded.schema["alembic"],
            "changed_during_run": schema_after != loaded.schema["alembic"],
            "indexes": loaded.schema["indexes"],
        },
        "reused_ledger": args.reuse,
        "anchor": loaded.anchor.isoformat(),
        "window": "since = anchor - 24 h, until = now = anchor",
        "cold_cache": bench.cold_method,
        "runs": args.runs,
        "report_seconds": seconds,
        "report_counts": {s: loaded.expected.for_pack(p) for s, p in packs.items()},
        "cli_seconds": {k: cli[k] for k in TIMES},
        "cli": {k: v for k, v in cli.items() if k not in TIMES},
        "target_s": TARGET_S,
        "target": (
            f"deadline_report: median wall time of each set of {args.runs} runs (both packs, "
            f"cold and warm) under {TARGET_S:g} s"
        ),
        "target_met": met(seconds, statistics.median),
        "target_met_every_run": met(seconds, max),
        "target_met_with_indexes": met(indexed, statistics.median) if indexed else None,
        "cli_under_target": statistics.median(cli["cold"] + cli["warm"]) < TARGET_S,
        "slow_query_rule": (
            f"alone >= {SLOW_COLD_S} s cold or >= {SLOW_WARM_S} s warm, or >= "
            f"{SLOW_ATTRIBUTED_S} s of the report over all executions, or a full scan of a "
            f"table of >= {BIG_TABLE_ROWS:,} rows (with or without sqlite_stat1)"
        ),
        "traced_report_s": round(traced, 3),
        "slow_queries": slow,
        "report_seconds_with_indexes": indexed,
        "cli_seconds_with_indexes": {k: indexed_cli[k] for k in TIMES} if indexed_cli else None,
        "indexes_measured_together": [c.sqlalchemy for c in chosen],
        "report_seconds_without_schema_indexes": unindexed,
        "cli_seconds_without_schema_indexes": (
            {k: unindexed_cli[k] for k in TIMES} if unindexed_cli else None
        ),
        "schema_indexes_dropped_for_that": [c.name for c in existing],
        "queries": [q for q in queries if not q.get("slow_because")],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(table(result))
    if changed:
        print("WARNING: dockd/ changed during the run; the timings may mix two versions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
