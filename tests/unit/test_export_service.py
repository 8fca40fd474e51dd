"""The export use case over its ports: who may export, what is recorded, in which order,
and that a store object unlike the ledger stops the export."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import blake3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dockd.core.custody import CustodyEvent
from dockd.core.operators import Operator
from dockd.core.policy import ExportPolicy, PolicyPack
from dockd.core.registry import Custodian
from dockd.core.station_clock import StationClock
from dockd.core.views import RecordingView
from dockd.errors import ExportObjectMismatch, ExportRefused, ExportUsageError, WrongPassphraseError
from dockd.services.export import ExportRequest, Exports
from tests.fakes.export import FakeExportRecords, FakeExportStore, FakePackages, FakeSigner
from tests.fakes.operators import FakeOperatorAuth
from tests.unit.test_policy_packs import pack

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
OUT = Path("/nowhere/pkg")


def recording(
    rid: int, data: bytes, session: str = "s-1", raw: bytes | None = None
) -> RecordingView:
    digest = blake3.blake3(data).hexdigest()
    return RecordingView(
        id=rid, session=session, serial="SN1",
        path=(raw or f"DCIM/{rid:04d}.MP4".encode()).decode("utf-8", "backslashreplace"),
        path_raw_hex=raw.hex() if raw else None, size=len(data), start=T0, end=T0,
        reported_start=T0, reported_end=T0 + timedelta(minutes=1), corrected_start=None,
        corrected_end=None, deadline=None, late=None, late_by_s=None, retention_class=None,
        retain_until=None, holds=[], expired_at=None, duration_s=60.0, time_source="name",
        badge=None, sequence=None, important=False, blake3=digest,
        sha256=hashlib.sha256(data).hexdigest(), object=f"objects/blake3/{digest[:2]}/{digest}",
        protections=[], verified_at=T0, verify_method="direct-io",
    )  # fmt: skip


class Clocks:
    def measure(self) -> StationClock:
        return StationClock(-0.02, "127.0.0.1:123", 2, 0.001, True, T0, "ntp", "ntp stratum 2")


class World:
    def __init__(self, policy: PolicyPack) -> None:
        self.records = FakeExportRecords()
        self.store = FakeExportStore()
        self.packages = FakePackages()
        self.operators = FakeOperatorAuth()
        self.signer = FakeSigner()
        self.exports = Exports(
            self.records, self.store, self.packages, self.operators, self.signer, Clocks(),
            lambda: T0, policy, "dock-1", "dockd test", new_id=lambda: "e-1",
        )  # fmt: skip

    def add(self, rec: RecordingView, data: bytes) -> None:
        self.records.known[rec.id] = rec
        self.store.objects[rec.object] = data

    def request(self, *operators: tuple[str, str], **over: object) -> ExportRequest:
        values: dict[str, object] = dict(
            recordings=(1,), session=None, case="C-1", purpose="proves X", maker="M",
            operators=operators, out=OUT,
        )  # fmt: skip
        values.update(over)
        return ExportRequest(**values)  # type: ignore[arg-type]


@pytest.fixture
def dandong() -> World:
    world = World(pack("dandong-civil-affairs"))
    world.operators.add(Operator("O1", "张三", "办公室", ("office staff",)), "pw1")
    world.operators.add(Operator("O2", "赵六", None, ("office staff",)), "pw2")
    world.operators.add(Operator("X9", "Outsider", None, ("case leader",)), "pw9")
    world.add(recording(1, b"footage one"), b"footage one")
    return world


def test_dandong_refuses_one_person_and_writes_nothing(dandong: World) -> None:
    with pytest.raises(ExportRefused, match="2 distinct operators"):
        dandong.exports.create(dandong.request(("O1", "pw1")))
    assert dandong.packages.made == []
    assert [kind for kind, _, _ in dandong.records.log] == ["export-refused"]
    assert dandong.records.rows == {}


def test_a_badge_twice_is_one_person(dandong: World) -> None:
    with pytest.raises(ExportRefused, match="named twice"):
        dandong.exports.create(dandong.request(("O1", "pw1"), ("O1", "pw1")))
    assert dandong.packages.made == []


def test_a_wrong_passphrase_refuses_before_anything_is_written(dandong: World) -> None:
    with pytest.raises(WrongPassphraseError, match="wrong passphrase for operator O2"):
        dandong.exports.create(dandong.request(("O1", "pw1"), ("O2", "nope")))
    assert dandong.packages.made == []
    ((kind, _, details),) = dandong.records.log
    assert (kind, details["error_code"]) == ("export-refused", "PASSPHRASE_WRONG")


def test_an_operator_without_an_export_role_is_refused(dandong: World) -> None:
    with pytest.raises(ExportRefused, match="operator X9 holds none"):
        dandong.exports.create(dandong.request(("O1", "pw1"), ("X9", "pw9")))
    assert dandong.packages.made == []


def test_dandong_accepts_two_people_and_the_package_says_who_and_what(dandong: World) -> None:
    dandong.records.custodians["SN1"] = [(Custodian("A1", "王五", "一队"), T0 - timedelta(1), None)]
    dandong.records.events = [
        CustodyEvent(3, T0.isoformat(), "recording-verified", "1", "dockd", {}, "p", "h"),
        CustodyEvent(4, T0.isoformat(), "recording-verified", "2", "dockd", {}, "h", "i"),
    ]
    made = dandong.exports.create(dandong.request(("O1", "pw1"), ("O2", "pw2")))
    assert (made.id, made.path, made.recordings) == ("e-1", str(OUT), [1])
    (package,) = dandong.packages.made
    assert package.state == "finished"
    assert package.files["data/SN1/s-1/DCIM/0001.MP4"] == b"footage one"
    description = json.loads(package.files["description.json"])
    assert [e["badge"] for e in description["extractors"]] == ["O1", "O2"]
    assert description["files"][0]["custodian"]["badge"] == "A1"
    assert description["station_clock"]["offset_s"] == -0.02
    custody = json.loads(package.files["custody-events.json"])
    assert [e["subject"] for e in custody] == ["1"]
    assert package.bag_info["External-Identifier"] == "e-1"
    assert package.bag_info["Source-Organization"] == "Dandong Municipal Civil Affairs Bureau"
    key = serialization.load_pem_public_key(dandong.signer.public_pem().encode())
    assert isinstance(key, Ed25519PublicKey)
    key.verify(package.signature or b"", dandong.signer.signed[-1])
    kinds = [kind for kind, _, _ in dandong.records.log]
    assert kinds == ["export-started", "export-completed"]
    assert dandong.exports.exports()[0].state == "completed"


def test_the_custody_excerpt_merges_the_stations_chains_by_time_and_names_each(
    dandong: World,
) -> None:
    def event(station: str, seq: int, minutes: int) -> CustodyEvent:
        at = (T0 + timedelta(minutes=minutes)).isoformat()
        return CustodyEvent(seq, at, "k", "1", "dockd", {}, "p", f"{station}-{seq}", station)

    # the east dock copied it (its events 40, 41); the west dock put a hold (its event 2)
    dandong.records.events = [event("dock-east", 40, 0), event("dock-west", 2, 1)]
    dandong.records.events.append(event("dock-east", 41, 2))
    dandong.exports.create(dandong.request(("O1", "pw1"), ("O2", "pw2")))
    (package,) = dandong.packages.made
    custody = json.loads(package.files["custody-events.json"])
    assert [(e["station"], e["seq"]) for e in custody] == [
        ("dock-east", 40),
        ("dock-west", 2),
        ("dock-east", 41),
    ]


def test_a_store_object_unlike_the_ledger_fails_the_export(dandong: World) -> None:
    rec = dandong.records.known[1]
    dandong.store.objects[rec.object] = b"footage 0ne"
    with pytest.raises(ExportObjectMismatch, match=r"recording 1: store object .* SHA-256"):
        dandong.exports.create(dandong.request(("O1", "pw1"), ("O2", "pw2")))
    (package,) = dandong.packages.made
    assert package.state == "abandoned"
    assert [k for k, _, _ in dandong.records.log] == ["export-started", "export-failed"]
    assert dandong.exports.exports()[0].error_code == "EXPORT_OBJECT_MISMATCH"


def test_a_session_exports_its_recordings_and_manifest() -> None:
    world = World(pack("qidong"))
    world.operators.add(Operator("E1", "Eve", None, ("evidence officer",)), "pw")
    for rid in (1, 2):
        data = f"clip {rid}".encode()
        world.add(recording(rid, data, raw=b"DCIM/\xff" + bytes([48 + rid]) + b".MP4"), data)
    manifest = b'{"session": "s-1"}'
    key = "objects/blake3/mm/manifest"
    world.store.objects[key] = manifest
    world.records.manifests["s-1"] = (
        blake3.blake3(manifest).hexdigest(), hashlib.sha256(manifest).hexdigest(), key,
        len(manifest),
    )  # fmt: skip
    made = world.exports.create(world.request(("E1", "pw"), recordings=(), session="s-1"))
    assert made.recordings == [1, 2]
    files = world.packages.made[0].files
    assert files["dock-sessions/s-1.json"] == manifest
    assert files["data/SN1/s-1/DCIM/#FF1.MP4"] == b"clip 1"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"recordings": ()}, "either recordings"),
        ({"session": "s-1"}, "either recordings"),
        ({"recordings": (5,)}, "no recording"),
        ({"case": " "}, "must say something"),
    ],
)
def test_bad_requests_are_usage_errors(
    dandong: World, over: dict[str, object], message: str
) -> None:
    with pytest.raises(ExportUsageError, match=message):
        dandong.exports.create(dandong.request(("O1", "pw1"), ("O2", "pw2"), **over))
    assert dandong.operators.tried == []


def test_packs_without_a_named_exporter_use_dockds_own_role() -> None:
    for pack_id in ("dalian-jinpu-ocean", "luoyang-water", "qidong", "mingshan-emergency"):
        policy = pack(pack_id).export
        assert (policy.roles, policy.operators) == (["evidence officer"], 1)
        assert set(policy.dockd_own) == {"roles", "operators"}
    dandong = pack("dandong-civil-affairs").export
    assert dandong == ExportPolicy(
        roles=["office staff"], operators=2, articles=["004:21", "004:23"]
    )
