"""Each of the five policy packs, end to end through the real `dockd` command line, on a
small scenario that the pack's own articles decide.

Recordings are named `<serial>_<badge>_<YYYYMMDDhhmmss>_<seq>.<ext>` in Asia/Shanghai
time, relative to now: the clock cannot be moved, so what depends on a future date is
checked as date arithmetic against the recording's end in the JSON.
"""

from __future__ import annotations

import calendar
import json
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dockd.adapters.ledger.registry import LedgerRegistry
from dockd.adapters.ledger.retention import LedgerRetention
from dockd.adapters.ledger.sessions import Ledger
from dockd.adapters.rules import load_policy
from dockd.app import load_config, open_ledger
from dockd.core.policy import PolicyPack
from dockd.core.registry import Custodian
from dockd.core.retention import expirable
from tests.conftest import REPO, Dockd, write_config

SHANGHAI = ZoneInfo("Asia/Shanghai")
NAME_TIME = "%Y%m%d%H%M%S"
CLOCK_FORMAT = "%Y-%m-%d %H:%M:%S"


# --- helpers -----------------------------------------------------------------------------


def use_pack(dockd: Dockd, pack: str) -> PolicyPack:
    write_config(dockd.config, dockd.store, dockd.ledger_url, f'\n[policy]\npack = "{pack}"\n')
    return load_policy(REPO / "rules", pack)


def local_now() -> datetime:
    return datetime.now(SHANGHAI).replace(microsecond=0)


def name(serial: str, badge: str, start: datetime, seq: int = 1, ext: str = "AVI") -> str:
    return f"{serial}_{badge}_{start.astimezone(SHANGHAI).strftime(NAME_TIME)}_{seq:04d}.{ext}"


def recorder(root: Path, files: dict[str, bytes], clock: datetime | None = None) -> Path:
    """A recorder's volume as a folder; `clock` is what it writes to DEVCLOCK.TXT."""
    root.mkdir(parents=True)
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    if clock is not None:
        (root / "DEVCLOCK.TXT").write_text(clock.astimezone(SHANGHAI).strftime(CLOCK_FORMAT))
    return root


def _box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mp4(duration_s: int, salt: int = 0) -> bytes:
    """The smallest MP4 whose header declares a duration (the gap check needs clip ends)."""
    head = struct.pack(">B3xIIII", 0, 0, 0, 1000, duration_s * 1000)
    mvhd = _box(b"mvhd", head + bytes(100 - len(head)))
    return (
        _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
        + _box(b"moov", mvhd)
        + _box(b"mdat", salt.to_bytes(8, "big") * 16)
    )


def recordings(dockd: Dockd) -> dict[str, dict[str, Any]]:
    return {r["path"]: r for r in dockd.json("recordings")}


def report(dockd: Dockd) -> tuple[int, dict[str, Any]]:
    result = dockd.run("report", "deadlines", "--since", "24h", "--json")
    rep: dict[str, Any] = json.loads(result.stdout)
    found = any(isinstance(items, list) and items for items in rep.values())
    assert result.returncode == (1 if found else 0), result.stderr
    return result.returncode, rep


def ingest(dockd: Dockd, src: Path, serial: str, *extra: str) -> dict[str, Any]:
    """Ingest; the new session as JSON. Problems (exit 1) are fine, failures are not."""
    result = dockd.ingest(src, serial, "--json", *extra)
    session: dict[str, Any] = json.loads(result.stdout)
    assert session["state"] in ("completed", "completed_with_problems"), session
    expected = 0 if session["state"] == "completed" else 1
    assert result.returncode == expected, result.stdout + result.stderr
    assert session["recordings"] >= 1, session
    return session


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def months_later(moment: datetime, months: int) -> datetime:
    """The same date and time `months` calendar months later; when that month has no
    such day, the whole of its last day (期间以月计算: 没有对应日的，月末日为最后一日)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if moment.day <= last:
        return moment.replace(year=year, month=month)
    return moment.replace(
        year=year, month=month, day=last, hour=23, minute=59, second=59, microsecond=999999
    )


def audit_ok(dockd: Dockd) -> None:
    result = dockd.run("audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr


def ledger_api(dockd: Dockd) -> Ledger:
    """The ledger the CLI wrote, opened in-process: only for what the clock forbids
    (a date years ahead, an assignment in the past); as this station, like the CLI."""
    return open_ledger(load_config(dockd.config))


def expirable_keys(ledger: Ledger, now: datetime) -> set[str]:
    """What an expiry at `now` would remove: the ledger's candidates, decided by the rule."""
    return {e.key for e in expirable(LedgerRetention(ledger).candidates(now), now)}


