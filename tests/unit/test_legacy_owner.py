"""Whose the legacy rows are, as a running process sees it: an unknown owner is read
again once `recheck_s` has passed (an adoption by another process is seen live), a known
one never is (the first adoption counts for good)."""

from __future__ import annotations

from dockd.adapters.ledger.legacy import LegacyOwner


class Reads:
    def __init__(self, *answers: str | None) -> None:
        self.answers = list(answers)
        self.count = 0

    def __call__(self) -> str | None:
        self.count += 1
        return self.answers.pop(0) if self.answers else "dock-east"


def test_an_unknown_owner_is_read_again_after_the_recheck_interval() -> None:
    now = [100.0]
    reads = Reads(None, None)
    owner = LegacyOwner(reads, recheck_s=1.0, monotonic=lambda: now[0])
    assert owner.owner() is None and reads.count == 1  # read at start only
    now[0] += 0.5
    assert owner.owner() is None and reads.count == 1
    now[0] += 0.5
    assert owner.owner() is None and reads.count == 2  # nobody adopted yet
    now[0] += 1.0
    assert owner.owner() == "dock-east" and reads.count == 3  # adopted meanwhile


def test_a_known_owner_is_never_read_again() -> None:
    now = [0.0]
    reads = Reads("dock-west")
    owner = LegacyOwner(reads, recheck_s=1.0, monotonic=lambda: now[0])
    now[0] += 3600
    assert owner.owner() == "dock-west" and reads.count == 1


def test_this_processs_own_adoption_is_known_at_once() -> None:
    reads = Reads(None)
    owner = LegacyOwner(reads, recheck_s=3600.0, monotonic=lambda: 0.0)
    owner.adopted("dock-east")
    assert owner.owner() == "dock-east" and reads.count == 1
