"""The people who may approve, view, export or seal: operators and the roles a pack names.

An operator is a registered person, never an account shared by a unit: every approval,
viewing, export and seal names the operators who acted, so that the register and the
custody chain say who did what (000:28-29, 001:16-17, 002:17, 003/C, 004:21/24-25).
"""

from __future__ import annotations

from dataclasses import dataclass


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
