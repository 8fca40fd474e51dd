"""The status document: the whole live picture of the dock, as `/api/status`, the status
page, `/metrics` and `dockd status --json` show it, and as schemas/status.schema.json and
schemas/session.schema.json publish it. Assembled purely in `dockd.core.status`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from dockd.core.backlog import CentralStatus
from dockd.core.said import Said
from dockd.core.views import (
    DriftViolation,
    Interruption,
    LateOffload,
    OverdueRecorder,
    RecordingView,
    Rfc3339,
    SessionView,
    UnsealedSession,
    VerifyFailure,
)

SlotState = Literal["empty", "mounting", "copying", "verifying", "done", "interrupted", "error"]
DriftVerdict = Literal["ok", "warn", "violation", "unknown"]
SessionState = Literal["running", "completed", "completed_with_problems", "interrupted", "failed"]


# --- the document: /api/status, the page and `dockd status` all show this --------------------


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phrase(_Doc):
    """Text as its template and values, so that a page or a terminal says it again in its
    reader's language; the text itself stays beside it, in English."""

    template: str = Field(description="The English msgid, with {name} fields.")
    values: dict[str, Phrase | int | float | str] = Field(
        default_factory=dict,
        description="The fields of `template`; a value that is itself a phrase is said in the "
        "reader's language too.",
    )

    @classmethod
    def of(cls, text: str | None) -> Phrase | None:
        """The phrase of a `Said`; None for text that does not keep its template."""
        if not isinstance(text, Said):
            return None
        return cls(template=text.template, values={k: _value(v) for k, v in text.values.items()})

    def said(self) -> Said:
        values = {k: v.said() if isinstance(v, Phrase) else v for k, v in self.values.items()}
        return Said(self.template, **values)


def _value(value: object) -> Phrase | int | float | str:
    if isinstance(value, Said):
        return Phrase.of(value) or str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return str(value)


def said(text: str | None, phrase: Phrase | None) -> Said | None:
    """`text` as a reader's locale can say it: by its phrase when it has one, else as a
    fixed msgid (the English of a message that carries no values). A phrase from another
    dockd's JSON that no longer fills its template (a value's type changed on the way) is
    shown as its English rather than failing the whole page."""
    if text is None:
        return None
    if phrase is not None:
        try:
            return phrase.said()
        except (KeyError, IndexError, ValueError):
            pass
    return Said(text)


class SlotCard(_Doc):
    """One dock slot, as the daemon's board has it now."""

    slot: str
    state: SlotState
    serial: str | None
    profile: str | None
    custodian: str | None = Field(
        description="'Name (badge)' of the officer the registry assigns the recorder to; "
        "null when it is not registered or not assigned."
    )
    unit: str | None = Field(description="The custodian's unit.")
    session: str | None = Field(description="Dock session id, once the copy has started.")
    files_total: int = Field(description="Files to copy in this session (new ones only).")
    files_done: int = Field(description="Files copied and verified so far.")
    bytes_total: int
    bytes_done: int = Field(description="Bytes copied so far.")
    rate_bps: float | None = Field(description="Bytes per second since the copy started.")
    eta_s: float | None = Field(description="Seconds left at that rate, while copying.")
    drift_s: float | None = Field(description="Recorder clock − true time, in seconds.")
    drift_verdict: DriftVerdict | None = Field(
        description="Against the policy pack; null while not judged yet."
    )
    safe_to_unplug: bool = Field(description="The copy is finished, verified and unmounted.")
    hand_to_admin: bool = Field(
        default=False,
        description="The completeness checks found recordings that may not have been copied "
        "(a truncated volume, unaccounted space, a directory loop, missing clip numbers): "
        "the officer hands the recorder to the admin.",
    )
    message: str | None = Field(
        description="What went wrong (interrupted, error), or what was done after the copy "
        "(done: the recorder cleared or not, and why)."
    )
    code: str | None = Field(description="The error's stable code.")
    hint: str | None = Field(description="What the admin should do about it.")
    message_phrase: Phrase | None = Field(
        None, description="`message` as its template and values; null: `message` is a fixed text."
    )
    hint_phrase: Phrase | None = Field(
        None, description="`hint` as its template and values; null: `hint` is a fixed text."
    )

    @property
    def message_said(self) -> Said | None:
        return said(self.message, self.message_phrase)

    @property
    def hint_said(self) -> Said | None:
        return said(self.hint, self.hint_phrase)


