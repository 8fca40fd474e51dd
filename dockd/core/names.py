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


_FIELDS = {"%Y": 4, "%m": 2, "%d": 2, "%H": 2, "%M": 2, "%S": 2}


@cache
def _fixed(time_format: str) -> tuple[re.Pattern[str], tuple[int, ...]] | None:
    """A format of exactly %Y %m %d %H %M %S (once each, in any order) among plain
    characters, as a regex of fixed-width ASCII digit groups and the group of each field
    in that order; None for any other format (strptime's own rules, e.g. for
    whitespace, then apply)."""
    pieces, rest, seen = [], time_format, []
    while rest:
        if rest[:2] in _FIELDS and rest[:2] not in seen:
            seen.append(rest[:2])
            pieces.append(f"([0-9]{{{_FIELDS[rest[:2]]}}})")
            rest = rest[2:]
        elif rest[0] == "%" or rest[0].isspace():
            return None
        else:
            pieces.append(re.escape(rest[0]))
            rest = rest[1:]
    if len(seen) != len(_FIELDS):
        return None
    return re.compile("".join(pieces)), tuple(seen.index(field) for field in _FIELDS)


def start_time(text: str, time_format: str) -> datetime:
    """strptime(text, time_format), without strptime's cost where the text has every field
    at its full width: a name is parsed four times per file (completeness, clocks, plan,
    record), and strptime was most of that. Where the fixed reading does not give a valid
    time, strptime decides (it may read a field narrower), so the result is strptime's."""
    fixed = _fixed(time_format)
    if fixed is not None and (found := fixed[0].fullmatch(text)) is not None:
        v, (y, mo, d, h, mi, sec) = found.groups(), fixed[1]
        try:
            return datetime(int(v[y]), int(v[mo]), int(v[d]), int(v[h]), int(v[mi]), int(v[sec]))
        except ValueError:
            pass
    return datetime.strptime(text, time_format)


def _match(pattern: NamePattern, name: str, zone: ZoneInfo) -> NameInfo | None:
    found = _compiled(pattern.regex).fullmatch(name)
    if found is None:
        return None
    groups = found.groupdict()
    try:
        start = start_time(groups["start"], pattern.time_format).replace(tzinfo=zone)
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
