"""Supervision: spot checks (000:32, 002:20, 004:28), interruptions explained and reviewed
(000:20, 001:11, 002:13, 003/D:10), work records when recording was impossible (000:12,
001:7, 002:12, 003/A:5, 004:11), recorders reclaimed or retired, and unplug times.

Nobody chooses a spot-check sample: its seed is the custody chain's head, and the draw
is written (seed, population, ratio, sample) before anyone sees it, so redrawing until
a convenient sample appears leaves a trail of draws.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from dockd.core.policy import PolicyPack
from dockd.core.supervision import Draw, RecordedDraw, Review, WorkRecord, draw_sample
from dockd.errors import ChainMovedError, ConfigError, LedgerError
from dockd.ports import OperatorAuth, SupervisionRecords

_DRAW_ATTEMPTS = 5
DEVICE_CHANGES = ("reclaimed", "retired")


class Supervision:
    def __init__(
        self,
        records: SupervisionRecords,
        auth: OperatorAuth,
        policy: PolicyPack,
        clock: Callable[[], datetime],
    ) -> None:
        self.records = records
        self.auth = auth
        self.policy = policy
        self.clock = clock

    def draw(self, since: timedelta, by: str) -> tuple[int, Draw]:
        """Draw and record a sample of the last `since`'s recordings; its id and the draw."""
        for _ in range(_DRAW_ATTEMPTS):
            now = self.clock()
            _, seed = self.records.chain_head()
            population = self.records.population(now - since, now)
            ratio = self.policy.spot_check.ratio
            sample = draw_sample(seed, population, ratio)
            draw = Draw(now - since, now, seed, ratio, population, sample)
            try:
                return self.records.record_draw(draw, now, by), draw
            except ChainMovedError:
                continue
        raise ChainMovedError(
            "the custody chain kept moving during {DRAW_ATTEMPTS} attempts to draw",
            DRAW_ATTEMPTS=_DRAW_ATTEMPTS,
        )

    def recorded_draw(self, draw_id: int) -> RecordedDraw:
        found = self.records.draw(draw_id)
        if found is None:
            raise LedgerError(
                "no spot-check draw {draw_id}", hint="See the nightly report.", draw_id=draw_id
            )
        return found

    def review(self, item: int, review: Review, passphrase: str) -> None:
        """The reviewer proves they are present: a finding names a person."""
        at = self.clock()
        self.auth.authenticate(review.reviewer, passphrase, at)
        self.records.review_item(item, review, at)

    def explain(self, interruption: int, by: str, text: str) -> None:
        if not text.strip():
            raise ConfigError("the explanation is empty", hint="Say why recording stopped.")
        self.records.explain(interruption, text.strip(), by, self.clock())

    def review_interruption(self, interruption: int, by: str) -> None:
        self.records.review_interruption(interruption, by, self.clock())

    def add_work_record(self, record: WorkRecord, by: str) -> int:
        if record.end <= record.start:
            raise ConfigError(
                "--to {end} is not after --from {start}",
                hint="Give the stretch when recording was impossible, start before end.",
                end=record.end.isoformat(),
                start=record.start.isoformat(),
            )
        if not record.reason.strip() or not record.basis.strip():
            raise ConfigError(
                "a work record needs its reason and the article it rests on",
                hint="e.g. --reason 'no night vision' --basis 000:12",
            )
        return self.records.add_work_record(record, self.clock(), by)

    def change_device(self, serial: str, kind: str, reason: str, by: str) -> None:
        if kind not in DEVICE_CHANGES:
            raise ConfigError("unknown device change {kind!r}", kind=kind)
        if not reason.strip():
            raise ConfigError("the reason is empty", hint="Say why, for the asset register.")
        self.records.change_device(serial, kind, reason.strip(), self.clock(), by)

    def record_unplug(self, serial: str, session_id: str | None) -> None:
        """The daemon saw the recorder go: the media-return clock (003/E:9) starts."""
        self.records.record_unplug(serial, session_id, self.clock())
