"""Interruptions: holes between consecutive clips of one recorder within a duty stretch.

Recording must be continuous (000:20, 001:11, 002:13, 003/D:10). A camera that
splits a long recording into segments leaves no hole; a hole of minutes within a
stretch is listed for a supervisor to review; a hole of hours is the end of duty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Clip:
    key: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Gap:
    before: str
    after: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def find_gaps(clips: Iterable[Clip], tolerance_s: float, duty_break_s: float) -> list[Gap]:
    """Holes longer than the tolerance and shorter than a duty break, measured from the
    latest end so far (a clip inside a longer one leaves no hole)."""
    ordered = sorted(clips, key=lambda c: (c.start, c.end, c.key))
    gaps: list[Gap] = []
    if not ordered:
        return gaps
    covering = ordered[0]
    for clip in ordered[1:]:
        hole = (clip.start - covering.end).total_seconds()
        if tolerance_s < hole < duty_break_s:
            gaps.append(Gap(covering.key, clip.key, covering.end, clip.start))
        if clip.end > covering.end:
            covering = clip
    return gaps
