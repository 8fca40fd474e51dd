"""In-memory twins of the registry's ports: devices, custodians, excuses, attestations,
holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from dockd.core.registry import Custodian, CustodyStretch, DeviceEntry, HoldEntry
from dockd.errors import LedgerError


@dataclass
class FakeRegistryRecords:
    models: dict[str, str] = field(default_factory=dict)
    history: dict[str, list[CustodyStretch]] = field(default_factory=dict)
    returns: dict[str, list[datetime]] = field(default_factory=dict)
    attested: dict[str, list[str]] = field(default_factory=dict)
    calls: list[tuple[object, ...]] = field(default_factory=list)

    def add_device(self, serial: str, model: str, at: datetime, by: str) -> None:
        self.models[serial] = model
        self.calls.append(("add_device", serial, at, by))

    def assign(self, serial: str, custodian: Custodian, at: datetime, by: str) -> None:
        stretches = self.history.setdefault(serial, [])
        if stretches and stretches[-1][2] is None:
            stretches[-1] = (stretches[-1][0], stretches[-1][1], at)
        stretches.append((custodian, at, None))

    def devices(self) -> list[DeviceEntry]:
        out = []
        for serial, model in sorted(self.models.items()):
            history = self.history.get(serial, [])
            current = next((c for c, _, until in history if until is None), None)
            out.append(DeviceEntry(serial, model, current, history))
        return out

    def custodians_at(self, serial: str) -> list[CustodyStretch]:
        return self.history.get(serial, [])

    def excuses(self) -> dict[str, list[datetime]]:
        return self.returns

    def add_excuse(
        self, badge: str, returned_at: datetime, reason: str, at: datetime, by: str, hours: float
    ) -> int:
        self.returns.setdefault(badge, []).append(returned_at)
        self.calls.append(("add_excuse", badge, hours))
        return 0

    def attest(
        self, session_id: str, operators: Sequence[str], at: datetime, needed: int
    ) -> list[str]:
        known = self.attested.setdefault(session_id, [])
        for operator in operators:
            if operator in known:
                raise LedgerError(f"operator {operator} already attested session {session_id}")
            known.append(operator)
        return sorted(known)


@dataclass
class FakeHoldRecords:
    placed: list[HoldEntry] = field(default_factory=list)

    def add(self, recording: int, kind: str, reference: str, at: datetime, by: str) -> int:
        hold = HoldEntry(len(self.placed) + 1, recording, kind, reference, at, by, None)
        self.placed.append(hold)
        return hold.id

    def release(self, hold_id: int, reason: str, at: datetime, by: str) -> None:
        hold = self.placed[hold_id - 1]
        self.placed[hold_id - 1] = HoldEntry(
            hold.id, hold.recording, hold.kind, hold.reference, hold.placed_at, hold.placed_by, at
        )

    def holds(self, active_only: bool = True) -> list[HoldEntry]:
        return [h for h in self.placed if not active_only or h.released_at is None]
