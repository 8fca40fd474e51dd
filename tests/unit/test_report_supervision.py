"""The report's supervision sections (spot checks, work records, lending, media held,
unregistered recorders, equipment, activities without footage), rendered (pure): each in
the text and in the HTML, grouped by unit and then custodian like every other section."""

from __future__ import annotations

from datetime import timedelta

from dockd.core.views import (
    DeadlineReport,
    EquipmentShortfall,
    Interruption,
    Lending,
    MediaHeld,
    SpotCheckItem,
    UnrecordedActivity,
    UnregisteredRecorder,
    WorkRecordView,
)
from dockd.ui.report import render_html, render_text, subject
from tests.unit.test_report import SINCE, Tags, make_report, section

PATROL, LI = "Patrol", "0421 Li Wei"
TRAFFIC, ZHANG = "Traffic", "0612 Zhang Min"


def spot(item: int, unit: str, custodian: str, reviewer: str | None = None) -> SpotCheckItem:
    reviewed = reviewer is not None
    return SpotCheckItem(
        item=item,
        draw=3,
        recording=100 + item,
        path=f"DCIM/SPOT_{item}.MP4",
        drawn_at=SINCE + timedelta(hours=1),
        reviewer=reviewer,
        recorded=True if reviewed else None,
        uninterrupted=True if reviewed else None,
        handed_over=False if reviewed else None,
        note="handed over late" if reviewed else None,
        unit=unit,
        custodian=custodian,
    )


def supervision_report() -> DeadlineReport:
    work = WorkRecordView(
        id=7,
        badge="0421",
        start=SINCE + timedelta(hours=2),
        end=SINCE + timedelta(hours=3),
        reason="no night vision",
        basis="002:12",
        reported_to="9001",
        unit=PATROL,
        custodian=LI,
    )
    return make_report(
        interruptions=[
            Interruption(
                id=5,
                serial="SN0003",
                before="DCIM/GAP_BEFORE.MP4",
                after="DCIM/GAP_AFTER.MP4",
                gap_start=SINCE + timedelta(hours=2, minutes=10),
                gap_end=SINCE + timedelta(hours=2, minutes=20),
                gap_s=600.0,
                unit=PATROL,
                custodian=LI,
                covered_by=[7],
            )
        ],
        spot_checks_open=[spot(1, TRAFFIC, ZHANG), spot(2, PATROL, LI)],
        spot_check_findings=[spot(3, PATROL, LI, reviewer="9001")],
        work_records=[work],
        lending=[
            Lending(
                recording=42,
                serial="SN0004",
                path="DCIM/SN0004_3306_LENT.MP4",
                badge_in_name="3306",
                unit=TRAFFIC,
                custodian=ZHANG,
            )
        ],
        media_held=[
            MediaHeld(
                serial="SN0005",
                unplugged_at=SINCE - timedelta(hours=25),
                docked_again=None,
                held_over_s=3600.0,
                unit=TRAFFIC,
                custodian=ZHANG,
            )
        ],
        unregistered_recorders=[
            UnregisteredRecorder(
                serial="SN0009", first_docked=SINCE, last_docked=SINCE + timedelta(hours=1)
            )
        ],
        equipment=[
            EquipmentShortfall(unit=PATROL, recorders=1, officers=4, needed=2, articles=["004:9"])
        ],
        unrecorded_activities=[
            UnrecordedActivity(
                activity="D-2",
                type="complaint",
                badges=["0421"],
                start=SINCE + timedelta(hours=4),
                end=SINCE + timedelta(hours=5),
                place="pier 3",
                state="partial",
                covered_share=0.5,
                recordings=[101],
                covered_by=[],
                unit=PATROL,
                custodian=LI,
            )
        ],
    )


