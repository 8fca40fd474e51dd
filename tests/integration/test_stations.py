"""Two stations on one real PostgreSQL ledger, each with its own store and key: every
session says which station ran it, each `dockd verify` re-hashes only its own copies,
and each station keeps its own custody chain, signed with its own registered key."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from dockd.adapters.ledger.custody import chain_lock
from dockd.adapters.rules import load_config
from dockd.app import build, build_web
from dockd.core.custody import genesis
from tests.conftest import Dockd, unfreeze, write_config
from tests.integration.test_ledger_postgres import finish, make_recordings, popen
from tests.integration.test_policy_packs_e2e import local_now, name, recorder, recordings
from tests.support.postgres import running_postgres

pytestmark = pytest.mark.root
MIB = 1 << 20


def _station(tmp_path: Path, name: str, url: str, key: str | None = None) -> Dockd:
    """A station with its own store and its own key (`key`: another file, same id)."""
    store = tmp_path / f"{name}-store"
    key_file = tmp_path / f"{key or name}.key"
    # no [web] of the host's own dockd: the pages read here are these stations'
    extra = f'\n[station]\nid = "{name}"\nkey_file = "{key_file}"\n[web]\nlisten = "127.0.0.1:0"\n'
    config = write_config(tmp_path / f"{key or name}.toml", store, url, extra)
    return Dockd(config, store, url)


def _chains(url: str) -> dict[str, list[tuple[int, str, str]]]:
    """Each station's (seq, prev_hash, hash) rows, in sequence order."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(
                sa.text(
                    "SELECT station, seq, prev_hash, hash FROM custody_events ORDER BY station, seq"
                )
            ).all()
    finally:
        engine.dispose()
    chains: dict[str, list[tuple[int, str, str]]] = {}
    for station, seq, prev, digest in rows:
        chains.setdefault(station, []).append((seq, prev, digest))
    return chains


def _audit(d: Dockd, *extra: str) -> tuple[int, dict[str, Any]]:
    result = d.run("audit", "verify", "--json", *extra)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


@contextmanager
def _two_stations(tmp_path: Path) -> Iterator[tuple[str, Dockd, Dockd]]:
    with running_postgres(tmp_path / "pg") as url:
        east, west = _station(tmp_path, "dock-east", url), _station(tmp_path, "dock-west", url)
        try:
            yield url, east, west
        finally:
            unfreeze(east.store)
            unfreeze(west.store)


def test_two_stations_ingesting_at_once_each_keep_their_own_signed_chain(
    tmp_path: Path,
) -> None:
    make_recordings(tmp_path / "SNEAST", [f"e{i}.avi" for i in range(8)], 4 * MIB)
    make_recordings(tmp_path / "SNWEST", [f"w{i}.avi" for i in range(8)], 4 * MIB)
    with _two_stations(tmp_path) as (url, east, west):
        assert east.run("sessions").returncode == 0  # the schema first: this is about ingests
        procs = [
            popen(east, "ingest", str(tmp_path / "SNEAST"), "--serial", "SNEAST"),
            popen(west, "ingest", str(tmp_path / "SNWEST"), "--serial", "SNWEST"),
        ]
        for code, output in [finish(p) for p in procs]:
            assert code == 0, output

        chains = _chains(url)
        assert sorted(chains) == ["dock-east", "dock-west"]
        for station, chain in chains.items():
            assert [seq for seq, _, _ in chain] == list(range(1, len(chain) + 1))
            assert chain[0][1] == genesis(station)
            assert [prev for _, prev, _ in chain[1:]] == [h for _, _, h in chain[:-1]]

        keys: dict[str, str] = {}
        for name, d in (("dock-east", east), ("dock-west", west)):
            shown = d.run("station", "key")
            assert shown.returncode == 0, shown.stdout + shown.stderr
            keys[name] = shown.stdout.split("fingerprint: ")[1].split()[0]
            code, report = _audit(d)
            assert code == 0, report
            assert report["station"] == name
            assert report["broken"] is None and report["anchors"] == []
            assert report["events"] == len(chains[name])
        assert keys["dock-east"] != keys["dock-west"]
        code, report = _audit(east, "--all-stations")
        assert code == 0, report
        assert report["scope"] == "agency"
        assert {c["station"]: c["key"] for c in report["chains"]} == keys
        assert all(c["findings"] == [] and c["broken"] is None for c in report["chains"])


def test_a_station_appends_while_another_stations_chain_is_locked(tmp_path: Path) -> None:
    """Each station's appends take only its own chain's lock: west docks while east's
    lock is held, and east waits for it."""
    make_recordings(tmp_path / "SNEAST", ["e.avi"], MIB)
    make_recordings(tmp_path / "SNWEST", ["w.avi"], MIB)
    with _two_stations(tmp_path) as (url, east, west):
        assert east.run("sessions").returncode == 0
        engine = sa.create_engine(url)
        try:
            with engine.connect() as holder, holder.begin():
                holder.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": chain_lock("dock-east")}
                )
                blocked = popen(east, "ingest", str(tmp_path / "SNEAST"), "--serial", "SNEAST")
                result = west.ingest(tmp_path / "SNWEST", "SNWEST")
                assert result.returncode == 0, result.stdout + result.stderr
                assert blocked.poll() is None, "east wrote without its chain's lock"
            code, output = finish(blocked)
            assert code == 0, output
        finally:
            engine.dispose()
        assert sorted(_chains(url)) == ["dock-east", "dock-west"]


