"""THE copy pipeline: recorder files into the store, proven, recorded in batches.

Several files at once, at most two large ones from one recorder; a file that changes
while it is read is copied once more, then given up; the store reserves each file's size
before the copy (a full store fails at once). Copies are staged, then handled a batch at
a time: one flush makes the batch's bytes durable, each is linked into place and read
back from the disk (several at once, while the next batch is being copied), the links
are made durable, and one ledger transaction records the batch. A recording is called
verified only after all of that; a crash anywhere leaves staged garbage (removed at the
next start) or linked objects without a ledger row (re-verified at the next docking),
never a recording half recorded.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import structlog

from dockd.core.container import ContainerInfo, ContainerProblem, read_container
from dockd.core.layout import extension
from dockd.core.model import Problem, SourceFile, VerifiedRecording
from dockd.core.recording import SessionFacts, VerifiedCopy, build_recording
from dockd.core.transfer import Published, ReadBack, Staged
from dockd.errors import DockdError, InternalError, RecorderGoneError, SourceFileError
from dockd.ports import Clock, EvidenceStore, ProgressSink, SessionLedger, Volume
from dockd.services.copy_batch import BATCH_SECONDS, Batch, Copy, Outcomes, Result
from dockd.services.copy_phases import Laps, Phases
from dockd.services.heap import FROZEN
from dockd.ui.i18n import Said

# Small files travel between the threads this many at a time: one job, one future and one
# wake-up for the group, where one per file cost more CPU (GIL hand-offs) than the copy.
_GROUP = 8
_T = TypeVar("_T")


class FileProblem(Exception):
    """One file could not be copied; the session goes on with the next."""

    def __init__(self, code: str, message: Said) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _stopped(when: Said) -> RecorderGoneError:
    return RecorderGoneError(
        "the copy was stopped {when}",
        hint="Re-dock the recorder to copy what is missing.",
        when=when,
    )


@dataclass(frozen=True, slots=True)
class CopyRun:
    """What the copy threads of one dock session share."""

    session_id: str
    root: Path
    facts: SessionFacts
    cancel: threading.Event
    progress: ProgressSink | None
    bound: structlog.typing.FilteringBoundLogger
    # Large files gain nothing from more than two streams from one recorder, and each
    # holds a few chunks in its pipeline: this bounds memory whatever the file sizes.
    streams: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(2)
    )

    def chunk_hook(self) -> Callable[[int], None]:
        """Reports progress, and abandons the file in flight at the next chunk once the
        session is cancelled."""

        def check(nbytes: int) -> None:
            if self.progress is not None:
                self.progress.copied(nbytes)
            if self.cancel.is_set():
                raise _stopped(Said("mid-file; nothing of it was kept"))

        return check


class CopyPipeline:
    def __init__(
        self,
        store: EvidenceStore,
        volume: Volume,
        ledger: SessionLedger,
        clock: Clock,
        parallel_files: int = 4,
    ) -> None:
        self.store, self.volume, self.ledger = store, volume, ledger
        self.clock = clock
        self.parallel_files = parallel_files

    def copy_all(
        self,
        files: list[SourceFile],
        run: CopyRun,
        copied: list[VerifiedRecording],
        problems: list[Problem],
    ) -> None:
        """Copy `files`; each recorded one joins `copied`, per-file problems `problems`.
        The first session-ending error stops new copies, lets those under way finish,
        records them, and is raised."""
        phases = Phases()
        ending: DockdError | None = None
        queue = _groups(files, self.store.chunk_size)
        inflight: dict[Future[Outcomes[Copy]], list[SourceFile]] = {}
        with (
            FROZEN.during_copy(),
            ThreadPoolExecutor(self.parallel_files, thread_name_prefix="dockd-copy") as pool,
            ThreadPoolExecutor(self.parallel_files, thread_name_prefix="dockd-verify") as checks,
            ThreadPoolExecutor(1, thread_name_prefix="dockd-flush") as flusher,
            ThreadPoolExecutor(1, thread_name_prefix="dockd-record") as recorder,
        ):
            batch = Batch(self, run, (checks, recorder), phases, copied, problems)
            flushing: Future[DockdError | None] | None = None
            try:
                while True:
                    if ending is None:
                        ending = self._fill(pool, queue, inflight, run, phases)
                    if not inflight:
                        break
                    done, _ = wait(inflight, timeout=BATCH_SECONDS, return_when=FIRST_COMPLETED)
                    for job in [j for j in inflight if j in done]:  # in the volume's order
                        found = self._collect(job, inflight.pop(job), run, batch.take, problems)
                        ending = ending or found
                    # one flush at a time, in order, while the next batch is being copied;
                    # copies wait for a flush that has fallen too far behind
                    if batch.due() and flushing and (flushing.done() or batch.full()):
                        ending = flushing.result() or ending
                        flushing = None
                    if batch.due() and flushing is None:
                        flushing = flusher.submit(batch.flush, batch.cut())
                ending = (flushing.result() if flushing else None) or ending
                flushing = None
                ending = batch.flush(batch.cut()) or ending
                batch.recorded()
            finally:
                if flushing is not None:
                    flushing.exception()  # its copies are its own to record or discard
                batch.abandon(inflight)
        run.bound.info("copy-timing", **phases.summary())
        if ending is not None:
            raise ending

    def _fill(
        self,
        pool: ThreadPoolExecutor,
        queue: Iterator[list[SourceFile]],
        inflight: dict[Future[Outcomes[Copy]], list[SourceFile]],
        run: CopyRun,
        phases: Phases,
    ) -> DockdError | None:
        while len(inflight) < 2 * self.parallel_files:
            if run.cancel.is_set():
                return _stopped(Said("before it finished"))
            group = next(queue, None)
            if group is None:
                break
            inflight[pool.submit(self.stage_group, group, run, phases)] = group
        return None

    def _collect(
        self,
        job: Future[Outcomes[_T]],
        group: list[SourceFile],
        run: CopyRun,
        take: Callable[[_T], None],
        problems: list[Problem],
    ) -> DockdError | None:
        """Hands each result of a finished job to `take`; a per-file problem joins
        `problems`; the first session-ending error is returned."""
        try:
            outcomes = job.result()
        except Exception as exc:
            outcomes = [exc]
        ending: DockdError | None = None
        for file, outcome in zip(group, outcomes, strict=False):  # unbegun files: none
            ending = self._settle(file, outcome, run, take, problems) or ending
        return ending

    def _settle(
        self,
        file: SourceFile,
        outcome: _T | Exception,
        run: CopyRun,
        take: Callable[[_T], None],
        problems: list[Problem],
    ) -> DockdError | None:
        try:
            if isinstance(outcome, Exception):
                raise outcome
        except FileProblem as problem:
            problems.append(Problem(file.display, problem.code, problem.message))
            run.bound.warning(
                "problem", path=file.display, code=problem.code, message=problem.message
            )
            return None
        except DockdError as exc:
            return exc
        except Exception as exc:
            run.bound.exception("internal-error", path=file.display)
            return InternalError("{kind}: {reason}", kind=type(exc).__name__, reason=exc)
        take(outcome)
        return None

    def stage_group(self, files: list[SourceFile], run: CopyRun, phases: Phases) -> Outcomes[Copy]:
        """Each file into staging in turn; after a session-ending error the rest of the
        group is not begun."""
        outcomes: Outcomes[Copy] = []
        with phases.timed("stage"):
            for file in files:
                try:
                    outcomes.append(self.stage_one(file, run))
                except FileProblem as problem:
                    outcomes.append(problem)
                except Exception as exc:
                    outcomes.append(exc)
                    break
        return outcomes

    def finish_group(self, copies: list[Copy], run: CopyRun, phases: Phases) -> Outcomes[Result]:
        """finish_one for each durable copy; one that fails does not stop the others
        (each is staged and durable: left alone, it would only wait to be cleaned up)."""
        outcomes: Outcomes[Result] = []
        laps = phases.laps()
        for copy in copies:
            try:
                outcomes.append(self.finish_one(copy, run, laps))
            except Exception as exc:
                outcomes.append(exc)
                laps.skip()
        laps.close()
        return outcomes

    def stage_one(self, file: SourceFile, run: CopyRun) -> Copy:
        """Copy into staging; a file that changed meanwhile gets one more try."""
        staged, seen = self._stage(file, run)
        if seen is None:
            self.store.discard(staged)
            staged, seen = self._stage(file, run)
            if seen is None:
                self.store.discard(staged)
                raise FileProblem(
                    "source-changed",
                    Said(
                        "the file changed while it was copied, twice; not copied. "
                        "Is the recorder still recording?"
                    ),
                )
        return seen, staged

    def finish_one(self, copy: Copy, run: CopyRun, laps: Laps) -> Result:
        """Link a durable staged copy into place, read it back from the disk, describe it."""
        seen, staged = copy
        published = self.store.publish(staged)
        laps.lap("publish")
        back = self.store.verify_published(published)
        laps.lap("read_back")
        described = self._describe(seen, published, back, run)
        laps.lap("describe")
        return described

    def _stage(self, file: SourceFile, run: CopyRun) -> tuple[Staged, SourceFile | None]:
        """Copy into staging; the SourceFile as copied, or None when it changed meanwhile."""
        try:
            source = self.volume.open(run.root, file)
        except SourceFileError as exc:
            raise self._source_failure(exc, run) from exc
        staged: Staged | None = None
        try:
            large = source.size > self.store.chunk_size
            with run.streams if large else contextlib.nullcontext():
                staged = self.store.copy_in(source, source.size, run.chunk_hook())
            seen = source.as_copied()
        except SourceFileError as exc:
            if staged is not None:
                self.store.discard(staged)
            raise self._source_failure(exc, run) from exc
        finally:
            source.close()
        if seen is None or staged.size != seen.size:
            return staged, None
        return staged, seen

    def _source_failure(self, exc: SourceFileError, run: CopyRun) -> Exception:
        """A vanished recorder ends the session; a bad file is only that file's problem.

        A yanked USB recorder under a kernel mount gives EIO, like a bad sector; the
        daemon's udev 'remove' (the cancel event) is what tells the two apart."""
        if exc.problem == "not-regular-file":
            return FileProblem(exc.problem, Said.error(exc))
        if run.cancel.is_set() or self.volume.is_gone(run.root):
            return exc
        if exc.problem == "symlink-swapped":
            return FileProblem(exc.problem, Said("a symlink appeared on the path after the scan"))
        return FileProblem(exc.problem, Said.error(exc))

    def _describe(
        self, file: SourceFile, published: Published, back: ReadBack, run: CopyRun
    ) -> Result:
        """Metadata comes from the verified copy, never from a second read of the recorder."""
        problems: list[Problem] = []
        container = self._container(file, published.key, back.whole, problems)
        copy = VerifiedCopy(file, published, back.method, container, tuple(problems))
        return build_recording(copy, run.facts, self.clock())

    def _container(
        self, file: SourceFile, key: str, whole: bytes | None, problems: list[Problem]
    ) -> ContainerInfo | None:
        """From the bytes the read-back verified when it holds them all (a small
        recording: no second open and read), else from the object."""
        ext = extension(file.path.rpartition(b"/")[2])
        with (
            contextlib.nullcontext(lambda at, n: whole[at : at + n])
            if whole is not None
            else self.store.reader(key)
        ) as read_at:
            try:
                return read_container(ext, file.size, read_at)
            except ContainerProblem as exc:
                problems.append(Problem(file.display, exc.code, exc.message))
                return None


def _groups(files: list[SourceFile], chunk: int) -> Iterator[list[SourceFile]]:
    """The copy jobs in the volume's order: up to _GROUP small files (one read and one
    write each) together, a large file alone (it streams, and has threads of its own)."""
    group: list[SourceFile] = []
    for file in files:
        if file.size > chunk:
            if group:
                yield group
                group = []
            yield [file]
            continue
        group.append(file)
        if len(group) == _GROUP:
            yield group
            group = []
    if group:
        yield group
