"""THE formatters: how a duration, a drift, a size, a rate or a time reads, on the status
page, in `dockd status` and in the nightly e-mail alike, so that one fact reads the same
wherever a supervisor meets it (a drift of 75 s is `+1 min 15 s` everywhere).

Pure: values in, text out. Times of day are shown in the station's local zone, except
``moment``, which keeps the value's own offset and says it (an e-mail is read elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from dockd.core.audit import RowDifference
from dockd.core.views import LateOffload
from dockd.ui.i18n import ENGLISH, N_, Locale

if TYPE_CHECKING:
    from dockd.core.status_document import StatusDocument

MISSING = "—"
UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")

STATE_LABELS: dict[str, str] = {
    "empty": N_("Empty"),
    "mounting": N_("Mounting"),
    "copying": N_("Copying"),
    "verifying": N_("Verifying"),
    "done": N_("Done"),
    "interrupted": N_("Interrupted"),
    "error": N_("Error"),
}
SESSION_LABELS: dict[str, str] = {
    "running": N_("Running"),
    "completed": N_("Completed"),
    "completed_with_problems": N_("Completed with problems"),
    "interrupted": N_("Interrupted"),
    "failed": N_("Failed"),
}

VERDICT_LABELS: dict[str, str] = {"ok": N_("ok"), "warn": N_("warn"), "violation": N_("violation")}


def size(n: float | None) -> str:
    """Binary units, as `df -h` counts: 1.5 GiB, 312 MiB."""
    if n is None:
        return MISSING
    value, unit = float(n), 0
    while abs(value) >= 1024 and unit < len(UNITS) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{int(value)} B"
    return f"{value:.1f} {UNITS[unit]}" if abs(value) < 100 else f"{value:.0f} {UNITS[unit]}"


def rate(bps: float | None) -> str:
    return MISSING if bps is None else size(bps) + "/s"


UNIT_NAMES = {"d": N_("{n} d"), "h": N_("{n} h"), "min": N_("{n} min"), "s": N_("{n} s")}


def duration(seconds: float | None, tr: Locale = ENGLISH) -> str:
    """Two units at most, the smaller dropped when it is zero: 45 s, 1 min 15 s, 7 min,
    3 h 12 min, 2 d 4 h (in Chinese 2 天 4 小时); negative durations keep their sign."""
    if seconds is None:
        return MISSING
    total = round(abs(seconds))
    sign = "-" if seconds < 0 and total else ""
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    first = next((i for i, (n, _) in enumerate(parts) if n), len(parts) - 1)
    shown = [p for p in parts[first : first + 2] if p[0] or p is parts[first]]
    return sign + " ".join(tr(UNIT_NAMES[unit], n=n) for n, unit in shown)


def drift(drift_s: float | None, tr: Locale = ENGLISH) -> str:
    """Recorder clock − true time, always signed: +12.5 s, -1 min 15 s."""
    if drift_s is None:
        return tr("unknown")
    if abs(drift_s) < 60:
        return f"{drift_s:+.1f} s"
    return ("+" if drift_s > 0 else "-") + duration(abs(drift_s), tr)


def offset(offset_s: float | None) -> str:
    """The station clock's NTP offset, which is small: +0.42 ms, +12.3 ms, +1.250 s."""
    if offset_s is None:
        return "unknown"
    if abs(offset_s) < 0.01:
        return f"{offset_s * 1000:+.2f} ms"
    if abs(offset_s) < 1:
        return f"{offset_s * 1000:+.1f} ms"
    return f"{offset_s:+.3f} s"


def count(n: int) -> str:
    return f"{n:,}"


def pct(done: float, total: float) -> str:
    return "100%" if total <= 0 else f"{min(100.0, 100.0 * done / total):.0f}%"


def days_left(days: float | None, tr: Locale = ENGLISH) -> str:
    """How long the store lasts: 'About 12 days left'."""
    if days is None:
        return MISSING
    if days > 2 * 365:
        return tr("More than 2 years left")
    shown = f"{days:.1f}" if days < 10 else f"{days:,.0f}"
    return tr("About {days} days left", days=shown)


