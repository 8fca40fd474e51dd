"""The written description of an export, and the names files get in a package."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockd.core.export_description import (
    ExportDescription,
    ExportedFile,
    Extractor,
    bag_component,
    custodian_at,
    file_format,
    original_component,
    payload_path,
)
from dockd.core.operators import Operator
from dockd.core.policy import ExportPolicy
from dockd.core.registry import Custodian

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


@given(st.binary(min_size=1).filter(lambda b: b"/" not in b))
def test_names_escape_reversibly(raw: bytes) -> None:
    name = bag_component(raw)
    assert original_component(name) == raw
    assert "/" not in name and "\n" not in name and "\r" not in name
    assert name not in {".", ".."}


def test_names_keep_utf8_and_escape_the_rest() -> None:
    assert bag_component("执法_01.MP4".encode()) == "执法_01.MP4"
    assert bag_component(b"\xff%A.MP4") == "#FF#25A.MP4"
    assert payload_path("SN 1", "s-1", b"/DCIM/100/\xe9.MP4") == "data/SN 1/s-1/DCIM/100/#E9.MP4"


def test_format_is_the_extension() -> None:
    assert file_format(b"DCIM/a.mp4") == "MP4"
    assert file_format(b"DCIM/README") == "unknown"


def test_custodian_at_picks_the_stretch_covering_the_time() -> None:
    a, b = Custodian("A1", "An", "U1"), Custodian("B2", "Bo", "U2")
    stretches = [(a, T0 - timedelta(days=2), T0), (b, T0, None)]
    assert custodian_at(stretches, T0 - timedelta(hours=1)) == a
    assert custodian_at(stretches, T0) == b
    assert custodian_at(stretches, T0 - timedelta(days=3)) is None


def _file(**over: object) -> ExportedFile:
    values: dict[str, object] = dict(
        recording=7,
        path="data/SN1/s-1/DCIM/#FF.MP4",
        original_path="DCIM/\\xff.MP4",
        original_path_hex="4443494d2fff2e4d5034",
        format="MP4",
        size=1234,
        reported_start=T0,
        reported_end=T0 + timedelta(minutes=5),
        corrected_start=T0 - timedelta(seconds=40),
        corrected_end=T0 + timedelta(minutes=5, seconds=-40),
        sha256="a" * 64,
        sha512="b" * 128,
        blake3="c" * 64,
        serial="SN1",
        session="s-1",
        custodian=Custodian("A1", "王五", "一队"),
    )
    values.update(over)
    return ExportedFile(**values)  # type: ignore[arg-type]


def _description(*files: ExportedFile) -> ExportDescription:
    return ExportDescription(
        export_id="e-1",
        case="丹民罚〔2024〕3号",
        purpose="证明当事人拒绝检查 / the party refused the inspection",
        maker="李四",
        extractors=(Extractor("O1", "张三", "办公室"), Extractor("O2", "赵六", None)),
        extracted_at=T0 + timedelta(days=3),
        station_offset_s=-0.012,
        station_clock_detail="ntp 127.0.0.1:123 stratum 2",
        station="dock-1",
        authority="Dandong Municipal Civil Affairs Bureau",
        pack="dandong-civil-affairs",
        files=files,
    )


def test_the_text_names_every_fact_the_seeds_ask_for_in_both_languages() -> None:
    text = _description(
        _file(), _file(recording=8, corrected_start=None, corrected_end=None, custodian=None)
    ).to_text()
    for label in (
        "制作人 Maker: 李四",
        "提取人 Extractor(s): 张三 (O1, 办公室); 赵六 (O2)",
        "提取时间 Extraction time: 2024-03-04T09:00:00+00:00",
        "NTP offset -0.012 s",
        "数据来源 Data source",
        "recorder(s) SN1",
        "dock session(s) s-1",
        "证明对象 What it proves: 证明当事人拒绝检查",
        "案件 Case: 丹民罚〔2024〕3号",
        "格式 Format: MP4",
        "大小 Size: 1234 bytes",
        "SHA-256: " + "a" * 64,
        "BLAKE3:  " + "c" * 64,
        "保管人 Custodian: 王五 (A1, 一队)",
        "(bytes 4443494d2fff2e4d5034)",
        "Recorded (corrected): 2024-03-01T08:59:20+00:00",
        "recorder drift not measured",
        "未登记 not registered",
    ):
        assert label in text, label


def test_the_json_carries_the_same_facts() -> None:
    doc = _description(_file()).to_json()
    assert doc["maker"] == "李四"
    assert [e["badge"] for e in doc["extractors"]] == ["O1", "O2"]
    assert doc["extracted_at"] == "2024-03-04T09:00:00+00:00"
    assert doc["station_clock"]["offset_s"] == -0.012
    assert doc["source"] == {
        "station": "dock-1",
        "authority": "Dandong Municipal Civil Affairs Bureau",
        "policy_pack": "dandong-civil-affairs",
        "recorders": ["SN1"],
        "dock_sessions": ["s-1"],
    }
    (f,) = doc["files"]
    assert (f["format"], f["size"], f["sha256"], f["blake3"]) == ("MP4", 1234, "a" * 64, "c" * 64)
    assert f["reported_start"] == "2024-03-01T09:00:00+00:00"
    assert f["corrected_start"] == "2024-03-01T08:59:20+00:00"
    assert f["custodian"] == {"badge": "A1", "name": "王五", "unit": "一队"}


DANDONG = ExportPolicy(roles=["office staff"], operators=2, articles=["004:21"])


def _op(badge: str, *roles: str) -> Operator:
    return Operator(badge, badge.lower(), None, roles)


@pytest.mark.parametrize(
    ("operators", "refusal"),
    [
        ([_op("O1", "office staff")], "2 distinct operators must export together; 1 given"),
        ([_op("O1", "office staff"), _op("O1", "office staff")], "named twice"),
        ([_op("O1", "office staff"), _op("O2", "case leader")], "operator O2 holds none"),
    ],
)
def test_dandong_refuses_fewer_than_two_people_or_one_without_the_role(
    operators: list[Operator], refusal: str
) -> None:
    why = DANDONG.refusal(operators)
    assert why is not None and refusal in why


def test_dandong_accepts_two_office_staff() -> None:
    assert DANDONG.refusal([_op("O1", "office staff"), _op("O2", "office staff", "x")]) is None


def test_the_nightly_report_lists_exports_without_counting_them_as_problems() -> None:
    from dockd.core.views import DeadlineReport, ExportView
    from dockd.ui.report import render_html, render_text, subject

    export = ExportView(
        id="e-1", state="completed", started_at=T0, finished_at=T0, case="C<7>", purpose="P",
        maker="M", operators=["O1", "O2"], recordings=[3, 4], path="/x", iso=None, bytes=10,
        tag_manifest_sha256="a" * 64, error_code=None,
    )  # fmt: skip
    report = DeadlineReport(
        pack="dandong-civil-affairs", since=T0 - timedelta(days=1), until=T0 + timedelta(1),
        late_offloads=[], overdue_recorders=[], drift_violations=[], interruptions=[],
        unsealed_sessions=[], verify_failures=[], exports=[export],
    )  # fmt: skip
    assert report.empty
    assert "nothing to report" in subject(report)
    text = render_text(report, "pack")
    assert "EXPORTS (1)\n  - e-1 completed: case C<7>, by O1, O2, recordings 3, 4" in text
    html = render_html(report, "pack")
    assert "Exports (1)" in html and "C&lt;7&gt;" in html and "C<7>" not in html
