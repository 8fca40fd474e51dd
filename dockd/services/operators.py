"""Operators: registering the people who approve, view, export and seal, and proving one is
present (`ports.OperatorAuth`).

Passphrases are kept as scrypt hashes with a salt of their own (N=2^15, r=8, p=1: about
a tenth of a second and 32 MiB per try, so guessing offline is slow), compared in
constant time. Five wrong ones in a row lock the operator for 15 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime

from dockd.core.operators import LOCK_AFTER, LOCK_FOR, Credential, Operator
from dockd.core.policy import PolicyPack
from dockd.errors import (
    ConfigError,
    OperatorDisabledError,
    OperatorLockedError,
    OperatorUnknownError,
    WrongPassphraseError,
)
from dockd.ports import OperatorRecords

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
KDF = f"scrypt:n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}"
MIN_PASSPHRASE = 8


def _scrypt(kdf: str, passphrase: str, salt: bytes) -> bytes:
    try:
        name, params = kdf.split(":", 1)
        values = dict(p.split("=", 1) for p in params.split(","))
        n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
    except (ValueError, KeyError):
        raise ConfigError("unknown passphrase hash {kdf!r}", kdf=kdf) from None
    if name != "scrypt":
        raise ConfigError("unknown passphrase hash {kdf!r}", kdf=kdf)
    memory = 128 * r * n * 2
    return hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=memory, dklen=32
    )


class Operators:
    """The registry of operators and `OperatorAuth` over it."""

    def __init__(
        self, records: OperatorRecords, policy: PolicyPack, clock: Callable[[], datetime]
    ) -> None:
        self.records = records
        self.policy = policy
        self.clock = clock

    def add(
        self,
        badge: str,
        name: str,
        unit: str | None,
        roles: Sequence[str],
        passphrase: str,
        by: str,
    ) -> list[str]:
        """Register a person; the roles the active pack does not name (possibly typos)."""
        if not badge.strip() or not name.strip():
            raise ConfigError("an operator needs a badge and a name")
        if not roles:
            raise ConfigError("an operator needs at least one role", hint="Give --role ROLE.")
        if len(passphrase) < MIN_PASSPHRASE:
            raise ConfigError(
                "the passphrase has fewer than {MIN_PASSPHRASE} characters",
                hint="Choose a longer passphrase; it is read from stdin, never from arguments.",
                MIN_PASSPHRASE=MIN_PASSPHRASE,
            )
        salt = secrets.token_bytes(16)
        operator = Operator(badge.strip(), name.strip(), unit, tuple(dict.fromkeys(roles)))
        digest = _scrypt(KDF, passphrase, salt)
        self.records.add(Credential(operator, KDF, salt, digest), self.clock(), by)
        named = set(self.policy.viewing.roles())
        return [r for r in operator.roles if r not in named]

    def list(self) -> list[Operator]:
        return self.records.operators()

    def disable(self, badge: str, by: str) -> None:
        self.records.disable(badge, self.clock(), by)

    def authenticate(self, badge: str, passphrase: str, at: datetime) -> Operator:
        found = self.records.credential(badge)
        if found is None:
            raise OperatorUnknownError("no operator with badge {badge}", badge=badge)
        if found.operator.disabled:
            raise OperatorDisabledError("operator {badge} is disabled", badge=badge)
        if found.locked(at):
            assert found.locked_until is not None
            raise OperatorLockedError(
                "operator {badge} is locked until {locked_until} after {LOCK_AFTER} wrong "
                "passphrases in a row",
                badge=badge,
                locked_until=found.locked_until.isoformat(),
                LOCK_AFTER=LOCK_AFTER,
            )
        given = _scrypt(found.kdf, passphrase, found.salt)
        if not hmac.compare_digest(given, found.digest):
            locked = self.records.record_failure(badge, at, LOCK_AFTER, LOCK_FOR)
            if locked is not None:
                raise OperatorLockedError(
                    "wrong passphrase for operator {badge}: {failures} in a row, locked until "
                    "{locked}",
                    badge=badge,
                    failures=LOCK_AFTER,
                    locked=locked.isoformat(),
                )
            raise WrongPassphraseError("wrong passphrase for operator {badge}", badge=badge)
        if found.failures:
            self.records.record_success(badge)
        return found.operator
