"""HTTP byte ranges (RFC 9110 §14) for seeking in footage: one range per request."""

from __future__ import annotations

import re

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(ValueError):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive, or None for the whole object; RangeNotSatisfiable (416) for
    a range that is malformed, multiple, or outside the object."""
    if header is None:
        return None
    found = _RANGE.fullmatch(header.strip())
    if found is None or (not found[1] and not found[2]):
        raise RangeNotSatisfiable(header)
    if not found[1]:
        length = int(found[2])
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(size - length, 0), size - 1
    first = int(found[1])
    last = int(found[2]) if found[2] else size - 1
    if first >= size or last < first:
        raise RangeNotSatisfiable(header)
    return first, min(last, size - 1)
