"""What dockd shows outside: the `--json` outputs and the session manifest.

These pydantic models are the contract other tools build on; schemas/ is
generated from them (`make schemas`) and a test fails when it is stale.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dockd.core.backlog import CentralBacklog, LateToCentral
from dockd.core.rfc3339 import Rfc3339 as Rfc3339  # re-exported: view modules import it here
from dockd.core.said import Said
from dockd.core.trends import ReportTrends

Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ProblemView(_View):
    path: str = Field(description="Path on the recorder ('/' for the whole session).")
    code: str = Field(description="Stable problem code.")
    message: str


TEMPLATE = (
    "The message's template (its English msgid, with {name} fields), for a reader's "
    "language; null when the ledger kept none (problems recorded before dockd did)."
)
VALUES = (
    "The template's values; a value that is itself said again is an object with its own "
    'template and values, and a time is an object {"time": RFC 3339}.'
)


class SessionProblemView(ProblemView):
    """A problem as the ledger keeps it: the English, and what it is said again from."""

    template: str | None = Field(default=None, description=TEMPLATE)
    values: dict[str, Any] | None = Field(default=None, description=VALUES)

    def said(self) -> str:
        """The message for `Locale.say`: a `Said` when its template was kept, else the
        English as it was written."""
        if self.template is None:
            return self.message
        return Said.kept(self.message, self.template, self.values or {})


class StationClockView(_View):
    """The station's offset from true time when the session began (NTP convention:
    true time = station time + offset_s)."""

    offset_s: float | None
    server: str | None
    stratum: int | None
    delay_s: float | None
    synchronised: bool
    method: str = Field(description="ntp, chrony, timesyncd or none")
    measured_at: Rfc3339
    detail: str


class RecorderClockView(_View):
    """The recorder's drift: recorder time − true time. Only method 'clock-file' is a
    measurement; a lower bound says 'at least'."""

    drift_s: float | None
    method: Literal["clock-file", "newest-recording-lower-bound", "unknown"]
    measured_at: Rfc3339
    detail: str
    verdict: Literal["ok", "warn", "violation", "unknown"]


class CentralCopyView(_View):
    """The recording's object in the agency's central store (`[central]`): pending until
    a HEAD of the stored version confirmed its size, SHA-256, lock and hold."""

    state: Literal["pending", "confirmed", "failed"]
    key: str | None = Field(None, description="Bucket key (prefix + object); null until sent.")
    version_id: str | None = None
    retain_until: Rfc3339 | None = Field(
        None, description="COMPLIANCE retain-until the server was last confirmed to hold."
    )
    legal_hold: bool = False
    confirmed_at: Rfc3339 | None = None
    error_code: str | None = Field(None, description="The last failure's code, when failed.")


class RecordingView(_View):
    id: int
    session: str = Field(description="Dock session id.")
    serial: str = Field(description="Recorder serial.")
    path: str = Field(description="Path relative to the volume; undecodable bytes as \\xNN.")
    path_raw_hex: str | None = Field(description="The raw path bytes when they are not UTF-8.")
    size: int
    start: Rfc3339 = Field(description="Same as reported_start.")
    end: Rfc3339 = Field(description="Same as reported_end.")
    reported_start: Rfc3339 = Field(description="By the recorder's own clock.")
    reported_end: Rfc3339
    corrected_start: Rfc3339 | None = Field(
        description="Reported time minus the measured drift; null when drift was not measured."
    )
    corrected_end: Rfc3339 | None
    deadline: Rfc3339 | None = Field(description="Offload deadline (null before policy).")
    late: bool | None
    late_by_s: float | None
    retention_class: str | None
    activity_types: list[str] = Field(
        default_factory=list,
        description="The types of the listed activities (`dockd activities import`) it was "
        "matched to, sorted; empty: matched to none.",
    )
    retain_until: Rfc3339 | None
    holds: list[str] = Field(description="Active holds, as kind:reference.")
    expired_at: Rfc3339 | None = Field(description="When retention expiry removed its object.")
    duration_s: float | None
    time_source: Literal["name", "container", "file-mtime"]
    badge: str | None
    sequence: int | None
    important: bool
    blake3: Hex64
    sha256: Hex64
    object: str = Field(description="Store-relative object path.")
    protections: list[str]
    verified_at: Rfc3339
    verify_method: str
    central: CentralCopyView = Field(
        default_factory=lambda: CentralCopyView(state="pending"),
        description="Its object's central copy; state pending when never sent.",
    )
    locations: list[str] = Field(
        default_factory=list,
        description="Where its object lives now: the stations whose store holds it, and "
        "'central' once the central copy is confirmed.",
    )


class SessionView(_View):
    id: str
    serial: str
    profile: str
    slot: str | None
    source: str
    station: str = Field(
        description="The [station] id that ran it; 'local' for sessions from before stations "
        "had names."
    )
    state: Literal["running", "completed", "completed_with_problems", "interrupted", "failed"]
    started_at: Rfc3339
    finished_at: Rfc3339 | None
    files_seen: int
    recordings: int = Field(description="Recordings copied and verified in this session.")
    already_verified: int
    bytes_copied: int
    error_code: str | None
    problems: list[SessionProblemView]
    manifest: Hex64 | None = Field(description="BLAKE3 of the session manifest object.")
    station_clock: StationClockView | None
    recorder_clock: RecorderClockView | None


class ManifestStation(_View):
    host: str
    dockd_version: str


class ManifestRecorder(_View):
    serial: str
    profile: str
    slot: str | None
    source: str


class ManifestRecording(_View):
    path: str
    path_raw_hex: str | None
    size: int
    mtime_ns: int
    start: Rfc3339
    end: Rfc3339
    corrected_start: Rfc3339 | None
    corrected_end: Rfc3339 | None
    duration_s: float | None
    time_source: str
    badge: str | None
    sequence: int | None
    important: bool
    blake3: Hex64
    sha256: Hex64
    object: str
    status: Literal["copied", "already-verified"]
    verified_at: Rfc3339


class CheckView(_View):
    """One completeness check of a dock session and the figures it compared."""

    name: str = Field(
        description="volume-size, fat-consistency, unaccounted-space, directory-loops, sequence"
    )
    status: Literal["ok", "problem", "not-applicable"]
    detail: str
    figures: dict[str, int | float | str | None]
    problems: list[str] = Field(description="Codes of the problems it named (in `problems`).")


class Manifest(_View):
    """Everything needed to check a dock session by hand with b3sum and sha256sum."""

    manifest_version: Literal[1] = 1
    session: str
    state: str
    started_at: Rfc3339
    finished_at: Rfc3339
    station: ManifestStation
    recorder: ManifestRecorder
    station_clock: StationClockView | None
    recorder_clock: RecorderClockView | None
    recordings: list[ManifestRecording]
    not_copied: list[str] = Field(
        description="Recordings seen on the recorder but not verified in this session."
    )
    problems: list[ProblemView]
    checks: list[CheckView] = Field(
        default_factory=list,
        description="Whether everything on the recorder was copied: each check and its figures.",
    )


class IntegrityFinding(_View):
    object: str
    blake3: Hex64
    problem: Literal["missing", "corrupt", "size-mismatch"]
    found_blake3: str | None
    found_sha256: str | None


class VerifyReport(_View):
    checked: int
    ok: int
    findings: list[IntegrityFinding]
    at: Rfc3339
    legacy_unowned: int = Field(
        0,
        description="Object copies labelled 'local' (from before stations had names) that no "
        "station counts as its own on this shared ledger, so none verifies them: run `dockd "
        "station adopt-legacy` on the station that wrote them.",
    )


class LateOffload(_View):
    recording: int
    serial: str
    path: str
    end: Rfc3339 = Field(description="Recording end used for the deadline (corrected if known).")
    deadline: Rfc3339
    offloaded_at: Rfc3339
    late_by_s: float
    unit: str | None
    custodian: str | None
    station: str | None = Field(None, description="The station that offloaded it.")


class OverdueRecorder(_View):
    serial: str
    last_docked: Rfc3339 | None
    overdue_by_s: float
    unit: str | None
    custodian: str | None


class DriftViolation(_View):
    session: str
    serial: str
    drift_s: float | None
    method: str
    verdict: Literal["warn", "violation"]
    at: Rfc3339
    unit: str | None
    custodian: str | None


class Interruption(_View):
    id: int | None = Field(None, description="For `dockd interruptions explain ID`.")
    serial: str
    before: str = Field(description="Path of the clip before the gap.")
    after: str = Field(description="Path of the clip after the gap.")
    gap_start: Rfc3339
    gap_end: Rfc3339
    gap_s: float
    unit: str | None
    custodian: str | None
    explanation: str | None = Field(None, description="Why recording stopped; null: unexplained.")
    explained_by: str | None = None
    reviewed_by: str | None = Field(None, description="The supervisor who reviewed it.")
    covered_by: list[int] = Field(
        default_factory=list, description="Work records that cover the whole gap."
    )


class UnsealedSession(_View):
    session: str
    serial: str
    finished_at: Rfc3339 | None
    attestations: list[str] = Field(description="Badges of the operators who attested so far.")
    unit: str | None
    custodian: str | None


class VerifyFailure(_View):
    at: Rfc3339
    object: str
    problem: str


class IncompleteOffload(_View):
    """A dock session whose completeness checks found recordings that may be missing
    (deleted on the recorder, unreadable, unlisted), with who had the recorder then."""

    session: str
    serial: str
    docked_at: Rfc3339
    code: str = Field(
        description="recordings-missing, sequence-reset, volume-truncated, unaccounted-space, "
        "directory-loop, cross-linked, size-overrun, broken-chain, fat-unreadable or "
        "volume-unrecognised."
    )
    detail: str = Field(description="What the check found, with its figures.")
    detail_template: str | None = Field(default=None, description=TEMPLATE)
    detail_values: dict[str, Any] | None = Field(default=None, description=VALUES)
    unit: str | None
    custodian: str | None

    def detail_said(self) -> str:
        """The detail for `Locale.say` (see `SessionProblemView.said`)."""
        if self.detail_template is None:
            return self.detail
        return Said.kept(self.detail, self.detail_template, self.detail_values or {})


class ChainHead(_View):
    """The custody chain's newest event when a report was made: a copy outside the ledger
    that `dockd audit verify --head SEQ:HASH` compares the ledger with."""

    seq: int = Field(description="Sequence number of the newest custody event (0: none yet).")
    hash: str = Field(description="Its chain hash (BLAKE3, 64 hex).")

    @property
    def text(self) -> str:
        return f"{self.seq}:{self.hash}"


class ExportView(_View):
    """One export package (`dockd export list --json`), as the ledger recorded it."""

    id: str
    state: Literal["started", "completed", "failed"] = Field(
        description="started: begun and not finished (a crash leaves it so)."
    )
    started_at: Rfc3339
    finished_at: Rfc3339 | None
    case: str
    purpose: str
    maker: str
    operators: list[str] = Field(description="Badges of the operators who exported together.")
    recordings: list[int]
    path: str
    iso: str | None
    bytes: int | None
    tag_manifest_sha256: Hex64 | None = Field(description="What the station key signed.")
    error_code: str | None


class ExportCreated(_View):
    """`dockd export create --json`."""

    id: str
    path: str
    recordings: list[int]
    bytes: int


# --- supervision ---


class SpotCheckItem(_View):
    """A drawn recording: open until reviewed; a finding when any answer is no."""

    item: int
    draw: int
    recording: int
    path: str
    drawn_at: Rfc3339
    reviewer: str | None
    recorded: bool | None
    uninterrupted: bool | None
    handed_over: bool | None
    note: str | None
    unit: str | None
    custodian: str | None


class DrawnItem(_View):
    item: int = Field(description="For `dockd spotcheck review ITEM`.")
    recording: int
    unit: str | None = Field(description="The recorder's custodian's unit when it was made.")
    custodian: str | None


class SpotCheckDraw(_View):
    """`dockd spotcheck draw --json`: recorded (a `spotcheck-drawn` custody event) before
    it was printed; `dockd spotcheck verify ID` recomputes `items` from seed and population."""

    id: int
    seed: Hex64 = Field(description="The custody chain's head when it was drawn.")
    population: int = Field(description="Recordings of the period the sample was drawn from.")
    ratio: float = Field(description="The pack's [spot_check] ratio: ceil(ratio × population).")
    items: list[DrawnItem]


class CustodianView(_View):
    badge: str
    name: str
    unit: str


class CustodianStretch(CustodianView):
    since: Rfc3339
    until: Rfc3339 | None = Field(description="null: the recorder is still in their custody.")


class DeviceView(_View):
    """One entry of `dockd devices list --json`."""

    serial: str
    model: str
    custodian: CustodianView | None = Field(description="null: in the pool, or retired.")
    history: list[CustodianStretch]
    retired_at: Rfc3339 | None = Field(
        None, description="When `dockd devices retire` took it out of service; null: in service."
    )


class WorkRecordView(_View):
    """Recording was impossible (000:12, 001:7, 002:12, 003/A:5, 004:11)."""

    id: int
    badge: str
    start: Rfc3339
    end: Rfc3339
    reason: str
    basis: str
    reported_to: str
    unit: str | None
    custodian: str | None


class UnrecordedActivity(_View):
    """An activity that must be recorded (000:11, 001:6, 002:9, 004:10) whose window its
    officers' footage does not cover: none at all, or only part of it."""

    activity: str
    type: str
    badges: list[str]
    start: Rfc3339
    end: Rfc3339
    place: str
    state: Literal["unrecorded", "partial", "covered"] = Field(
        description="covered: a work record of one of its officers spans the whole window."
    )
    covered_share: float = Field(ge=0, le=1, description="Share of the window on footage.")
    recordings: list[int] = Field(description="The officers' recordings in the window.")
    covered_by: list[int] = Field(description="Work records spanning the whole window.")
    unit: str | None
    custodian: str | None = Field(description="The activity's officers, by badge.")


