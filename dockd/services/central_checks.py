"""What forwarding's steps (sending, lock upkeep, freeing) share: which errors stop a
whole pass, and the HEAD that must show what the ledger expects before anything counts."""

from __future__ import annotations

from dockd.core.forwarding import CentralHead, Expected, confirmation_problems
from dockd.errors import (
    CentralAuthError,
    CentralFullError,
    CentralNotConfirmedError,
    CentralUnavailableError,
    CentralUnreachableError,
)
from dockd.ports import CentralStore

SERVER_WIDE = (
    CentralUnreachableError,
    CentralUnavailableError,
    CentralAuthError,
    CentralFullError,
)
"""Errors that say nothing about one object: the pass stops, no object is marked."""


def confirm(central: CentralStore, key: str, expected: Expected) -> CentralHead:
    """The stored version's HEAD, or CentralNotConfirmedError naming what it lacks."""
    head = central.head(key, expected.version_id)
    problems = confirmation_problems(expected, head)
    if problems or head is None:
        raise CentralNotConfirmedError(f"{key}: " + "; ".join(problems))
    return head
