"""In-memory twins of the operator ports: who is registered, their credential, lock-out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dockd.core.operators import Credential, Operator
from dockd.errors import OperatorUnknownError, WrongPassphraseError


@dataclass
class FakeOperatorAuth:
    """Operators and their passphrases, in clear: a fake proves nothing but the call."""

    people: dict[str, tuple[Operator, str]] = field(default_factory=dict)
    tried: list[str] = field(default_factory=list)

    def add(self, operator: Operator, passphrase: str) -> Operator:
        self.people[operator.badge] = (operator, passphrase)
        return operator

    def authenticate(self, badge: str, passphrase: str, at: datetime) -> Operator:
        self.tried.append(badge)
        if badge not in self.people:
            raise OperatorUnknownError(f"no operator with badge {badge}")
        operator, expected = self.people[badge]
        if passphrase != expected:
            raise WrongPassphraseError(f"wrong passphrase for operator {badge}")
        return operator


@dataclass
class FakeOperatorRecords:
    credentials: dict[str, Credential] = field(default_factory=dict)
    events: list[tuple[str, str]] = field(default_factory=list)

    def add(self, credential: Credential, at: datetime, by: str) -> None:
        self.credentials[credential.operator.badge] = credential
        self.events.append(("operator-added", credential.operator.badge))

    def operators(self) -> list[Operator]:
        return [c.operator for c in self.credentials.values()]

    def credential(self, badge: str) -> Credential | None:
        return self.credentials.get(badge)

    def disable(self, badge: str, at: datetime, by: str) -> None:
        found = self.credentials[badge]
        self.credentials[badge] = replace(found, operator=replace(found.operator, disabled=True))

    def record_failure(
        self, badge: str, at: datetime, lock_after: int, lock_for: timedelta
    ) -> datetime | None:
        found = self.credentials[badge]
        failures = found.failures + 1
        self.events.append(("operator-passphrase-refused", badge))
        if failures < lock_after:
            self.credentials[badge] = replace(found, failures=failures)
            return None
        self.credentials[badge] = replace(found, failures=0, locked_until=at + lock_for)
        self.events.append(("operator-locked", badge))
        return at + lock_for

    def record_success(self, badge: str) -> None:
        self.credentials[badge] = replace(self.credentials[badge], failures=0)
