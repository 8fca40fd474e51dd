"""One line of text and one table row per item of the nightly report, in the reader's
language and the station's zone. Untrusted text (recorder paths, serials, registry
names) is made printable here, once, for the text and the HTML alike.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import datetime

from dockd.core.backlog import LateToCentral
from dockd.core.views import (
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
from dockd.ui.i18n import N_, Locale

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


# --- one item ------------------------------------------------------------------


def _at(tr: Locale, value: datetime | None, missing: str = N_("unknown")) -> str:
    """A time in the station's zone with its offset written out (the e-mail is read
    away from the dock): 2026-11-26 08:10 +08:00."""
    return fmt.local_moment(value, tr.zone, tr(missing))


def late_cells(item: LateOffload, tr: Locale) -> tuple[str, ...]:
    return (
        str(item.recording),
        item.serial,
        item.path,
        fmt.duration(item.late_by_s, tr),
        _at(tr, item.end),
        _at(tr, item.deadline),
        _at(tr, item.offloaded_at),
        item.station or "",
    )


def late_line(item: LateOffload, tr: Locale) -> str:
    return tr(
        "{serial} {path} (recording {recording}): late by {late}; ended {end}, "
        "deadline {deadline}, offloaded {offloaded}",
        serial=clean(item.serial),
        path=clean(item.path),
        recording=item.recording,
        late=fmt.duration(item.late_by_s, tr),
        end=_at(tr, item.end),
        deadline=_at(tr, item.deadline),
        offloaded=_at(tr, item.offloaded_at),
    ) + (tr(" at {station}", station=clean(item.station)) if item.station else "")


def overdue_cells(item: OverdueRecorder, tr: Locale) -> tuple[str, ...]:
    return (
        item.serial,
        fmt.duration(item.overdue_by_s, tr),
        _at(tr, item.last_docked, N_("never")),
    )


def overdue_line(item: OverdueRecorder, tr: Locale) -> str:
    return tr(
        "{serial}: overdue by {overdue}; last docked {docked}",
        serial=clean(item.serial),
        overdue=fmt.duration(item.overdue_by_s, tr),
        docked=_at(tr, item.last_docked, N_("never")),
    )


def drift_cells(item: DriftViolation, tr: Locale) -> tuple[str, ...]:
    return (
        item.serial,
        item.session,
        fmt.drift(item.drift_s, tr),
        tr(fmt.VERDICT_LABELS.get(item.verdict, item.verdict)),
        item.method,
        _at(tr, item.at),
    )


def drift_line(item: DriftViolation, tr: Locale) -> str:
    return tr(
        "{serial}: drift {drift} ({verdict}, {method}) in session {session} at {at}",
        serial=clean(item.serial),
        drift=fmt.drift(item.drift_s, tr),
        verdict=clean(tr(fmt.VERDICT_LABELS.get(item.verdict, item.verdict))),
        method=clean(item.method),
        session=clean(item.session),
        at=_at(tr, item.at),
    )


def _gap_state(item: Interruption, tr: Locale) -> str:
    if item.covered_by:
        return tr("covered by work record {ids}", ids=", ".join(map(str, item.covered_by)))
    if item.explanation is None:
        return tr("unexplained")
    if item.reviewed_by:
        return tr(
            "explained by {who}: {why}, reviewed by {reviewer}",
            who=item.explained_by,
            why=item.explanation,
            reviewer=item.reviewed_by,
        )
    return tr(
        "explained by {who}: {why}, not yet reviewed", who=item.explained_by, why=item.explanation
    )


def gap_cells(item: Interruption, tr: Locale) -> tuple[str, ...]:
    return (
        str(item.id),
        _gap_state(item, tr),
        item.serial,
        fmt.duration(item.gap_s, tr),
        _at(tr, item.gap_start),
        _at(tr, item.gap_end),
        item.before,
        item.after,
    )


def gap_line(item: Interruption, tr: Locale) -> str:
    return tr(
        "{serial}: gap of {gap} from {start} to {end}, between {before} and {after} "
        "(interruption {id}: {state})",
        serial=clean(item.serial),
        gap=fmt.duration(item.gap_s, tr),
        start=_at(tr, item.gap_start),
        end=_at(tr, item.gap_end),
        before=clean(item.before),
        after=clean(item.after),
        id=item.id,
        state=clean(_gap_state(item, tr)),
    )


def _answer(value: bool | None, tr: Locale) -> str:
    return "?" if value is None else (tr("yes") if value else tr("NO"))


def spot_cells(item: SpotCheckItem, tr: Locale) -> tuple[str, ...]:
    return (
        str(item.item),
        str(item.draw),
        str(item.recording),
        item.path,
        item.reviewer or "",
        _answer(item.recorded, tr),
        _answer(item.uninterrupted, tr),
        _answer(item.handed_over, tr),
        item.note or "",
    )


def spot_line(item: SpotCheckItem, tr: Locale) -> str:
    if item.reviewer:
        said = tr(
            "reviewed by {reviewer}: recorded {recorded}, uninterrupted {uninterrupted}, "
            "handed over {handed}",
            reviewer=clean(item.reviewer),
            recorded=_answer(item.recorded, tr),
            uninterrupted=_answer(item.uninterrupted, tr),
            handed=_answer(item.handed_over, tr),
        ) + (f"; {clean(item.note)}" if item.note else "")
    else:
        said = tr("drawn {at}, not yet reviewed", at=_at(tr, item.drawn_at))
    return tr(
        "item {item} (draw {draw}): {path} ({recording}): {said}",
        item=item.item,
        draw=item.draw,
        path=clean(item.path),
        recording=item.recording,
        said=said,
    )


def work_cells(item: WorkRecordView, tr: Locale) -> tuple[str, ...]:
    return (
        str(item.id),
        item.badge,
        _at(tr, item.start),
        _at(tr, item.end),
        item.reason,
        item.basis,
        item.reported_to,
    )


def work_line(item: WorkRecordView, tr: Locale) -> str:
    return tr(
        "work record {id}: {badge} could not record from {start} to {end}: {reason} "
        "({basis}), reported to {reported}",
        id=item.id,
        badge=clean(item.badge),
        start=_at(tr, item.start),
        end=_at(tr, item.end),
        reason=clean(item.reason),
        basis=clean(item.basis),
        reported=clean(item.reported_to),
    )


def lending_cells(item: Lending, tr: Locale) -> tuple[str, ...]:
    return (str(item.recording), item.serial, item.path, item.badge_in_name)


def lending_line(item: Lending, tr: Locale) -> str:
    return tr(
        "{serial} {path} (recording {recording}): the name says {badge}, the recorder was "
        "in someone else's custody",
        serial=clean(item.serial),
        path=clean(item.path),
        recording=item.recording,
        badge=clean(item.badge_in_name),
    )


def _covered(item: UnrecordedActivity, tr: Locale) -> str:
    return ", ".join(tr("work record {id}", id=w) for w in item.covered_by)


def activity_cells(item: UnrecordedActivity, tr: Locale) -> tuple[str, ...]:
    return (
        item.activity,
        item.type,
        item.state,
        f"{item.covered_share:.0%}",
        _at(tr, item.start),
        _at(tr, item.end),
        item.place,
        _covered(item, tr),
    )


def activity_line(item: UnrecordedActivity, tr: Locale) -> str:
    line = tr(
        "activity {activity} ({type}, {place}) {start} to {end}: {share} on footage",
        activity=clean(item.activity),
        type=clean(item.type),
        place=clean(item.place),
        start=_at(tr, item.start),
        end=_at(tr, item.end),
        share=f"{item.covered_share:.0%}",
    )
    if not item.covered_by:
        return line
    return line + tr(", covered by {records}", records=_covered(item, tr))


def held_cells(item: MediaHeld, tr: Locale) -> tuple[str, ...]:
    back = _at(tr, item.docked_again, N_("not yet"))
    return (item.serial, _at(tr, item.unplugged_at), back, fmt.duration(item.held_over_s, tr))


def held_line(item: MediaHeld, tr: Locale) -> str:
    return tr(
        "{serial}: off the dock since {unplugged}, back {back}: {over} too long",
        serial=clean(item.serial),
        unplugged=_at(tr, item.unplugged_at),
        back=_at(tr, item.docked_again, N_("not yet")),
        over=fmt.duration(item.held_over_s, tr),
    )


def unregistered_cells(item: UnregisteredRecorder, tr: Locale) -> tuple[str, ...]:
    return (item.serial, _at(tr, item.first_docked), _at(tr, item.last_docked))


def unregistered_line(item: UnregisteredRecorder, tr: Locale) -> str:
    return tr(
        "{serial}: docked {docked} without being registered (dockd devices add {serial} --model M)",
        serial=clean(item.serial),
        docked=_at(tr, item.last_docked),
    )


def equipment_cells(item: EquipmentShortfall, tr: Locale) -> tuple[str, ...]:
    return (str(item.recorders), str(item.officers), str(item.needed), ", ".join(item.articles))


def equipment_line(item: EquipmentShortfall, tr: Locale) -> str:
    return tr(
        "{recorders} recorder(s) in service for {officers} officer(s); {needed} needed "
        "({articles})",
        recorders=item.recorders,
        officers=item.officers,
        needed=item.needed,
        articles=", ".join(item.articles),
    )


def _attested(item: UnsealedSession, tr: Locale) -> str:
    return ", ".join(item.attestations) if item.attestations else tr("nobody")


def unsealed_cells(item: UnsealedSession, tr: Locale) -> tuple[str, ...]:
    finished = _at(tr, item.finished_at, N_("not finished"))
    return (item.session, item.serial, finished, _attested(item, tr))


def unsealed_line(item: UnsealedSession, tr: Locale) -> str:
    return tr(
        "session {session} ({serial}), finished {finished}: attested by {attested}",
        session=clean(item.session),
        serial=clean(item.serial),
        finished=_at(tr, item.finished_at, N_("not yet")),
        attested=clean(_attested(item, tr)),
    )


def verify_cells(item: VerifyFailure, tr: Locale) -> tuple[str, ...]:
    return (item.object, item.problem, _at(tr, item.at))


def verify_line(item: VerifyFailure, tr: Locale) -> str:
    return tr(
        "{object}: {problem} (checked {at})",
        object=clean(item.object),
        problem=clean(item.problem),
        at=_at(tr, item.at),
    )


def incomplete_cells(item: IncompleteOffload, tr: Locale) -> tuple[str, ...]:
    detail = tr.say(item.detail_said())
    return (item.serial, item.code, detail, _at(tr, item.docked_at), item.session)


def incomplete_line(item: IncompleteOffload, tr: Locale) -> str:
    return tr(
        "{serial}: {code}: {detail} (docked {docked}, session {session})",
        serial=clean(item.serial),
        code=clean(item.code),
        detail=clean(tr.say(item.detail_said())),
        docked=_at(tr, item.docked_at),
        session=clean(item.session),
    )


def _central_state(item: LateToCentral) -> str:
    return item.state if item.error_code is None else f"{item.state} ({item.error_code})"


def central_cells(item: LateToCentral, tr: Locale) -> tuple[str, ...]:
    return (
        str(item.recording),
        item.serial,
        item.path,
        fmt.duration(item.late_by_s, tr),
        _at(tr, item.offloaded_at),
        _at(tr, item.deadline),
        _central_state(item),
        _at(tr, item.confirmed_at, N_("not yet")),
    )


def central_line(item: LateToCentral, tr: Locale) -> str:
    return tr(
        "{serial} {path} (recording {recording}): late by {late}; offloaded {offloaded}, "
        "deadline {deadline}, {state}, confirmed {confirmed}",
        serial=clean(item.serial),
        path=clean(item.path),
        recording=item.recording,
        late=fmt.duration(item.late_by_s, tr),
        offloaded=_at(tr, item.offloaded_at),
        deadline=_at(tr, item.deadline),
        state=clean(_central_state(item)),
        confirmed=_at(tr, item.confirmed_at, N_("not yet")),
    )