def time_of_day(value: datetime | None, zone: tzinfo | None = None) -> str:
    """Time of day in the station's zone (None: the host's)."""
    return MISSING if value is None else value.astimezone(zone).strftime("%H:%M:%S")


def local_datetime(value: datetime | None, zone: tzinfo | None = None) -> str:
    return MISSING if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def stamp(value: datetime | None, zone: tzinfo | None = None) -> str:
    """Station-local date and time with its UTC offset, to the second (session details)."""
    return MISSING if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %z")


def day(value: datetime, zone: tzinfo | None = None, tr: Locale = ENGLISH) -> str:
    """Tue 01 Dec 2026; 2026年12月1日 in Chinese (no locale's month names needed)."""
    local = value.astimezone(zone)
    if tr.language == "zh-CN":
        return f"{local.year}年{local.month}月{local.day}日"
    return local.strftime("%a %d %b %Y")


def moment(value: datetime | None, missing: str = "unknown") -> str:
    """Date and time in the value's own offset, which is written out: 2026-11-22 06:00 UTC,
    2026-11-22 07:00 +01:00. For text read away from the station (the e-mail)."""
    if value is None:
        return missing
    text = value.strftime("%Y-%m-%d %H:%M")
    zone = value.utcoffset()
    if zone is None:
        return text
    if not zone:
        return f"{text} UTC"
    z = value.strftime("%z")
    return f"{text} {z[:3]}:{z[3:]}"


def local_moment(value: datetime | None, zone: tzinfo | None, missing: str = "unknown") -> str:
    """`moment` in the station's zone: a clip recorded at 08:10 in Qidong reads
    2026-11-26 08:10 +08:00, not 00:10 UTC."""
    return moment(None if value is None else value.astimezone(zone), missing)


def summary(doc: StatusDocument, tr: Locale = ENGLISH) -> str:
    """The dock in one line, on the page and in `dockd status`. systemd's STATUS= line
    (`doc.summary`) is English for the journal; another language says it again from the
    slots."""
    if not doc.live:
        return tr("daemon not running")
    if tr.language == "en":
        return doc.summary
    states = [s.state for s in doc.slots]
    if not states:
        return tr("waiting for recorders")
    return tr(", ").join(f"{tr(STATE_LABELS[st])} {states.count(st)}" for st in sorted(set(states)))


# --- grouping for display ---------------------------------------------------------------------


@dataclass(frozen=True)
class LateGroup:
    """The late offloads of one recorder: a docked recorder is often late with every clip."""

    serial: str
    count: int
    worst_s: float
    first: LateOffload
    custodian: str | None
    station: str | None  # the station that offloaded the first one


def group_late(items: list[LateOffload]) -> list[LateGroup]:
    """One line per recorder on the page and in the terminal, in the order first seen."""
    groups: dict[str, list[LateOffload]] = {}
    for item in items:
        groups.setdefault(item.serial, []).append(item)
    return [
        LateGroup(
            serial=serial,
            count=len(late),
            worst_s=max(x.late_by_s for x in late),
            first=late[0],
            custodian=next((x.custodian for x in late if x.custodian), None),
            station=late[0].station,
        )
        for serial, late in groups.items()
    ]


def row_difference(found: RowDifference) -> str:
    """One ledger row (or manifest entry) that disagrees with what vouches for it."""
    where = f"{found.table} {found.id}" + (f" {found.field}" if found.field else "")
    other = "manifest" if found.by == "manifest" else "chain"
    if found.by == "chain" and found.station is not None:
        other = f"chain of {found.station}"
    if found.by == "manifest" and found.field is None:
        return f"manifest unreadable: {where}: not the object the ledger records"
    if found.problem == "missing":
        return f"row missing: {where}: the {other} vouches for it, the ledger has no such row"
    if found.problem == "inserted":
        return f"row inserted: {where}: nothing on the {other} vouches for it"
    return f"row edited: {where}: the {other} says {found.vouched!r}, the ledger {found.row!r}"
