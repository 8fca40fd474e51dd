"""The order of steps for one docked recorder: scan, plan, copy, verify, record, manifest.

Per-file problems are collected and one bad file never stops the others; a
recorder that vanishes ends its own session as *interrupted*; a store that
fails ends the session as *failed*. In every case the session is closed in the
ledger with a manifest of what was and was not copied.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog

from dockd.adapters.clock import utc_now
from dockd.adapters.ledger.policy import Custodian, PolicyLedger
from dockd.adapters.ledger.sessions import Ledger
from dockd.core.station_clock import StationClock
from dockd.adapters.store.hashpipe import SourceReadError
from dockd.adapters.store.objects import ObjectStore, Published, Staged
from dockd.adapters.volume import (
    GONE_ERRNOS,
    Scan,
    open_beneath,
    read_small_file,
    scan_volume,
    stores_local_times,
    translate_source_error,
)
from dockd.core.clock import (
    RecorderClock,
    Verdict,
    clock_file_drift,
    corrected,
    drift_verdict,
    lower_bound_drift,
    parse_clock_text,
    true_time,
    wall_clock,
)
from dockd.core.container import ContainerInfo, ContainerProblem, read_container
from dockd.core.deadlines import judge
from dockd.core.gaps import find_gaps
from dockd.core.layout import extension
from dockd.core.manifest import build_manifest, manifest_bytes
from dockd.core.model import (
    Problem,
    SourceFile,
    StoredDocument,
    VerifiedRecording,
)
from dockd.core.names import parse_name
from dockd.core.plan import plan_copy
from dockd.core.policy import PolicyPack
from dockd.core.profiles import RecorderProfile, pick_profile
from dockd.core.retention import retain_until
from dockd.core.timing import recording_times
from dockd.core.views import (
    ManifestRecorder,
    ManifestStation,
    RecorderClockView,
    RecordingView,
    StationClockView,
)
from dockd.errors import (
    DockdError,
    InternalError,
    RecorderGoneError,
    SourceError,
    StationClockError,
    StoreError,
)

log = structlog.get_logger("dockd.services.dock_session")
_BATCH = 64
Clock = Callable[[], datetime]


class FileProblem(Exception):
    """One file could not be copied; the session goes on with the next."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Station:
    host: str
    boot_id: str
    pid: int
    version: str


@dataclass
class SessionOutcome:
    session_id: str
    serial: str
    state: str = "running"
    copied: list[VerifiedRecording] = field(default_factory=list)
    already_verified: int = 0
    deferred: int = 0
    problems: list[Problem] = field(default_factory=list)
    station_clock: StationClock | None = None
    recorder_clock: RecorderClock | None = None
    drift_verdict: Verdict = "unknown"
    not_copied: int = 0

    @property
    def fully_verified(self) -> bool:
        """Every recording on the recorder is in the store, proven: nothing left behind."""
        return self.error is None and self.not_copied == 0 and self.state != "running"

    error: DockdError | None = None
    manifest: StoredDocument | None = None


class ProgressSink(Protocol):
    """Who watches a session's progress (the status board's slot)."""

    def planned(self, session: str, files: int, nbytes: int, drift_s: float | None) -> None: ...
    def copied(self, nbytes: int) -> None: ...
    def verified(self, files: int) -> None: ...


@dataclass(frozen=True, slots=True)
class _CopyRun:
    """What the copy threads of one dock session share."""

    cancel: threading.Event
    progress: ProgressSink | None
    recorder_clock: RecorderClock
    local_file_times: bool
    duty_returns: dict[str, list[datetime]]
    custodians: list[tuple[Custodian, datetime, datetime | None]]
    # Large files gain nothing from more than two streams from one recorder, and each
    # holds a few chunks in its pipeline: this bounds memory whatever the file sizes.
    streams: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(2)
    )


def _chunk_hook(run: _CopyRun) -> Callable[[int], None]:
    """Called per chunk copied: reports progress, and abandons the file in flight, at the
    next chunk, once the session is cancelled."""
    cancel, progress = run.cancel, run.progress

    def check(nbytes: int) -> None:
        if progress is not None:
            progress.copied(nbytes)
        if cancel.is_set():
            raise RecorderGoneError(
                "the copy was stopped mid-file; nothing of it was kept",
                hint="Re-dock the recorder to copy what is missing.",
            )

    return check


