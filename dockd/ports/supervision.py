"""Ports for supervision and the agency's activity list: see `dockd.ports`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: `dockd ingest` need not import every area's model
    from dockd.core.activities import Activity, Matching
    from dockd.core.policy import PolicyPack
    from dockd.core.supervision import Draw, Member, RecordedDraw, Review, WorkRecord


# --- supervision ---


class SupervisionRecords(Protocol):
    """Spot checks, interruption reviews, work records, device changes and unplugs: each
    a custody event carrying its rows."""

    def chain_head(self) -> tuple[int, str]: ...
    def population(self, since: datetime, until: datetime) -> list[Member]: ...
    def record_draw(self, draw: Draw, at: datetime, by: str) -> int:
        """Raises ChainMovedError when the chain's head is no longer `draw.seed`."""
        ...

    def draw(self, draw_id: int) -> RecordedDraw | None: ...
    def review_item(self, item_id: int, review: Review, at: datetime) -> None: ...
    def explain(self, interruption_id: int, text: str, by: str, at: datetime) -> None: ...
    def review_interruption(self, interruption_id: int, by: str, at: datetime) -> None: ...
    def add_work_record(self, record: WorkRecord, at: datetime, by: str) -> int: ...
    def change_device(self, serial: str, kind: str, reason: str, at: datetime, by: str) -> None: ...

    def record_unplug(self, serial: str, session_id: str | None, at: datetime) -> None: ...


# --- activities ---


class ActivityRecords(Protocol):
    """The agency's activity list and the recordings matched to it; each write is a custody
    event carrying its rows."""

    def existing(self, ids: Collection[str]) -> dict[str, Activity]: ...
    def add(
        self, activities: Sequence[Activity], pack: PolicyPack, at: datetime, by: str
    ) -> Matching:
        """Add these activities (none already there) and match them, in one transaction."""
        ...

    def rematch(self, since: datetime, pack: PolicyPack, at: datetime, by: str) -> Matching:
        """Match again the activities that started since: footage docked after the import."""
        ...

    def match_window(
        self, since: datetime, until: datetime, pack: PolicyPack, at: datetime, by: str
    ) -> Matching:
        """Match the activities whose window overlaps [since, until]: a dock session's
        recordings, so the cost is that session's span, not the list's."""
        ...
