"""The ledger's reads for central lock upkeep across stations: which confirmed central
copies may lag what the ledger wants, and when the facts behind them changed.

A station keeps the lock of what it holds or sent; these reads let any station see every
other station's copies whose lock lags (a dock burnt or stolen never updates them again),
so it can take the upkeep over once overdue and every station's backlog can count them.
The SQL only narrows the candidates, by joins rather than per-copy subqueries:
`dockd.core.forwarding` decides from the facts whether a lock lags and since when.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, false, func, or_, select, union
from sqlalchemy.orm import Session

from dockd.adapters.ledger.activities import RECLASSIFIED
from dockd.adapters.ledger.schema import (
    CentralCopyRow,
    CustodyEventRow,
    DockSessionRow,
    HoldRow,
    RecordingRow,
)

_Copy = CentralCopyRow


def may_lag() -> CompoundSelect[Any]:
    """BLAKE3s of confirmed central copies whose lock may lag: a live recording of the
    object (for a manifest, of its session) kept later than the copy's retain-until or
    without a date, an open hold on one while the copy has no legal hold, or a legal hold
    dockd set with no open hold left."""
    confirmed = _Copy.state == "confirmed"
    later = and_(
        RecordingRow.expired_at.is_(None),
        or_(
            RecordingRow.retain_until.is_(None),
            _Copy.retain_until.is_(None),
            RecordingRow.retain_until > _Copy.retain_until,
        ),
    )
    by_object = RecordingRow.blake3 == _Copy.blake3
    open_hold = and_(HoldRow.released_at.is_(None), RecordingRow.expired_at.is_(None))
    unheld = _Copy.legal_hold.is_(false())
    return union(
        select(_Copy.blake3).join(RecordingRow, by_object).where(confirmed, later),
        _by_manifest().where(confirmed, later),
        select(_Copy.blake3)
        .join(RecordingRow, by_object)
        .join(HoldRow, HoldRow.recording_id == RecordingRow.id)
        .where(confirmed, unheld, open_hold),
        _by_manifest()
        .join(HoldRow, HoldRow.recording_id == RecordingRow.id)
        .where(confirmed, unheld, open_hold),
        select(_Copy.blake3).where(
            confirmed,
            _Copy.legal_hold.is_not(false()),
            func.coalesce(_Copy.foreign_hold, false()).is_(false()),
        ),
    )


def _by_manifest() -> Select[Any]:
    return (
        select(_Copy.blake3)
        .join(DockSessionRow, DockSessionRow.manifest_blake3 == _Copy.blake3)
        .join(RecordingRow, RecordingRow.session_id == DockSessionRow.id)
    )


def changes(s: Session, digests: Collection[str]) -> dict[str, list[datetime]]:
    """Per object, when the facts of its lock changed: each covering recording's offload
    (a recording of the same bytes added later), its holds placed and released, and its
    reclassifications (a longer retention class)."""
    if not digests:
        return {}
    wanted = list(digests)
    manifests = {
        session: digest
        for session, digest in s.execute(
            select(DockSessionRow.id, DockSessionRow.manifest_blake3).where(
                DockSessionRow.manifest_blake3.in_(wanted)
            )
        )
    }
    targets: dict[int, set[str]] = {}
    out: dict[str, list[datetime]] = defaultdict(list)
    for rid, digest, session, verified in s.execute(
        select(
            RecordingRow.id, RecordingRow.blake3, RecordingRow.session_id, RecordingRow.verified_at
        ).where(
            RecordingRow.expired_at.is_(None),
            or_(RecordingRow.blake3.in_(wanted), RecordingRow.session_id.in_(list(manifests))),
        )
    ):
        targets[rid] = {
            t for t in (digest, manifests.get(session)) if t is not None and t in digests
        }
        for target in targets[rid]:
            out[target].append(verified)
    if not targets:
        return dict(out)
    for rid, placed, released in s.execute(
        select(HoldRow.recording_id, HoldRow.placed_at, HoldRow.released_at).where(
            HoldRow.recording_id.in_(list(targets))
        )
    ):
        for target in targets[rid]:
            out[target] += [placed] if released is None else [placed, released]
    for subject, at in s.execute(
        select(CustodyEventRow.subject, CustodyEventRow.at).where(
            CustodyEventRow.kind == RECLASSIFIED,
            CustodyEventRow.subject.in_([str(rid) for rid in targets]),
        )
    ):
        for target in targets.get(int(subject), ()):
            out[target].append(datetime.fromisoformat(at))
    return dict(out)
