"""The report's supervision sections: spot checks open and their findings, work records,
lending, media held too long, unregistered recorders and equipment shortfalls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.schema import (
    AssignmentRow,
    DeviceRow,
    DockSessionRow,
    InterruptionReviewRow,
    InterruptionRow,
    RecorderRow,
    RecorderUnplugRow,
    RecordingRow,
    SpotCheckDrawRow,
    SpotCheckItemRow,
    WorkRecordRow,
)
from dockd.core.policy import PolicyPack
from dockd.core.supervision import (
    Window,
    badge_of,
    covering,
    held_too_long,
    lent,
    recorders_needed,
)
from dockd.core.views import (
    EquipmentShortfall,
    Interruption,
    Lending,
    MediaHeld,
    SpotCheckItem,
    UnregisteredRecorder,
    WorkRecordView,
)

Who = Callable[[str, datetime], dict[str, str | None]]


def sections(
    s: Session, since: datetime, until: datetime, pack: PolicyPack, now: datetime, who: Who
) -> dict[str, Any]:
    opened, findings = _spot_checks(s, until)
    return {
        "spot_checks_open": opened,
        "spot_check_findings": [f for f in findings if f.reviewer and _finding(f)],
        "work_records": _work_records(s, since, until),
        "lending": _lending(s, since, until, who),
        "media_held": _media_held(s, since, until, pack, now, who),
        "unregistered_recorders": _unregistered(s, since, until),
        "equipment": _equipment(s, pack),
    }


def interruptions(s: Session, since: datetime, until: datetime, who: Who) -> list[Interruption]:
    """The period's gaps, and every earlier one still unexplained: it stays until explained."""
    explained = {r.interruption_id: r for r in s.scalars(select(InterruptionReviewRow))}
    gaps = [
        g
        for g in s.scalars(
            select(InterruptionRow)
            .where(InterruptionRow.detected_at < until)
            .order_by(InterruptionRow.detected_at, InterruptionRow.id)
        )
        if g.detected_at >= since or g.id not in explained
    ]
    ids = {g.before_recording for g in gaps} | {g.after_recording for g in gaps}
    found = s.execute(
        select(RecordingRow.id, RecordingRow.path, RecordingRow.badge).where(
            RecordingRow.id.in_(ids)
        )
    )
    recs = {rid: (path, badge) for rid, path, badge in found}
    windows = _windows(s)
    out = []
    for g in gaps:
        held = who(g.serial, g.gap_start)
        badge = recs.get(g.before_recording, ("?", None))[1] or badge_of(held["custodian"])
        review = explained.get(g.id)
        out.append(
            Interruption(
                id=g.id,
                serial=g.serial,
                before=recs.get(g.before_recording, ("?", None))[0],
                after=recs.get(g.after_recording, ("?", None))[0],
                gap_start=g.gap_start,
                gap_end=g.gap_end,
                gap_s=g.gap_s,
                explanation=review.explanation if review else None,
                explained_by=review.explained_by if review else None,
                reviewed_by=review.reviewed_by if review else None,
                covered_by=covering(windows, badge, g.gap_start, g.gap_end),
                **held,
            )
        )
    return out


def _finding(item: SpotCheckItem) -> bool:
    return not (item.recorded and item.uninterrupted and item.handed_over)


def _spot_checks(s: Session, until: datetime) -> tuple[list[SpotCheckItem], list[SpotCheckItem]]:
    """Open items of every draw so far, and every reviewed item (the findings among them)."""
    rows = s.execute(
        select(SpotCheckItemRow, SpotCheckDrawRow.drawn_at, RecordingRow.path)
        .join(SpotCheckDrawRow, SpotCheckDrawRow.id == SpotCheckItemRow.draw_id)
        .join(RecordingRow, RecordingRow.id == SpotCheckItemRow.recording)
        .where(SpotCheckDrawRow.drawn_at < until)
        .order_by(SpotCheckItemRow.id)
    )
    opened: list[SpotCheckItem] = []
    reviewed: list[SpotCheckItem] = []
    for item, drawn_at, path in rows:
        view = SpotCheckItem(
            item=item.id,
            draw=item.draw_id,
            recording=item.recording,
            path=path,
            drawn_at=drawn_at,
            reviewer=item.reviewer,
            recorded=item.recorded,
            uninterrupted=item.uninterrupted,
            handed_over=item.handed_over,
            note=item.note,
            unit=item.unit,
            custodian=item.custodian,
        )
        (reviewed if item.reviewed_at is not None else opened).append(view)
    return opened, reviewed


def _windows(s: Session) -> list[Window]:
    return [Window(r.id, r.badge, r.start, r.end) for r in s.scalars(select(WorkRecordRow))]