def test_a_tampered_event_is_its_stations_finding_not_its_neighbours(tmp_path: Path) -> None:
    make_recordings(tmp_path / "SNEAST", ["e.avi"], MIB)
    make_recordings(tmp_path / "SNWEST", ["w.avi"], MIB)
    with _two_stations(tmp_path) as (url, east, west):
        assert east.ingest(tmp_path / "SNEAST", "SNEAST").returncode == 0
        assert west.ingest(tmp_path / "SNWEST", "SNWEST").returncode == 0
        engine = sa.create_engine(url)
        with engine.begin() as c:
            changed = c.execute(
                sa.text(
                    "UPDATE custody_events SET actor = 'mallory' "
                    "WHERE station = 'dock-west' AND seq = 3"
                )
            )
            assert changed.rowcount == 1
        engine.dispose()

        code, report = _audit(east)
        assert code == 0, report  # east's chain and the rows it vouches for still hold
        (theirs,) = [c for c in report["chains"] if c["broken"] is not None]
        assert theirs["station"] == "dock-west"
        text = east.run("audit", "verify")
        assert text.returncode == 0, text.stdout + text.stderr
        assert "station dock-west: custody chain BROKEN at event 3" in text.stdout
        assert "theirs to answer" in text.stdout

        code, report = _audit(east, "--all-stations")
        assert code == 1
        broken = {c["station"]: c["broken"] for c in report["chains"]}
        assert broken["dock-east"] is None
        assert broken["dock-west"] == {
            "seq": 3,
            "reason": "content does not match its hash (edited row?)",
        }
        code, report = _audit(west)
        assert code == 1
        assert report["broken"]["seq"] == 3


def test_another_key_under_a_registered_id_is_a_finding_never_a_replacement(
    tmp_path: Path,
) -> None:
    make_recordings(tmp_path / "SNEAST", ["e.avi"], MIB)
    with _two_stations(tmp_path) as (url, east, west):
        assert east.ingest(tmp_path / "SNEAST", "SNEAST").returncode == 0
        registered = east.run("station", "key").stdout.split("fingerprint: ")[1].split()[0]
        impostor = _station(tmp_path, "dock-east", url, key="dock-east-new")
        make_recordings(tmp_path / "SNNEW", ["n.avi"], MIB)
        result = impostor.ingest(tmp_path / "SNNEW", "SNNEW")  # its checkpoint: its key
        assert result.returncode == 0, result.stdout + result.stderr
        shown = impostor.run("station", "key")
        assert shown.returncode == 1
        assert f"registered key {registered}" in shown.stderr
        assert east.run("station", "key").returncode == 0  # the registry still names east's

        code, report = _audit(west, "--all-stations")
        assert code == 1
        (chain,) = [c for c in report["chains"] if c["station"] == "dock-east"]
        assert chain["key"] == registered and chain["broken"] is None
        assert any("not its registered key" in f for f in chain["findings"]), chain
        assert any("this station's key is " + registered in f for f in chain["findings"])
        code, report = _audit(impostor)
        assert code == 1
        assert any("is not the key" in f for f in report["anchors"]), report["anchors"]


def test_each_station_verifies_only_the_objects_it_holds(tmp_path: Path) -> None:
    with running_postgres(tmp_path / "pg") as url:
        east, west = _station(tmp_path, "dock-east", url), _station(tmp_path, "dock-west", url)
        try:
            make_recordings(tmp_path / "SNEAST", ["a.avi", "b.avi"], MIB)
            make_recordings(tmp_path / "SNWEST", ["a.avi", "b.avi", "c.avi"], MIB)
            assert east.ingest(tmp_path / "SNEAST", "SNEAST").returncode == 0
            assert west.ingest(tmp_path / "SNWEST", "SNWEST").returncode == 0

            sessions = {s["serial"]: s["station"] for s in east.json("sessions")}
            assert sessions == {"SNEAST": "dock-east", "SNWEST": "dock-west"}

            # each store holds its recordings and its session's manifest, and only those
            east_report, west_report = east.json("verify"), west.json("verify")
            assert (east_report["checked"], east_report["findings"]) == (3, [])
            assert (west_report["checked"], west_report["findings"]) == (4, [])

            engine = sa.create_engine(url)
            with engine.connect() as c:
                located = c.execute(
                    sa.text("SELECT station, count(*) FROM object_locations GROUP BY station")
                ).all()
            engine.dispose()
            assert sorted(located) == [("dock-east", 3), ("dock-west", 4)]

            # a station that lost an object finds it missing; the other is not concerned
            unfreeze(west.store)
            victim = next(p for p in west.objects() if p.stat().st_size == MIB)
            victim.unlink()
            result = west.run("verify", "--json")
            assert result.returncode == 1, result.stdout + result.stderr
            assert east.run("verify").returncode == 0
        finally:
            unfreeze(east.store)
            unfreeze(west.store)


