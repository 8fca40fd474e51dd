"""Supervision's rules: spot-check draws nobody chooses, work records that cover gaps,
lending, media held too long, and the equipment a unit should have.

The draw is reproducible from what the ledger keeps (seed, population, ratio): the
seed is the custody chain's head when it was drawn, so the sample is fixed the moment
the draw is written and anyone can recompute it (`dockd spotcheck verify`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class Member:
    """A recording of the period, with who had its recorder when it was made (its stratum)."""

    recording: int
    unit: str | None
    custodian: str | None

    @property
    def stratum(self) -> tuple[str, str]:
        return (self.unit or "", self.custodian or "")


def sample_size(ratio: float, population: int) -> int:
    """ceil(ratio × population), exactly: 0.1 × 30 is 3, not 4 (binary floats say 3.0000…04)."""
    return math.ceil(Fraction(str(ratio)) * population)


def _rank(seed: str, key: str) -> str:
    return hashlib.sha256(f"{seed}/{key}".encode()).hexdigest()


def allocate(
    seed: str, strata: dict[tuple[str, str], int], size: int
) -> dict[tuple[str, str], int]:
    """Proportional allocation by largest remainder: each stratum gets the floor or the
    ceiling of its share of `size`; who gets a ceiling is decided by the seed, not by
    the order the strata come in."""
    total = sum(strata.values())
    if total == 0:
        return {}
    quotas = {key: Fraction(size * n, total) for key, n in strata.items()}
    given = {key: math.floor(q) for key, q in quotas.items()}
    left = size - sum(given.values())
    order = sorted(quotas, key=lambda k: (-(quotas[k] - given[k]), _rank(seed, "/".join(k))))
    for key in order[:left]:
        given[key] += 1
    return given


def draw_sample(seed: str, population: Sequence[Member], ratio: float) -> list[Member]:
    """The sample of a draw: stratified by unit and custodian, ordered within each stratum
    by SHA-256(seed/recording). Sorted by recording id."""
    strata: dict[tuple[str, str], list[Member]] = {}
    for member in population:
        strata.setdefault(member.stratum, []).append(member)
    size = sample_size(ratio, len(population))
    counts = allocate(seed, {k: len(v) for k, v in strata.items()}, size)
    chosen: list[Member] = []
    for key, members in strata.items():
        ranked = sorted(members, key=lambda m: _rank(seed, str(m.recording)))
        chosen.extend(ranked[: counts[key]])
    return sorted(chosen, key=lambda m: m.recording)


@dataclass(frozen=True, slots=True)
class Window:
    """A work record's stretch (recording was impossible from `start` to `end`)."""

    id: int
    badge: str
    start: datetime
    end: datetime


def covering(
    windows: Iterable[Window], badge: str | None, start: datetime, end: datetime
) -> list[int]:
    """The work records of `badge` that cover the whole of [start, end]."""
    if badge is None:
        return []
    return [w.id for w in windows if w.badge == badge and w.start <= start and end <= w.end]


def badge_of(custodian: str | None) -> str | None:
    """The badge in a custodian's label 'Name (BADGE)'."""
    if custodian is None or not custodian.endswith(")") or "(" not in custodian:
        return None
    return custodian[custodian.rindex("(") + 1 : -1]


def lent(name_badge: str | None, custodian_badge: str | None) -> bool:
    """A recording whose file name names someone other than the recorder's custodian:
    the recorder was lent (000:33(2), 002:22(6)). Unknown on either side is no finding."""
    return name_badge is not None and custodian_badge is not None and name_badge != custodian_badge


def held_too_long(
    unplugged_at: datetime, docked_again: datetime | None, now: datetime, hours: float
) -> float | None:
    """Seconds a recorder stayed off the dock beyond `hours` (003/E:9: media back within
    24 h), or None when it came back in time (or its time is not up yet)."""
    back = docked_again if docked_again is not None else now
    over = (back - unplugged_at - timedelta(hours=hours)).total_seconds()
    return over if over > 0 else None


def recorders_needed(
    officers: int, officers_per_recorder: float | None, min_per_unit: int | None
) -> int:
    """How many recorders a unit with `officers` officers should have in service."""
    needed = 0
    if officers_per_recorder is not None:
        needed = math.ceil(Fraction(str(officers_per_recorder)) ** -1 * officers)
    if min_per_unit is not None:
        needed = max(needed, min_per_unit)
    return needed


@dataclass(frozen=True, slots=True)
class Draw:
    """A draw as it is written, before anyone sees its sample."""

    since: datetime
    until: datetime
    seed: str
    ratio: float
    population: list[Member]
    sample: list[Member]


@dataclass(frozen=True, slots=True)
class RecordedDraw:
    """A draw as the ledger kept it; `chained_after` is the hash its custody event follows."""

    id: int
    seed: str
    chained_after: str | None
    ratio: float
    population: list[Member]
    items: list[tuple[int, Member]]


@dataclass(frozen=True, slots=True)
class Review:
    reviewer: str
    recorded: bool
    uninterrupted: bool
    handed_over: bool
    note: str | None


@dataclass(frozen=True, slots=True)
class WorkRecord:
    badge: str
    start: datetime
    end: datetime
    reason: str
    basis: str
    reported_to: str


def draw_differences(draw: RecordedDraw) -> list[str]:
    """What in a recorded draw does not follow from its seed and population ([]: sound)."""
    problems = []
    if draw.chained_after is not None and draw.chained_after != draw.seed:
        problems.append(
            f"seed {draw.seed[:12]}… is not the chain's head when it was drawn "
            f"({draw.chained_after[:12]}…)"
        )
    expected = [m.recording for m in draw_sample(draw.seed, draw.population, draw.ratio)]
    recorded = sorted(m.recording for _, m in draw.items)
    if expected != recorded:
        problems.append(f"sample {recorded} differs from the recomputed sample {expected}")
    return problems
