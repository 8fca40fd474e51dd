"""Supervision's pure rules with plain values: the draw, coverage, lending, media return,
equipment. Expected values are written out by hand."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dockd.core.supervision import (
    Member,
    RecordedDraw,
    Window,
    allocate,
    badge_of,
    covering,
    draw_differences,
    draw_sample,
    held_too_long,
    lent,
    recorders_needed,
    sample_size,
)

SEED = "ab" * 32
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

members = st.lists(
    st.builds(
        Member,
        st.integers(1, 10_000),
        st.sampled_from(["A", "B", None]),
        st.sampled_from(["x (1)", "y (2)", None]),
    ),
    max_size=60,
    unique_by=lambda m: m.recording,
)
ratios = st.sampled_from([0.01, 0.05, 0.1, 0.25, 1 / 3, 0.5, 1.0])


def test_sample_size_is_the_exact_ceiling() -> None:
    assert sample_size(0.1, 30) == 3  # 0.1 * 30 is 3.0000000000000004 in binary floats
    assert sample_size(0.05, 3) == 1
    assert sample_size(0.05, 20) == 1
    assert sample_size(0.05, 21) == 2
    assert sample_size(0.05, 0) == 0


def test_allocation_gives_each_stratum_its_share() -> None:
    # 10 = 6 + 3 + 1 recordings, 5 drawn: quotas 3, 1.5, 0.5 → 3, then one more of 1 and 1
    got = allocate(SEED, {("A", "x"): 6, ("A", "y"): 3, ("B", "z"): 1}, 5)
    assert got[("A", "x")] == 3
    assert sorted([got[("A", "y")], got[("B", "z")]]) == [1, 1]


@given(members, ratios)
def test_draw_has_the_ratios_size_and_each_stratum_its_floor_or_ceiling(
    population: list[Member], ratio: float
) -> None:
    sample = draw_sample(SEED, population, ratio)
    assert len(sample) == sample_size(ratio, len(population))
    assert {m.recording for m in sample} <= {m.recording for m in population}
    total = len(population)
    for stratum in {m.stratum for m in population}:
        n = sum(1 for m in population if m.stratum == stratum)
        k = sum(1 for m in sample if m.stratum == stratum)
        share = len(sample) * n / total
        assert int(share) <= k <= int(share) + 1


@given(members, ratios, st.randoms())
def test_draw_does_not_depend_on_the_order_of_the_population(
    population: list[Member], ratio: float, rnd: random.Random
) -> None:
    shuffled = list(population)
    rnd.shuffle(shuffled)
    assert draw_sample(SEED, shuffled, ratio) == draw_sample(SEED, population, ratio)


def test_another_seed_draws_another_sample() -> None:
    population = [Member(i, "A", "x (1)") for i in range(1, 101)]
    assert draw_sample("00" * 32, population, 0.1) != draw_sample("11" * 32, population, 0.1)


def test_a_recorded_draw_is_checked_against_its_seed_and_sample() -> None:
    population = [Member(i, "A", "x (1)") for i in range(1, 21)]
    (chosen,) = draw_sample(SEED, population, 0.05)
    sound = RecordedDraw(1, SEED, SEED, 0.05, population, [(7, chosen)])
    assert draw_differences(sound) == []
    other = next(m for m in population if m != chosen)
    swapped = RecordedDraw(1, SEED, SEED, 0.05, population, [(7, other)])
    assert len(draw_differences(swapped)) == 1
    reseeded = RecordedDraw(1, SEED, "cd" * 32, 0.05, population, [(7, chosen)])
    assert "not the chain's head" in draw_differences(reseeded)[0]


def test_a_work_record_covers_only_a_whole_gap_of_its_own_officer() -> None:
    w = [Window(4, "3301", T0, T0 + timedelta(hours=2))]
    inside = (T0 + timedelta(minutes=10), T0 + timedelta(minutes=20))
    assert covering(w, "3301", *inside) == [4]
    assert covering(w, "3302", *inside) == []
    assert covering(w, None, *inside) == []
    assert covering(w, "3301", T0 + timedelta(hours=1), T0 + timedelta(hours=3)) == []


def test_lending_needs_both_badges_and_a_difference() -> None:
    assert badge_of("Zhang Wei (5101)") == "5101"
    assert badge_of(None) is None
    assert lent("5102", "5101")
    assert not lent("5101", "5101")
    assert not lent(None, "5101")
    assert not lent("5102", None)


def test_media_held_beyond_24_hours() -> None:
    off = T0
    assert held_too_long(off, T0 + timedelta(hours=23, minutes=59), T0, 24) is None
    assert held_too_long(off, T0 + timedelta(hours=25), T0, 24) == 3600.0
    assert held_too_long(off, None, T0 + timedelta(hours=24, seconds=30), 24) == 30.0
    assert held_too_long(off, None, T0 + timedelta(hours=3), 24) is None


def test_recorders_needed_by_ratio_and_minimum() -> None:
    assert recorders_needed(7, 3, None) == 3  # 000:8 class A: one for up to 3 officers
    assert recorders_needed(6, 3, None) == 2
    assert recorders_needed(4, 1, None) == 4  # 003/A:7: one per officer
    assert recorders_needed(1, None, 2) == 2  # 004:9: at least two per unit
    assert recorders_needed(9, 5, 2) == 2
    assert recorders_needed(0, None, None) == 0
