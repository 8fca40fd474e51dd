"""`[station] id`: a short slug, by default stable per machine (its keyed machine-id)."""

from __future__ import annotations

import pytest

from dockd.config import effective_config
from dockd.core.station import default_station_id, is_station_id
from dockd.errors import ConfigError

MACHINE_ID = "4f1b2c3d4e5f60718293a4b5c6d7e8f9\n"


def test_the_default_is_stable_and_does_not_show_the_machine_id() -> None:
    name = default_station_id(MACHINE_ID, "ignored")
    assert name == default_station_id(MACHINE_ID.strip(), "other-host")
    assert name.startswith("dock-") and len(name) == len("dock-") + 12
    assert name.removeprefix("dock-") not in MACHINE_ID
    assert is_station_id(name)
    assert default_station_id("0" * 32, "h") != name


@pytest.mark.parametrize(
    ("hostname", "expected"),
    [("Dock-HQ.example.org", "dock-hq"), ("büro_7", "b-ro-7"), ("---", "dock")],
)
def test_without_a_machine_id_the_host_name_becomes_a_slug(hostname: str, expected: str) -> None:
    assert default_station_id(None, hostname) == expected
    assert default_station_id("  \n", hostname) == expected


def test_a_configured_id_must_be_a_short_slug() -> None:
    assert effective_config({"station": {"id": "dock-hq-1"}}, "t", {}).station.id == "dock-hq-1"
    assert effective_config(None, "t", {}).station.id is None
    for bad in ("Dock", "dock_1", "-dock", "dock-", "a" * 64, ""):
        with pytest.raises(ConfigError, match=r"station\.id: .*not a station id"):
            effective_config({"station": {"id": bad}}, "t", {})


def test_local_is_reserved_for_the_unnamed_stations_records() -> None:
    with pytest.raises(ConfigError, match=r"station\.id: .*reserved"):
        effective_config({"station": {"id": "local"}}, "t", {})
