"""The station's wall clock, the one place dockd reads it; everything else is handed `now`."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
