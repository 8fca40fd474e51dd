"""One docked recorder's dock session: scan -> plan -> copy -> record -> manifest.

Per-file problems are collected and one bad file never stops the others; a
recorder that vanishes ends its own session as *interrupted*; a store that
fails ends the session as *failed*. In every case the session is closed in the
ledger with a manifest of what was and was not copied.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from dockd.core.clock import RecorderClock, Verdict
from dockd.core.completeness import CheckResult
from dockd.core.deadlines import latest_each_day
from dockd.core.gaps import find_gaps
from dockd.core.manifest import build_manifest, manifest_bytes
from dockd.core.model import Problem, SourceFile, StoredDocument, VerifiedRecording
from dockd.core.plan import plan_copy
from dockd.core.policy import PolicyPack
from dockd.core.profiles import RecorderProfile, pick_profile
from dockd.core.recording import (
    SessionFacts,
    custodian_badge,
    estimated_end,
    recorder_clock_view,
    station_clock_view,
)
from dockd.core.said import Said
from dockd.core.signing import ManifestSignature
from dockd.core.station_clock import StationClock
from dockd.core.transfer import Scan, VolumeEvidence
from dockd.core.views import (
    Manifest,
    ManifestRecorder,
    ManifestStation,
    RecorderClockView,
    RecordingView,
    StationClockView,
)
from dockd.errors import DockdError, InternalError, RecorderGoneError, StoreError
from dockd.ports import (
    ActivityRecords,
    Clock,
    CustodianLookup,
    EvidenceStore,
    InterruptionRecords,
    ProgressSink,
    SessionLedger,
    SignatureStore,
    Signer,
    StationClockSource,
    Volume,
)
from dockd.services.activities import match_docked
from dockd.services.clocks import check_recorder, check_station
from dockd.services.completeness import check_completeness
from dockd.services.copy import CopyPipeline, CopyRun
from dockd.services.safeguard import SafeguardCopies

log = structlog.get_logger("dockd.services.dock_session")

#: How far either side of this session's files earlier recordings are looked up: a working
#: day is a local calendar day, never longer than this in any zone.
_DAY = timedelta(hours=26)


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
    kept_here: int = 0  # of those, copies kept here: only another station's store held them
    deferred: int = 0
    problems: list[Problem] = field(default_factory=list)
    station_clock: StationClock | None = None
    recorder_clock: RecorderClock | None = None
    drift_verdict: Verdict = "unknown"
    not_copied: int = 0
    error: DockdError | None = None
    manifest: StoredDocument | None = None
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def incomplete(self) -> list[Problem]:
        """What the completeness checks found: recordings that may not have been copied
        because they could not be seen; the recorder goes to the admin."""
        return [p for c in self.checks for p in c.problems]

    @property
    def fully_verified(self) -> bool:
        """Every recording on the recorder is in the store, proven: nothing left behind."""
        return self.error is None and self.not_copied == 0 and self.state != "running"


@dataclass
class _Session:
    """One session under way: what the steps hand each other."""

    outcome: SessionOutcome
    profile: RecorderProfile
    source: Path
    slot: str | None
    bound: structlog.typing.FilteringBoundLogger
    started: datetime
    evidence: VolumeEvidence | None = None
    files_seen: int = 0
    already: list[tuple[SourceFile, RecordingView]] = field(default_factory=list)
    pending: list[SourceFile] = field(default_factory=list)


def _manifest(
    run: _Session,
    station: Station,
    finished: datetime,
    station_clock: StationClockView | None,
    recorder_clock: RecorderClockView | None,
) -> Manifest:
    """What the session copied, found already verified, left behind, and why."""
    outcome = run.outcome
    copied = {r.source.path for r in outcome.copied}
    return build_manifest(
        session_id=outcome.session_id,
        state=outcome.state,
        started_at=run.started,
        finished_at=finished,
        station=ManifestStation(host=station.host, dockd_version=station.version),
        recorder=ManifestRecorder(
            serial=outcome.serial, profile=run.profile.id, slot=run.slot, source=str(run.source)
        ),
        station_clock=station_clock,
        recorder_clock=recorder_clock,
        copied=outcome.copied,
        already_verified=run.already,
        not_copied=[f for f in run.pending if f.path not in copied],
        problems=outcome.problems,
        checks=outcome.checks,
    )


def _store_manifest(
    store: EvidenceStore,
    signer: Signer,
    signatures: SignatureStore,
    outcome: SessionOutcome,
    data: bytes,
) -> ManifestSignature | None:
    """Store the manifest and its signature over exactly the stored bytes; one that cannot
    be stored fails the session, and says so in its problems."""
    try:
        published, _ = store.put_bytes(data)
        outcome.manifest = StoredDocument(
            published.digests, published.size, published.key, published.protections
        )
        signed = ManifestSignature(signer.sign(data), signer.fingerprint)
        signatures.keep(published.digests.blake3, signed.signature)
        return signed
    except StoreError as exc:
        what = (
            Said("manifest not stored: {error}", error=Said.error(exc))
            if outcome.manifest is None
            else Said("manifest signature not stored: {error}", error=Said.error(exc))
        )
        outcome.problems.append(Problem("/", exc.code, what))
        if outcome.error is None:
            outcome.state, outcome.error = "failed", exc
        return None


def _find_interruptions(
    records: InterruptionRecords, policy: PolicyPack, outcome: SessionOutcome, now: datetime
) -> None:
    """Holes between this session's clips (and the recorder's previous one), for review."""
    rules = policy.interruptions
    clips = records.clips_around(outcome.serial, outcome.session_id)
    gaps = find_gaps(clips, rules.gap_tolerance_s, rules.duty_break_hours * 3600)
    records.record_interruptions(outcome.session_id, outcome.serial, gaps, now)
    for gap in gaps:
        outcome.problems.append(
            Problem(
                "/",
                "interruption",
                Said(
                    "{minutes:.1f} min without recording between {start} and {end}: to be reviewed",
                    minutes=gap.seconds / 60,
                    start=gap.start,
                    end=gap.end,
                ),
            )
        )


class DockSession:
    """The dock-session service, built once by `dockd.app` over its ports."""

    def __init__(
        self,
        store: EvidenceStore,
        volume: Volume,
        ledger: SessionLedger,
        custodians: CustodianLookup,
        interruptions: InterruptionRecords,
        station_clock: StationClockSource,
        clock: Clock,
        profiles: dict[str, RecorderProfile],
        policy: PolicyPack,
        station: Station,
        signer: Signer,
        signatures: SignatureStore,
        parallel_files: int = 4,
        activities: ActivityRecords | None = None,
        safeguard: SafeguardCopies | None = None,
    ) -> None:
        """`activities`: the agency's list, matched after each session (None: not).
        `safeguard`: keeps a copy here of recordings only another station's store holds."""
        self.store, self.volume, self.ledger = store, volume, ledger
        self.signer, self.signatures = signer, signatures
        self.custodians, self.interruptions = custodians, interruptions
        self.station_clock, self.clock = station_clock, clock
        self.profiles, self.policy, self.station = profiles, policy, station
        self.copier = CopyPipeline(store, volume, ledger, clock, parallel_files)
        self.activities = activities
        self.safeguard = safeguard

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
        evidence: VolumeEvidence | None = None,
        findings: Sequence[Problem] = (),
    ) -> SessionOutcome:
        """One dock session. `ready` holds back files that are not complete yet (drop
        folders); they are counted in `deferred` and left for a later session.
        `local_file_times`: the volume keeps wall-clock file times (FAT); found out from
        the mount table when not given. `evidence`: the recorder's filesystem as read from
        its block device before mounting (None for a folder). `findings`: what detection
        found wrong with the recorder's identity (an unrecognised model, a serial mismatch)."""
        profile = pick_profile(self.profiles, profile_id)
        run = self._start(source, serial, profile, slot)
        run.evidence = evidence
        run.outcome.problems.extend(findings)
        try:
            self._dock(run, cancel or threading.Event(), ready, local_file_times, progress)
            _find_interruptions(self.interruptions, self.policy, run.outcome, self.clock())
            outcome = run.outcome
            outcome.state = "completed_with_problems" if outcome.problems else "completed"
        except RecorderGoneError as exc:
            run.outcome.state, run.outcome.error = "interrupted", exc
        except DockdError as exc:
            run.outcome.state, run.outcome.error = "failed", exc
        except Exception as exc:
            run.bound.exception("internal-error")
            run.outcome.state = "failed"
            run.outcome.error = InternalError(
                "{kind}: {reason}", kind=type(exc).__name__, reason=exc
            )
        self._finish(run)
        return run.outcome

    def _start(
        self, source: Path, serial: str, profile: RecorderProfile, slot: str | None
    ) -> _Session:
        outcome = SessionOutcome(session_id=str(uuid.uuid4()), serial=serial)
        started = self.clock()
        self._open_in_ledger(outcome.session_id, serial, profile.id, slot, str(source), started)
        bound = log.bind(session=outcome.session_id, serial=serial, slot=slot)
        bound.info("session-started", source=str(source), profile=profile.id)
        return _Session(outcome, profile, source, slot, bound, started)

    def _dock(
        self,
        run: _Session,
        cancel: threading.Event,
        ready: Callable[[SourceFile], bool] | None,
        local_file_times: bool | None,
        progress: ProgressSink | None,
    ) -> None:
        """Scan and plan, check the clocks (after the plan: a refusal lists what is left),
        copy."""
        scan = self._scan_and_plan(run, ready)
        facts = self._check_clocks(run, scan, local_file_times)
        outcome = run.outcome
        if progress is not None:
            nbytes = sum(f.size for f in run.pending)
            drift = facts.recorder_clock.drift_s
            progress.planned(outcome.session_id, len(run.pending), nbytes, drift)
        copy_run = CopyRun(outcome.session_id, run.source, facts, cancel, progress, run.bound)
        self.copier.copy_all(run.pending, copy_run, outcome.copied, outcome.problems)
        if self.safeguard is not None and not cancel.is_set():
            outcome.kept_here, problems = self.safeguard.keep(
                run.source, scan.recordings, outcome.serial, outcome.session_id
            )
            outcome.problems.extend(problems)

    def _scan_and_plan(self, run: _Session, ready: Callable[[SourceFile], bool] | None) -> Scan:
        outcome = run.outcome
        scan = self.volume.scan(run.source, run.profile)
        outcome.problems.extend(scan.problems)
        complete = [f for f in scan.recordings if ready is None or ready(f)]
        outcome.deferred = len(scan.recordings) - len(complete)
        run.files_seen = len(complete)
        prior = self.ledger.prior_recordings(outcome.serial)
        plan = plan_copy(complete, prior.keys())
        run.already = [(f, prior[f.identity]) for f in plan.already_verified]
        outcome.already_verified = len(run.already)
        run.pending = list(plan.to_copy)
        outcome.checks = check_completeness(
            evidence=run.evidence,
            volume=self.volume,
            source=run.source,
            scan=scan,
            profile=run.profile,
            prior=prior,
        )
        for problem in outcome.incomplete:
            if problem not in outcome.problems:
                outcome.problems.append(problem)
                run.bound.warning("problem", code=problem.code, message=problem.message)
        return scan

    def _check_clocks(
        self, run: _Session, scan: Scan, local_file_times: bool | None
    ) -> SessionFacts:
        """The station's clock, then the recorder's drift; what every recording is judged by."""
        outcome, policy = run.outcome, self.policy
        station = check_station(self.station_clock, policy.clock)
        outcome.station_clock, unsynced = station.clock, station.problem
        if station.refusal is not None:
            raise station.refusal
        if unsynced is not None:
            outcome.problems.append(unsynced)
            run.bound.warning("problem", code=unsynced.code, message=unsynced.message)
        checked = check_recorder(
            self.volume,
            run.source,
            run.profile,
            scan,
            outcome.station_clock,
            self.clock(),
            policy.clock,
        )
        outcome.recorder_clock, outcome.drift_verdict = checked.clock, checked.verdict
        outcome.problems.extend(checked.problems)
        if local_file_times is None:
            local_file_times = self.volume.stores_local_times(run.source)
        custody = self.custodians.custodians_at(outcome.serial)
        facts = SessionFacts(
            serial=outcome.serial,
            profile=run.profile,
            recorder_clock=checked.clock,
            local_file_times=local_file_times,
            custodians=[(who.badge, since, until) for who, since, until in custody],
            excuses=self.custodians.excuses(),
            offload_hours=policy.offload.deadline_hours,
            retention_months=policy.retention.routine_months,
            duty_day_end=policy.offload.duty_day_end,
        )
        return replace(facts, day_ends=self._day_ends(facts, scan))

    def _day_ends(self, facts: SessionFacts, scan: Scan) -> dict[str, list[datetime]]:
        """Each officer's recording ends on the days this session's files were made: from
        the scan, and from earlier sessions in one ledger query, so a working day split
        over two dockings ends at its last recording."""
        ends: dict[str, list[datetime]] = {}
        for file in scan.recordings:
            found = estimated_end(file, facts)
            if found is not None:
                ends.setdefault(found[0], []).append(found[1])
        moments = [e for day in ends.values() for e in day]
        if not moments:
            return ends
        since, until = min(moments) - _DAY, max(moments) + _DAY
        for badge, end in self.ledger.recording_ends(facts.serial, sorted(ends), since, until):
            who = badge or custodian_badge(facts.custodians, end)
            if who is not None:
                ends.setdefault(who, []).append(end)
        zone = facts.profile.zone
        return {badge: latest_each_day(day, zone) for badge, day in ends.items()}

    def _finish(self, run: _Session) -> None:
        """Count what was left behind, store the manifest, close the session in the ledger."""
        outcome = run.outcome
        copied = {r.source.path for r in outcome.copied}
        outcome.not_copied = sum(1 for f in run.pending if f.path not in copied)
        if outcome.error is not None:
            error = outcome.error
            outcome.problems.append(Problem("/", error.code, Said.error(error)))
            run.bound.error(
                "session-" + outcome.state, code=error.code, message=error.message, hint=error.hint
            )
        finished = self.clock()
        station_clock = station_clock_view(outcome.station_clock)
        recorder_clock = recorder_clock_view(outcome.recorder_clock, outcome.drift_verdict)
        manifest = _manifest(run, self.station, finished, station_clock, recorder_clock)
        signed = _store_manifest(
            self.store, self.signer, self.signatures, outcome, manifest_bytes(manifest)
        )
        self.ledger.finish_session(
            outcome.session_id,
            state=outcome.state,
            at=finished,
            files_seen=run.files_seen,
            already_verified=outcome.already_verified,
            problems=outcome.problems,
            error_code=outcome.error.code if outcome.error else None,
            manifest=outcome.manifest,
            station_clock=station_clock,
            recorder_clock=recorder_clock,
            signature=signed,
        )
        run.bound.info(
            "session-finished",
            state=outcome.state,
            copied=len(outcome.copied),
            already_verified=outcome.already_verified,
            problems=len(outcome.problems),
        )
        self._match_activities(run, finished)
        self._log_head(run.bound)

    def _match_activities(self, run: _Session, at: datetime) -> None:
        """The copy is done and recorded: a failed match is logged, never the session's."""
        if self.activities is None:
            return
        try:
            done = match_docked(self.activities, run.outcome.copied, self.policy, at)
        except DockdError as exc:
            run.bound.warning("activities-match-failed", code=exc.code, message=exc.message)
            return
        if done is not None and (done.linked or done.reclassified):
            run.bound.info(
                "activities-matched", linked=done.linked, reclassified=len(done.reclassified)
            )

    def _log_head(self, bound: structlog.typing.FilteringBoundLogger) -> None:
        """The chain head in the journal, a copy outside the ledger: `dockd audit verify
        --head SEQ:HASH` finds any later cut of the chain's tail."""
        seq, head = self.ledger.chain_head()
        bound.info("chain-head", chain_seq=seq, chain_hash=head, head=f"{seq}:{head}")

    def _open_in_ledger(
        self,
        session_id: str,
        serial: str,
        profile: str,
        slot: str | None,
        source: str,
        at: datetime,
    ) -> None:
        self.ledger.start_session(
            session_id=session_id,
            serial=serial,
            profile=profile,
            slot=slot,
            source=source,
            host=self.station.host,
            pid=self.station.pid,
            boot_id=self.station.boot_id,
            at=at,
        )

    def record_failed_dock(
        self,
        serial: str,
        profile_id: str,
        slot: str | None,
        source: str,
        error: DockdError,
        evidence: VolumeEvidence | None = None,
    ) -> str:
        """A dock that failed before there was anything to scan (write-block, mount); what
        the raw volume showed before that (a truncated filesystem no driver mounts) is kept."""
        found = [p for c in (evidence.checks if evidence else ()) for p in c.problems]
        session_id = str(uuid.uuid4())
        self._open_in_ledger(session_id, serial, profile_id, slot, source, self.clock())
        self.ledger.finish_session(
            session_id,
            state="failed",
            at=self.clock(),
            files_seen=0,
            already_verified=0,
            problems=[*found, Problem("/", error.code, Said.error(error))],
            error_code=error.code,
            manifest=None,
        )
        self._log_head(log.bind(session=session_id, serial=serial, slot=slot))
        return session_id

    def zone_of(self, profile_id: str) -> str:
        """The recorder's time zone; an unknown profile is reported by the session itself."""
        profile = self.profiles.get(profile_id)
        return profile.timezone if profile is not None else "UTC"
