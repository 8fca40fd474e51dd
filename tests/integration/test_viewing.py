"""Viewing through the real command line on a real SQLite ledger and store: Qidong's tiers
(002:17), Dandong's ordered approvals (004:24), refusals, expiry, and the register."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dockd.adapters.ledger.registry import LedgerRegistry
from dockd.core.registry import Custodian
from tests.conftest import Dockd, unfreeze, write_config
from tests.integration.test_policy_packs_e2e import (
    REPO,
    ingest,
    ledger_api,
    local_now,
    name,
    recorder,
    use_pack,
)

DEPUTY, HEAD = "deputy leader in charge of enforcement", "head of enforcement department"


def docked(dockd: Dockd, tmp_path: Path, serial: str, unit: str, data: bytes) -> int:
    """One recording of `serial`, made while an officer of `unit` had the recorder."""
    ledger = ledger_api(dockd)
    try:
        registry = LedgerRegistry(ledger)
        registry.add_device(serial, "DSJ", datetime.now(UTC) - timedelta(days=2), "admin")
        custodian = Custodian("5101", "Zhang Wei", unit)
        registry.assign(serial, custodian, datetime.now(UTC) - timedelta(days=1), "admin")
    finally:
        ledger.close()
    clip = name(serial, "5101", local_now() - timedelta(hours=2))
    ingest(dockd, recorder(tmp_path / serial, {clip: data}), serial)
    (found,) = [r for r in dockd.json("recordings") if r["serial"] == serial]
    return int(found["id"])


def ask(dockd: Dockd, viewer: str, *recordings: int) -> int:
    ids = [str(r) for r in recordings]
    found = dockd.json("view", "request", *ids, "--viewer", viewer, "--reason", "complaint 17")
    return int(found["id"])


def approve(dockd: Dockd, request: int, approver: str) -> tuple[int, str]:
    done = dockd.run(
        "view",
        "approve",
        str(request),
        "--approver",
        approver,
        "--passphrase-stdin",
        input=f"passphrase-{approver}\n",
    )
    return done.returncode, done.stdout + done.stderr


def view_open(dockd: Dockd, request: int, viewer: str, out: Path) -> tuple[int, str]:
    done = dockd.run(
        "view",
        "open",
        str(request),
        "--viewer",
        viewer,
        "--out",
        str(out),
        "--passphrase-stdin",
        input=f"passphrase-{viewer}\n",
    )
    return done.returncode, done.stdout + done.stderr


def register(dockd: Dockd) -> dict[int, dict[str, Any]]:
    return {e["id"]: e for e in dockd.json("view", "register")}


def test_qidong_tiers(dockd: Dockd, tmp_path: Path) -> None:
    """002:17: the unit's own officers need the deputy leader in charge; other units or
    persons need the head of the enforcement department."""
    use_pack(dockd, "qidong")
    rec = docked(dockd, tmp_path, "QD01", "Brigade 1", b"qidong footage")
    dockd.add_operator("V1", "enforcement officer", unit="Brigade 1")
    dockd.add_operator("V2", "enforcement officer", unit="Brigade 9")
    dockd.add_operator("V3", "clerk", unit="Brigade 1")
    dockd.add_operator("D", DEPUTY, unit="Brigade 1")
    dockd.add_operator("H", HEAD, unit="Brigade 1")

    own = ask(dockd, "V1", rec)
    code, said = approve(dockd, own, "H")
    assert (code, "NOT_AUTHORISED" in said) == (1, True), said
    code, said = approve(dockd, own, "D")
    assert (code, "approved; open until" in said) == (0, True), said

    for outsider in ("V2", "V3"):
        req = ask(dockd, outsider, rec)
        code, said = approve(dockd, req, "D")
        assert (code, f"holds none of the roles viewing request {req} still needs" in said) == (
            1,
            True,
        ), said
        assert approve(dockd, req, "H")[0] == 0

    entries = register(dockd)
    assert [(e["viewer"]["badge"], e["tier"], e["state"]) for e in entries.values()] == [
        ("V1", "own-unit", "approved"),
        ("V2", "outside-unit", "approved"),
        ("V3", "outside-unit", "approved"),
    ]
    assert [a["approver"]["badge"] for a in entries[own]["approvals"]] == ["D"]

    out = tmp_path / "seen"
    code, said = view_open(dockd, own, "V1", out)
    assert code == 0, said
    (copy,) = out.iterdir()
    assert copy.read_bytes() == b"qidong footage"
    assert copy.stat().st_mode & 0o777 == 0o444
    (recording,) = [r for r in dockd.json("recordings") if r["id"] == rec]
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == recording["sha256"]
    seen = register(dockd)[own]
    assert seen["state"] == "viewed"
    assert [(v["viewer"]["badge"], v["files"], v["out"]) for v in seen["viewings"]] == [
        ("V1", 1, str(out))
    ]
    events = {k: dockd.custody_events(k) for k in ("viewing-approved", "viewing-opened")}
    assert [e["actor"] for e in events["viewing-approved"]] == ["D", "H", "H"]
    assert [(e["subject"], e["actor"]) for e in events["viewing-opened"]] == [
        (f"viewing:{own}", "V1")
    ]


def test_dandong_director_reviews_then_the_deputy_approves(dockd: Dockd, tmp_path: Path) -> None:
    use_pack(dockd, "dandong-civil-affairs")
    rec = docked(dockd, tmp_path, "DD01", "Office", b"dandong footage")
    dockd.add_operator("V", "office staff", unit="Office")
    dockd.add_operator("O", "office director", unit="Office")
    dockd.add_operator("P", "deputy director in charge", unit="Office")
    req = ask(dockd, "V", rec)

    code, said = approve(dockd, req, "P")
    assert (code, "needs 'office director' first" in said) == (1, True), said
    assert approve(dockd, req, "O") == (
        0,
        f"viewing request {req}: approval recorded; still needs deputy director in charge\n",
    )
    out = tmp_path / "too-soon"
    code, said = view_open(dockd, req, "V", out)
    assert (code, "VIEWING_NOT_OPEN" in said, out.exists()) == (1, True, False), said
    assert register(dockd)[req]["state"] == "requested"

    assert approve(dockd, req, "P")[0] == 0
    entry = register(dockd)[req]
    assert entry["state"] == "approved"
    assert [(a["role"], a["approver"]["badge"]) for a in entry["approvals"]] == [
        ("office director", "O"),
        ("deputy director in charge", "P"),
    ]
    assert view_open(dockd, req, "V", tmp_path / "seen")[0] == 0
    # the register is evidence: every request, approval and viewing row is on the chain
    audit = dockd.run("audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_no_viewing_without_approval_and_refusals_end_a_request(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "dalian-jinpu-ocean")
    rec = docked(dockd, tmp_path, "DL01", "Brigade 2", b"dalian footage")
    dockd.add_operator("V", "inspector", unit="Brigade 2")
    dockd.add_operator("L", "case leader", unit="Brigade 2")
    dockd.add_operator("X", "inspector", unit="Brigade 2")
    req = ask(dockd, "V", rec)

    out = tmp_path / "nothing"
    code, said = view_open(dockd, req, "V", out)
    assert (code, "is not approved: it still needs case leader" in said) == (1, True), said
    assert not out.exists()
    assert approve(dockd, req, "V")[0] == 1, "the viewer cannot approve their own request"
    assert approve(dockd, req, "L")[0] == 0
    code, said = view_open(dockd, req, "X", out)
    assert (code, "is V's, not X's" in said, out.exists()) == (1, True, False), said
    wrong = dockd.run(
        "view",
        "open",
        str(req),
        "--viewer",
        "V",
        "--out",
        str(out),
        "--passphrase-stdin",
        input="not it\n",
    )
    assert (wrong.returncode, "PASSPHRASE_WRONG" in wrong.stderr, out.exists()) == (1, True, False)

    second = ask(dockd, "V", rec)
    refused = dockd.run(
        "view",
        "refuse",
        str(second),
        "--approver",
        "L",
        "--reason",
        "not needed",
        "--passphrase-stdin",
        input="passphrase-L\n",
    )
    assert refused.returncode == 0, refused.stderr
    assert view_open(dockd, second, "V", out)[0] == 1
    assert approve(dockd, second, "L")[0] == 1
    entries = register(dockd)
    assert [(e["id"], e["state"]) for e in entries.values()] == [
        (req, "approved"),
        (second, "refused"),
    ]
    assert entries[second]["refused_by"]["badge"] == "L"
    assert entries[second]["refusal_reason"] == "not needed"
    text = dockd.run("view", "register", check=True).stdout
    assert "why: complaint 17" in text and "refused by L: not needed" in text


def test_a_tampered_object_is_not_handed_out_and_an_approval_expires(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "dalian-jinpu-ocean")
    rec = docked(dockd, tmp_path, "DL02", "Brigade 2", b"soon gone")
    dockd.add_operator("V", "inspector", unit="Brigade 2")
    dockd.add_operator("L", "case leader", unit="Brigade 2")

    tampered = ask(dockd, "V", rec)
    assert approve(dockd, tampered, "L")[0] == 0
    (recording,) = [r for r in dockd.json("recordings") if r["id"] == rec]
    obj = dockd.store / recording["object"]
    unfreeze(obj)
    obj.chmod(0o644)
    obj.write_bytes(b"soon g0ne")
    out = tmp_path / "tampered"
    code, said = view_open(dockd, tampered, "V", out)
    assert (code, "OBJECT_MISMATCH" in said) == (1, True), said
    assert not out.exists(), "nothing of a mismatching object is left"
    assert dockd.custody_events("viewing-opened") == []

    # the same pack with a window of 1.8 s: the request keeps the window it was made with
    rules = tmp_path / "rules"
    (rules / "policies").mkdir(parents=True)
    (rules / "recorders").symlink_to(REPO / "rules" / "recorders")
    pack = (REPO / "rules" / "policies" / "dalian-jinpu-ocean.toml").read_text("utf-8")
    short = pack.replace(
        'approvers = ["case leader"]', 'approvers = ["case leader"]\nopen_hours = 0.0005'
    )
    (rules / "policies" / "dalian-jinpu-ocean.toml").write_text(short, "utf-8")
    extra = f'\n[policy]\npack = "dalian-jinpu-ocean"\n\n[rules]\ndir = "{rules}"\n'
    write_config(dockd.config, dockd.store, dockd.ledger_url, extra)
    brief = ask(dockd, "V", rec)
    assert approve(dockd, brief, "L")[0] == 0
    time.sleep(2)
    code, said = view_open(dockd, brief, "V", tmp_path / "late")
    assert (code, "ended at" in said) == (1, True), said
    entries = register(dockd)
    assert (entries[tampered]["state"], entries[brief]["state"]) == ("approved", "expired")
    assert entries[tampered]["open_hours"] == 8
