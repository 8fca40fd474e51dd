"""The forwarding backlog on real ledgers (SQLite, and PostgreSQL shared by two stations):
recordings ingested by `dockd ingest`, their central copies written as the forwarder
writes them, then `dockd status --json`, `/metrics` and `dockd report deadlines` read
back exact numbers. Without `[central]` there is no backlog section at all."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from dockd.adapters.ledger.schema import (
    CentralCopyRow,
    ObjectLocationRow,
    ObjectRow,
    RecordingRow,
)
from dockd.adapters.rules import load_config
from dockd.app import build, build_web
from dockd.ui import format as fmt
from tests.conftest import Dockd, unfreeze, write_config
from tests.integration.test_ledger_postgres import make_recordings
from tests.support.postgres import running_postgres

MIB = 1 << 20
CENTRAL = """
[central]
endpoint = "http://127.0.0.1:9"
bucket = "evidence"
access_key = "dock"
secret_key = "not-contacted-by-these-reads"
"""


def _station(tmp_path: Path, name: str, url: str, central: bool = True) -> Dockd:
    store = tmp_path / f"{name}-store"
    extra = f'\n[station]\nid = "{name}"\n[web]\nlisten = "127.0.0.1:0"\n'
    extra += CENTRAL if central else ""
    return Dockd(write_config(tmp_path / f"{name}.toml", store, url, extra), store, url)


@contextmanager
def _sqlite(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@contextmanager
def _postgres(tmp_path: Path) -> Iterator[str]:
    with running_postgres(tmp_path / "pg") as url:
        yield url


LEDGERS = [
    pytest.param(_sqlite, id="sqlite"),
    pytest.param(_postgres, id="postgres", marks=pytest.mark.root),
]


EAST_FILES: list[bytes | str] = ["a.avi", "b.avi", "c.avi", "d.avi", "f.avi", "g.avi"]
# name: (offloaded hours ago, central state, error code, confirmed hours after offload)
EAST_COPIES: dict[str, tuple[int, str | None, str | None, int | None]] = {
    "a.avi": (30, "confirmed", None, 1),  # in time
    "b.avi": (30, "failed", "CENTRAL_UNREACHABLE", None),
    "c.avi": (30, "pending", None, None),
    "d.avi": (30, None, None, None),  # never sent
    "f.avi": (30, "confirmed", None, 26),  # 2 h late, 4 h ago: in the last 24 h
    "g.avi": (80, "confirmed", None, 30),  # 6 h late, 50 h ago: an earlier report's
}


def _age_and_forward(url: str, serial: str, now: datetime) -> dict[str, int]:
    """Back-date the offloads of EAST_FILES and write their central copies as the forwarder
    would (EAST_COPIES); e.avi (another recorder) is today's and unsent. Returns the sizes
    of dock-east's session manifests, by BLAKE3."""
    engine = sa.create_engine(url)
    with Session(engine) as db, db.begin():
        recordings = {
            r.path.rsplit("/", 1)[-1]: r
            for r in db.scalars(sa.select(RecordingRow).where(RecordingRow.serial == serial))
        }
        for name, (hours_ago, state, code, confirmed_after) in EAST_COPIES.items():
            r = recordings[name]
            offloaded = now - timedelta(hours=hours_ago)
            r.verified_at = offloaded
            db.get_one(ObjectRow, r.blake3).stored_at = offloaded
            if state is None:
                continue
            confirmed = (
                None if confirmed_after is None else offloaded + timedelta(hours=confirmed_after)
            )
            db.add(
                CentralCopyRow(
                    blake3=r.blake3,
                    station="dock-east",
                    key=r.object_key,
                    state=state,
                    confirmed_at=confirmed,
                    error_code=code,
                    error="connection refused" if code else None,
                    attempts=1,
                    updated_at=confirmed or now,
                )
            )
        manifests = db.scalars(
            sa.select(ObjectRow)
            .join(ObjectLocationRow, ObjectLocationRow.blake3 == ObjectRow.blake3)
            .where(ObjectRow.kind != "recording", ObjectLocationRow.station == "dock-east")
        ).all()
        sizes = {m.blake3: m.size for m in manifests}
    engine.dispose()
    return sizes


def _metrics(dockd: Dockd) -> dict[str, float]:
    app = build(load_config(dockd.config))
    web = build_web(app)
    try:
        assert web.start()
        with httpx.Client(base_url=web.url.rstrip("/"), trust_env=False, timeout=10) as http:
            text = http.get("/metrics").text
    finally:
        web.stop()
        app.close()
    return {
        s.name: s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name.startswith("dockd_central_")
    }


