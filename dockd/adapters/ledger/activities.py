"""The ledger's side of the activities that must be recorded: the imported list, the
recordings matched to each activity, their retention class, and the report's section.

An activity's footage is its officers' recordings in its window: the badge in the file
name, or the recorder's custodian at the recording's start. Each write is one transaction
whose custody events carry the rows it wrote; a reclassified recording's event has the
recording id as subject, so retention expiry finds it among the recording's own events.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.facts import facts
from dockd.adapters.ledger.schema import (
    ActivityRecordingRow,
    ActivityRow,
    AssignmentRow,
    RecordingRow,
    WorkRecordRow,
)
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.activities import (
    Activity,
    Footage,
    Kept,
    Matching,
    Reclassified,
    coverage,
    reclassified,
    unrecorded,
)
from dockd.core.policy import PolicyPack
from dockd.core.supervision import Window, covering
from dockd.core.views import UnrecordedActivity

RECLASSIFIED = "recording-reclassified"
"""Subject: the recording id; retention expiry vouches for the new date with it."""
_SLACK = timedelta(hours=1)  # corrected times may differ from the stored ones by drift
_LONGEST_CLIP = timedelta(hours=12)  # recorders split files long before this


class LedgerActivities:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def existing(self, ids: Collection[str]) -> dict[str, Activity]:
        def load(s: Session) -> dict[str, Activity]:
            rows = s.scalars(select(ActivityRow).where(ActivityRow.id.in_(list(ids))))
            return {r.id: _activity(r) for r in rows}

        return self.ledger.read(load)

    def add(
        self, activities: Sequence[Activity], pack: PolicyPack, at: datetime, by: str
    ) -> Matching:
        with self.ledger.transaction() as s:
            rows = [
                ActivityRow(
                    id=a.id,
                    type=a.type,
                    badges=";".join(a.badges),
                    unit=a.unit,
                    start=a.start,
                    end=a.end,
                    place=a.place,
                    utc_offset_min=_offset_min(a.start),
                    imported_at=at,
                    imported_by=by,
                )
                for a in activities
            ]
            s.add_all(rows)
            s.flush()
            if rows:
                details = {"activities": len(rows), **facts(*rows)}
                self.ledger.append_custody(
                    s, at, "activities-imported", rows[0].id, details, actor=by
                )
            return _match(self.ledger, s, activities, pack, at, by)

    def rematch(self, since: datetime, pack: PolicyPack, at: datetime, by: str) -> Matching:
        with self.ledger.transaction() as s:
            rows = s.scalars(
                select(ActivityRow).where(ActivityRow.end >= since).order_by(ActivityRow.start)
            )
            return _match(self.ledger, s, [_activity(r) for r in rows], pack, at, by)

    def match_window(
        self, since: datetime, until: datetime, pack: PolicyPack, at: datetime, by: str
    ) -> Matching:
        with self.ledger.transaction() as s:
            rows = s.scalars(
                select(ActivityRow)
                .where(ActivityRow.end >= since - _SLACK, ActivityRow.start <= until + _SLACK)
                .order_by(ActivityRow.start)
            )
            return _match(self.ledger, s, [_activity(r) for r in rows], pack, at, by)


def _match(
    ledger: Ledger,
    s: Session,
    activities: Iterable[Activity],
    pack: PolicyPack,
    at: datetime,
    by: str,
) -> Matching:
    linked = 0
    touched: set[int] = set()
    for activity in activities:
        found = coverage(activity, footage(s, activity)).recordings
        known = set(
            s.scalars(
                select(ActivityRecordingRow.recording).where(
                    ActivityRecordingRow.activity_id == activity.id
                )
            )
        )
        links = [
            ActivityRecordingRow(activity_id=activity.id, recording=r, matched_at=at)
            for r in found
            if r not in known
        ]
        if links:
            s.add_all(links)
            s.flush()
            details = {"type": activity.type, **facts(*links)}
            ledger.append_custody(s, at, "activity-matched", activity.id, details, actor=by)
            linked += len(links)
        touched.update(found)
    changed = _reclassify(ledger, s, sorted(touched), pack, at, by)
    return Matching((), (), linked, tuple(changed))


def _reclassify(
    ledger: Ledger, s: Session, recordings: Sequence[int], pack: PolicyPack, at: datetime, by: str
) -> list[Reclassified]:
    """Each matched recording takes the class of every activity it records (002:18(1))."""
    out: list[Reclassified] = []
    for rid in recordings:
        rec = s.get_one(RecordingRow, rid)
        if rec.expired_at is not None:
            continue
        types = s.scalars(
            select(ActivityRow.type)
            .join(ActivityRecordingRow, ActivityRecordingRow.activity_id == ActivityRow.id)
            .where(ActivityRecordingRow.recording == rid)
        ).all()
        offset = s.scalars(
            select(ActivityRow.utc_offset_min)
            .join(ActivityRecordingRow, ActivityRecordingRow.activity_id == ActivityRow.id)
            .where(ActivityRecordingRow.recording == rid)
            .order_by(ActivityRow.start)
        ).first()
        end = (rec.corrected_end or rec.end).astimezone(_zone(offset or 0))
        kept = Kept(rid, rec.retention_class, rec.retain_until, end)
        change = reclassified(kept, types, pack.activities, pack.retention)
        if change is None:
            continue
        before = {"retention_class": rec.retention_class, "retain_until": _iso(rec.retain_until)}
        rec.retention_class, rec.retain_until = change
        s.flush()
        details = {"before": before, "activity_types": sorted(set(types)), **facts(rec)}
        ledger.append_custody(s, at, RECLASSIFIED, str(rid), details, actor=by)
        out.append(Reclassified(rid, *change))
    return out


def footage(s: Session, activity: Activity) -> list[Footage]:
    """The activity's officers' recordings near its window, once per officer they belong
    to (by name, and by custody): `coverage` cuts them to the window."""
    lo, hi = activity.start - _SLACK, activity.end + _SLACK
    named = s.scalars(
        select(RecordingRow).where(
            RecordingRow.badge.in_(activity.badges),
            RecordingRow.end > lo,
            RecordingRow.end < hi + _LONGEST_CLIP,
            RecordingRow.start < hi,
        )
    )
    out = [_footage(r, r.badge or "") for r in named]
    held = s.scalars(
        select(AssignmentRow).where(
            AssignmentRow.badge.in_(activity.badges),
            AssignmentRow.since < hi,
            or_(AssignmentRow.until.is_(None), AssignmentRow.until > lo - _LONGEST_CLIP),
        )
    )
    for stretch in held:
        rows = s.scalars(
            select(RecordingRow).where(
                RecordingRow.serial == stretch.serial,
                RecordingRow.start >= max(stretch.since, lo - _LONGEST_CLIP),
                RecordingRow.start < (hi if stretch.until is None else min(hi, stretch.until)),
                RecordingRow.end > lo,
            )
        )
        out += [_footage(r, stretch.badge) for r in rows]
    return out


def unrecorded_activities(
    s: Session, since: datetime, until: datetime, pack: PolicyPack
) -> list[UnrecordedActivity]:
    """The report's section: activities ended in the period, or imported in it (a list
    arrives after the day it lists), that needed footage and lack some of it."""
    need = pack.activities.need_footage
    rows = s.scalars(
        select(ActivityRow)
        .where(
            ActivityRow.type.in_(need),
            ActivityRow.end < until,
            or_(ActivityRow.end >= since, ActivityRow.imported_at >= since),
        )
        .order_by(ActivityRow.start, ActivityRow.id)
    )
    activities = [_activity(r) for r in rows]
    found = unrecorded((coverage(a, footage(s, a)) for a in activities), need)
    windows = [Window(r.id, r.badge, r.start, r.end) for r in _work_records(s, activities)]
    out = []
    for c in found:
        a = c.activity
        covered_by = sorted({w for b in a.badges for w in covering(windows, b, a.start, a.end)})
        out.append(
            UnrecordedActivity(
                activity=a.id,
                type=a.type,
                badges=list(a.badges),
                start=a.start,
                end=a.end,
                place=a.place,
                state="covered" if covered_by else c.state,
                covered_share=round(c.covered_s / c.window_s, 4),
                recordings=list(c.recordings),
                covered_by=covered_by,
                unit=a.unit or None,
                custodian=", ".join(a.badges),
            )
        )
    return out


def _work_records(s: Session, activities: Sequence[Activity]) -> Sequence[WorkRecordRow]:
    badges = sorted({b for a in activities for b in a.badges})
    if not badges:
        return []
    return s.scalars(select(WorkRecordRow).where(WorkRecordRow.badge.in_(badges))).all()


def _footage(row: RecordingRow, badge: str) -> Footage:
    return Footage(row.id, badge, row.corrected_start or row.start, row.corrected_end or row.end)


def _activity(row: ActivityRow) -> Activity:
    zone = _zone(row.utc_offset_min)
    badges = tuple(row.badges.split(";"))
    start, end = row.start.astimezone(zone), row.end.astimezone(zone)
    return Activity(row.id, row.type, badges, row.unit, start, end, row.place)


def _offset_min(moment: datetime) -> int:
    offset = moment.utcoffset()
    assert offset is not None, "parse_row refuses a time without an offset"
    return int(offset.total_seconds() // 60)


def _zone(offset_min: int) -> timezone:
    return timezone(timedelta(minutes=offset_min))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
