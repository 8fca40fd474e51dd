"""THE formatters: one way to say a duration, a drift, a size, on the page, in the terminal
and in the e-mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dockd.ui import format as fmt


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0 s"),
        (45.4, "45 s"),
        (75, "1 min 15 s"),
        (420, "7 min"),
        (3 * 3600 + 12 * 60 + 5, "3 h 12 min"),
        (7200, "2 h"),
        (90000, "1 d 1 h"),
        (172800, "2 d"),
        (-75, "-1 min 15 s"),
    ],
)
def test_duration(seconds: float | None, text: str) -> None:
    assert fmt.duration(seconds) == text


@pytest.mark.parametrize(
    ("drift", "text"),
    [(None, "unknown"), (12.46, "+12.5 s"), (-45.0, "-45.0 s"), (75.0, "+1 min 15 s")],
)
def test_drift_is_signed(drift: float | None, text: str) -> None:
    assert fmt.drift(drift) == text


def test_sizes_rates_and_counts() -> None:
    assert fmt.size(None) == "—" and fmt.size(512) == "512 B"
    assert fmt.size(300 << 20) == "300 MiB" and fmt.size(1536 << 20) == "1.5 GiB"
    assert fmt.rate(30 << 20) == "30.0 MiB/s" and fmt.rate(None) == "—"
    assert fmt.count(1234567) == "1,234,567"
    assert fmt.pct(3, 8) == "38%" and fmt.pct(0, 0) == "100%"


def test_a_moment_says_its_offset() -> None:
    at = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    assert fmt.moment(at) == "2026-11-22 06:00 UTC"
    assert fmt.moment(at.astimezone(timezone(timedelta(hours=1)))) == "2026-11-22 07:00 +01:00"
    assert fmt.moment(None, "never") == "never"
