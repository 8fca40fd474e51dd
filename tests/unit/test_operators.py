"""Operators over a fake ledger: the hash is never the passphrase, the lock-out counts
five wrong ones in a row and ends after 15 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dockd.adapters.rules import load_policy
from dockd.errors import (
    ConfigError,
    OperatorDisabledError,
    OperatorLockedError,
    OperatorUnknownError,
    WrongPassphraseError,
)
from dockd.services.operators import KDF, Operators
from tests.conftest import REPO
from tests.fakes.operators import FakeOperatorRecords

NOW = datetime(2026, 6, 1, 2, tzinfo=UTC)
QIDONG = load_policy(REPO / "rules", "qidong")


def service() -> tuple[Operators, FakeOperatorRecords]:
    records = FakeOperatorRecords()
    return Operators(records, QIDONG, lambda: NOW), records


def test_the_passphrase_is_kept_as_a_salted_scrypt_hash() -> None:
    ops, records = service()
    unnamed = ops.add(
        "A1", "Li Na", "Brigade 1", ["enforcement officer", "typo"], "correct horse", "admin"
    )
    ops.add("A2", "Wu Gang", None, ["enforcement officer"], "correct horse", "admin")
    assert unnamed == ["typo"]
    one, two = records.credentials["A1"], records.credentials["A2"]
    assert one.kdf == KDF and KDF.startswith("scrypt:")
    assert b"correct horse" not in one.digest + one.salt
    assert one.salt != two.salt and one.digest != two.digest, "a salt of its own"
    assert ops.authenticate("A1", "correct horse", NOW).roles == ("enforcement officer", "typo")


def test_five_wrong_in_a_row_lock_for_fifteen_minutes() -> None:
    ops, records = service()
    ops.add("A1", "Li Na", None, ["enforcement officer"], "correct horse", "admin")
    for _ in range(3):
        with pytest.raises(WrongPassphraseError):
            ops.authenticate("A1", "guess", NOW)
    ops.authenticate("A1", "correct horse", NOW)
    assert records.credentials["A1"].failures == 0, "in a row: a success starts again"
    for _ in range(4):
        with pytest.raises(WrongPassphraseError):
            ops.authenticate("A1", "guess", NOW)
    with pytest.raises(OperatorLockedError, match="5 in a row"):
        ops.authenticate("A1", "guess", NOW)
    assert ("operator-locked", "A1") in records.events
    with pytest.raises(OperatorLockedError, match="locked until"):
        ops.authenticate("A1", "correct horse", NOW + timedelta(minutes=14, seconds=59))
    assert ops.authenticate("A1", "correct horse", NOW + timedelta(minutes=15)).badge == "A1"


def test_unknown_disabled_and_weak_are_named() -> None:
    ops, _ = service()
    with pytest.raises(OperatorUnknownError):
        ops.authenticate("nobody", "whatever1", NOW)
    with pytest.raises(ConfigError, match="fewer than 8"):
        ops.add("A1", "Li Na", None, ["enforcement officer"], "short", "admin")
    ops.add("A1", "Li Na", None, ["enforcement officer"], "correct horse", "admin")
    ops.disable("A1", "admin")
    with pytest.raises(OperatorDisabledError):
        ops.authenticate("A1", "correct horse", NOW)
