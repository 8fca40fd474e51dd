"""The people who may approve, view, export or seal: operators and the roles a pack names.

An operator is a registered person, never an account shared by a unit: every approval,
viewing, export and seal names the operators who acted, so that the register and the
custody chain say who did what (000:28-29, 001:16-17, 002:17, 003/C, 004:21/24-25).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Operator:
    """A person as the registry holds them; `roles` are the strings the active pack names."""

    badge: str
    name: str
    unit: str | None
    roles: tuple[str, ...]
    disabled: bool = False

    def holds(self, role: str) -> bool:
        return role in self.roles


#: Wrong passphrases in a row that lock an operator out, and for how long.
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Credential:
    """What proves an operator: a slow salted hash (`kdf` names it and its parameters, so a
    stronger one can follow without breaking the old ones), and the lock-out state."""

    operator: Operator
    kdf: str
    salt: bytes
    digest: bytes
    failures: int = 0
    locked_until: datetime | None = None

    def locked(self, at: datetime) -> bool:
        return self.locked_until is not None and at < self.locked_until