def test_each_supervision_section_is_in_the_text_grouped_by_unit_then_custodian() -> None:
    text = render_text(supervision_report(), "Qidong")
    assert section(text, "SPOT CHECKS TO REVIEW") == [
        "  Unit: Patrol (1)",
        "    Custodian: 0421 Li Wei (1)",
        "      - item 2 (draw 3): DCIM/SPOT_2.MP4 (102): drawn 2026-11-22 03:00 UTC, not yet "
        "reviewed",
        "  Unit: Traffic (1)",
        "    Custodian: 0612 Zhang Min (1)",
        "      - item 1 (draw 3): DCIM/SPOT_1.MP4 (101): drawn 2026-11-22 03:00 UTC, not yet "
        "reviewed",
    ]
    assert section(text, "SPOT-CHECK FINDINGS")[2] == (
        "      - item 3 (draw 3): DCIM/SPOT_3.MP4 (103): reviewed by 9001: recorded yes, "
        "uninterrupted yes, handed over NO; handed over late"
    )
    assert section(text, "RECORDERS LENT")[:2] == [
        "  Unit: Traffic (1)",
        "    Custodian: 0612 Zhang Min (1)",
    ]
    assert "the name says 3306" in section(text, "RECORDERS LENT")[2]
    assert section(text, "MEDIA HELD TOO LONG")[2] == (
        "      - SN0005: off the dock since 2026-11-21 01:00 UTC, back not yet: 1 h too long"
    )
    assert section(text, "UNREGISTERED RECORDERS")[2].startswith("      - SN0009: docked ")
    assert section(text, "UNITS SHORT OF RECORDERS")[0] == "  Unit: Patrol (1)"
    assert section(text, "UNITS SHORT OF RECORDERS")[2] == (
        "      - 1 recorder(s) in service for 4 officer(s); 2 needed (004:9)"
    )
    assert section(text, "ACTIVITIES WITHOUT FOOTAGE") == [
        "  Unit: Patrol (1)",
        "    Custodian: 0421 Li Wei (1)",
        "      - activity D-2 (complaint, pier 3) 2026-11-22 06:00 UTC to 2026-11-22 07:00 UTC: "
        "50% on footage",
    ]
    assert section(text, "WORK RECORDS (RECORDING IMPOSSIBLE)")[2] == (
        "      - work record 7: 0421 could not record from 2026-11-22 04:00 UTC to 2026-11-22 "
        "05:00 UTC: no night vision (002:12), reported to 9001"
    )
    # the gap the work record spans says so
    assert section(text, "INTERRUPTIONS TO REVIEW")[2].endswith(
        "(interruption 5: covered by work record 7)"
    )


def test_each_supervision_section_is_in_the_html_with_the_texts_groups() -> None:
    report = supervision_report()
    page = Tags(render_html(report, "Qidong"))
    assert page.problems == []
    text = render_text(report, "Qidong")
    text_groups = [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith(("Unit:", "Custodian:"))
    ]
    html_groups = [h for h in page.headers if h.startswith(("Unit:", "Custodian:"))]
    assert html_groups == text_groups
    data = "".join(page.data)
    for needle in (
        "Spot checks to review",
        "Spot-check findings",
        "handed over late",
        "Recorders lent",
        "DCIM/SN0004_3306_LENT.MP4",
        "Media held too long",
        "SN0005",
        "Unregistered recorders",
        "SN0009",
        "Units short of recorders",
        "004:9",
        "Activities without footage",
        "pier 3",
        "Work records (recording impossible)",
        "no night vision",
        "covered by work record 7",
    ):
        assert needle in data, needle


def test_the_subject_counts_each_supervision_section() -> None:
    assert subject(supervision_report()) == (
        "dockd: 1 interruption to review, 2 spot checks to review, 1 spot-check finding, "
        "1 recording on a lent recorder, 1 recorder held too long, 1 unregistered recorder, "
        "1 unit short of recorders, 1 activity without full footage, 1 work record"
        " — 2026-11-22 → 2026-11-23"
    )
