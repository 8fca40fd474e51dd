"""The Alembic migrations build exactly the schema the ORM models describe."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, select, text

from dockd.adapters.ledger.engine import MIGRATIONS, SCHEMA_REVISION, schema_revision
from dockd.adapters.ledger.facts import row_fact
from dockd.adapters.ledger.schema import Base, SessionProblemRow
from dockd.adapters.ledger.sessions import Ledger
from dockd.adapters.station_key import StationKey
from dockd.core.audit import compare
from dockd.core.custody import GENESIS, canonical_json, event_hash, genesis
from dockd.core.signing import CHECKPOINT, checkpoint_body
from dockd.ui.i18n import Locale
from tests.conftest import Dockd, write_config


def test_migrations_match_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    Ledger(url).close()  # runs every migration
    with create_engine(url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_schema_revision_is_alembics_head(tmp_path: Path) -> None:
    """A ledger at SCHEMA_REVISION skips Alembic: a new migration must move it too."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_REVISION
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = create_engine(url)
    assert schema_revision(engine) is None
    Ledger(url).close()
    assert schema_revision(engine) == SCHEMA_REVISION


def test_0006_gives_older_sessions_and_objects_the_station_local(tmp_path: Path) -> None:
    """A migration cannot know which station stored what: 'local', which every station
    counts as its own, so an upgraded station still verifies what it held before."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.execute(
            text(
                "INSERT INTO recorders (id, serial, profile, first_seen, last_seen) "
                "VALUES (1, 'SN1', 'generic', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO dock_sessions (id, recorder_id, serial, profile, source, host, pid, "
                "boot_id, started_at, state, files_seen, copied, already_verified, "
                "bytes_copied) VALUES ('S1', 1, 'SN1', 'generic', '/src', 'h', 1, 'b', "
                "'2026-01-01 00:00:00', 'completed', 1, 1, 0, 10)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO objects (blake3, sha256, size, key, kind, protections, stored_at) "
                f"VALUES ('{'a' * 64}', '{'b' * 64}', 10, 'objects/aa/x', 'recording', '', "
                "'2026-01-01 00:00:00')"
            )
        )
    ledger = Ledger(url, station="dock-new")
    try:
        [session] = ledger.sessions()
        assert session.station == "local"
        assert [o[0] for o in ledger.objects()] == ["a" * 64]
    finally:
        ledger.close()
    with engine.connect() as connection:
        located = connection.execute(
            text("SELECT blake3, station, since, removed_at FROM object_locations")
        ).all()
        assert located == [("a" * 64, "local", "2026-01-01 00:00:00", None)]
        assert connection.execute(text("SELECT count(*) FROM recorder_locks")).scalar() == 0
    engine.dispose()


def test_0012_keeps_a_one_chain_ledger_verifying_as_the_legacy_chain(tmp_path: Path) -> None:
    """A ledger from the days of one chain, signed by the box's key: after 0012 its events
    are the chain 'local', still linked to the all-zero genesis, its checkpoint still
    vouched for by the key; the station's new events start its own chain."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    key = StationKey(tmp_path / "station.key")
    at = "2026-01-01T00:00:00+00:00"
    verified = {"checked": 0, "ok": 0, "findings": []}
    first = event_hash(GENESIS, 1, at, "store-verified", "/old", "dockd", verified)
    checkpoint = {
        "seq": 1,
        "hash": first,
        "at": at,
        "key": key.fingerprint,
        "signature": key.sign(checkpoint_body(1, first, at)).hex(),
    }
    second = event_hash(first, 2, at, CHECKPOINT, "1", "dockd", checkpoint)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")
        for seq, kind, subject, details, prev, digest in (
            (1, "store-verified", "/old", verified, GENESIS, first),
            (2, CHECKPOINT, "1", checkpoint, first, second),
        ):
            connection.execute(
                text(
                    "INSERT INTO custody_events (seq, at, kind, subject, actor, details, "
                    "prev_hash, hash) VALUES (:seq, :at, :kind, :subject, 'dockd', :details, "
                    ":prev, :hash)"
                ),
                {
                    "seq": seq,
                    "at": at,
                    "kind": kind,
                    "subject": subject,
                    "details": canonical_json(details).decode(),
                    "prev": prev,
                    "hash": digest,
                },
            )
    engine.dispose()
    dockd = Dockd(
        write_config(tmp_path / "dockd.toml", tmp_path / "store", url), tmp_path / "store", url
    )
    assert dockd.run("verify").returncode == 0  # migrates, then writes on the station's chain
    result = dockd.run("audit", "verify", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    chains = {c["station"]: c for c in report["chains"]}
    assert set(chains) == {"local", report["station"]}
    assert chains["local"]["events"] == 2
    assert chains["local"]["broken"] is None and chains["local"]["findings"] == []
    assert chains[report["station"]]["key"] == key.fingerprint
    with create_engine(url).connect() as connection:
        rows = connection.execute(
            text("SELECT station, seq, prev_hash FROM custody_events ORDER BY station, seq")
        ).all()
    assert [r for r in rows if r[0] == "local"] == [("local", 1, GENESIS), ("local", 2, first)]
    assert (report["station"], 1, genesis(report["station"])) in rows


def _session_with_a_problem(connection: Connection) -> None:
    """A dock session and its problem as a ledger before 0015 held them (English only)."""
    connection.execute(
        text(
            "INSERT INTO recorders (id, serial, profile, first_seen, last_seen) "
            "VALUES (1, 'SN1', 'generic', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO dock_sessions (id, recorder_id, serial, profile, source, host, pid, "
            "boot_id, started_at, state, files_seen, copied, already_verified, "
            "bytes_copied) VALUES ('S1', 1, 'SN1', 'generic', '/src', 'h', 1, 'b', "
            "'2026-01-01 00:00:00', 'completed_with_problems', 1, 1, 0, 10)"
        )
    )
    connection.execute(
        text(
            "INSERT INTO session_problems (id, session_id, path, code, message) VALUES "
            "(1, 'S1', 'DCIM/LINK.AVI', 'not-regular-symlink', :message)"
        ),
        {"message": OLD_MESSAGE},
    )


OLD_MESSAGE = "a symbolic link; dockd never follows links off a recorder"


def test_0015_keeps_old_problems_english_and_vouched_for_and_downgrades(tmp_path: Path) -> None:
    """A problem recorded before 0015 has no template: it reads in English whatever the
    reader's language, and its chain fact (which names no template columns) still matches
    the row, since a column a fact lacks must be NULL. Downgrading drops only the columns."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0014")
        _session_with_a_problem(connection)
    ledger = Ledger(url, station="dock-new")  # migrates to 0015
    try:
        view = ledger.session("S1")
        assert view is not None
        [problem] = view.problems
        assert (problem.message, problem.template, problem.values) == (OLD_MESSAGE, None, None)
        assert Locale("zh-CN").say(problem.said()) == OLD_MESSAGE
        rows = ledger.read(lambda s: [row_fact(r) for r in s.scalars(select(SessionProblemRow))])
    finally:
        ledger.close()
    [fact] = rows
    assert fact.fields["message_template"] is None and fact.fields["message_values"] is None
    as_vouched_before = {
        k: v for k, v in fact.fields.items() if k not in ("message_template", "message_values")
    }
    key = (fact.table, fact.id)
    assert compare({key: as_vouched_before}, {key: fact.fields}, [fact.table]) == []
    # a template a fact does not vouch for is an edit
    edited = {**fact.fields, "message_template": "a symbolic link"}
    [difference] = compare({key: as_vouched_before}, {key: edited}, [fact.table])
    assert (difference.problem, difference.field) == ("edited", "message_template")

    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0014")
        kept = connection.execute(text("SELECT * FROM session_problems")).mappings().all()
    assert [dict(r) for r in kept] == [
        {
            "id": 1,
            "session_id": "S1",
            "path": "DCIM/LINK.AVI",
            "code": "not-regular-symlink",
            "message": OLD_MESSAGE,
        }
    ]
    engine.dispose()