def _station_view(clock: StationClock | None) -> StationClockView | None:
    if clock is None:
        return None
    return StationClockView(
        offset_s=clock.offset_s,
        server=clock.server,
        stratum=clock.stratum,
        delay_s=clock.delay_s,
        synchronised=clock.synchronised,
        method=clock.method,
        measured_at=clock.measured_at,
        detail=clock.detail,
    )


def _recorder_clock_view(clock: RecorderClock | None, verdict: Verdict) -> RecorderClockView | None:
    if clock is None:
        return None
    return RecorderClockView(
        drift_s=clock.drift_s,
        method=clock.method,
        measured_at=clock.measured_at,
        detail=clock.detail,
        verdict=verdict,
    )


def _custodian_badge(
    custodians: list[tuple[Custodian, datetime, datetime | None]], at: datetime
) -> str | None:
    """Who had the recorder when the recording ended ("whoever uses it is responsible")."""
    for who, since, until in reversed(custodians):
        if since <= at and (until is None or at < until):
            return who.badge
    return None


def _file_time(mtime_ns: int, local_zone: ZoneInfo | None) -> datetime | None:
    """A file time as an instant; FAT keeps local wall-clock fields, read in the zone."""
    try:
        if local_zone is not None:
            return wall_clock(mtime_ns / 1e9, local_zone)
        return datetime.fromtimestamp(mtime_ns / 1e9, UTC)
    except (OverflowError, ValueError, OSError):
        return None


