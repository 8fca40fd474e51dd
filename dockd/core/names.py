"""What a recorder's file name says: serial, badge, start time, sequence, 'important'.

Names are hostile input: a pattern that matches but carries an impossible date
yields no start time rather than an exception, so one odd file never stops a dock.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from dockd.core.model import NameInfo
from dockd.core.profiles import NamePattern, RecorderProfile


@cache
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def _match(pattern: NamePattern, name: str, zone: ZoneInfo) -> NameInfo | None:
    found = _compiled(pattern.regex).fullmatch(name)
    if found is None:
        return None
    groups = found.groupdict()
    try:
        start = datetime.strptime(groups["start"], pattern.time_format).replace(tzinfo=zone)
    except (ValueError, TypeError):
        return None
    seq = groups.get("seq")
    return NameInfo(
        serial=groups.get("serial"),
        badge=groups.get("badge"),
        start=start,
        sequence=int(seq) if seq else None,
        important=bool(groups.get("important")),
    )


def parse_name(profile: RecorderProfile, name: str) -> NameInfo | None:
    """The first of the profile's patterns that fully matches the base name, if any."""
    for pattern in profile.name_patterns:
        info = _match(pattern, name, profile.zone)
        if info is not None:
            return info
    return None
