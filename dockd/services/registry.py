"""The registry: recorders and their custodians, officers' excuses, holds, attestations.

Each change names who made it (`by`) because each is a custody event. What the
policy pack decides (which long-term reasons exist, how many operators seal a
session, the offload deadline an excuse re-judges against) is decided here, so
every entry point gets the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dockd.core.policy import PolicyPack
from dockd.core.registry import Custodian, CustodyStretch, DeviceEntry, HoldEntry
from dockd.errors import ConfigError, NotAuthorisedError
from dockd.ports import HoldRecords, OperatorAuth, RegistryRecords
from dockd.ui.i18n import Said


@dataclass(frozen=True, slots=True)
class Hold:
    id: int
    kind: str
    reference: str


@dataclass(frozen=True, slots=True)
class Attestation:
    operators: list[str]
    needed: int

    @property
    def sealed(self) -> bool:
        return len(self.operators) >= self.needed


class Registry:
    def __init__(
        self,
        records: RegistryRecords,
        holds: HoldRecords,
        policy: PolicyPack,
        clock: Callable[[], datetime],
    ) -> None:
        self.records = records
        self.hold_records = holds
        self.policy = policy
        self.clock = clock

    def add_device(self, serial: str, model: str, by: str) -> None:
        self.records.add_device(serial, model, self.clock(), by)

    def assign(
        self, serial: str, custodian: Custodian, by: str, at: datetime | None = None
    ) -> None:
        """Hand over now, or at `at`: a handover entered late keeps its real time (lending
        is judged against who had the recorder when a clip was made)."""
        now = self.clock()
        if at is not None and at > now:
            raise ConfigError(
                "--at {at} is in the future",
                hint="Give the handover's real time.",
                at=at.isoformat(),
            )
        self.records.assign(serial, custodian, now if at is None else at, by)

    def devices(self) -> list[DeviceEntry]:
        return self.records.devices()

    def custodians_at(self, serial: str) -> list[CustodyStretch]:
        return self.records.custodians_at(serial)

    def excuse(self, badge: str, returned_at: datetime, reason: str, by: str) -> int:
        """Record a return from remote duty; how many earlier recordings changed verdict."""
        hours = self.policy.offload.deadline_hours
        return self.records.add_excuse(badge, returned_at, reason, self.clock(), by, hours)

    def place_hold(self, recording: int, case: str | None, reason: str | None, by: str) -> Hold:
        """A hold for a case number, or for one of the pack's long-term reasons."""
        if case is not None:
            if not case.strip():
                raise ConfigError("the case number is empty", hint="Give the case file's number.")
            kind, reference = "case", case.strip()
        else:
            reasons = self.policy.retention.long_term_reasons
            if reason not in reasons:
                raise ConfigError(
                    "{reason!r} is not a long-term reason of pack {policy_id}",
                    hint="Use one of: {reasons}",
                    reason=reason,
                    reasons=", ".join(reasons) or Said("(this pack names none: use --case)"),
                    policy_id=self.policy.id,
                )
            kind, reference = "long-term", reason
        hold = self.hold_records.add(recording, kind, reference, self.clock(), by)
        return Hold(hold, kind, reference)

    def release_hold(self, hold: int, reason: str, by: str) -> None:
        self.hold_records.release(hold, reason, self.clock(), by)

    def holds(self, active_only: bool = True) -> list[HoldEntry]:
        return self.hold_records.holds(active_only)

    def attest(
        self, session_id: str, sitting: Sequence[tuple[str, str]], auth: OperatorAuth
    ) -> Attestation:
        """Seal a session by as many distinct operators as the pack asks, each proven by
        their passphrase, at one sitting (004:21: 两个人（含两人）以上同时操作). A badge
        typed twice, a wrong passphrase or too few people seal nothing."""
        needed = 2 if self.policy.offload.two_person_seal else 1
        badges = [badge for badge, _ in sitting]
        twice = sorted({b for b in badges if badges.count(b) > 1})
        if twice:
            raise NotAuthorisedError(
                "operator {twice} given twice: one person seals once",
                hint="Offload needs two different people (004:21); ask a second operator.",
                twice=", ".join(twice),
            )
        if len(badges) < needed:
            raise NotAuthorisedError(
                "session {session} needs {needed} distinct operators at one sitting "
                "({policy_id}: two-person offload); {n_badges} given",
                hint="Give --operator once per person, their passphrases one line each.",
                session=session_id,
                needed=needed,
                policy_id=self.policy.id,
                n_badges=len(badges),
            )
        at = self.clock()
        for badge, passphrase in sitting:
            auth.authenticate(badge, passphrase, at)
        operators = self.records.attest(session_id, badges, at, needed)
        return Attestation(operators, needed)