class Lending(_View):
    """A file name's badge is not the recorder's custodian's (000:33(2), 002:22(6))."""

    recording: int
    serial: str
    path: str
    badge_in_name: str
    unit: str | None
    custodian: str | None


class MediaHeld(_View):
    """A recorder kept off the dock longer than the pack allows (003/E:9)."""

    serial: str
    unplugged_at: Rfc3339
    docked_again: Rfc3339 | None
    held_over_s: float
    unit: str | None
    custodian: str | None


class UnregisteredRecorder(_View):
    serial: str
    first_docked: Rfc3339
    last_docked: Rfc3339
    unit: str | None = None
    custodian: str | None = None


class EquipmentShortfall(_View):
    """A unit with fewer recorders in service than the pack's ratio asks."""

    unit: str
    recorders: int = Field(description="Recorders assigned to the unit's officers now.")
    officers: int = Field(description="Officers of the unit who have held a recorder.")
    needed: int
    articles: list[str]
    custodian: str | None = None


class DeadlineReport(_View):
    """`dockd report deadlines --json`: what went wrong in the period, one list per kind."""

    pack: str
    since: Rfc3339
    until: Rfc3339
    station: str | None = Field(
        None,
        description="The station whose sessions, offloads and verify runs the report covers "
        "(with the 'local' ones of before stations had names); null: every station on the "
        'ledger ([mail] scope = "agency", `--all-stations`).',
    )
    late_offloads: list[LateOffload]
    overdue_recorders: list[OverdueRecorder]
    drift_violations: list[DriftViolation]
    interruptions: list[Interruption]
    unsealed_sessions: list[UnsealedSession]
    verify_failures: list[VerifyFailure]
    incomplete_offloads: list[IncompleteOffload] = Field(default_factory=list)
    chain_head: ChainHead | None = Field(
        None, description="The custody chain's head when the report was made."
    )
    exports: list[ExportView] = Field(
        default_factory=list, description="Export packages made in the period (not problems)."
    )
    spot_checks_open: list[SpotCheckItem] = Field(default_factory=list)
    spot_check_findings: list[SpotCheckItem] = Field(default_factory=list)
    work_records: list[WorkRecordView] = Field(
        default_factory=list, description="Work records of the period (not problems)."
    )
    lending: list[Lending] = Field(default_factory=list)
    media_held: list[MediaHeld] = Field(default_factory=list)
    unregistered_recorders: list[UnregisteredRecorder] = Field(default_factory=list)
    equipment: list[EquipmentShortfall] = Field(default_factory=list)
    unrecorded_activities: list[UnrecordedActivity] = Field(default_factory=list)
    central_backlog: CentralBacklog | None = Field(
        None,
        description="What this station holds that the central store has not confirmed, at "
        "the report's making; null: no [central] store is configured.",
    )
    late_to_central: list[LateToCentral] = Field(
        default_factory=list,
        description="Recordings not confirmed centrally within [forwarding] "
        "confirm_within_hours of their offload: still open, or confirmed late in the period.",
    )
    trends: ReportTrends | None = Field(
        None,
        description="Per unit, the last 30 days ending with the report's: offload delay "
        "against the deadline, and late offloads, drift violations and recordings that may "
        "be missing per day (the HTML report's charts); not problems of the period. null: "
        "not computed.",
    )

    @property
    def empty(self) -> bool:
        return not any(self.counts().values())

    def counts(self) -> dict[str, int]:
        return {
            "late_offloads": len(self.late_offloads),
            "overdue_recorders": len(self.overdue_recorders),
            "drift_violations": len(self.drift_violations),
            "interruptions": len(self.interruptions),
            "unsealed_sessions": len(self.unsealed_sessions),
            "verify_failures": len(self.verify_failures),
            "incomplete_offloads": len(self.incomplete_offloads),
            "spot_checks_open": len(self.spot_checks_open),
            "spot_check_findings": len(self.spot_check_findings),
            "lending": len(self.lending),
            "media_held": len(self.media_held),
            "unregistered_recorders": len(self.unregistered_recorders),
            "equipment": len(self.equipment),
            "unrecorded_activities": len(self.unrecorded_activities),
            "late_to_central": len(self.late_to_central),
        }
