"""THE mapping from ledger rows to the views dockd shows (`--json`, the pages, the report).

One function per view, so that a column reads the same in `dockd sessions --json`, on the
session page, in the status document and in the deadline report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dockd.adapters.ledger.schema import (
    CentralCopyRow,
    DockSessionRow,
    RecordingRow,
    SessionProblemRow,
)
from dockd.core.model import raw_hex
from dockd.core.said import Said
from dockd.core.views import (
    CentralCopyView,
    DriftViolation,
    RecorderClockView,
    RecordingView,
    SessionProblemView,
    SessionView,
    StationClockView,
)

if TYPE_CHECKING:
    from dockd.core.status_document import SessionLine


def problem_row(session_id: str, path: str, code: str, message: str) -> SessionProblemRow:
    """A problem as the ledger keeps it: the English, and a `Said`'s template and values
    (canonical JSON, so that the chain's fact of the row is one text)."""
    said = message if isinstance(message, Said) else None
    return SessionProblemRow(
        session_id=session_id,
        path=path,
        code=code,
        message=str(message),
        message_template=said.template if said is not None else None,
        message_values=_json(said.encoded()) if said is not None else None,
    )


def _json(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def problem_view(row: SessionProblemRow) -> SessionProblemView:
    return SessionProblemView(
        path=row.path,
        code=row.code,
        message=row.message,
        template=row.message_template,
        values=None if row.message_values is None else json.loads(row.message_values),
    )


def central_copy_view(row: CentralCopyRow | None) -> CentralCopyView:
    if row is None:
        return CentralCopyView(state="pending")
    return CentralCopyView(
        state=row.state,
        key=row.key,
        version_id=row.version_id,
        retain_until=row.retain_until,
        legal_hold=row.legal_hold,
        confirmed_at=row.confirmed_at,
        error_code=row.error_code,
    )


def recording_view(
    row: RecordingRow,
    central: CentralCopyRow | None = None,
    stations: Sequence[str] = (),
    activity_types: Sequence[str] = (),
) -> RecordingView:
    """`stations`: those whose store holds its object now (`object_locations`);
    `activity_types`: those of the activities it was matched to."""
    raw = bytes(row.path_raw)
    confirmed = central is not None and central.state == "confirmed"
    return RecordingView(
        id=row.id,
        session=row.session_id,
        serial=row.serial,
        path=row.path,
        path_raw_hex=raw_hex(raw),
        size=row.size,
        start=row.start,
        end=row.end,
        reported_start=row.start,
        reported_end=row.end,
        corrected_start=row.corrected_start,
        corrected_end=row.corrected_end,
        deadline=row.deadline,
        late=row.late,
        late_by_s=row.late_by_s,
        retention_class=row.retention_class,
        activity_types=list(activity_types),
        retain_until=row.retain_until,
        holds=[f"{h.kind}:{h.reference}" for h in row.holds if h.released_at is None],
        expired_at=row.expired_at,
        duration_s=row.duration_s,
        time_source=row.time_source,
        badge=row.badge,
        sequence=row.sequence,
        important=row.important,
        blake3=row.blake3,
        sha256=row.sha256,
        object=row.object_key,
        protections=[p for p in row.protections.split(",") if p],
        verified_at=row.verified_at,
        verify_method=row.verify_method,
        central=central_copy_view(central),
        locations=[*stations, "central"] if confirmed else list(stations),
    )


def station_clock_view(row: DockSessionRow) -> StationClockView | None:
    if row.station_method is None or row.station_measured_at is None:
        return None
    return StationClockView(
        offset_s=row.station_offset_s,
        server=row.station_server,
        stratum=row.station_stratum,
        delay_s=row.station_delay_s,
        synchronised=bool(row.station_synchronised),
        method=row.station_method,
        measured_at=row.station_measured_at,
        detail=row.station_detail or "",
    )


def recorder_clock_view(row: DockSessionRow) -> RecorderClockView | None:
    if row.recorder_clock_method is None or row.recorder_clock_measured_at is None:
        return None
    return RecorderClockView(
        drift_s=row.recorder_drift_s,
        method=row.recorder_clock_method,
        measured_at=row.recorder_clock_measured_at,
        detail=row.recorder_clock_detail or "",
        verdict=row.drift_verdict or "unknown",
    )


def session_view(row: DockSessionRow) -> SessionView:
    return SessionView(
        id=row.id,
        serial=row.serial,
        profile=row.profile,
        slot=row.slot,
        source=row.source,
        station=row.station,
        state=row.state,
        started_at=row.started_at,
        finished_at=row.finished_at,
        files_seen=row.files_seen,
        recordings=row.copied,
        already_verified=row.already_verified,
        bytes_copied=row.bytes_copied,
        error_code=row.error_code,
        problems=[problem_view(p) for p in row.problems],
        manifest=row.manifest_blake3,
        station_clock=station_clock_view(row),
        recorder_clock=recorder_clock_view(row),
    )


def session_line(row: DockSessionRow) -> SessionLine:
    """A dock session as one line of the status page's "Today" (problems loaded)."""
    from dockd.core.status_document import SessionLine  # the page's model: not every command's

    return SessionLine(
        id=row.id,
        serial=row.serial,
        profile=row.profile,
        slot=row.slot,
        state=row.state,
        started_at=row.started_at,
        finished_at=row.finished_at,
        recordings=row.copied,
        already_verified=row.already_verified,
        bytes_copied=row.bytes_copied,
        problems=len(row.problems),
        error_code=row.error_code,
        drift_s=row.recorder_drift_s,
        drift_verdict=row.drift_verdict,
    )


def drift_violation(
    row: DockSessionRow, unit: str | None = None, custodian: str | None = None
) -> DriftViolation:
    """A dock session whose recorder clock drifted past the pack's warn threshold."""
    return DriftViolation(
        session=row.id,
        serial=row.serial,
        drift_s=row.recorder_drift_s,
        method=row.recorder_clock_method or "unknown",
        verdict=row.drift_verdict,
        at=row.started_at,
        unit=unit,
        custodian=custodian,
    )