def _late_clip(folder: Path, serial: str) -> None:
    """A clip that ended in 2026-11-01, offloaded now: late under every pack."""
    folder.mkdir()
    (folder / f"{serial}_0042_20261101080000_0001.AVI").write_bytes(os.urandom(4096))


def test_the_report_covers_this_station_or_every_one_and_names_the_station(
    tmp_path: Path,
) -> None:
    _late_clip(tmp_path / "SNEAST", "SNEAST")
    _late_clip(tmp_path / "SNWEST", "SNWEST")
    with _two_stations(tmp_path) as (url, east, west):
        assert east.ingest(tmp_path / "SNEAST", "SNEAST").returncode == 0
        assert west.ingest(tmp_path / "SNWEST", "SNWEST").returncode == 0

        def late(d: Dockd, *extra: str) -> tuple[str | None, list[tuple[str, str]]]:
            result = d.run("report", "deadlines", "--json", *extra)
            assert result.returncode == 1, result.stderr  # something late: exit 1
            report = json.loads(result.stdout)
            items = [(x["serial"], x["station"]) for x in report["late_offloads"]]
            return report["station"], sorted(items)

        assert late(east) == ("dock-east", [("SNEAST", "dock-east")])
        assert late(west) == ("dock-west", [("SNWEST", "dock-west")])
        everyone = (None, [("SNEAST", "dock-east"), ("SNWEST", "dock-west")])
        assert late(east, "--all-stations") == everyone
        text = east.run("report", "deadlines", "--all-stations").stdout
        assert "(all stations)" in text and "at dock-west" in text

        config = tmp_path / "dock-east-agency.toml"
        config.write_text(east.config.read_text() + '\n[mail]\nscope = "agency"\n')
        assert late(Dockd(config, east.store, url)) == everyone


def test_each_station_expires_its_own_copy_and_the_recording_lives_while_one_is_left(
    tmp_path: Path,
) -> None:
    """The same 13-month-old footage (one object) docked at both stations, from two
    recorders, under Qidong's 12 months: east's expiry removes east's copy only; the
    recordings are expired once west has removed its copy too."""
    old = local_now() - timedelta(days=400)
    clips = {"east": name("QD09", "3309", old), "west": name("QD10", "3310", old)}
    with _two_stations(tmp_path) as (_, east, west):
        for d, label, serial in ((east, "east", "QD09"), (west, "west", "QD10")):
            d.config.write_text(d.config.read_text() + '\n[policy]\npack = "qidong"\n')
            folder = recorder(tmp_path / f"rec-{label}", {clips[label]: b"past retention"})
            result = d.ingest(folder, serial)
            assert result.returncode == 0, result.stdout + result.stderr
        key = str(recordings(east)[clips["east"]]["object"])
        assert recordings(east)[clips["west"]]["object"] == key

        done = east.run("retention", "expire", "--by", "admin02")
        assert "1 object(s) expired" in done.stdout, done.stdout + done.stderr
        assert not (east.store / key).exists() and (west.store / key).exists()
        assert all(r["expired_at"] is None for r in recordings(west).values()), "west holds it"
        assert west.json("verify")["findings"] == []
        assert "1 object(s) expirable" in west.run("retention", "expire", "--dry-run").stdout
        assert east.run("retention", "expire").stdout.startswith("0 object(s) expired")

        done = west.run("retention", "expire", "--by", "admin02")
        assert "1 object(s) expired" in done.stdout, done.stdout + done.stderr
        assert not (west.store / key).exists()
        assert all(r["expired_at"] is not None for r in recordings(east).values())
        code, report = _audit(west, "--all-stations")
        assert code == 0, report


def _page(d: Dockd) -> tuple[dict[str, Any], str]:
    """The station's status page as the daemon serves it: its document and its HTML."""
    app = build(load_config(d.config))
    web = build_web(app)
    try:
        assert web.start()
        with httpx.Client(base_url=web.url.rstrip("/"), trust_env=False, timeout=10) as http:
            return http.get("/api/status").json(), http.get("/").text
    finally:
        web.stop()
        app.close()


def test_a_stations_page_shows_its_own_sessions_and_the_agencys_late_offloads(
    tmp_path: Path,
) -> None:
    _late_clip(tmp_path / "SNEAST", "SNEAST")
    _late_clip(tmp_path / "SNWEST", "SNWEST")
    with _two_stations(tmp_path) as (_, east, west):
        assert east.ingest(tmp_path / "SNEAST", "SNEAST").returncode == 0
        assert west.ingest(tmp_path / "SNWEST", "SNWEST").returncode == 0
        agency = [("SNEAST", "dock-east"), ("SNWEST", "dock-west")]
        for station, serial, other in ((east, "SNEAST", "SNWEST"), (west, "SNWEST", "SNEAST")):
            document, html = _page(station)
            today = document["today"]
            assert [s["serial"] for s in today["sessions"]] == [serial]
            assert sorted((x["serial"], x["station"]) for x in today["late_offloads"]) == agency
            assert html.count(serial) > html.count(other) > 0  # the other only as late