# --- Qidong (002:18): footage of unknown kind kept 12 months (dockd's own), never the -----
# --- 6 months of 002:18(1), which only patrol and inspection footage takes ---------------


def test_qidong_keeps_footage_of_unknown_kind_twelve_calendar_months(
    dockd: Dockd, tmp_path: Path
) -> None:
    pack = use_pack(dockd, "qidong")
    assert pack.retention.routine_months == 12
    assert pack.retention.classes == {"patrol-inspection": 6}
    start = local_now() - timedelta(hours=2)
    clip = name("QD01", "3301", start)
    ingest(dockd, recorder(tmp_path / "rec", {clip: b"qidong patrol"}), "QD01")

    rec = recordings(dockd)[clip]
    end = when(rec["end"]).astimezone(SHANGHAI)
    assert end == start, "no container: the clip ends where its name says it starts"
    assert rec["retention_class"] == "routine"
    until = when(rec["retain_until"]).astimezone(SHANGHAI)
    assert until == months_later(end, 12)
    assert until - end >= timedelta(days=365), "never the shorter patrol class by default"
    assert rec["holds"] == [] and rec["expired_at"] is None
    assert rec["late"] is False and rec["late_by_s"] == 0

    dry = dockd.run("retention", "expire", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would expire" not in dry.stdout
    assert "0 object(s) expirable" in dry.stdout

    # 002:18 names no long-term reasons: only a case number can hold footage
    refused = dockd.run("holds", "add", str(rec["id"]), "--reason", "complaint")
    assert refused.returncode == 2
    assert "complaint" in refused.stderr and "use --case" in refused.stderr
    held = dockd.run("holds", "add", str(rec["id"]), "--case", "QD-2026-17")
    assert held.returncode == 0, held.stderr
    assert recordings(dockd)[clip]["holds"] == ["case:QD-2026-17"]


def test_qidong_expiry_removes_only_footage_past_its_period_unheld_and_unshared(
    dockd: Dockd, tmp_path: Path
) -> None:
    """Footage that ended thirteen months ago is past its 12 months already at the dock:
    the one removal path runs for real, on today's clock."""
    use_pack(dockd, "qidong")
    old = local_now() - timedelta(days=400)
    gone, held, shared = (name("QD04", "3304", old + timedelta(minutes=i), i) for i in (1, 2, 3))
    fresh = name("QD04", "3304", local_now() - timedelta(hours=2), 4)
    files = {gone: b"past retention", held: b"for a case", shared: b"kept", fresh: b"kept"}
    ingest(dockd, recorder(tmp_path / "rec", files), "QD04")
    recs = recordings(dockd)
    assert when(recs[gone]["retain_until"]) < datetime.now(UTC)
    assert when(recs[fresh]["retain_until"]) > datetime.now(UTC)
    case = dockd.run("holds", "add", str(recs[held]["id"]), "--case", "QD-2026-88")
    assert case.returncode == 0, case.stderr

    dry = dockd.run("retention", "expire", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    listed = [line for line in dry.stdout.splitlines() if line.startswith("would expire")]
    assert listed == [line for line in listed if recs[gone]["object"] in line]
    assert len(listed) == 1 and "1 object(s) expirable" in dry.stdout
    assert (dockd.store / recs[gone]["object"]).exists(), "a dry run removes nothing"

    done = dockd.run("retention", "expire", "--by", "admin02")
    assert done.returncode == 0, done.stderr
    assert "1 object(s) expired" in done.stdout
    assert not (dockd.store / recs[gone]["object"]).exists()
    for kept in (held, shared, fresh):
        assert (dockd.store / recs[kept]["object"]).exists(), kept
    after = recordings(dockd)
    assert after[gone]["expired_at"] is not None
    assert [after[k]["expired_at"] for k in (held, shared, fresh)] == [None, None, None]
    (event,) = dockd.custody_events("object-expired")
    assert event["subject"] == recs[gone]["object"] and event["actor"] == "admin02"
    audit_ok(dockd)

    verify = dockd.run("verify", "--json")
    findings = json.loads(verify.stdout)["findings"]
    assert findings == [], f"an object removed by retention expiry is no store failure: {findings}"
    assert verify.returncode == 0, verify.stderr


def test_qidong_expiry_lists_and_removes_each_object_once(dockd: Dockd, tmp_path: Path) -> None:
    """Two expired recordings with the same bytes are one object: one line, one removal,
    one custody event."""
    use_pack(dockd, "qidong")
    old = local_now() - timedelta(days=400)
    first, twin = (name("QD05", "3305", old + timedelta(minutes=i), i) for i in (1, 2))
    ingest(dockd, recorder(tmp_path / "rec", {first: b"same", twin: b"same"}), "QD05")
    recs = recordings(dockd)
    key = recs[first]["object"]
    assert recs[twin]["object"] == key

    dry = dockd.run("retention", "expire", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    listed = [line for line in dry.stdout.splitlines() if line.startswith("would expire")]
    assert len(listed) == 1 and "1 object(s) expirable" in dry.stdout, dry.stdout

    done = dockd.run("retention", "expire")
    assert done.returncode == 0, done.stderr
    assert not (dockd.store / key).exists()
    assert all(r["expired_at"] for r in recordings(dockd).values())
    assert len(dockd.custody_events("object-expired")) == 1, "one custody event per object"


# --- Dalian Jinpu Ocean (000:25 three years; 000:26 long-term reasons) -------------------


def test_dalian_keeps_three_years_and_holds_for_its_long_term_reasons(
    dockd: Dockd, tmp_path: Path
) -> None:
    pack = use_pack(dockd, "dalian-jinpu-ocean")
    start = local_now() - timedelta(hours=3)
    held, twin, other = (name("DL01", "2101", start + timedelta(minutes=i), i) for i in (1, 2, 3))
    src = recorder(
        tmp_path / "rec",
        {held: b"a complaint was made", twin: b"a complaint was made", other: b"routine"},
    )
    ingest(dockd, src, "DL01")
    recs = recordings(dockd)
    for rec in recs.values():
        end = when(rec["end"]).astimezone(SHANGHAI)
        until = when(rec["retain_until"]).astimezone(SHANGHAI)
        assert until == months_later(end, 36)
        assert until - end >= timedelta(days=3 * 365)
        assert rec["retention_class"] == "routine"
    assert recs[held]["blake3"] == recs[twin]["blake3"], "identical bytes share one object"

    placed = dockd.run("holds", "add", str(recs[held]["id"]), "--reason", "complaint")
    assert placed.returncode == 0, placed.stderr
    refused = dockd.run("holds", "add", str(recs[other]["id"]), "--reason", "nonsense")
    assert refused.returncode == 2
    assert "nonsense" in refused.stderr and pack.id in refused.stderr
    for reason in pack.retention.long_term_reasons:
        assert reason in refused.stderr, f"the refusal names the pack's reason {reason}"

    recs = recordings(dockd)
    assert recs[held]["holds"] == ["long-term:complaint"]
    assert recs[twin]["holds"] == [] and recs[other]["holds"] == []
    listing = dockd.run("holds", "list")
    assert "long-term:complaint" in listing.stdout
    assert len(dockd.custody_events("hold-placed")) == 1

    dry = dockd.run("retention", "expire", "--dry-run")
    assert dry.returncode == 0 and "0 object(s) expirable" in dry.stdout

    # three years and a day on: only the unheld object that no held recording shares
    later = max(when(r["retain_until"]) for r in recs.values()) + timedelta(days=1)
    ledger = ledger_api(dockd)
    try:
        assert expirable_keys(ledger, later) == {recs[other]["object"]}
        assert recs[held]["object"] not in expirable_keys(ledger, later + timedelta(days=3650))
        released = dockd.run("holds", "release", "1", "--reason", "complaint settled")
        assert released.returncode == 0, released.stderr
        after = expirable_keys(ledger, later)
        assert after == {recs[other]["object"], recs[held]["object"]}
    finally:
        ledger.close()
    assert recordings(dockd)[held]["holds"] == []
    audit_ok(dockd)


# --- Luoyang Water (001:13 offload within 24 h, or of returning; 001:14) -------------------


def test_luoyang_late_offload_is_excused_by_a_return_from_remote_duty(
    dockd: Dockd, tmp_path: Path
) -> None:
    pack = use_pack(dockd, "luoyang-water")
    assert pack.offload.deadline_hours == 24
    start = local_now() - timedelta(hours=30)
    away, other = name("LY01", "4107", start, 1), name("LY01", "4108", start, 2)
    ingest(dockd, recorder(tmp_path / "rec", {away: b"away", other: b"other"}), "LY01")

    recs = recordings(dockd)
    for path in (away, other):
        rec = recs[path]
        assert rec["late"] is True
        assert rec["late_by_s"] == pytest.approx(6 * 3600, abs=120)
        assert when(rec["deadline"]) == start + timedelta(hours=24)
    code, before = report(dockd)
    assert code == 1
    assert {i["path"] for i in before["late_offloads"]} == {away, other}

    returned = local_now() - timedelta(hours=10)
    excused = dockd.run(
        "excuse",
        "--badge",
        "4107",
        "--returned-at",
        returned.isoformat(),
        "--reason",
        "river inspection upstream",
        "--by",
        "admin01",
    )
    assert excused.returncode == 0, excused.stderr
    assert "1 earlier recording(s) changed verdict" in excused.stdout
    # a return before the other officer's recording ended changes nothing (001:13)
    early = dockd.run(
        "excuse",
        "--badge",
        "4108",
        "--returned-at",
        (start - timedelta(hours=1)).isoformat(),
        "--reason",
        "came back the day before",
    )
    assert early.returncode == 0, early.stderr
    assert "0 earlier recording(s) changed verdict" in early.stdout

    recs = recordings(dockd)
    assert recs[away]["late"] is False
    assert recs[away]["late_by_s"] == 0
    assert when(recs[away]["deadline"]) == returned + timedelta(hours=24)
    assert recs[other]["late"] is True
    assert when(recs[other]["deadline"]) == start + timedelta(hours=24)

    events = dockd.custody_events("duty-return-recorded")
    assert [e["subject"] for e in events] == ["4107", "4108"]
    first = events[0]
    assert first["actor"] == "admin01"
    assert when(first["details"]["returned_at"]) == returned
    assert first["details"]["reason"] == "river inspection upstream"
    assert first["details"]["recordings_rejudged"] == 1
    audit_ok(dockd)
    _, after = report(dockd)
    assert [i["path"] for i in after["late_offloads"]] == [other]


def test_luoyang_excuse_reaches_recordings_attributed_through_the_custodian(
    dockd: Dockd, tmp_path: Path
) -> None:
    """A DCF recorder's names carry no badge: the recording is the custodian's at its end.
    The excuse must move its deadline whether it is recorded before or after the dock."""
    use_pack(dockd, "luoyang-water")
    for serial in ("DC01", "DC02"):
        assert dockd.run("devices", "add", serial, "--model", "DCF-1").returncode == 0
    ledger = ledger_api(dockd)
    handed = datetime.now(UTC) - timedelta(days=3)
    try:
        registry = LedgerRegistry(ledger)
        registry.assign("DC01", Custodian("4201", "Wang Wei", "Patrol 1"), handed, "test")
        registry.assign("DC02", Custodian("4202", "Li Na", "Patrol 1"), handed, "test")
    finally:
        ledger.close()
    start = local_now() - timedelta(hours=30)
    returned = local_now() - timedelta(hours=10)
    clip = f"DCIM/100MEDIA/{start.strftime('%Y%m%d_%H%M%S')}_0001.JPG"

    def excuse(badge: str) -> None:
        args = ("--returned-at", returned.isoformat(), "--reason", "remote duty")
        assert dockd.run("excuse", "--badge", badge, *args).returncode == 0

    excuse("4202")  # before the dock
    ingest(dockd, recorder(tmp_path / "dc02", {clip: b"li na"}), "DC02", "--profile", "dcim")
    ingest(dockd, recorder(tmp_path / "dc01", {clip: b"wang wei"}), "DC01", "--profile", "dcim")
    excuse("4201")  # after the dock

    by_serial = {r["serial"]: r for r in dockd.json("recordings")}
    assert by_serial["DC02"]["badge"] is None, "the name carries no badge"
    assert by_serial["DC02"]["late"] is False, "excused before the dock: on time"
    assert when(by_serial["DC02"]["deadline"]) == returned + timedelta(hours=24)
    assert by_serial["DC01"]["late"] is False, (
        "excused after the dock, the same recording stays late: `dockd excuse` re-judges only "
        "recordings whose file name carries the badge, not those attributed to the custodian"
    )
    assert when(by_serial["DC01"]["deadline"]) == returned + timedelta(hours=24)


# --- Mingshan Emergency (003/D:14 24 h; 003/D:10 continuous recording) ---------------------


def test_mingshan_a_ten_minute_hole_is_an_interruption_to_review(
    dockd: Dockd, tmp_path: Path
) -> None:
    pack = use_pack(dockd, "mingshan-emergency")
    assert pack.interruptions.gap_tolerance_s < 600
    first_start = local_now() - timedelta(hours=3)
    second_start = first_start + timedelta(minutes=5 + 10)
    first = name("MS01", "5101", first_start, 1, "MP4")
    second = name("MS01", "5101", second_start, 2, "MP4")
    src = recorder(tmp_path / "rec", {first: mp4(300, 1), second: mp4(300, 2)})
    session = ingest(dockd, src, "MS01")

    recs = recordings(dockd)
    assert recs[first]["duration_s"] == 300
    assert when(recs[first]["end"]) == first_start + timedelta(minutes=5)
    problems = session["problems"]
    assert [p["code"] for p in problems] == ["interruption"], problems
    code, rep = report(dockd)
    assert code == 1
    (item,) = rep["interruptions"]
    assert item["serial"] == "MS01"
    assert (item["before"], item["after"]) == (first, second)
    assert item["gap_s"] == 600
    assert when(item["gap_start"]) == first_start + timedelta(minutes=5)
    assert when(item["gap_end"]) == second_start
    assert rep["late_offloads"] == []
    assert len(dockd.custody_events("interruptions-found")) == 1
    assert dockd.custody_events("interruptions-found")[0]["subject"] == session["id"]


def test_mingshan_clips_split_back_to_back_are_no_interruption(
    dockd: Dockd, tmp_path: Path
) -> None:
    use_pack(dockd, "mingshan-emergency")
    start = local_now() - timedelta(hours=3)
    clips = {
        name("MS02", "5102", start + timedelta(minutes=15 * i), i + 1, "MP4"): mp4(900, i)
        for i in range(3)
    }
    ingest(dockd, recorder(tmp_path / "rec", clips), "MS02")
    # the next dock starts where the last clip stopped: still no hole
    later = {name("MS02", "5102", start + timedelta(minutes=45), 4, "MP4"): mp4(600, 9)}
    ingest(dockd, recorder(tmp_path / "rec2", later), "MS02")

    assert all(r["duration_s"] > 0 for r in dockd.json("recordings"))
    code, rep = report(dockd)
    assert rep["interruptions"] == []
    assert code == 0, rep
    assert dockd.custody_events("interruptions-found") == []


def test_mingshan_a_hole_between_two_docks_is_found(dockd: Dockd, tmp_path: Path) -> None:
    use_pack(dockd, "mingshan-emergency")
    start = local_now() - timedelta(hours=3)
    first = name("MS03", "5103", start, 1, "MP4")
    second = name("MS03", "5103", start + timedelta(minutes=20), 2, "MP4")
    ingest(dockd, recorder(tmp_path / "a", {first: mp4(600, 1)}), "MS03")
    ingest(dockd, recorder(tmp_path / "b", {second: mp4(600, 2)}), "MS03")
    _, rep = report(dockd)
    (item,) = rep["interruptions"]
    assert (item["before"], item["after"], item["gap_s"]) == (first, second, 600)


# --- Dandong Civil Affairs (004:21 export by two or more people) ---------------------------


def test_dandong_seals_a_dock_session_only_with_two_operators(dockd: Dockd, tmp_path: Path) -> None:
    pack = use_pack(dockd, "dandong-civil-affairs")
    assert pack.offload.two_person_seal
    clip = name("DD01", "6101", local_now() - timedelta(hours=2))
    session = ingest(dockd, recorder(tmp_path / "rec", {clip: b"civil affairs"}), "DD01")["id"]

    code, rep = report(dockd)
    assert code == 1
    (item,) = rep["unsealed_sessions"]
    assert (item["session"], item["serial"], item["attestations"]) == (session, "DD01", [])

    for badge in ("A100", "B200"):
        dockd.add_operator(badge, "office staff", unit="Office")

    def attest(*badges: str, stdin: str) -> tuple[int, str]:
        args = [a for b in badges for a in ("--operator", b)]
        done = dockd.run("attest", session, *args, "--passphrase-stdin", input=stdin)
        return done.returncode, done.stdout + done.stderr

    refusals = {
        "one person": (("A100",), "passphrase-A100\n", 1, "needs 2 distinct operators"),
        "a badge typed twice": (
            ("A100", "A100"),
            "passphrase-A100\npassphrase-A100\n",
            1,
            "given twice",
        ),
        "a missing passphrase": (("A100", "B200"), "passphrase-A100\n", 2, "PASSPHRASE_MISSING"),
        "a wrong passphrase": (("A100", "B200"), "passphrase-A100\nguess\n", 1, "PASSPHRASE_WRONG"),
    }
    for what, (badges, stdin, code, said) in refusals.items():
        got, output = attest(*badges, stdin=stdin)
        assert (got, said in output) == (code, True), f"{what}: {output}"
        _, rep = report(dockd)
        assert [(u["session"], u["attestations"]) for u in rep["unsealed_sessions"]] == [
            (session, [])
        ], f"{what} seals nothing"
    assert dockd.custody_events("session-attested") == []

    code, said = attest("A100", "B200", stdin="passphrase-A100\npassphrase-B200\n")
    assert code == 0, said
    assert "sealed by A100, B200" in said
    code, rep = report(dockd)
    assert rep["unsealed_sessions"] == []
    assert code == 0, rep
    (sealed,) = dockd.custody_events("session-sealed")
    assert sealed["subject"] == session
    assert sealed["details"]["operators"] == ["A100", "B200"]
    assert len(dockd.custody_events("session-attested")) == 2
    audit_ok(dockd)


def test_without_a_two_person_rule_no_session_is_unsealed(dockd: Dockd, tmp_path: Path) -> None:
    assert not use_pack(dockd, "qidong").offload.two_person_seal
    clip = name("QD03", "3303", local_now() - timedelta(hours=2))
    session = ingest(dockd, recorder(tmp_path / "rec", {clip: b"qidong"}), "QD03")["id"]
    code, rep = report(dockd)
    assert rep["unsealed_sessions"] == []
    assert code == 0, rep
    dockd.add_operator("A100", "deputy leader in charge of enforcement")
    one = dockd.run(
        "attest", session, "--operator", "A100", "--passphrase-stdin", input="passphrase-A100\n"
    )
    assert one.returncode == 0 and "sealed by A100" in one.stdout, one.stderr
    assert report(dockd)[1]["unsealed_sessions"] == []


# --- devices and the report's grouping -----------------------------------------------------


def test_a_recorder_just_assigned_and_never_docked_is_not_overdue_yet(dockd: Dockd) -> None:
    use_pack(dockd, "dalian-jinpu-ocean")
    assert dockd.run("devices", "add", "OV01", "--model", "DSJ-V9").returncode == 0
    assigned = dockd.run(
        "devices", "assign", "OV01", "--badge", "9", "--name", "Zhao Lei", "--unit", "Brigade 2"
    )
    assert assigned.returncode == 0, assigned.stderr
    code, rep = report(dockd)
    assert rep["overdue_recorders"] == [], "the deadline runs from the assignment"
    assert code == 0, rep
    twice = dockd.run("devices", "add", "OV01", "--model", "DSJ-V9")
    assert twice.returncode == 1 and "already registered" in twice.stderr

    listing = dockd.run("devices", "list", "--json")
    assert listing.returncode == 0, listing.stderr  # the custodian must be listable as JSON
    (device,) = json.loads(listing.stdout)
    assert device["custodian"] == {"badge": "9", "name": "Zhao Lei", "unit": "Brigade 2"}
    assert len(device["history"]) == 1 and device["history"][0]["until"] is None


def test_report_attributes_a_drift_violation_to_the_custodian_at_the_dock(
    dockd: Dockd, tmp_path: Path
) -> None:
    pack = use_pack(dockd, "dalian-jinpu-ocean")
    assert pack.clock.drift_violation_s < 90
    assert dockd.run("devices", "add", "GR01", "--model", "DSJ-V9").returncode == 0
    assigned = dockd.run(
        "devices", "assign", "GR01", "--badge", "9", "--name", "Sun Li", "--unit", "Harbour 3"
    )
    assert assigned.returncode == 0, assigned.stderr
    fresh = name("GR01", "9", local_now() - timedelta(hours=2), 1)
    old = name("GR01", "9", local_now() - timedelta(hours=30), 2)
    src = recorder(
        tmp_path / "rec",
        {fresh: b"fresh", old: b"old"},
        clock=local_now() + timedelta(seconds=90),
    )
    session = ingest(dockd, src, "GR01")["id"]

    code, rep = report(dockd)
    assert code == 1
    (drift,) = rep["drift_violations"]
    assert (drift["session"], drift["serial"], drift["verdict"]) == (session, "GR01", "violation")
    assert drift["method"] == "clock-file"
    # written when the recorder was plugged in, read a moment later
    assert 80 <= drift["drift_s"] <= 91
    assert (drift["unit"], drift["custodian"]) == ("Harbour 3", "Sun Li (9)")
    # the late clip ended before the recorder was handed over: nobody to attribute it to
    (late,) = rep["late_offloads"]
    assert late["path"] == old
    assert (late["unit"], late["custodian"]) == (None, None)
    assert rep["overdue_recorders"] == []
