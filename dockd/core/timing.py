"""When a recording started and ended, from the best source available.

Order of trust: the file name (the recorder wrote it at record start), then the
container's creation time, then the file's modification time (taken as the end,
since recorders close files when they stop). Which one was used is recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dockd.model import NameInfo, RecordingTimes


def recording_times(
    name: NameInfo | None,
    container_created: datetime | None,
    duration_s: float | None,
    mtime: datetime,
) -> RecordingTimes:
    length = timedelta(seconds=duration_s or 0.0)
    if name is not None and name.start is not None:
        return RecordingTimes(name.start, name.start + length, duration_s, "name")
    if container_created is not None:
        return RecordingTimes(
            container_created, container_created + length, duration_s, "container"
        )
    return RecordingTimes(mtime - length, mtime, duration_s, "file-mtime")