@pytest.mark.parametrize("ledger", LEDGERS)
def test_status_metrics_and_report_show_the_backlog(
    tmp_path: Path, ledger: Callable[[Path], AbstractContextManager[str]]
) -> None:
    with ledger(tmp_path) as url:
        east = _station(tmp_path, "dock-east", url)
        west = _station(tmp_path, "dock-west", url)
        try:
            make_recordings(tmp_path / "SNEAST", EAST_FILES, MIB)
            make_recordings(tmp_path / "SNEAST2", ["e.avi"], 2 * MIB)
            make_recordings(tmp_path / "SNWEST", ["w.avi"], 3 * MIB)
            assert east.ingest(tmp_path / "SNEAST", "SNEAST").returncode == 0
            assert east.ingest(tmp_path / "SNEAST2", "SNEAST2").returncode == 0
            assert west.ingest(tmp_path / "SNWEST", "SNWEST").returncode == 0
            now = datetime.now(UTC)
            manifests = sum(_age_and_forward(url, "SNEAST", now).values())
            # east's backlog: b, c, d (1 MiB each), e (2 MiB) and its two session manifests
            # (their sizes from the ledger); a, f and g are confirmed
            expected_bytes = 5 * MIB + manifests

            status = east.json("status")["central"]
            b = status["backlog"]
            assert (b["objects"], b["bytes"]) == (6, expected_bytes)
            assert (b["unsent"], b["pending"], b["failed"], b["confirmed"]) == (4, 1, 1, 3)
            assert b["failed_codes"] == [{"code": "CENTRAL_UNREACHABLE", "objects": 1}]
            oldest = datetime.fromisoformat(b["oldest_stored_at"])
            assert abs(oldest - (now - timedelta(hours=30))) < timedelta(milliseconds=1)
            assert status["late_to_central"] == 3  # b, c, d: 30 h after offload, unconfirmed
            assert status["confirm_within_hours"] == 24.0

            terminal = east.run("status", env={"COLUMNS": "240"}).stdout
            assert "Central store" in terminal
            assert f"backlog 6 objects, {fmt.size(expected_bytes)} · oldest 1 d 6 h ago" in terminal
            assert "failed: CENTRAL_UNREACHABLE × 1 · 3 late (> 24 h)" in terminal

            gauges = _metrics(east)
            assert gauges["dockd_central_backlog_objects"] == 6
            assert gauges["dockd_central_backlog_bytes"] == expected_bytes
            assert gauges["dockd_central_failed_objects"] == 1
            assert gauges["dockd_central_late_recordings"] == 3
            assert 30 * 3600 <= gauges["dockd_central_backlog_oldest_seconds"] < 30 * 3600 + 120

            found = east.run("report", "deadlines", "--json")
            assert found.returncode == 1, found.stderr  # something to report
            report = json.loads(found.stdout)
            until = datetime.fromisoformat(report["until"])
            late = {x["path"].rsplit("/", 1)[-1]: x for x in report["late_to_central"]}
            assert {name: x["state"] for name, x in late.items()} == {
                "b.avi": "failed",
                "c.avi": "pending",
                "d.avi": "unsent",
                "f.avi": "confirmed",  # confirmed late within the period
            }
            for name in ("b.avi", "c.avi", "d.avi"):  # still open: late until the report's end
                deadline = datetime.fromisoformat(late[name]["deadline"])
                assert abs(deadline - (now - timedelta(hours=6))) < timedelta(milliseconds=1)
                assert late[name]["confirmed_at"] is None
                assert late[name]["late_by_s"] == (until - deadline).total_seconds()
            confirmed = datetime.fromisoformat(late["f.avi"]["confirmed_at"])
            assert abs(confirmed - (now - timedelta(hours=4))) < timedelta(milliseconds=1)
            assert late["f.avi"]["late_by_s"] == pytest.approx(2 * 3600, abs=0.001)
            assert report["central_backlog"]["objects"] == 6
            text = east.run("report", "deadlines").stdout
            assert "LATE TO THE CENTRAL STORE (4)" in text
            assert "  Failed by error: CENTRAL_UNREACHABLE × 1." in text

            # west's own object is its backlog, not east's
            west_backlog = west.json("status")["central"]["backlog"]
            assert (west_backlog["objects"], west_backlog["unsent"]) == (2, 2)  # w.avi + manifest
            assert west.json("status")["central"]["late_to_central"] == 0
        finally:
            unfreeze(east.store)
            unfreeze(west.store)


def test_a_single_box_shows_no_backlog(tmp_path: Path) -> None:
    box = _station(tmp_path, "dock-solo", f"sqlite:///{tmp_path / 'ledger.sqlite3'}", False)
    try:
        make_recordings(tmp_path / "SN1", ["a.avi"], MIB)
        assert box.ingest(tmp_path / "SN1", "SN1").returncode == 0
        assert box.json("status")["central"] is None
        assert "Central store" not in box.run("status", env={"COLUMNS": "240"}).stdout
        report = box.json("report", "deadlines")
        assert (report["central_backlog"], report["late_to_central"]) == (None, [])
        assert _metrics(box) == {}
        assert "CENTRAL" not in box.run("report", "deadlines", check=True).stdout
    finally:
        unfreeze(box.store)
