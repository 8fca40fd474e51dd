"""Integration fixtures: every dockd started here docks against a synchronised station."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.ntp import ResponderAddress, true_time_station
from tests.support.seaweed import (  # noqa: F401
    central_bucket,
    seaweed,
    tiny_seaweed,
    unlocked_bucket,
)


@pytest.fixture(scope="package", autouse=True)
def station_ntp() -> Iterator[ResponderAddress]:
    """Package scope: the responder and its environment variable end with this folder."""
    with true_time_station() as server:
        yield server
