"""What each section of the nightly report shows: its title, columns, and how one item
reads (`dockd.ui.report_lines`). The titles and columns are msgids: translated where
the report is rendered.
"""

from __future__ import annotations

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
from dockd.ui.i18n import ENGLISH, N_, Locale
from dockd.ui.report_lines import (
    activity_cells,
    activity_line,
    central_cells,
    central_line,
    drift_cells,
    drift_line,
    equipment_cells,
    equipment_line,
    gap_cells,
    gap_line,
    held_cells,
    held_line,
    incomplete_cells,
    incomplete_line,
    late_cells,
    late_line,
    lending_cells,
    lending_line,
    overdue_cells,
    overdue_line,
    spot_cells,
    spot_line,
    unregistered_cells,
    unregistered_line,
    unsealed_cells,
    unsealed_line,
    verify_cells,
    verify_line,
    work_cells,
    work_line,
)

# --- the kinds ----------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    field: str  # DeadlineReport attribute, and key of `report deadlines --json`
    title: str  # section heading
    one: str  # "1 late offload"
    many: str  # "3 late offloads"
    columns: tuple[str, ...]
    cells: Callable[[Any, Locale], tuple[str, ...]]  # raw (uncleaned) values, one per column
    line: Callable[[Any, Locale], str]  # the item on one line of text (uncleaned parts cleaned)
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

    def counted(self, n: int, tr: Locale = ENGLISH) -> str:
        return f"{n} {tr(self.one if n == 1 else self.many)}"


_SPOT_COLUMNS = (
    N_("Item"),
    N_("Draw"),
    N_("Recording"),
    N_("Path"),
    N_("Reviewer"),
    N_("Recorded"),
    N_("Uninterrupted"),
    N_("Handed over"),
    N_("Note"),
)


def has_owner(model: type[Any]) -> bool:
    fields = model.model_fields
    return "unit" in fields and "custodian" in fields


KINDS: tuple[Kind, ...] = (
    Kind(
        "late_offloads",
        N_("Late offloads"),
        N_("late offload"),
        N_("late offloads"),
        (
            N_("Recording"),
            N_("Serial"),
            N_("Path"),
            N_("Late by"),
            N_("Ended"),
            N_("Deadline"),
            N_("Offloaded"),
            N_("Station"),
        ),
        late_cells,
        late_line,
        has_owner(LateOffload),
    ),
    Kind(
        "overdue_recorders",
        N_("Overdue recorders"),
        N_("overdue recorder"),
        N_("overdue recorders"),
        (N_("Serial"), N_("Overdue by"), N_("Last docked")),
        overdue_cells,
        overdue_line,
        has_owner(OverdueRecorder),
    ),
    Kind(
        "drift_violations",
        N_("Drift violations"),
        N_("drift violation"),
        N_("drift violations"),
        (N_("Serial"), N_("Session"), N_("Drift"), N_("Verdict"), N_("Method"), N_("Measured")),
        drift_cells,
        drift_line,
        has_owner(DriftViolation),
    ),
    Kind(
        "interruptions",
        N_("Interruptions to review"),
        N_("interruption to review"),
        N_("interruptions to review"),
        (
            N_("Id"),
            N_("State"),
            N_("Serial"),
            N_("Gap"),
            N_("From"),
            N_("To"),
            N_("Clip before"),
            N_("Clip after"),
        ),
        gap_cells,
        gap_line,
        has_owner(Interruption),
    ),
    Kind(
        "unsealed_sessions",
        N_("Unsealed sessions"),
        N_("unsealed session"),
        N_("unsealed sessions"),
        (N_("Session"), N_("Serial"), N_("Finished"), N_("Attested by")),
        unsealed_cells,
        unsealed_line,
        has_owner(UnsealedSession),
    ),
    Kind(
        "verify_failures",
        N_("Verify failures"),
        N_("verify failure"),
        N_("verify failures"),
        (N_("Object"), N_("Problem"), N_("Checked")),
        verify_cells,
        verify_line,
        has_owner(VerifyFailure),
    ),
    Kind(
        "incomplete_offloads",
        N_("Recordings that may be missing"),
        N_("offload that may be incomplete"),
        N_("offloads that may be incomplete"),
        (N_("Serial"), N_("Found"), N_("Detail"), N_("Docked"), N_("Session")),
        incomplete_cells,
        incomplete_line,
        has_owner(IncompleteOffload),
    ),
    Kind(
        "late_to_central",
        N_("Late to the central store"),
        N_("recording late to the central store"),
        N_("recordings late to the central store"),
        (
            N_("Recording"),
            N_("Serial"),
            N_("Path"),
            N_("Late by"),
            N_("Offloaded"),
            N_("Deadline"),
            N_("State"),
            N_("Confirmed"),
        ),
        central_cells,
        central_line,
        has_owner(LateToCentral),
        central=True,
    ),
    # --- supervision ---
    *(
        Kind(field, title, one, many, columns, cells, line, has_owner(model))
        for field, title, one, many, columns, cells, line, model in (
            (
                "spot_checks_open",
                N_("Spot checks to review"),
                N_("spot check to review"),
                N_("spot checks to review"),
                _SPOT_COLUMNS,
                spot_cells,
                spot_line,
                SpotCheckItem,
            ),
            (
                "spot_check_findings",
                N_("Spot-check findings"),
                N_("spot-check finding"),
                N_("spot-check findings"),
                _SPOT_COLUMNS,
                spot_cells,
                spot_line,
                SpotCheckItem,
            ),
            (
                "lending",
                N_("Recorders lent"),
                N_("recording on a lent recorder"),
                N_("recordings on a lent recorder"),
                (N_("Recording"), N_("Serial"), N_("Path"), N_("Badge in name")),
                lending_cells,
                lending_line,
                Lending,
            ),
            (
                "media_held",
                N_("Media held too long"),
                N_("recorder held too long"),
                N_("recorders held too long"),
                (N_("Serial"), N_("Unplugged"), N_("Docked again"), N_("Too long by")),
                held_cells,
                held_line,
                MediaHeld,
            ),
            (
                "unregistered_recorders",
                N_("Unregistered recorders"),
                N_("unregistered recorder"),
                N_("unregistered recorders"),
                (N_("Serial"), N_("First docked"), N_("Last docked")),
                unregistered_cells,
                unregistered_line,
                UnregisteredRecorder,
            ),
            (
                "equipment",
                N_("Units short of recorders"),
                N_("unit short of recorders"),
                N_("units short of recorders"),
                (N_("Recorders"), N_("Officers"), N_("Needed"), N_("Articles")),
                equipment_cells,
                equipment_line,
                EquipmentShortfall,
            ),
            (
                "unrecorded_activities",
                N_("Activities without footage"),
                N_("activity without full footage"),
                N_("activities without full footage"),
                (
                    N_("Activity"),
                    N_("Type"),
                    N_("State"),
                    N_("On footage"),
                    N_("From"),
                    N_("To"),
                    N_("Place"),
                    N_("Covered by"),
                ),
                activity_cells,
                activity_line,
                UnrecordedActivity,
            ),
            (
                "work_records",
                N_("Work records (recording impossible)"),
                N_("work record"),
                N_("work records"),
                (
                    N_("Id"),
                    N_("Badge"),
                    N_("From"),
                    N_("To"),
                    N_("Reason"),
                    N_("Basis"),
                    N_("Reported to"),
                ),
                work_cells,
                work_line,
                WorkRecordView,
            ),
        )
    ),
)