class SessionLine(_Doc):
    id: str
    serial: str
    profile: str
    slot: str | None
    state: SessionState
    started_at: Rfc3339
    finished_at: Rfc3339 | None
    recordings: int = Field(description="Recordings copied and verified in this session.")
    already_verified: int
    bytes_copied: int
    problems: int
    error_code: str | None
    drift_s: float | None
    drift_verdict: DriftVerdict | None


class Today(_Doc):
    """Since local midnight at the station (overdue recorders and unsealed sessions: as of
    now). A list that is null could not be checked (the deadline report failed), which is not
    the same as an empty list (checked, none found)."""

    since: Rfc3339
    until: Rfc3339
    deadline_report: bool = Field(
        description="The ledger's deadline report was read; false: a partial picture."
    )
    sessions: list[SessionLine] = Field(description="Started today or still running; newest first.")
    late_offloads: list[LateOffload] | None
    overdue_recorders: list[OverdueRecorder] | None
    drift_violations: list[DriftViolation]
    interruptions: list[Interruption] | None
    unsealed_sessions: list[UnsealedSession] | None
    verify_failures: list[VerifyFailure]


class ClockState(_Doc):
    """The station's own clock (NTP convention: true time = station time + offset_s)."""

    synchronised: bool
    offset_s: float | None
    server: str | None
    stratum: int | None
    method: str = Field(description="ntp, chrony, timesyncd or none")
    measured_at: Rfc3339
    detail: str


class StoreState(_Doc):
    root: str
    size_bytes: int
    free_bytes: int = Field(description="Available to dockd (statvfs f_bavail).")
    ingest_bytes_per_day: float = Field(description="Bytes copied in the last 7 days, / 7.")
    days_left: float | None = Field(
        description="free_bytes / ingest_bytes_per_day; null when nothing was copied in 7 days."
    )


class LastVerify(_Doc):
    """The newest `dockd verify` (custody event store-verified)."""

    at: Rfc3339
    checked: int
    ok: int
    findings: int
    result: Literal["ok", "failed"]


class StationState(_Doc):
    host: str
    version: str
    policy: str = Field(description="Active policy pack id.")
    policy_name: str
    started_at: Rfc3339 | None = Field(description="When the daemon started; null: not running.")
    uptime_s: float | None
    utc_offset_s: int = Field(description="The station's UTC offset now; pages show local time.")
    clock: ClockState | None = Field(description="Null when the clock could not be asked.")
    store: StoreState | None = Field(description="Null when the store cannot be read.")
    store_error: str | None
    last_verify: LastVerify | None = Field(description="Null: the store was never verified.")


class Alert(_Doc):
    level: Literal["warn", "bad"]
    text: str
    message: str = Field(
        "",
        description="`text` before its values were filled in: the English msgid a page "
        "translates ({name} fields); empty: `text` is not translated.",
    )
    values: dict[str, str] = Field(default_factory=dict, description="The fields of `message`.")
    phrases: dict[str, Phrase] = Field(
        default_factory=dict,
        description="The fields of `message` that are themselves templates (a slot's error): "
        "a page says them in its reader's language, in place of their `values`.",
    )

    @property
    def said(self) -> str:
        """What a reader's locale says again: `text` as it is when it has no `message`."""
        if not self.message:
            return self.text
        phrased = {name: phrase.said() for name, phrase in self.phrases.items()}
        return Said(self.message, **{**self.values, **phrased})


class StatusDocument(_Doc):
    """`GET /api/status` and `dockd status --json`: the whole live picture of the dock."""

    document_version: Literal[1] = 1
    generated_at: Rfc3339
    live: bool = Field(
        description="True: slots come from the running daemon. False: built from the ledger "
        "alone (the daemon is not running or not reachable); slots are unknown."
    )
    summary: str = Field(description="One line, as in systemd's STATUS=.")
    slots: list[SlotCard]
    alerts: list[Alert] = Field(description="Station-level trouble, worst first.")
    today: Today
    station: StationState
    central: CentralStatus | None = Field(
        None,
        description="The forwarding backlog to the central store; null: no [central] store "
        "is configured (a single box).",
    )


class SessionDocument(_Doc):
    """`GET /api/sessions/{id}`: one dock session with its recordings and problems."""

    session: SessionView
    custodian: str | None = Field(description="'Name (badge)' at the start of the session.")
    unit: str | None
    recordings: list[RecordingView]


def status_schema() -> dict[str, Any]:
    return TypeAdapter(StatusDocument).json_schema(mode="serialization")


def session_schema() -> dict[str, Any]:
    return TypeAdapter(SessionDocument).json_schema(mode="serialization")
