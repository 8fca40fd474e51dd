"""What kind of footage a recording is: the types of the listed activities it was matched
to (`activity_recordings`), for every view of a recording."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.schema import ActivityRecordingRow, ActivityRow


def activity_types(s: Session, recordings: Collection[int] | None = None) -> dict[int, list[str]]:
    """{recording: its activities' types, sorted}; `recordings` None: of every recording."""
    query = select(ActivityRecordingRow.recording, ActivityRow.type).join(
        ActivityRow, ActivityRow.id == ActivityRecordingRow.activity_id
    )
    if recordings is not None:
        query = query.where(ActivityRecordingRow.recording.in_(recordings))
    found: dict[int, set[str]] = {}
    for rid, kind in s.execute(query):
        found.setdefault(rid, set()).add(kind)
    return {rid: sorted(kinds) for rid, kinds in found.items()}
