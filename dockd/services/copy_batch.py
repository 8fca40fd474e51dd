"""The copy pipeline's batches: staged copies waiting for one flush, and the flush.

See `dockd.services.copy` for the order of the steps and what a crash leaves.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from dockd.core.model import Problem, SourceFile, VerifiedRecording
from dockd.core.transfer import Staged
from dockd.errors import DockdError
from dockd.services.copy_phases import Phases

if TYPE_CHECKING:
    from dockd.services.copy import CopyPipeline, CopyRun

_BATCH = 64
BATCH_SECONDS = 0.5
_MOST_STAGED = 4 * _BATCH  # staged, not yet flushed: what a crash would leave to clean up
Result = tuple[VerifiedRecording, list[Problem]]
#: a copy in staging, with the source file as it was when copied
Copy = tuple[SourceFile, Staged]
_T = TypeVar("_T")
#: what a job made of each file of its group, in order: its result, or why it has none
Outcomes = list[_T | Exception]


class Batch:
    """Staged copies waiting for their batch's flush, and the flush itself."""

    def __init__(
        self,
        pipeline: CopyPipeline,
        run: CopyRun,
        pools: tuple[ThreadPoolExecutor, ThreadPoolExecutor],
        phases: Phases,
        copied: list[VerifiedRecording],
        problems: list[Problem],
    ) -> None:
        self.pipeline, self.run, self.phases = pipeline, run, phases
        self.checks, self.recorder = pools
        self.copied, self.problems = copied, problems
        self.staged: list[Copy] = []
        self.since = time.monotonic()
        self.recording: Future[None] | None = None

    def take(self, copy: Copy) -> None:
        if not self.staged:
            self.since = time.monotonic()
        self.staged.append(copy)

    def full(self) -> bool:
        return len(self.staged) >= _MOST_STAGED

    def due(self) -> bool:
        return len(self.staged) >= _BATCH or (
            bool(self.staged) and time.monotonic() - self.since > BATCH_SECONDS
        )

    def cut(self) -> list[Copy]:
        batch, self.staged = self.staged, []
        return batch

    def flush(self, batch: list[Copy]) -> DockdError | None:
        """Durable, linked, read back, links durable, one ledger transaction: in that
        order, so nothing is recorded before its bytes and its name are on the disk.

        The transaction runs in its own thread while the next batch is read back (on a
        busy ledger the two took turns, and the read-back threads idled); one batch at a
        time waits for it, so its results are all that is held."""
        if not batch:
            return None
        done, ending = self._prove(batch)
        self.recorded()
        if done:
            self.recording = self.recorder.submit(self._record, done)
        return ending

    def recorded(self) -> None:
        """Wait for the batch handed to the ledger; its failure is raised here."""
        recording, self.recording = self.recording, None
        if recording is not None:
            recording.result()

    def _prove(self, batch: list[Copy]) -> tuple[list[Result], DockdError | None]:
        store, run, phases = self.pipeline.store, self.run, self.phases
        try:
            with phases.timed("durable"):
                store.make_durable([staged for _, staged in batch])
        except DockdError as exc:
            for _, staged in batch:
                store.discard(staged)
            return [], exc
        jobs = [
            (self.checks.submit(self.pipeline.finish_group, part, run, phases), part)
            for part in _parts(batch, self.pipeline.parallel_files)
        ]
        done: list[Result] = []
        ending: DockdError | None = None
        for job, part in jobs:
            files = [file for file, _ in part]
            ending = self.pipeline._collect(job, files, run, done.append, self.problems) or ending
        if done:
            with phases.timed("dir_sync"):
                store.sync()
        return done, ending

    def _record(self, done: list[Result]) -> None:
        run, phases = self.run, self.phases
        recordings = [rec for rec, _ in done]
        with phases.timed("ledger"):
            ids = self.pipeline.ledger.add_recordings(run.session_id, run.facts.serial, recordings)
        phases.count(len(recordings))
        for _, notes in done:
            self.problems.extend(notes)
        if run.progress is not None:
            run.progress.verified(len(recordings))
        for rec, rid in zip(recordings, ids, strict=True):
            run.bound.info(
                "recording-verified",
                recording=rid,
                path=rec.source.display,
                blake3=rec.digests.blake3,
                size=rec.source.size,
                **({"late_by_s": rec.late_by_s} if rec.late else {}),
            )
        _late_offloads(run, recordings)
        self.copied.extend(recordings)

    def abandon(self, inflight: dict[Future[Outcomes[Copy]], list[SourceFile]]) -> None:
        """After an unexpected error: staged copies no flush will take are discarded now
        rather than when the store closes (the pool has finished them)."""
        left = [
            outcome
            for job in inflight
            if not job.exception()
            for outcome in job.result()
            if not isinstance(outcome, Exception)
        ]
        for _, staged in [*self.staged, *left]:
            self.pipeline.store.discard(staged)
        self.staged = []


def _late_offloads(run: CopyRun, recordings: list[VerifiedRecording]) -> None:
    """A policy violation for the nightly report, not a copy problem: one warning for the
    batch's late recordings (each one's lateness is on its `recording-verified` line).
    A warning a file cost more than its copy when a recorder came back late: all its
    files are late together, and logging serialises the copy threads."""
    late = [rec for rec in recordings if rec.late]
    if late:
        worst = max(late, key=lambda rec: rec.late_by_s)
        run.bound.warning(
            "late-offload",
            recordings=len(late),
            path=worst.source.display,
            deadline=worst.deadline.isoformat(),
            late_by_s=worst.late_by_s,
        )


def _parts(batch: list[Copy], parts: int) -> list[list[Copy]]:
    """`batch` cut into at most `parts` runs in order, one read-back job each."""
    size = -(-len(batch) // parts)
    return [batch[at : at + size] for at in range(0, len(batch), size)]