class Ingestor:
    def __init__(
        self,
        store: ObjectStore,
        ledger: Ledger,
        profiles: dict[str, RecorderProfile],
        station: Station,
        station_clock: Callable[[], StationClock],
        policy: PolicyPack,
        duty: PolicyLedger,
        clock: Clock = utc_now,
        parallel_files: int = 4,
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.profiles = profiles
        self.station = station
        self.clock = clock
        self.parallel_files = parallel_files
        self.station_clock = station_clock
        self.policy = policy
        self.clock_policy = policy.clock
        self.duty = duty

    def ingest(
        self,
        source: Path,
        serial: str,
        profile_id: str,
        slot: str | None = None,
        cancel: threading.Event | None = None,
        ready: Callable[[SourceFile], bool] | None = None,
        local_file_times: bool | None = None,
        progress: ProgressSink | None = None,
    ) -> SessionOutcome:
        """One dock session. `ready` holds back files that are not complete yet (drop
        folders); they are counted in `deferred` and left for a later session.
        `local_file_times`: the volume keeps wall-clock file times (FAT); found out from
        the mount table when not given."""
        profile = pick_profile(self.profiles, profile_id)
        outcome = SessionOutcome(session_id=str(uuid.uuid4()), serial=serial)
        started = self.clock()
        self.ledger.start_session(
            session_id=outcome.session_id,
            serial=serial,
            profile=profile.id,
            slot=slot,
            source=str(source),
            host=self.station.host,
            pid=self.station.pid,
            boot_id=self.station.boot_id,
            at=started,
        )
        bound = log.bind(session=outcome.session_id, serial=serial, slot=slot)
        bound.info("session-started", source=str(source), profile=profile.id)
        files_seen = 0
        pending: list[SourceFile] = []
        already: list[tuple[SourceFile, RecordingView]] = []
        try:
            scan = scan_volume(source, profile)
            outcome.problems.extend(scan.problems)
            complete = [f for f in scan.recordings if ready is None or ready(f)]
            outcome.deferred = len(scan.recordings) - len(complete)
            files_seen = len(complete)
            prior = self.ledger.prior_recordings(serial)
            plan = plan_copy(complete, prior.keys())
            already = [(f, prior[f.identity]) for f in plan.already_verified]
            outcome.already_verified = len(already)
            pending = list(plan.to_copy)
            self._check_station(outcome, bound)  # after the plan: a refusal lists what is left
            root = os.fsencode(source)
            clock = self._recorder_clock(root, profile, scan, outcome)
            local = stores_local_times(source) if local_file_times is None else local_file_times
            run = _CopyRun(
                cancel or threading.Event(),
                progress,
                clock,
                local,
                self.duty.duty_returns(),
                self.duty.custodians_at(serial),
            )
            if progress is not None:
                progress.planned(
                    outcome.session_id, len(pending), sum(f.size for f in pending), clock.drift_s
                )
            self._copy_all(root, pending, profile, outcome, bound, run)
            self._find_interruptions(outcome)
            outcome.state = "completed_with_problems" if outcome.problems else "completed"
        except RecorderGoneError as exc:
            outcome.state, outcome.error = "interrupted", exc
        except DockdError as exc:
            outcome.state, outcome.error = "failed", exc
        except Exception as exc:
            bound.exception("internal-error")
            outcome.state = "failed"
            outcome.error = InternalError(f"{type(exc).__name__}: {exc}")
        copied = {r.source.path for r in outcome.copied}
        pending = [f for f in pending if f.path not in copied]
        outcome.not_copied = len(pending)
        if outcome.error is not None:
            outcome.problems.append(Problem("/", outcome.error.code, outcome.error.message))
            bound.error(
                "session-" + outcome.state,
                code=outcome.error.code,
                message=outcome.error.message,
                hint=outcome.error.hint,
            )
        self._finish(outcome, profile, slot, source, started, files_seen, already, pending)
        bound.info(
            "session-finished",
            state=outcome.state,
            copied=len(outcome.copied),
            already_verified=outcome.already_verified,
            problems=len(outcome.problems),
        )
        return outcome

    def _find_interruptions(self, outcome: SessionOutcome) -> None:
        """Holes between this session's clips (and the recorder's previous one), for review."""
        rules = self.policy.interruptions
        clips = self.duty.clips_around(outcome.serial, outcome.session_id)
        gaps = find_gaps(clips, rules.gap_tolerance_s, rules.duty_break_hours * 3600)
        self.duty.record_interruptions(outcome.session_id, outcome.serial, gaps, self.clock())
        for gap in gaps:
            outcome.problems.append(
                Problem(
                    "/",
                    "interruption",
                    f"{gap.seconds / 60:.1f} min without recording between {gap.start.isoformat()} "
                    f"and {gap.end.isoformat()}: to be reviewed",
                )
            )

    def _check_station(
        self, outcome: SessionOutcome, bound: structlog.typing.FilteringBoundLogger
    ) -> None:
        """Measure the station's own clock; never proceed silently as if it were good."""
        station = outcome.station_clock = self.station_clock()
        if station.synchronised:
            return
        message = f"the station clock is not synchronised: {station.detail}"
        if self.clock_policy.on_unsynchronised == "refuse":
            raise StationClockError(message)
        outcome.problems.append(Problem("/", "station-clock-unsynchronised", message))
        bound.warning("problem", code="station-clock-unsynchronised", message=message)

    def _recorder_clock(
        self, root: bytes, profile: RecorderProfile, scan: Scan, outcome: SessionOutcome
    ) -> RecorderClock:
        """The recorder's drift from true time, measured once per dock session."""
        station = outcome.station_clock
        measured_at = self.clock()
        now = true_time(measured_at, station.offset_s if station else None)
        clock = None
        if profile.clock_file:
            raw = read_small_file(root, profile.clock_file.encode())
            if raw is not None:
                reported = parse_clock_text(
                    raw.decode("utf-8", "replace"), profile.clock_format, profile.zone
                )
                if reported is None:
                    outcome.problems.append(
                        Problem(
                            profile.clock_file,
                            "clock-file-unreadable",
                            f"expected one line in the format {profile.clock_format!r}",
                        )
                    )
                else:
                    clock = clock_file_drift(reported, now, measured_at, profile.clock_file)
                    if station is None or not station.synchronised:
                        clock = replace(
                            clock,
                            detail=clock.detail + " (the station clock is "
                            "not synchronised: drift is against the station clock)",
                        )
        if clock is None:
            starts = (
                n.start
                for f in scan.recordings
                if (n := parse_name(profile, f.path.rpartition(b"/")[2].decode("utf-8", "replace")))
                is not None
                and n.start is not None
            )
            clock = lower_bound_drift(starts, now, measured_at)
        outcome.recorder_clock = clock
        policy = self.clock_policy
        outcome.drift_verdict = drift_verdict(clock, policy.drift_warn_s, policy.drift_violation_s)
        if outcome.drift_verdict in ("warn", "violation"):
            outcome.problems.append(
                Problem(
                    "/",
                    f"recorder-clock-{outcome.drift_verdict}",
                    f"the recorder's clock is off by {clock.drift_s:+.1f} s ({clock.method}); "
                    f"warn at {policy.drift_warn_s:g} s, violation at "
                    f"{policy.drift_violation_s:g} s",
                )
            )
        return clock

    def _copy_all(
        self,
        root: bytes,
        files: list[SourceFile],
        profile: RecorderProfile,
        outcome: SessionOutcome,
        bound: structlog.typing.FilteringBoundLogger,
        run: _CopyRun,
    ) -> None:
        """Copy several files at once (hides fsync and O_DIRECT latency on small files) and
        record verified ones in batches; the first session-ending error stops new copies,
        lets those under way finish, records them, and is raised."""
        queue = iter(files)
        inflight: dict[Future[tuple[VerifiedRecording, list[Problem]]], SourceFile] = {}
        batch: list[VerifiedRecording] = []
        last_flush = time.monotonic()
        ending: DockdError | None = None

        def flush() -> None:
            nonlocal last_flush
            self.store.sync()
            ids = self.ledger.add_recordings(outcome.session_id, outcome.serial, batch)
            if run.progress is not None:
                run.progress.verified(len(batch))
            for rec, rid in zip(batch, ids, strict=True):
                bound.info(
                    "recording-verified",
                    recording=rid,
                    path=rec.source.display,
                    blake3=rec.digests.blake3,
                    size=rec.source.size,
                )
            outcome.copied.extend(batch)
            batch.clear()
            last_flush = time.monotonic()

        with ThreadPoolExecutor(self.parallel_files, thread_name_prefix="dockd-copy") as pool:
            while True:
                while ending is None and len(inflight) < 2 * self.parallel_files:
                    if run.cancel.is_set():
                        ending = RecorderGoneError(
                            "the copy was stopped before it finished",
                            hint="Re-dock the recorder to copy what is missing.",
                        )
                        break
                    file = next(queue, None)
                    if file is None:
                        break
                    job = pool.submit(self._copy_one, root, file, profile, outcome.serial, run)
                    inflight[job] = file
                if not inflight:
                    break
                done, _ = wait(inflight, timeout=0.5, return_when=FIRST_COMPLETED)
                for job in done:
                    file = inflight.pop(job)
                    try:
                        rec, notes = job.result()
                    except FileProblem as problem:
                        outcome.problems.append(
                            Problem(file.display, problem.code, problem.message)
                        )
                        bound.warning(
                            "problem", path=file.display, code=problem.code, message=problem.message
                        )
                        continue
                    except DockdError as exc:
                        ending = ending or exc
                        continue
                    except Exception as exc:
                        bound.exception("internal-error", path=file.display)
                        ending = ending or InternalError(f"{type(exc).__name__}: {exc}")
                        continue
                    batch.append(rec)
                    outcome.problems.extend(notes)
                if len(batch) >= _BATCH or (batch and time.monotonic() - last_flush > 0.5):
                    flush()
        flush()
        if ending is not None:
            raise ending

    def may_set_clock(self, profile_id: str) -> bool:
        """Off unless the policy allows it and the recorder has a clock-set file at all."""
        profile = pick_profile(self.profiles, profile_id)
        return self.clock_policy.set_recorder_clock and profile.clock_set_file is not None

    def write_clock_set_file(
        self, mountpoint: Path, profile_id: str, serial: str, session_id: str
    ) -> None:
        """Write true time, in the recorder's zone and format, for it to read at power-up."""
        profile = pick_profile(self.profiles, profile_id)
        assert profile.clock_set_file is not None
        station = self.station_clock()
        if not station.synchronised:
            log.warning(
                "recorder-clock-not-set",
                serial=serial,
                session=session_id,
                reason=f"the station clock is not synchronised: {station.detail}",
            )
            return
        now = true_time(self.clock(), station.offset_s).astimezone(profile.zone)
        text = now.strftime(profile.clock_format) + "\n"
        path = mountpoint / profile.clock_set_file
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            try:
                os.write(fd, text.encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise SourceError(f"cannot write {profile.clock_set_file}: {exc.strerror}") from exc
        self.ledger.record_event(
            self.clock(),
            "recorder-clock-set",
            session_id,
            {
                "serial": serial,
                "file": profile.clock_set_file,
                "value": text.strip(),
                "station_synchronised": station.synchronised,
            },
        )
        log.info("recorder-clock-set", serial=serial, session=session_id, value=text.strip())

    def record_failed_dock(
        self, serial: str, profile_id: str, slot: str | None, source: str, error: DockdError
    ) -> str:
        """A dock that failed before there was anything to scan (write-block, mount)."""
        session_id = str(uuid.uuid4())
        at = self.clock()
        self.ledger.start_session(
            session_id=session_id,
            serial=serial,
            profile=profile_id,
            slot=slot,
            source=source,
            host=self.station.host,
            pid=self.station.pid,
            boot_id=self.station.boot_id,
            at=at,
        )
        self.ledger.finish_session(
            session_id,
            state="failed",
            at=self.clock(),
            files_seen=0,
            already_verified=0,
            problems=[Problem("/", error.code, error.message)],
            error_code=error.code,
            manifest=None,
        )
        return session_id

    def _finish(
        self,
        outcome: SessionOutcome,
        profile: RecorderProfile,
        slot: str | None,
        source: Path,
        started: datetime,
        files_seen: int,
        already: list[tuple[SourceFile, RecordingView]],
        pending: list[SourceFile],
    ) -> None:
        finished = self.clock()
        station_clock = _station_view(outcome.station_clock)
        recorder_clock = _recorder_clock_view(outcome.recorder_clock, outcome.drift_verdict)
        manifest = build_manifest(
            session_id=outcome.session_id,
            state=outcome.state,
            started_at=started,
            finished_at=finished,
            station=ManifestStation(host=self.station.host, dockd_version=self.station.version),
            recorder=ManifestRecorder(
                serial=outcome.serial, profile=profile.id, slot=slot, source=str(source)
            ),
            station_clock=station_clock,
            recorder_clock=recorder_clock,
            copied=outcome.copied,
            already_verified=already,
            not_copied=pending,
            problems=outcome.problems,
        )
        try:
            published, _ = self.store.put_bytes(manifest_bytes(manifest))
            outcome.manifest = StoredDocument(
                published.digests, published.size, published.key, published.protections
            )
        except StoreError as exc:
            outcome.problems.append(Problem("/", exc.code, f"manifest not stored: {exc.message}"))
            if outcome.error is None:
                outcome.state, outcome.error = "failed", exc
        self.ledger.finish_session(
            outcome.session_id,
            state=outcome.state,
            at=finished,
            files_seen=files_seen,
            already_verified=outcome.already_verified,
            problems=outcome.problems,
            error_code=outcome.error.code if outcome.error else None,
            manifest=outcome.manifest,
            station_clock=station_clock,
            recorder_clock=recorder_clock,
        )

    def _copy_one(
        self,
        root: bytes,
        file: SourceFile,
        profile: RecorderProfile,
        serial: str,
        run: _CopyRun,
    ) -> tuple[VerifiedRecording, list[Problem]]:
        staged = None
        for attempt in (1, 2):
            staged, seen = self._stage_from_source(root, file, run)
            if seen is not None:
                break
            self.store.discard(staged)
            if attempt == 2:
                raise FileProblem(
                    "source-changed",
                    "the file changed while it was copied, twice; not copied. "
                    "Is the recorder still recording?",
                )
        assert staged is not None and seen is not None
        published = self.store.publish(staged)
        back = self.store.verify_published(published)
        return self._describe(seen, published, profile, back.method, serial, run)

    def _stage_from_source(
        self, root: bytes, file: SourceFile, run: _CopyRun
    ) -> tuple[Staged, SourceFile | None]:
        """Copy into staging; the SourceFile as copied, or None when it changed meanwhile."""
        try:
            fd = open_beneath(root, file.path)
        except OSError as exc:
            raise self._source_failure(root, exc, "cannot open", run.cancel) from exc
        staged: Staged | None = None
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                raise FileProblem("not-regular-file", "the entry is no longer a regular file")
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
            large = before.st_size > self.store.chunk_size
            with run.streams if large else contextlib.nullcontext():
                staged = self.store.copy_in(fd, before.st_size, _chunk_hook(run))
            after = os.fstat(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        except (SourceReadError, OSError) as exc:
            if staged is not None:
                self.store.discard(staged)
            cause = exc.cause if isinstance(exc, SourceReadError) else exc
            raise self._source_failure(root, cause, "read failed", run.cancel) from exc
        finally:
            with contextlib.suppress(OSError):
                os.close(fd)  # a dead FUSE mount fails even this
        same = (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns)
        if not same or staged.size != after.st_size:
            return staged, None
        return staged, SourceFile(file.path, after.st_size, after.st_mtime_ns)

    def _source_failure(
        self, root: bytes, exc: OSError, what: str, cancel: threading.Event
    ) -> Exception:
        """A vanished recorder ends the session; a bad file is only that file's problem.

        A yanked USB recorder under a kernel mount gives EIO, like a bad sector; the
        daemon's udev 'remove' (the cancel event) is what tells the two apart."""
        if exc.errno in GONE_ERRNOS or not os.path.isdir(root) or cancel.is_set():
            return translate_source_error(exc, what)
        if exc.errno == errno.ELOOP:
            return FileProblem("symlink-swapped", "a symlink appeared on the path after the scan")
        return FileProblem("read-error", f"{what}: {exc.strerror}")

    def _describe(
        self,
        file: SourceFile,
        published: Published,
        profile: RecorderProfile,
        method: str,
        serial: str,
        run: _CopyRun,
    ) -> tuple[VerifiedRecording, list[Problem]]:
        """Metadata comes from the verified copy, never from a second read of the recorder."""
        problems: list[Problem] = []
        base = file.path.rpartition(b"/")[2]
        name = parse_name(profile, base.decode("utf-8", "replace"))
        if name is not None and name.serial and name.serial != serial:
            problems.append(
                Problem(
                    file.display,
                    "serial-mismatch",
                    f"the file name says recorder {name.serial}, the dock says {serial}; both kept",
                )
            )
        container = self._container(file, published.key, problems)
        verified_at = self.clock()
        mtime = _file_time(file.mtime_ns, profile.zone if run.local_file_times else None)
        if mtime is None:
            problems.append(
                Problem(
                    file.display,
                    "bad-file-time",
                    "the file time is out of range; the dock time is used",
                )
            )
            mtime = verified_at
        times = recording_times(
            name,
            container.created if container else None,
            container.duration_s if container else None,
            mtime,
        )
        corrected_end = corrected(times.end, run.recorder_clock)
        end = corrected_end or times.end
        badge = name.badge if name and name.badge else _custodian_badge(run.custodians, end)
        offload = judge(
            end,
            verified_at,
            self.policy.offload.deadline_hours,
            run.duty_returns.get(badge or "", []),
        )
        if offload.late:  # a policy violation for the nightly report, not a copy problem
            log.warning(
                "late-offload",
                serial=serial,
                path=file.display,
                deadline=offload.deadline.isoformat(),
                late_by_s=offload.late_by_s,
            )
        rec = VerifiedRecording(
            source=file,
            name=name,
            times=times,
            corrected_start=corrected(times.start, run.recorder_clock),
            corrected_end=corrected_end,
            deadline=offload.deadline,
            late=offload.late,
            late_by_s=offload.late_by_s,
            retention_class="routine",
            # calendar months in the recorder's own calendar: 1 July there is 1 July
            retain_until=retain_until(
                end.astimezone(profile.zone), self.policy.retention.routine_months
            ),
            digests=published.digests,
            object_key=published.key,
            protections=published.protections,
            verified_at=verified_at,
            verify_method=method,
            duplicate=published.duplicate,
        )
        return rec, problems

    def _container(
        self, file: SourceFile, key: str, problems: list[Problem]
    ) -> ContainerInfo | None:
        ext = extension(file.path.rpartition(b"/")[2])
        fd = os.open(self.store.path_of(key), os.O_RDONLY | os.O_CLOEXEC)
        try:
            return read_container(
                ext, file.size, lambda offset, length: os.pread(fd, length, offset)
            )
        except ContainerProblem as exc:
            problems.append(Problem(file.display, exc.code, exc.message))
            return None
        finally:
            os.close(fd)