def _holder(s: Session, badge: str, at: datetime) -> dict[str, str | None]:
    row = s.scalars(
        select(AssignmentRow)
        .where(AssignmentRow.badge == badge, AssignmentRow.since <= at)
        .order_by(AssignmentRow.since.desc())
        .limit(1)
    ).first()
    if row is None:
        return {"unit": None, "custodian": badge}
    return {"unit": row.unit, "custodian": f"{row.name} ({row.badge})"}


def _work_records(s: Session, since: datetime, until: datetime) -> list[WorkRecordView]:
    rows = s.scalars(
        select(WorkRecordRow)
        .where(WorkRecordRow.start < until, WorkRecordRow.end >= since)
        .order_by(WorkRecordRow.start, WorkRecordRow.id)
    )
    return [
        WorkRecordView(
            id=r.id,
            badge=r.badge,
            start=r.start,
            end=r.end,
            reason=r.reason,
            basis=r.basis,
            reported_to=r.reported_to,
            **_holder(s, r.badge, r.start),
        )
        for r in rows
    ]


def _lending(s: Session, since: datetime, until: datetime, who: Who) -> list[Lending]:
    rows = s.execute(
        select(
            RecordingRow.id,
            RecordingRow.serial,
            RecordingRow.path,
            RecordingRow.badge,
            RecordingRow.start,
            RecordingRow.corrected_start,
        )
        .where(
            RecordingRow.badge.is_not(None),
            RecordingRow.verified_at >= since,
            RecordingRow.verified_at < until,
        )
        .order_by(RecordingRow.id)
    )
    out = []
    for rid, serial, path, badge, start, corrected in rows:
        held = who(serial, corrected or start)
        if lent(badge, badge_of(held["custodian"])):
            out.append(
                Lending(recording=rid, serial=serial, path=path, badge_in_name=badge, **held)
            )
    return out


def _media_held(
    s: Session, since: datetime, until: datetime, pack: PolicyPack, now: datetime, who: Who
) -> list[MediaHeld]:
    if pack.media_return is None:
        return []
    hours = pack.media_return.hours
    out = []
    for unplug in s.scalars(
        select(RecorderUnplugRow)
        .where(RecorderUnplugRow.unplugged_at < until)
        .order_by(RecorderUnplugRow.unplugged_at)
    ):
        back = s.scalars(
            select(DockSessionRow.started_at)
            .where(
                DockSessionRow.serial == unplug.serial,
                DockSessionRow.started_at > unplug.unplugged_at,
            )
            .order_by(DockSessionRow.started_at)
            .limit(1)
        ).first()
        if back is not None and back < since:
            continue
        over = held_too_long(unplug.unplugged_at, back, now, hours)
        if over is not None:
            out.append(
                MediaHeld(
                    serial=unplug.serial,
                    unplugged_at=unplug.unplugged_at,
                    docked_again=back,
                    held_over_s=over,
                    **who(unplug.serial, unplug.unplugged_at),
                )
            )
    return out


def _unregistered(s: Session, since: datetime, until: datetime) -> list[UnregisteredRecorder]:
    """Recorders that docked in the period without being registered (000:6): only once the
    station keeps a registry at all, since without one there is nothing to compare with."""
    registered = set(s.scalars(select(DeviceRow.serial)))
    if not registered:
        return []
    rows = s.scalars(
        select(RecorderRow)
        .where(RecorderRow.last_seen >= since, RecorderRow.first_seen < until)
        .order_by(RecorderRow.serial)
    )
    return [
        UnregisteredRecorder(serial=r.serial, first_docked=r.first_seen, last_docked=r.last_seen)
        for r in rows
        if r.serial not in registered
    ]


def _equipment(s: Session, pack: PolicyPack) -> list[EquipmentShortfall]:
    rule = pack.equipment
    if rule is None:
        return []
    officers: dict[str, set[str]] = {}
    in_service: dict[str, set[str]] = {}
    for a in s.scalars(select(AssignmentRow)):
        officers.setdefault(a.unit, set()).add(a.badge)
        if a.until is None:
            in_service.setdefault(a.unit, set()).add(a.serial)
    out = []
    for unit in sorted(officers):
        needed = recorders_needed(
            len(officers[unit]), rule.officers_per_recorder, rule.min_per_unit
        )
        have = len(in_service.get(unit, set()))
        if have < needed:
            out.append(
                EquipmentShortfall(
                    unit=unit,
                    recorders=have,
                    officers=len(officers[unit]),
                    needed=needed,
                    articles=list(rule.articles),
                )
            )
    return out
