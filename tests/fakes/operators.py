"""An in-memory twin of `ports.OperatorAuth`: registered operators and their passphrases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dockd.core.operators import Operator
from dockd.errors import DockdError


class FakeOperatorRefused(DockdError):
    """What the real registry raises for a wrong passphrase or an unknown badge."""

    code = "OPERATOR_REFUSED"


@dataclass
class FakeOperators:
    people: dict[str, tuple[Operator, str]] = field(default_factory=dict)
    attempts: list[tuple[str, datetime]] = field(default_factory=list)

    def add(self, badge: str, name: str, passphrase: str, *roles: str, unit: str = "") -> None:
        self.people[badge] = (Operator(badge, name, unit or None, roles), passphrase)

    def authenticate(self, badge: str, passphrase: str, at: datetime) -> Operator:
        self.attempts.append((badge, at))
        found = self.people.get(badge)
        if found is None:
            raise FakeOperatorRefused(f"no operator {badge}")
        operator, secret = found
        if passphrase != secret:
            raise FakeOperatorRefused(f"wrong passphrase for operator {badge}")
        return operator
