"""Viewing footage: request, approve (or refuse), open, and the register of all of it.

The pack's rules are applied by `dockd.core.viewing`; this module proves who is present
(`OperatorAuth`), fetches the facts and records each step. Nothing is shown before the
request is approved and open, and what is shown is a copy checked against the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from dockd.core import viewing as rules
from dockd.core.archive import Footage, copy_name
from dockd.core.policy import PolicyPack
from dockd.core.viewing import Person, RegisterEntry, Viewing, ViewingRequest
from dockd.errors import ConfigError, LedgerError, OperatorDisabledError, OperatorUnknownError
from dockd.ports import CheckedCopies, OperatorAuth, OperatorRecords, ViewingRecords


class ViewingService:
    def __init__(
        self,
        records: ViewingRecords,
        operators: OperatorRecords,
        auth: OperatorAuth,
        copies: CheckedCopies,
        policy: PolicyPack,
        clock: Callable[[], datetime],
    ) -> None:
        self.records = records
        self.operators = operators
        self.auth = auth
        self.copies = copies
        self.policy = policy
        self.clock = clock

    def request(self, recordings: Sequence[int], viewer: str, reason: str) -> int:
        """A request names the tier and the roles it needs, as the pack says today."""
        if not reason.strip():
            raise ConfigError("a viewing needs a reason", hint="Say why: --reason TEXT.")
        if not recordings:
            raise ConfigError("a viewing request names at least one recording")
        found = self.operators.credential(viewer)
        if found is None:
            raise OperatorUnknownError("no operator with badge {viewer}", viewer=viewer)
        if found.operator.disabled:
            raise OperatorDisabledError("operator {viewer} is disabled", viewer=viewer)
        ids = list(dict.fromkeys(recordings))
        policy = self.policy.viewing
        tier = rules.tier(policy, found.operator, self.records.recording_units(ids))
        request = ViewingRequest(
            id=0,
            viewer=Person.of(found.operator),
            recordings=ids,
            reason=reason.strip(),
            requested_at=self.clock(),
            pack=self.policy.id,
            tier=tier,
            required_roles=rules.required_roles(policy, tier),
            ordered=policy.ordered,
            open_hours=policy.effective_open_hours,
        )
        return self.records.add_request(request, request.requested_at)

    def approve(self, request_id: int, approver: str, passphrase: str) -> RegisterEntry:
        at = self.clock()
        who = self.auth.authenticate(approver, passphrase, at)
        request = self._request(request_id)
        role = rules.role_to_fill(request, who)
        complete = len(rules.missing_roles(request)) == 1
        self.records.add_approval(request_id, who.badge, role, at, len(request.approvals), complete)
        return rules.register_entry(self._request(request_id), self.clock())

    def refuse(self, request_id: int, approver: str, passphrase: str, reason: str) -> None:
        """Whoever could approve next may refuse instead; a refusal ends the request."""
        at = self.clock()
        who = self.auth.authenticate(approver, passphrase, at)
        rules.role_to_fill(self._request(request_id), who)
        self.records.refuse(request_id, who.badge, reason, at)

    def open(self, request_id: int, viewer: str, passphrase: str, out: Path) -> Viewing:
        at = self.clock()
        who = self.auth.authenticate(viewer, passphrase, at)
        request = self._request(request_id)
        until = rules.check_open(request, who.badge, at)
        footage = self.records.footage(request.recordings)
        names = [(copy_name(f), f) for f in footage]
        size = self.copies.copy_out(out, names)
        viewing = Viewing(
            viewer=Person.of(who),
            opened_at=at,
            until=until,
            out=str(out),
            files=len(names),
            bytes=size,
        )
        self.records.add_viewing(request_id, viewing)
        return viewing

    def open_stream(
        self, request_id: int, viewer: str, passphrase: str
    ) -> tuple[Viewing, list[Footage]]:
        """A viewing streamed to the status page: recorded (a custody event) when it opens;
        the bytes are the footage's sizes, served by range as the browser asks."""
        at = self.clock()
        who = self.auth.authenticate(viewer, passphrase, at)
        request = self._request(request_id)
        until = rules.check_open(request, who.badge, at)
        footage = self.records.footage(request.recordings)
        viewing = Viewing(
            viewer=Person.of(who),
            opened_at=at,
            until=until,
            out="stream:web",
            files=len(footage),
            bytes=sum(f.size for f in footage),
        )
        self.records.add_viewing(request_id, viewing)
        return viewing, footage

    def streamable(self, request_id: int, viewer: str) -> tuple[datetime, list[Footage]]:
        """The end of the window and the footage, while `viewer` may still stream it."""
        request = self._request(request_id)
        until = rules.check_open(request, viewer, self.clock())
        return until, self.records.footage(request.recordings)

    def register(self) -> list[RegisterEntry]:
        now = self.clock()
        return [rules.register_entry(r, now) for r in self.records.requests()]

    def _request(self, request_id: int) -> ViewingRequest:
        found = self.records.request(request_id)
        if found is None:
            raise LedgerError(
                "no viewing request {request_id}",
                hint="See `dockd view register`.",
                request_id=request_id,
            )
        return found
