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

from sqlalchemy import (
    CompoundSelect,
    Integer,
    and_,
    cast,
    false,
    func,
    or_,
    select,
    union,
)
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
    """BLAKE3s of central copies whose lock may lag (the caller keeps the confirmed),
    found from what can change a lock after it was recorded rather than by comparing every
    copy with its recordings: a recording reclassified, without a date, or of bytes that
    have more than one recording (one added later), kept later than the copy's
    retain-until (for a manifest, a recording of its session); an open hold on one while
    the copy has no legal hold; a hold released on one while the copy's legal hold is ON
    and dockd's. Each part is driven by its few rows: no filter on the state, which every
    copy of a forwarding agency shares, steers a planner to scan them all (the one scan
    left: of the recordings' BLAKE3 index, for the bytes with more than one)."""
    later = and_(
        RecordingRow.expired_at.is_(None),
        or_(
            RecordingRow.retain_until.is_(None),
            _Copy.retain_until.is_(None),
            RecordingRow.retain_until > _Copy.retain_until,
        ),
    )
    reclassified = RecordingRow.id.in_(
        select(cast(CustodyEventRow.subject, Integer)).where(CustodyEventRow.kind == RECLASSIFIED)
    )
    undated = RecordingRow.retain_until.is_(None)
    shared = RecordingRow.blake3.in_(
        select(RecordingRow.blake3).group_by(RecordingRow.blake3).having(func.count() > 1)
    )
    by_object = (
        select(_Copy.blake3)
        .select_from(RecordingRow)
        .join(_Copy, _Copy.blake3 == RecordingRow.blake3)
    )
    by_manifest = (
        select(_Copy.blake3)
        .select_from(RecordingRow)
        .join(DockSessionRow, DockSessionRow.id == RecordingRow.session_id)
        .join(_Copy, _Copy.blake3 == DockSessionRow.manifest_blake3)
    )
    unheld = _Copy.legal_hold.is_(false())
    dockds_hold = and_(
        _Copy.legal_hold.is_not(false()), func.coalesce(_Copy.foreign_hold, false()).is_(false())
    )
    # one branch per way in, each a join a planner drives by an index: an OR of them would
    # have it scan every recording or every copy
    return union(
        *(by_object.where(later, why) for why in (reclassified, undated, shared)),
        *(by_manifest.where(later, why) for why in (reclassified, undated)),
        *(
            on.join(HoldRow, HoldRow.recording_id == RecordingRow.id).where(
                copy, hold, RecordingRow.expired_at.is_(None)
            )
            for on in (by_object, by_manifest)
            for copy, hold in (
                (unheld, HoldRow.released_at.is_(None)),
                (dockds_hold, HoldRow.released_at.is_not(None)),
            )
        ),
    )


def changes(s: Session, digests: Collection[str]) -> dict[str, list[datetime]]:
    """Per object, when the facts of its lock changed: each covering recording's offload
    (a recording of the same bytes added later), its holds placed and released, and its
    reclassifications (a longer retention class). Read in chunks of `chunk` objects."""
    out: dict[str, list[datetime]] = defaultdict(list)
    wanted = sorted(digests)
    for start in range(0, len(wanted), _CHUNK):
        for target, moments in _changes(s, set(wanted[start : start + _CHUNK])).items():
            out[target] += moments
    return dict(out)


_CHUNK = 2000  # objects per read: their IN lists stay far below bound-parameter limits


def _changes(s: Session, digests: set[str]) -> dict[str, list[datetime]]:
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
    ids = list(targets)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for rid, placed, released in s.execute(
            select(HoldRow.recording_id, HoldRow.placed_at, HoldRow.released_at).where(
                HoldRow.recording_id.in_(chunk)
            )
        ):
            for target in targets[rid]:
                out[target] += [placed] if released is None else [placed, released]
        for subject, at in s.execute(
            select(CustodyEventRow.subject, CustodyEventRow.at).where(
                CustodyEventRow.kind == RECLASSIFIED,
                CustodyEventRow.subject.in_([str(rid) for rid in chunk]),
            )
        ):
            for target in targets.get(int(subject), ()):
                out[target].append(datetime.fromisoformat(at))
    return out
