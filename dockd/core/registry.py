"""The registry's facts: recorders as fixed assets, their custodians, and holds.

Plain values, so the registry service, the dock session and the status page can
speak of a custodian or a hold without knowing how the ledger stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Custodian:
    badge: str
    name: str
    unit: str


#: One stretch of custody: who held the recorder, since when, until when (None = now).
CustodyStretch = tuple[Custodian, datetime, datetime | None]


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    serial: str
    model: str
    custodian: Custodian | None
    history: list[CustodyStretch]
    retired_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HoldEntry:
    id: int
    recording: int
    kind: str
    reference: str
    placed_at: datetime
    placed_by: str
    released_at: datetime | None
