"""Export packages end to end: a real store and ledger fed by `dockd ingest`, real BagIt
bags checked by bagit-python (a peer's validator), real ISO images read by isoinfo and
xorriso, and `dockd export verify` / `export list` run as an admin runs them.

The operators registry (issue 14A) and the station key (issue 11B) are not on this branch:
the package is made by the real export use case with an in-memory registry and an Ed25519
key that never touches the disk, everything else real. The `export create` command itself
is tested at the end, where those parts exist."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bagit
import pytest

from dockd.adapters.bag import BagPackages
from dockd.adapters.clock import utc_now
from dockd.adapters.ledger.exports import LedgerExports
from dockd.app import App, build, load_config
from dockd.core.operators import Operator
from dockd.errors import ExportObjectMismatch, ExportRefused, ExportUsageError
from dockd.services.export import ExportRequest, Exports
from tests.conftest import REPO, Dockd, unfreeze, write_config
from tests.fakes.export import FakeSigner
from tests.fakes.operators import FakeOperatorAuth

RAW_NAME = b"bad\xffname.MP4"
CLIPS = {
    b"ABC123_007_20261122081500_0001.MP4": b"first clip " * 5000,
    RAW_NAME: b"second clip, a name that is not UTF-8 " * 300,
}
DANDONG = '[policy]\npack = "dandong-civil-affairs"\n'


@dataclass
class Station:
    dockd: Dockd
    app: App
    exports: Exports
    signer: FakeSigner
    tmp: Path

    def create(self, out: Path, *operators: tuple[str, str], iso: bool = False) -> Path:
        ids = tuple(r.id for r in self.app.ledger.recordings())
        self.exports.create(
            ExportRequest(ids, None, "丹民罚〔2026〕7号", "证明现场检查经过 / the inspection",
                          "李四", operators, out, iso)
        )  # fmt: skip
        return out


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    store = tmp_path / "store"
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    dockd = Dockd(write_config(tmp_path / "dockd.toml", store, ledger, DANDONG), store, ledger)
    src = tmp_path / "recorder"
    src.mkdir()
    for name, data in CLIPS.items():
        (src / os.fsdecode(name)).write_bytes(data)
    ingest = dockd.ingest(src, "ABC123")
    assert ingest.returncode == 1, ingest.stderr  # random bytes named .MP4: container problems
    assert len(dockd.json("recordings")) == len(CLIPS)
    operators = FakeOperatorAuth()
    operators.add(Operator("O1", "张三", "办公室", ("office staff",)), "pw-one")
    operators.add(Operator("O2", "赵六", "办公室", ("office staff",)), "pw-two")
    app = build(load_config(dockd.config))
    signer = FakeSigner()
    exports = Exports(
        LedgerExports(app.ledger), app.store, BagPackages(), operators, signer,
        app.station_clock, utc_now, app.policy, "dock-test", "dockd test",
    )  # fmt: skip
    yield Station(dockd, app, exports, signer, tmp_path / "out")
    app.close()
    unfreeze(store)


TWO = (("O1", "pw-one"), ("O2", "pw-two"))


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_two_person_export_is_a_valid_signed_bag_with_its_description(station: Station) -> None:
    station.tmp.mkdir()
    out = station.create(station.tmp / "pkg", *TWO)
    bagit.Bag(str(out)).validate()  # raises on any fault
    payload = {p.relative_to(out).as_posix(): p.read_bytes() for p in (out / "data").rglob("*")
               if p.is_file()}  # fmt: skip
    session = station.app.ledger.sessions()[-1].id
    assert payload == {
        f"data/ABC123/{session}/ABC123_007_20261122081500_0001.MP4": CLIPS[sorted(CLIPS)[0]],
        f"data/ABC123/{session}/bad#FFname.MP4": CLIPS[RAW_NAME],
    }
    info = (out / "bag-info.txt").read_text("utf-8")
    export = station.exports.exports()[-1]
    for line in (
        "Source-Organization: Dandong Municipal Civil Affairs Bureau",
        f"External-Identifier: {export.id}",
        "Payload-Oxum: ",
        "Bagging-Date: ",
    ):
        assert line in info, line  # fmt: skip
    description = json.loads((out / "description.json").read_text("utf-8"))
    assert [e["name"] for e in description["extractors"]] == ["张三", "赵六"]
    assert description["maker"] == "李四"
    assert description["case"] == "丹民罚〔2026〕7号"
    assert description["station_clock"]["offset_s"] is not None
    by_path = {f["path"]: f for f in description["files"]}
    odd = by_path[f"data/ABC123/{session}/bad#FFname.MP4"]
    assert bytes.fromhex(odd["original_path_hex"]) == RAW_NAME
    assert odd["sha256"] == hashlib.sha256(CLIPS[RAW_NAME]).hexdigest()
    text = (out / "description.txt").read_text("utf-8")
    assert "制作人 Maker: 李四" in text and "提取人 Extractor(s): 张三 (O1, 办公室)" in text
    manifest = json.loads((out / f"dock-sessions/{session}.json").read_text("utf-8"))
    assert manifest["session"] == session
    custody = json.loads((out / "custody-events.json").read_text("utf-8"))
    assert {e["kind"] for e in custody} >= {"recording-verified", "session-finished"}
    key = out / "station-key.pem"
    assert key.read_text("ascii") == station.signer.public_pem()
    verified = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(key), "-rawin",
         "-in", str(out / "tagmanifest-sha256.txt"), "-sigfile",
         str(out / "tagmanifest-sha256.txt.sig")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    result = station.dockd.run("export", "verify", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"intact: {out}: export {export.id}, 2 files")
    assert _leftovers(station.tmp) == ["pkg"]


def test_every_export_is_listed_and_in_the_custody_chain(station: Station) -> None:
    station.tmp.mkdir()
    station.create(station.tmp / "pkg", *TWO)
    (listed,) = station.dockd.json("export", "list")
    ids = [r.id for r in station.app.ledger.recordings()]
    assert (listed["state"], listed["operators"], listed["case"]) == (
        "completed", ["O1", "O2"], "丹民罚〔2026〕7号",
    )  # fmt: skip
    assert listed["recordings"] == ids
    assert listed["path"] == str(station.tmp / "pkg")
    started = station.dockd.custody_events("export-started")
    completed = station.dockd.custody_events("export-completed")
    assert [e["subject"] for e in started] == [listed["id"]] == [e["subject"] for e in completed]
    assert started[0]["actor"] == "O1,O2" and started[0]["details"]["recordings"] == ids
    assert completed[0]["details"]["tag_manifest_sha256"] == listed["tag_manifest_sha256"]
    text = station.dockd.run("export", "list", check=True).stdout
    assert listed["id"] in text and "by O1, O2" in text


def test_the_custody_excerpt_merges_two_stations_chains_and_names_each(
    station: Station, tmp_path: Path
) -> None:
    """A second dock on the same ledger puts a hold on a recording the first one copied:
    its event is number 1 or 2 of its own chain, and still comes after the copy."""
    ledger = station.dockd.ledger_url
    west = Dockd(
        write_config(tmp_path / "west.toml", tmp_path / "west-store", ledger,
                     DANDONG + '[station]\nid = "dock-west"\n'),
        tmp_path / "west-store", ledger,
    )  # fmt: skip
    first = station.app.ledger.recordings()[0].id
    west.run("holds", "add", str(first), "--case", "丹民罚〔2026〕7号", check=True)
    station.tmp.mkdir()
    out = station.create(station.tmp / "pkg", *TWO)
    custody = json.loads((out / "custody-events.json").read_text("utf-8"))
    stations = {e["station"] for e in custody}
    assert "dock-west" in stations and len(stations) == 2
    (hold,) = [e for e in custody if e["kind"] == "hold-placed"]
    assert hold["station"] == "dock-west" and hold["subject"] == str(first)
    copied = [e for e in custody if e["kind"] == "recording-verified"]
    assert hold["seq"] < min(e["seq"] for e in copied)  # seq order alone would put it first
    assert custody.index(hold) > max(custody.index(e) for e in copied)
    for name in stations:
        seqs = [e["seq"] for e in custody if e["station"] == name]
        assert seqs == sorted(seqs)
    assert station.dockd.run("export", "verify", str(out)).returncode == 0


def test_exports_appear_in_the_nightly_report(station: Station) -> None:
    station.tmp.mkdir()
    station.create(station.tmp / "pkg", *TWO)
    (made,) = station.exports.exports()
    report = json.loads(station.dockd.run("report", "deadlines", "--json").stdout)
    assert [(e["id"], e["operators"]) for e in report["exports"]] == [(made.id, ["O1", "O2"])]
    text = station.dockd.run("report", "deadlines").stdout
    assert "EXPORTS (1)" in text
    assert f"{made.id} completed: case 丹民罚〔2026〕7号, by O1, O2" in text


def test_dandong_refuses_a_one_person_export_and_writes_nothing(station: Station) -> None:
    station.tmp.mkdir()
    with pytest.raises(ExportRefused, match="2 distinct operators must export together; 1 given"):
        station.create(station.tmp / "pkg", ("O1", "pw-one"))
    assert _leftovers(station.tmp) == []
    assert station.exports.exports() == []
    (refused,) = station.dockd.custody_events("export-refused")
    assert refused["details"]["operators"] == ["O1"]


def _flip_payload(out: Path) -> str:
    target = sorted((out / "data").rglob("*.MP4"))[0]
    data = bytearray(target.read_bytes())
    data[100] ^= 0x01
    target.chmod(0o644)
    target.write_bytes(bytes(data))
    return f"{target.relative_to(out).as_posix()}: changed"


def _edit_description(out: Path) -> str:
    target = out / "description.txt"
    target.chmod(0o644)
    target.write_text(target.read_text("utf-8").replace("李四", "王八"), "utf-8")
    return "description.txt: changed"


def _remove_file(out: Path) -> str:
    target = sorted((out / "data").rglob("*.MP4"))[-1]
    target.unlink()
    return f"{target.relative_to(out).as_posix()}: missing"


def _wrong_signature(out: Path) -> str:
    target = out / "tagmanifest-sha256.txt.sig"
    target.chmod(0o644)
    target.write_bytes(FakeSigner().sign((out / "tagmanifest-sha256.txt").read_bytes()))
    return "signature: tagmanifest-sha256.txt is not signed by the key in station-key.pem"


@pytest.mark.parametrize(
    "tamper", [_flip_payload, _edit_description, _remove_file, _wrong_signature]
)
def test_verify_names_what_changed(station: Station, tamper: object) -> None:
    station.tmp.mkdir()
    out = station.create(station.tmp / "pkg", *TWO)
    assert callable(tamper)
    finding = tamper(out)
    result = station.dockd.run("export", "verify", str(out))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"ALTERED: {out}")
    assert finding in result.stdout
    if tamper is not _wrong_signature:  # the peer's validator agrees (it knows no signature)
        with pytest.raises(bagit.BagValidationError):
            bagit.Bag(str(out)).validate()


def test_the_iso_holds_the_same_bag(station: Station) -> None:
    if not (shutil.which("isoinfo") and shutil.which("xorriso")):
        pytest.skip("apt-get install genisoimage xorriso")
    station.tmp.mkdir()
    out = station.create(station.tmp / "pkg", *TWO, iso=True)
    image = station.tmp / "pkg.iso"
    bag_files = sorted("/" + p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    listing = subprocess.run(
        ["isoinfo", "-R", "-f", "-i", str(image)], capture_output=True, text=True,
        errors="surrogateescape", check=True,
    ).stdout.split()  # fmt: skip
    assert set(bag_files) <= set(listing)
    joliet = subprocess.run(["isoinfo", "-J", "-f", "-i", str(image)], capture_output=True,
                            text=True, check=True).stdout  # fmt: skip
    assert "/description.json" in joliet
    copy = station.tmp / "from-disc"
    subprocess.run(
        ["xorriso", "-osirrox", "on", "-indev", str(image), "-extract", "/", str(copy)],
        capture_output=True, check=True,
    )  # fmt: skip
    bagit.Bag(str(copy)).validate()
    for rel in bag_files:
        assert (copy / rel[1:]).read_bytes() == (out / rel[1:]).read_bytes(), rel
    result = station.dockd.run("export", "verify", str(image))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"intact: {image}")


def test_a_store_object_unlike_the_ledger_fails_the_export_and_leaves_nothing(
    station: Station,
) -> None:
    station.tmp.mkdir()
    rec = station.app.ledger.recordings()[0]
    target = station.dockd.store / rec.object
    unfreeze(target)
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ExportObjectMismatch, match=f"recording {rec.id}: store object"):
        station.create(station.tmp / "pkg", *TWO)
    assert _leftovers(station.tmp) == []
    (failed,) = station.exports.exports()
    assert (failed.state, failed.error_code) == ("failed", "EXPORT_OBJECT_MISMATCH")
    assert station.dockd.custody_events("export-failed")[0]["subject"] == failed.id


# --- the `export create` command, with the operators registry and the station key ------


def _dockd_stdin(dockd: Dockd, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockd.cli", "--config", str(dockd.config), *args],
        input=stdin, capture_output=True, text=True, timeout=600, cwd=REPO, check=False,
    )  # fmt: skip


@pytest.fixture
def registered(station: Station) -> Station:
    for badge, name in (("O1", "张三"), ("O2", "赵六")):
        result = _dockd_stdin(
            station.dockd, f"passphrase-{badge}\n", "operators", "add", badge, "--name", name,
            "--role", "office staff", "--passphrase-stdin",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    station.tmp.mkdir()
    return station


def _create(station: Station, stdin: str, *operators: str) -> subprocess.CompletedProcess[str]:
    ids = [a for r in station.app.ledger.recordings() for a in ("--recording", str(r.id))]
    ops = [a for b in operators for a in ("--operator", b)]
    return _dockd_stdin(
        station.dockd, stdin, "export", "create", *ids, "--case", "C-7", "--purpose", "P",
        "--maker", "李四", *ops, "--passphrases-stdin", "--out", str(station.tmp / "pkg"),
        "--iso", "--json",
    )  # fmt: skip


def test_cli_dandong_refuses_one_operator(registered: Station) -> None:
    result = _create(registered, "passphrase-O1\n", "O1")
    assert result.returncode == 1
    assert "EXPORT_REFUSED" in result.stderr
    assert _leftovers(registered.tmp) == []


def test_cli_refuses_a_wrong_passphrase(registered: Station) -> None:
    result = _create(registered, "passphrase-O1\nwrong-passphrase\n", "O1", "O2")
    assert result.returncode == 1
    assert "O2" in result.stderr
    assert _leftovers(registered.tmp) == []


def test_cli_two_operators_export_a_signed_bag_and_iso(registered: Station) -> None:
    result = _create(registered, "passphrase-O1\npassphrase-O2\n", "O1", "O2")
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    assert set(made) == {"id", "path", "recordings", "bytes"}
    bagit.Bag(made["path"]).validate()
    for target in (made["path"], made["path"] + ".iso"):
        check = registered.dockd.run("export", "verify", target)
        assert check.returncode == 0, check.stdout


def test_policy_show_marks_the_export_roles_dockd_made_up(dockd: Dockd) -> None:
    env = {"DOCKD_POLICY__PACK": "qidong"}
    text = dockd.run("policy", "show", env=env, check=True).stdout
    assert '[export]  from 002:19\n  roles = ["evidence officer"]  (dockd\'s own' in text
    shown = json.loads(dockd.run("policy", "show", "--json", env=env, check=True).stdout)
    assert shown["export"]["dockd_own"] == ["roles", "operators"]
    dandong = dockd.run("policy", "show", env={"DOCKD_POLICY__PACK": "dandong-civil-affairs"})
    assert '  roles = ["office staff"]\n  operators = 2\n' in dandong.stdout


def test_an_existing_out_is_never_replaced_and_a_missing_package_is_a_usage_error(
    station: Station,
) -> None:
    station.tmp.mkdir()
    (station.tmp / "pkg").mkdir()
    with pytest.raises(ExportUsageError, match="already exists"):
        station.create(station.tmp / "pkg", *TWO)
    assert _leftovers(station.tmp) == ["pkg"] and _leftovers(station.tmp / "pkg") == []
    result = station.dockd.run("export", "verify", str(station.tmp / "nothing"))
    assert result.returncode == 2
    assert "EXPORT_USAGE: no package at" in result.stderr
