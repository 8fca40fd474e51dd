"""Which recordings a dock keeps a copy of although another station verified them.

On a shared ledger a recorder docked at station B may hold recordings station A already
verified. While A's store is their only copy (the central store has not confirmed them,
and retention has not expired them), a fire or theft at A before its forwarding pass
would leave them only on the recorder, which nothing then collects. B keeps a copy of its
own; once the central store confirms them, or B already holds them, it does not.
"""

from __future__ import annotations

from collections.abc import Iterable

from dockd.core.clearing import ClearCandidate


def held_only_elsewhere(verified: Iterable[ClearCandidate]) -> list[ClearCandidate]:
    """The recordings whose only copies are in other stations' stores."""
    return [c for c in verified if c.elsewhere and not c.in_store and not c.confirmed_centrally]
