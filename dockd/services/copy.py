"""THE copy pipeline: recorder files into the store, proven, recorded in batches.

Several files at once (hides fsync and O_DIRECT latency on small files), at most two
large ones from one recorder; a file that changes while it is read is copied once
more, then given up; the store reserves each file's size before the copy (a full
store fails at once); every object is read back from disk before its recording is
called verified, and the ledger is told only after the store's links are durable.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from dockd.core.container import ContainerInfo, ContainerProblem, read_container
from dockd.core.layout import extension
from dockd.core.model import Problem, SourceFile, VerifiedRecording
from dockd.core.recording import SessionFacts, VerifiedCopy, build_recording
from dockd.core.transfer import Published, Staged
from dockd.errors import DockdError, InternalError, RecorderGoneError, SourceFileError
from dockd.ports import Clock, EvidenceStore, ProgressSink, SessionLedger, Volume

log = structlog.get_logger("dockd.services.copy")
_BATCH = 64
_Result = tuple[VerifiedRecording, list[Problem]]


class FileProblem(Exception):
    """One file could not be copied; the session goes on with the next."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _stopped(when: str) -> RecorderGoneError:
    return RecorderGoneError(
        f"the copy was stopped {when}", hint="Re-dock the recorder to copy what is missing."
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
                raise _stopped("mid-file; nothing of it was kept")

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
        batcher = _Batcher(self, run, copied)
        ending: DockdError | None = None
        queue = iter(files)
        inflight: dict[Future[_Result], SourceFile] = {}
        with ThreadPoolExecutor(self.parallel_files, thread_name_prefix="dockd-copy") as pool:
            while True:
                if ending is None:
                    ending = self._fill(pool, queue, inflight, run)
                if not inflight:
                    break
                done, _ = wait(inflight, timeout=0.5, return_when=FIRST_COMPLETED)
                for job in done:
                    found = self._collect(job, inflight.pop(job), run, batcher, problems)
                    ending = ending or found
                batcher.maybe_flush()
        batcher.flush()
        if ending is not None:
            raise ending

    def _fill(
        self,
        pool: ThreadPoolExecutor,
        queue: Iterator[SourceFile],
        inflight: dict[Future[_Result], SourceFile],
        run: CopyRun,
    ) -> DockdError | None:
        while len(inflight) < 2 * self.parallel_files:
            if run.cancel.is_set():
                return _stopped("before it finished")
            file = next(queue, None)
            if file is None:
                break
            inflight[pool.submit(self.copy_one, file, run)] = file
        return None

    def _collect(
        self,
        job: Future[_Result],
        file: SourceFile,
        run: CopyRun,
        batcher: _Batcher,
        problems: list[Problem],
    ) -> DockdError | None:
        try:
            rec, notes = job.result()
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
            return InternalError(f"{type(exc).__name__}: {exc}")
        batcher.add(rec)
        problems.extend(notes)
        return None

    def copy_one(self, file: SourceFile, run: CopyRun) -> _Result:
        """Stage, publish, read back; a file that changed meanwhile gets one more try."""
        staged, seen = self._stage(file, run)
        if seen is None:
            self.store.discard(staged)
            staged, seen = self._stage(file, run)
            if seen is None:
                self.store.discard(staged)
                raise FileProblem(
                    "source-changed",
                    "the file changed while it was copied, twice; not copied. "
                    "Is the recorder still recording?",
                )
        published = self.store.publish(staged)
        back = self.store.verify_published(published)
        return self._describe(seen, published, back.method, run)

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
            return FileProblem(exc.problem, exc.message)
        if run.cancel.is_set() or self.volume.is_gone(run.root):
            return exc
        if exc.problem == "symlink-swapped":
            return FileProblem(exc.problem, "a symlink appeared on the path after the scan")
        return FileProblem(exc.problem, exc.message)

    def _describe(
        self, file: SourceFile, published: Published, method: str, run: CopyRun
    ) -> _Result:
        """Metadata comes from the verified copy, never from a second read of the recorder."""
        problems: list[Problem] = []
        container = self._container(file, published.key, problems)
        copy = VerifiedCopy(file, published, method, container, tuple(problems))
        rec, notes = build_recording(copy, run.facts, self.clock())
        if rec.late:  # a policy violation for the nightly report, not a copy problem
            log.warning(
                "late-offload",
                serial=run.facts.serial,
                path=file.display,
                deadline=rec.deadline.isoformat(),
                late_by_s=rec.late_by_s,
            )
        return rec, notes

    def _container(
        self, file: SourceFile, key: str, problems: list[Problem]
    ) -> ContainerInfo | None:
        with self.store.reader(key) as read_at:
            try:
                return read_container(extension(file.path.rpartition(b"/")[2]), file.size, read_at)
            except ContainerProblem as exc:
                problems.append(Problem(file.display, exc.code, exc.message))
                return None


class _Batcher:
    """Verified recordings go to the ledger in batches, once the store's links are durable."""

    def __init__(
        self, pipeline: CopyPipeline, run: CopyRun, copied: list[VerifiedRecording]
    ) -> None:
        self.pipeline, self.run, self.copied = pipeline, run, copied
        self.batch: list[VerifiedRecording] = []
        self.last_flush = time.monotonic()

    def add(self, rec: VerifiedRecording) -> None:
        self.batch.append(rec)

    def maybe_flush(self) -> None:
        if len(self.batch) >= _BATCH or (self.batch and time.monotonic() - self.last_flush > 0.5):
            self.flush()

    def flush(self) -> None:
        run, batch = self.run, self.batch
        self.pipeline.store.sync()
        ids = self.pipeline.ledger.add_recordings(run.session_id, run.facts.serial, batch)
        if run.progress is not None:
            run.progress.verified(len(batch))
        for rec, rid in zip(batch, ids, strict=True):
            run.bound.info(
                "recording-verified",
                recording=rid,
                path=rec.source.display,
                blake3=rec.digests.blake3,
                size=rec.source.size,
            )
        self.copied.extend(batch)
        self.batch = []
        self.last_flush = time.monotonic()
