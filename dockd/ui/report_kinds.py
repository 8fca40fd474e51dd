"""What each section of the nightly report shows: its title, columns, one line and one
table row per item. Untrusted text (recorder paths, serials, registry names) is made
printable here, once, for the text and the HTML alike.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dockd.core.backlog import LateToCentral
from dockd.core.views import (
    DeadlineReport,
    DriftViolation,
    EquipmentShortfall,
    IncompleteOffload,
    Interruption,
    LateOffload,
    Lending,
    MediaHeld,
    OverdueRecorder,
    SpotCheckItem,
    UnrecordedActivity,
    UnregisteredRecorder,
    UnsealedSession,
    VerifyFailure,
    WorkRecordView,
)
from dockd.ui import format as fmt

# --- untrusted text -----------------------------------------------------------------


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


# C0, DEL, C1, line/paragraph separators, bidi embeddings/overrides/isolates and marks.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def clean(value: object) -> str:
    """One line of displayable text whatever ``value`` holds."""
    text = unicodedata.normalize("NFC", str(value))
    return _UNSAFE.sub(_escape_char, text)


def esc(value: object) -> str:
    """Printable, then HTML-escaped: for every value an HTML report shows."""
    return html.escape(clean(value), quote=True)


# --- the kinds ----------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    field: str  # DeadlineReport attribute, and key of `report deadlines --json`
    title: str  # section heading
    one: str  # "1 late offload"
    many: str  # "3 late offloads"
    columns: tuple[str, ...]
    cells: Callable[[Any], tuple[str, ...]]  # raw (uncleaned) values, one per column
    line: Callable[[Any], str]  # the item on one line of text (uncleaned parts cleaned)
    grouped: bool  # items carry unit and custodian
    central: bool = False  # a section of the central store's: absent on a single box

    def applies(self, report: DeadlineReport) -> bool:
        """Whether the summary lists it (with its count, zero or not)."""
        return not self.central or report.central_backlog is not None or bool(self.count(report))

    def count(self, report: DeadlineReport) -> int:
        return len(self.items(report))

    def items(self, report: DeadlineReport) -> Sequence[Any]:
        items: Sequence[Any] = getattr(report, self.field)
        return items

    def counted(self, n: int) -> str:
        return f"{n} {self.one if n == 1 else self.many}"


def _late_cells(item: LateOffload) -> tuple[str, ...]:
    return (
        str(item.recording),
        item.serial,
        item.path,
        fmt.duration(item.late_by_s),
        fmt.moment(item.end),
        fmt.moment(item.deadline),
        fmt.moment(item.offloaded_at),
        item.station or "",
    )


def _late_line(item: LateOffload) -> str:
    return (
        f"{clean(item.serial)} {clean(item.path)} (recording {item.recording}): "
        f"late by {fmt.duration(item.late_by_s)}; ended {fmt.moment(item.end)}, "
        f"deadline {fmt.moment(item.deadline)}, offloaded {fmt.moment(item.offloaded_at)}"
        + (f" at {clean(item.station)}" if item.station else "")
    )


def _overdue_cells(item: OverdueRecorder) -> tuple[str, ...]:
    return (item.serial, fmt.duration(item.overdue_by_s), fmt.moment(item.last_docked, "never"))


def _overdue_line(item: OverdueRecorder) -> str:
    return (
        f"{clean(item.serial)}: overdue by {fmt.duration(item.overdue_by_s)}; "
        f"last docked {fmt.moment(item.last_docked, 'never')}"
    )


def _drift_cells(item: DriftViolation) -> tuple[str, ...]:
    return (
        item.serial,
        item.session,
        fmt.drift(item.drift_s),
        item.verdict,
        item.method,
        fmt.moment(item.at),
    )


def _drift_line(item: DriftViolation) -> str:
    return (
        f"{clean(item.serial)}: drift {fmt.drift(item.drift_s)} ({clean(item.verdict)}, "
        f"{clean(item.method)}) in session {clean(item.session)} at {fmt.moment(item.at)}"
    )


def _gap_state(item: Interruption) -> str:
    if item.covered_by:
        return "covered by work record " + ", ".join(map(str, item.covered_by))
    if item.explanation is None:
        return "unexplained"
    reviewed = f", reviewed by {item.reviewed_by}" if item.reviewed_by else ", not yet reviewed"
    return f"explained by {item.explained_by}: {item.explanation}{reviewed}"


def _gap_cells(item: Interruption) -> tuple[str, ...]:
    return (
        str(item.id),
        _gap_state(item),
        item.serial,
        fmt.duration(item.gap_s),
        fmt.moment(item.gap_start),
        fmt.moment(item.gap_end),
        item.before,
        item.after,
    )


def _gap_line(item: Interruption) -> str:
    return (
        f"{clean(item.serial)}: gap of {fmt.duration(item.gap_s)} "
        f"from {fmt.moment(item.gap_start)} to {fmt.moment(item.gap_end)}, "
        f"between {clean(item.before)} and {clean(item.after)} "
        f"(interruption {item.id}: {clean(_gap_state(item))})"
    )


def _answer(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "NO")


def _spot_cells(item: SpotCheckItem) -> tuple[str, ...]:
    return (
        str(item.item),
        str(item.draw),
        str(item.recording),
        item.path,
        item.reviewer or "",
        _answer(item.recorded),
        _answer(item.uninterrupted),
        _answer(item.handed_over),
        item.note or "",
    )


def _spot_line(item: SpotCheckItem) -> str:
    said = (
        f"reviewed by {clean(item.reviewer)}: recorded {_answer(item.recorded)}, "
        f"uninterrupted {_answer(item.uninterrupted)}, handed over {_answer(item.handed_over)}"
        + (f"; {clean(item.note)}" if item.note else "")
        if item.reviewer
        else f"drawn {fmt.moment(item.drawn_at)}, not yet reviewed"
    )
    return f"item {item.item} (draw {item.draw}): {clean(item.path)} ({item.recording}): {said}"


def _work_cells(item: WorkRecordView) -> tuple[str, ...]:
    return (
        str(item.id),
        item.badge,
        fmt.moment(item.start),
        fmt.moment(item.end),
        item.reason,
        item.basis,
        item.reported_to,
    )


def _work_line(item: WorkRecordView) -> str:
    return (
        f"work record {item.id}: {clean(item.badge)} could not record from "
        f"{fmt.moment(item.start)} to {fmt.moment(item.end)}: {clean(item.reason)} "
        f"({clean(item.basis)}), reported to {clean(item.reported_to)}"
    )


def _lending_cells(item: Lending) -> tuple[str, ...]:
    return (str(item.recording), item.serial, item.path, item.badge_in_name)


def _lending_line(item: Lending) -> str:
    return (
        f"{clean(item.serial)} {clean(item.path)} (recording {item.recording}): the name "
        f"says {clean(item.badge_in_name)}, the recorder was in someone else's custody"
    )


def _activity_cells(item: UnrecordedActivity) -> tuple[str, ...]:
    return (
        item.activity,
        item.type,
        item.state,
        f"{item.covered_share:.0%}",
        fmt.moment(item.start),
        fmt.moment(item.end),
        item.place,
        ", ".join(f"work record {w}" for w in item.covered_by),
    )


def _activity_line(item: UnrecordedActivity) -> str:
    covered = f", covered by work record {', '.join(map(str, item.covered_by))}"
    return (
        f"activity {clean(item.activity)} ({clean(item.type)}, {clean(item.place)}) "
        f"{fmt.moment(item.start)} to {fmt.moment(item.end)}: {item.covered_share:.0%} "
        f"on footage{covered if item.covered_by else ''}"
    )


def _held_cells(item: MediaHeld) -> tuple[str, ...]:
    back = fmt.moment(item.docked_again, "not yet")
    return (item.serial, fmt.moment(item.unplugged_at), back, fmt.duration(item.held_over_s))


def _held_line(item: MediaHeld) -> str:
    return (
        f"{clean(item.serial)}: off the dock since {fmt.moment(item.unplugged_at)}, back "
        f"{fmt.moment(item.docked_again, 'not yet')}: {fmt.duration(item.held_over_s)} too long"
    )


def _unregistered_cells(item: UnregisteredRecorder) -> tuple[str, ...]:
    return (item.serial, fmt.moment(item.first_docked), fmt.moment(item.last_docked))


def _unregistered_line(item: UnregisteredRecorder) -> str:
    return (
        f"{clean(item.serial)}: docked {fmt.moment(item.last_docked)} without being "
        f"registered (dockd devices add {clean(item.serial)} --model M)"
    )


def _equipment_cells(item: EquipmentShortfall) -> tuple[str, ...]:
    return (str(item.recorders), str(item.officers), str(item.needed), ", ".join(item.articles))


def _equipment_line(item: EquipmentShortfall) -> str:
    return (
        f"{item.recorders} recorder(s) in service for {item.officers} officer(s); "
        f"{item.needed} needed ({', '.join(item.articles)})"
    )


def _attested(item: UnsealedSession) -> str:
    return ", ".join(item.attestations) if item.attestations else "nobody"


def _unsealed_cells(item: UnsealedSession) -> tuple[str, ...]:
    finished = fmt.moment(item.finished_at, "not finished")
    return (item.session, item.serial, finished, _attested(item))


def _unsealed_line(item: UnsealedSession) -> str:
    return (
        f"session {clean(item.session)} ({clean(item.serial)}), finished "
        f"{fmt.moment(item.finished_at, 'not yet')}: attested by {clean(_attested(item))}"
    )


def _verify_cells(item: VerifyFailure) -> tuple[str, ...]:
    return (item.object, item.problem, fmt.moment(item.at))


def _verify_line(item: VerifyFailure) -> str:
    return f"{clean(item.object)}: {clean(item.problem)} (checked {fmt.moment(item.at)})"


def _incomplete_cells(item: IncompleteOffload) -> tuple[str, ...]:
    return (item.serial, item.code, item.detail, fmt.moment(item.docked_at), item.session)


def _incomplete_line(item: IncompleteOffload) -> str:
    return (
        f"{clean(item.serial)}: {clean(item.code)}: {clean(item.detail)} "
        f"(docked {fmt.moment(item.docked_at)}, session {clean(item.session)})"
    )


def _central_cells(item: LateToCentral) -> tuple[str, ...]:
    return (
        str(item.recording),
        item.serial,
        item.path,
        fmt.duration(item.late_by_s),
        fmt.moment(item.offloaded_at),
        fmt.moment(item.deadline),
        item.state if item.error_code is None else f"{item.state} ({item.error_code})",
        fmt.moment(item.confirmed_at, "not yet"),
    )


def _central_line(item: LateToCentral) -> str:
    state = item.state if item.error_code is None else f"{item.state} ({clean(item.error_code)})"
    return (
        f"{clean(item.serial)} {clean(item.path)} (recording {item.recording}): "
        f"late by {fmt.duration(item.late_by_s)}; offloaded {fmt.moment(item.offloaded_at)}, "
        f"deadline {fmt.moment(item.deadline)}, {state}, "
        f"confirmed {fmt.moment(item.confirmed_at, 'not yet')}"
    )


_SPOT_COLUMNS = (
    "Item",
    "Draw",
    "Recording",
    "Path",
    "Reviewer",
    "Recorded",
    "Uninterrupted",
    "Handed over",
    "Note",
)


def has_owner(model: type[Any]) -> bool:
    fields = model.model_fields
    return "unit" in fields and "custodian" in fields


KINDS: tuple[Kind, ...] = (
    Kind(
        "late_offloads",
        "Late offloads",
        "late offload",
        "late offloads",
        ("Recording", "Serial", "Path", "Late by", "Ended", "Deadline", "Offloaded", "Station"),
        _late_cells,
        _late_line,
        has_owner(LateOffload),
    ),
    Kind(
        "overdue_recorders",
        "Overdue recorders",
        "overdue recorder",
        "overdue recorders",
        ("Serial", "Overdue by", "Last docked"),
        _overdue_cells,
        _overdue_line,
        has_owner(OverdueRecorder),
    ),
    Kind(
        "drift_violations",
        "Drift violations",
        "drift violation",
        "drift violations",
        ("Serial", "Session", "Drift", "Verdict", "Method", "Measured"),
        _drift_cells,
        _drift_line,
        has_owner(DriftViolation),
    ),
    Kind(
        "interruptions",
        "Interruptions to review",
        "interruption to review",
        "interruptions to review",
        ("Id", "State", "Serial", "Gap", "From", "To", "Clip before", "Clip after"),
        _gap_cells,
        _gap_line,
        has_owner(Interruption),
    ),
    Kind(
        "unsealed_sessions",
        "Unsealed sessions",
        "unsealed session",
        "unsealed sessions",
        ("Session", "Serial", "Finished", "Attested by"),
        _unsealed_cells,
        _unsealed_line,
        has_owner(UnsealedSession),
    ),
    Kind(
        "verify_failures",
        "Verify failures",
        "verify failure",
        "verify failures",
        ("Object", "Problem", "Checked"),
        _verify_cells,
        _verify_line,
        has_owner(VerifyFailure),
    ),
    Kind(
        "incomplete_offloads",
        "Recordings that may be missing",
        "offload that may be incomplete",
        "offloads that may be incomplete",
        ("Serial", "Found", "Detail", "Docked", "Session"),
        _incomplete_cells,
        _incomplete_line,
        has_owner(IncompleteOffload),
    ),
    Kind(
        "late_to_central",
        "Late to the central store",
        "recording late to the central store",
        "recordings late to the central store",
        ("Recording", "Serial", "Path", "Late by", "Offloaded", "Deadline", "State", "Confirmed"),
        _central_cells,
        _central_line,
        has_owner(LateToCentral),
        central=True,
    ),
    # --- supervision ---
    *(
        Kind(field, title, one, many, columns, cells, line, has_owner(model))
        for field, title, one, many, columns, cells, line, model in (
            (
                "spot_checks_open",
                "Spot checks to review",
                "spot check to review",
                "spot checks to review",
                _SPOT_COLUMNS,
                _spot_cells,
                _spot_line,
                SpotCheckItem,
            ),
            (
                "spot_check_findings",
                "Spot-check findings",
                "spot-check finding",
                "spot-check findings",
                _SPOT_COLUMNS,
                _spot_cells,
                _spot_line,
                SpotCheckItem,
            ),
            (
                "lending",
                "Recorders lent",
                "recording on a lent recorder",
                "recordings on a lent recorder",
                ("Recording", "Serial", "Path", "Badge in name"),
                _lending_cells,
                _lending_line,
                Lending,
            ),
            (
                "media_held",
                "Media held too long",
                "recorder held too long",
                "recorders held too long",
                ("Serial", "Unplugged", "Docked again", "Too long by"),
                _held_cells,
                _held_line,
                MediaHeld,
            ),
            (
                "unregistered_recorders",
                "Unregistered recorders",
                "unregistered recorder",
                "unregistered recorders",
                ("Serial", "First docked", "Last docked"),
                _unregistered_cells,
                _unregistered_line,
                UnregisteredRecorder,
            ),
            (
                "equipment",
                "Units short of recorders",
                "unit short of recorders",
                "units short of recorders",
                ("Recorders", "Officers", "Needed", "Articles"),
                _equipment_cells,
                _equipment_line,
                EquipmentShortfall,
            ),
            (
                "unrecorded_activities",
                "Activities without footage",
                "activity without full footage",
                "activities without full footage",
                ("Activity", "Type", "State", "On footage", "From", "To", "Place", "Covered by"),
                _activity_cells,
                _activity_line,
                UnrecordedActivity,
            ),
            (
                "work_records",
                "Work records (recording impossible)",
                "work record",
                "work records",
                ("Id", "Badge", "From", "To", "Reason", "Basis", "Reported to"),
                _work_cells,
                _work_line,
                WorkRecordView,
            ),
        )
    ),
)
