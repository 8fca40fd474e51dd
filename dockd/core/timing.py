"""When a recording started and ended, from the best source available.

Order of trust: the file name (the recorder wrote it at record start), then the
container's creation time, then the file's modification time (taken as the end,
since recorders close files when they stop). Which one was used is recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dockd.core.model import NameInfo, RecordingTimes


def _utc(moment: datetime) -> datetime:
    """Arithmetic on an aware datetime in a DST zone is wall-clock arithmetic; in UTC it is
    elapsed time, which is what durations and drifts are."""
    return moment.astimezone(UTC)


def recording_times(
    name: NameInfo | None,
    container_created: datetime | None,
    duration_s: float | None,
    mtime: datetime,
) -> RecordingTimes:
    length = timedelta(seconds=duration_s or 0.0)
    if name is not None and name.start is not None:
        start = _utc(name.start)
        return RecordingTimes(start, start + length, duration_s, "name")
    if container_created is not None:
        container_created = _utc(container_created)
        return RecordingTimes(
            container_created, container_created + length, duration_s, "container"
        )
    mtime = _utc(mtime)
    return RecordingTimes(mtime - length, mtime, duration_s, "file-mtime")
