"""A hold placed at the last instant of a free wins: real SQLite and PostgreSQL ledgers,
the real store on disk (immutable flags and all), real SeaweedFS for the final HEAD.

The hold is placed through the real hold service at the one instant that matters, when
the forwarder sets the local copy aside after its intent is committed (a store wrapper
places it, then lets the real store act). Each crash between a free's steps is simulated
at its boundary, and a real `dockd forward` (a new process, as at a start) settles it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dockd.adapters.ledger.schema import CustodyEventRow
from dockd.adapters.store.objects import ObjectStore
from dockd.app import App, load_config
from dockd.services.forward import Forwarder
from tests.conftest import REPO, Dockd, unfreeze, write_config
from tests.integration.test_forward import clips, docked, forward, use_central
from tests.integration.test_policy_packs_e2e import audit_ok, recordings
from tests.support.postgres import running_postgres
from tests.support.seaweed import SeaweedServer
from tests.support.stepping import step_until


class Killed(Exception):
    """dockd dying at a boundary of a free (nothing in dockd catches it)."""


class Interposed:
    """The real store, with something done at one of the free's steps: `before_set_aside`
    runs just before the copy is set aside (the intent is committed by then); `kill_at`
    names the step after which (set_aside) or before which (put_back, delete_set_aside)
    the process dies."""

    def __init__(
        self,
        store: ObjectStore,
        before_set_aside: Callable[[], None] = lambda: None,
        kill_at: str | None = None,
    ) -> None:
        self.store = store
        self.before_set_aside = before_set_aside
        self.kill_at = kill_at

    def path_of(self, key: str) -> Path:
        return self.store.path_of(key)

    def set_aside(self, key: str) -> bool:
        self.before_set_aside()
        self.before_set_aside = lambda: None  # once: the first object's free
        done = self.store.set_aside(key)
        if self.kill_at == "set_aside":
            raise Killed(key)
        return done

    def put_back(self, key: str) -> None:
        if self.kill_at == "put_back":
            raise Killed(key)
        self.store.put_back(key)

    def delete_set_aside(self, key: str) -> bool:
        if self.kill_at == "delete_set_aside":
            raise Killed(key)
        return self.store.delete_set_aside(key)

    def set_aside_keys(self) -> dict[str, str]:
        return self.store.set_aside_keys()


@pytest.fixture(params=["sqlite", "postgresql"])
def station(
    request: pytest.FixtureRequest, tmp_path: Path, seaweed: SeaweedServer, central_bucket: str
) -> Iterator[Dockd]:
    """One recording (and its session's manifest) docked, sent and confirmed centrally,
    its local copies kept; then `local_retention_days = 0`: the next pass frees both."""
    store = tmp_path / "store"
    sqlite = nullcontext(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    with running_postgres(tmp_path / "pg") if request.param == "postgresql" else sqlite as url:
        dockd = Dockd(write_config(tmp_path / "dockd.toml", store, url), store, url)
        try:
            use_central(dockd, seaweed, central_bucket, local_retention_days=30)
            docked(dockd, tmp_path, clips("FR01", 1, 6000), "FR01")
            sent = forward(dockd)
            assert (sent["sent"], sent["freed"]) == (2, 0)
            use_central(dockd, seaweed, central_bucket, local_retention_days=0)
            yield dockd
        finally:
            unfreeze(store)


def forwarder(app: App, store: Interposed) -> Forwarder:
    built = app.forwarder()
    built.store = built.freeing.store = store
    return built


def events(app: App, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Straight from the ledger, in chain order: (subject, details)."""
    return app.ledger.read(
        lambda s: [
            (e.subject, json.loads(e.details))
            for e in s.scalars(
                select(CustodyEventRow)
                .where(CustodyEventRow.kind == kind)
                .order_by(CustodyEventRow.station, CustodyEventRow.seq)
            )
        ]
    )


def immutable(path: Path) -> bool:
    flags = subprocess.run(["lsattr", "-d", str(path)], capture_output=True, text=True)
    return "i" in flags.stdout.split()[0]


def set_aside_files(dockd: Dockd) -> list[Path]:
    folder = dockd.store / ".freeing"
    return sorted(folder.iterdir()) if folder.exists() else []


def verified(dockd: Dockd) -> str:
    result = dockd.run("verify")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_hold_placed_as_the_copy_is_set_aside_keeps_the_local_copy(station: Dockd) -> None:
    [rec] = recordings(station).values()
    app = App(load_config(station.config))
    try:

        def hold() -> None:
            app.registry.place_hold(rec["id"], "C-2026-77", None, "sgt01")

        summary = forwarder(app, Interposed(app.store, before_set_aside=hold)).run_pass()
        assert summary.freed == 0
        kept = station.objects()
        assert len(kept) == 2 and all(immutable(p) for p in kept)
        assert set_aside_files(station) == []
        [(subject, details)] = events(app, "local-copy-free-abandoned")
        assert details["reason"] == "hold-placed" and subject in {p.name for p in kept}
        assert events(app, "local-copy-freed") == []
        assert [d["reference"] for _, d in events(app, "hold-placed")] == ["C-2026-77"]
    finally:
        app.ledger.close()
    assert "verified 2 objects" in verified(station)
    audit_ok(station)
    # the next pass puts the central legal hold on; confirmed there, the copies may go
    out = forward(station)
    assert (out["lock_updated"], out["freed"]) == (2, 2)
    assert station.objects() == []
    assert [r["locations"] for r in recordings(station).values()] == [["central"]]
    audit_ok(station)


def test_a_copy_set_aside_when_dockd_died_is_not_lost_and_the_next_start_finishes(
    station: Dockd,
) -> None:
    app = App(load_config(station.config))
    try:
        with pytest.raises(Killed):
            forwarder(app, Interposed(app.store, kill_at="set_aside")).run_pass()
        assert events(app, "local-copy-freed") == []
    finally:
        app.ledger.close()
    [aside] = set_aside_files(station)
    assert immutable(aside) and len(station.objects()) == 1  # the other one not yet touched
    assert "verified 2 objects" in verified(station)  # set aside, not missing
    out = forward(station)  # a new process: puts it back, then frees both as a new pass
    assert out["freed"] == 2
    assert station.objects() == [] and set_aside_files(station) == []
    check = App(load_config(station.config))
    try:
        assert len(events(check, "local-copy-freeing")) == 2  # the crashed intent, resumed
        assert len(events(check, "local-copy-freed")) == 2
    finally:
        check.ledger.close()
    audit_ok(station)


def test_a_copy_whose_free_was_recorded_when_dockd_died_is_deleted_at_the_next_start(
    station: Dockd,
) -> None:
    app = App(load_config(station.config))
    try:
        with pytest.raises(Killed):
            forwarder(app, Interposed(app.store, kill_at="delete_set_aside")).run_pass()
        assert len(events(app, "local-copy-freed")) == 1
    finally:
        app.ledger.close()
    assert len(set_aside_files(station)) == 1 and len(station.objects()) == 1
    assert "verified 1 objects" in verified(station)
    out = forward(station)
    assert out["freed"] == 1  # the other object; the recorded one is only deleted
    assert station.objects() == [] and set_aside_files(station) == []
    check = App(load_config(station.config))
    try:
        assert len(events(check, "local-copy-freed")) == 2
    finally:
        check.ledger.close()
    audit_ok(station)


def test_an_abandoned_free_cut_short_before_the_copy_was_put_back_is_put_back(
    station: Dockd, seaweed: SeaweedServer, central_bucket: str
) -> None:
    [rec] = recordings(station).values()
    app = App(load_config(station.config))
    try:

        def hold() -> None:
            app.registry.place_hold(rec["id"], "C-2026-78", None, "sgt01")

        with pytest.raises(Killed):
            forwarder(app, Interposed(app.store, hold, kill_at="put_back")).run_pass()
        assert [d["reason"] for _, d in events(app, "local-copy-free-abandoned")] == ["hold-placed"]
    finally:
        app.ledger.close()
    assert len(set_aside_files(station)) == 1
    assert "verified 2 objects" in verified(station)
    use_central(station, seaweed, central_bucket, local_retention_days=30)
    out = forward(station)  # a new process puts it back; nothing is due for freeing
    assert (out["lock_updated"], out["freed"]) == (2, 0)
    kept = station.objects()
    assert len(kept) == 2 and all(immutable(p) for p in kept)
    assert set_aside_files(station) == []
    assert "verified 2 objects" in verified(station)
    audit_ok(station)


def test_dockd_killed_with_a_copy_set_aside_loses_nothing(station: Dockd) -> None:
    """A real SIGKILL of `dockd forward` while a copy lies set aside: before or after the
    ledger's final transaction, the next start settles it and the free completes."""
    cmd = [sys.executable, "-m", "dockd.cli", "--config", str(station.config), "forward"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert step_until(proc, lambda: set_aside_files(station) != []), "no free was caught"
        proc.kill()
    finally:
        proc.kill()
        proc.wait()
    assert len(set_aside_files(station)) == 1
    check = App(load_config(station.config))
    try:
        before = len(events(check, "local-copy-freed"))  # 1 when killed after recording it
        # nothing the ledger places here is missing: the set-aside one is read where it is
        assert f"verified {2 - before} objects: {2 - before} match" in verified(station)
        out = forward(station)
        assert out["freed"] == 2 - before  # the recorded one is only deleted
        assert station.objects() == [] and set_aside_files(station) == []
        assert len(events(check, "local-copy-freed")) == 2
    finally:
        check.ledger.close()
    audit_ok(station)
