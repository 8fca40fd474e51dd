"""Rows recorded before stations had names (`local`), and whose they are.

Before migration 0012 a ledger served one box: its dock sessions, object locations and
central copies say `local`. On a ledger only one box opens (SQLite) they are that box's.
On a shared ledger (PostgreSQL) they are nobody's until the admin runs `dockd station
adopt-legacy` once, on the station that wrote them: a custody event on that station's
chain (`legacy-rows-adopted`, with the counts) makes it their station from then on, for
verifying, retention, clearing and freeing. The rows keep their label, so their primary
keys and the facts vouching for them stay as the chains recorded them. The first adoption
on the ledger is the one that counts; another station's is refused.

The adoption is seen live (`LegacyOwner`): a daemon already running on the adopting
station counts the rows as its own within `RECHECK_S`, and every other station stops
naming them unowned, without a restart. The legacy chain answers to the same owner
(`dockd audit verify`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dockd.adapters.ledger.schema import (
    CentralCopyRow,
    CustodyEventRow,
    DockSessionRow,
    ObjectLocationRow,
)
from dockd.core.custody import LEGACY_STATION
from dockd.errors import LegacyAdoptedError

if TYPE_CHECKING:
    from dockd.adapters.ledger.sessions import Ledger

ADOPTED = "legacy-rows-adopted"
RECHECK_S = 1.0


class LegacyOwner:
    """Whose the legacy rows are, as this process last read it. Once a station adopted
    them they stay its own (the first adoption counts, on an append-only chain), so only
    an unknown owner is read again, at most once every `recheck_s`: an adoption by
    another process (the CLI beside the daemon, or another station) is seen that soon,
    at the cost of one indexed read a second, only until someone adopts them."""

    def __init__(
        self,
        read: Callable[[], str | None],
        *,
        recheck_s: float = RECHECK_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self.recheck_s = recheck_s
        self._monotonic = monotonic
        self._owner = read()
        self._read_at = monotonic()

    def owner(self) -> str | None:
        if self._owner is None and self._monotonic() - self._read_at >= self.recheck_s:
            self._owner, self._read_at = self._read(), self._monotonic()
        return self._owner

    def adopted(self, station: str) -> None:
        self._owner = station


class FixedOwner:
    """A ledger only one box opens (SQLite): the legacy rows are that box's, always."""

    def __init__(self, station: str) -> None:
        self.station = station

    def owner(self) -> str | None:
        return self.station

    def adopted(self, station: str) -> None:
        """Nothing to learn: the box owned them already."""


@dataclass(frozen=True, slots=True)
class LegacyRows:
    """What the ledger holds labelled `local`: sessions, locations not removed, copies sent."""

    sessions: int
    locations: int
    central_copies: int

    @property
    def any(self) -> bool:
        return bool(self.sessions or self.locations or self.central_copies)


def adopter(s: Session) -> str | None:
    """The station whose adoption came first on the ledger; None: nobody adopted them."""
    return s.scalars(
        select(CustodyEventRow.station)
        .where(CustodyEventRow.kind == ADOPTED)
        .order_by(CustodyEventRow.at, CustodyEventRow.station, CustodyEventRow.seq)
        .limit(1)
    ).first()


def legacy_rows(s: Session) -> LegacyRows:
    def count(
        table: type[DockSessionRow | ObjectLocationRow | CentralCopyRow], *where: object
    ) -> int:
        return int(
            s.scalar(
                select(func.count())
                .select_from(table)
                .where(
                    table.station == LEGACY_STATION,
                    *where,  # type: ignore[arg-type]
                )
            )
            or 0
        )

    return LegacyRows(
        sessions=count(DockSessionRow),
        locations=count(ObjectLocationRow, ObjectLocationRow.removed_at.is_(None)),
        central_copies=count(CentralCopyRow),
    )


@dataclass(frozen=True, slots=True)
class Adoption:
    rows: LegacyRows
    already: bool  # this station had adopted them before: nothing written


def adopt(ledger: Ledger, at: datetime) -> Adoption | None:
    """This station takes the legacy rows as its own; None: the ledger has none. Two
    stations adopting at once each write their event; the first on the ledger counts, and
    the other is told so."""
    with ledger.transaction() as s:
        first, rows = adopter(s), legacy_rows(s)
        if first == ledger.station:
            return Adoption(rows, already=True)
        if first is not None:
            raise _elsewhere(ledger.station, first)
        if not rows.any:
            return None
        details = {
            "station": ledger.station,
            "sessions": rows.sessions,
            "locations": rows.locations,
            "central_copies": rows.central_copies,
        }
        ledger.append_custody(s, at, ADOPTED, LEGACY_STATION, details)
    won = ledger.read(adopter)
    if won != ledger.station:
        raise _elsewhere(ledger.station, won)
    ledger.legacy.adopted(ledger.station)
    return Adoption(rows, already=False)


def _elsewhere(station: str, first: str | None) -> LegacyAdoptedError:
    return LegacyAdoptedError(
        "station {first} adopted the rows from before stations had names; {station} cannot",
        first=first,
        station=station,
    )
