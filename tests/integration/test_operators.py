"""Operators through the real command line on a real SQLite ledger: registration, the
hash at rest, named refusals, the lock-out after five wrong passphrases, disabling."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from tests.conftest import Dockd
from tests.integration.test_policy_packs_e2e import ingest, local_now, name, recorder, use_pack


def classify(dockd: Dockd, badge: str, passphrase: str) -> tuple[int, str]:
    done = dockd.run(
        "archive",
        "classify",
        "1",
        "--as",
        "秘密",
        "--by",
        badge,
        "--passphrase-stdin",
        input=passphrase + "\n",
    )
    return done.returncode, done.stderr


def test_operators_are_listed_and_their_passphrase_is_only_a_hash(dockd: Dockd) -> None:
    use_pack(dockd, "qidong")
    dockd.add_operator("A1", "enforcement officer", "head of enforcement department", unit="B1")
    typo = dockd.run(
        "operators",
        "add",
        "A2",
        "--name",
        "Wu",
        "--role",
        "enforcment officer",
        "--passphrase-stdin",
        input="correct horse battery\n",
    )
    assert typo.returncode == 0 and "names no role 'enforcment officer'" in typo.stderr
    assert dockd.json("operators", "list") == [
        {
            "badge": "A1",
            "name": "Operator A1",
            "unit": "B1",
            "roles": ["enforcement officer", "head of enforcement department"],
            "disabled": False,
        },
        {
            "badge": "A2",
            "name": "Wu",
            "unit": None,
            "roles": ["enforcment officer"],
            "disabled": False,
        },
    ]
    twice = dockd.run(
        "operators",
        "add",
        "A1",
        "--name",
        "X",
        "--role",
        "r",
        "--passphrase-stdin",
        input="another passphrase\n",
    )
    assert (twice.returncode, "already registered" in twice.stderr) == (1, True)
    short = dockd.run(
        "operators", "add", "A3", "--name", "X", "--role", "r", "--passphrase-stdin", input="abc\n"
    )
    assert (short.returncode, "fewer than 8" in short.stderr) == (2, True)
    none = dockd.run(
        "operators", "add", "A3", "--name", "X", "--role", "r", "--passphrase-stdin", input=""
    )
    assert (none.returncode, "PASSPHRASE_MISSING" in none.stderr) == (2, True)

    db = dockd.ledger_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(db)) as con:
        rows = con.execute("SELECT kdf, salt, passphrase_hash FROM operators").fetchall()
    assert [r[0] for r in rows] == ["scrypt:n=32768,r=8,p=1"] * 2
    assert b"correct horse battery" not in Path(db).read_bytes()
    assert rows[0][1] != rows[1][1], "each operator has a salt of their own"
    added = dockd.custody_events("operator-added")
    assert [e["subject"] for e in added] == ["A1", "A2"]
    assert added[0]["details"]["roles"] == ["enforcement officer", "head of enforcement department"]


def test_five_wrong_passphrases_lock_the_operator(dockd: Dockd, tmp_path: Path) -> None:
    use_pack(dockd, "qidong")
    clip = name("QD01", "3301", local_now())
    ingest(dockd, recorder(tmp_path / "rec", {clip: b"footage"}), "QD01")
    phrase = dockd.add_operator("A1", "enforcement officer")

    for attempt in range(1, 5):
        code, said = classify(dockd, "A1", f"guess {attempt}")
        assert (code, "PASSPHRASE_WRONG: wrong passphrase for operator A1" in said) == (1, True)
    code, said = classify(dockd, "A1", "guess 5")
    assert (code, "OPERATOR_LOCKED" in said, "5 in a row" in said) == (1, True, True), said
    code, said = classify(dockd, "A1", phrase)
    assert (code, "OPERATOR_LOCKED: operator A1 is locked until" in said) == (1, True), said
    refused = dockd.custody_events("operator-passphrase-refused")
    assert [e["details"]["failures_in_a_row"] for e in refused] == [1, 2, 3, 4, 5]
    (lock,) = dockd.custody_events("operator-locked")
    assert lock["subject"] == "A1" and lock["details"]["after_failures"] == 5
    assert dockd.custody_events("recording-classified") == []
    unknown = classify(dockd, "nobody", "whatever1")
    assert (unknown[0], "OPERATOR_UNKNOWN" in unknown[1]) == (1, True)


def test_a_disabled_operator_can_no_longer_act(dockd: Dockd, tmp_path: Path) -> None:
    use_pack(dockd, "qidong")
    clip = name("QD02", "3302", local_now())
    ingest(dockd, recorder(tmp_path / "rec", {clip: b"footage"}), "QD02")
    phrase = dockd.add_operator("A1", "enforcement officer")
    assert classify(dockd, "A1", phrase)[0] == 0
    dockd.run("operators", "disable", "A1", "--by", "admin", check=True)
    code, said = classify(dockd, "A1", phrase)
    assert (code, "OPERATOR_DISABLED" in said) == (1, True)
    (event,) = dockd.custody_events("operator-disabled")
    assert (event["subject"], event["actor"]) == ("A1", "admin")
    assert dockd.json("operators", "list")[0]["disabled"] is True
