"""The ledger's operators: who they are, their roles, their passphrase hash and lock-out.

A wrong passphrase is counted in its own transaction, committed before the command
fails: the count must survive the refusal it causes. Each failure and each lock is a
custody event, so a guessing attempt is as visible as a success.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dockd.adapters.ledger.schema import OperatorRoleRow, OperatorRow
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.operators import Credential, Operator
from dockd.errors import LedgerError, OperatorUnknownError


def operator_of(row: OperatorRow) -> Operator:
    return Operator(
        row.badge, row.name, row.unit, tuple(r.role for r in row.roles), row.disabled_at is not None
    )


class LedgerOperators:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def add(self, credential: Credential, at: datetime, by: str) -> None:
        who = credential.operator
        try:
            with self.ledger.transaction() as s:
                s.add(
                    OperatorRow(
                        badge=who.badge,
                        name=who.name,
                        unit=who.unit,
                        kdf=credential.kdf,
                        salt=credential.salt,
                        passphrase_hash=credential.digest,
                        added_at=at,
                        added_by=by,
                        failures=0,
                        roles=[OperatorRoleRow(role=r) for r in who.roles],
                    )
                )
                s.flush()
                details = {"name": who.name, "unit": who.unit, "roles": list(who.roles)}
                self.ledger.append_custody(s, at, "operator-added", who.badge, details, actor=by)
        except LedgerError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise LedgerError(
                    "operator {badge} is already registered",
                    hint="A badge is registered once; `dockd operators list` shows it.",
                    badge=who.badge,
                ) from exc
            raise

    def operators(self) -> list[Operator]:
        def load(s: Session) -> list[Operator]:
            rows = s.query(OperatorRow).order_by(OperatorRow.badge)
            return [operator_of(r) for r in rows]

        return self.ledger.read(load)

    def credential(self, badge: str) -> Credential | None:
        def load(s: Session) -> Credential | None:
            row = s.get(OperatorRow, badge)
            if row is None:
                return None
            return Credential(
                operator_of(row),
                row.kdf,
                row.salt,
                row.passphrase_hash,
                row.failures,
                row.locked_until,
            )

        return self.ledger.read(load)

    def disable(self, badge: str, at: datetime, by: str) -> None:
        with self.ledger.transaction() as s:
            row = _row(s, badge)
            if row.disabled_at is None:
                row.disabled_at = at
                self.ledger.append_custody(s, at, "operator-disabled", badge, {}, actor=by)

    def record_failure(
        self, badge: str, at: datetime, lock_after: int, lock_for: timedelta
    ) -> datetime | None:
        with self.ledger.transaction() as s:
            row = _row(s, badge)
            row.failures += 1
            details = {"failures_in_a_row": row.failures}
            self.ledger.append_custody(
                s, at, "operator-passphrase-refused", badge, details, actor=badge
            )
            if row.failures < lock_after:
                return None
            row.failures, row.locked_until = 0, at + lock_for
            lock = {"until": row.locked_until.isoformat(), "after_failures": lock_after}
            self.ledger.append_custody(s, at, "operator-locked", badge, lock, actor="dockd")
            return row.locked_until

    def record_success(self, badge: str) -> None:
        with self.ledger.transaction() as s:
            row = _row(s, badge)
            if row.failures:
                row.failures = 0


def _row(s: Session, badge: str) -> OperatorRow:
    row = s.get(OperatorRow, badge, with_for_update=True)
    if row is None:
        raise OperatorUnknownError("no operator with badge {badge}", badge=badge)
    return row
