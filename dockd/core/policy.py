"""Policy packs: one regulation's regime as data (rules/policies/<pack>.toml, read by
`dockd.adapters.rules`).

Every value carries the articles it comes from, so `dockd policy show` can say
not just what dockd enforces but why, in the words of the regulation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import time
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

from dockd.core.operators import Operator

_ARTICLE = re.compile(r"00[0-4](/[A-E])?:\d+(\(\d+\))?")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    articles: list[str] = Field(
        description="Where the values come from: '000:24', '003/B:8', '000:33(7)'; empty only "
        "when every value of the section is dockd's own."
    )
    dockd_own: list[str] = Field(
        default_factory=list,
        description="Keys of this section whose values are dockd's own (its default or its "
        "interpretation), not the seed's: `policy show` marks them.",
    )

    @field_validator("articles")
    @classmethod
    def _article_refs(cls, refs: list[str]) -> list[str]:
        for ref in refs:
            if not _ARTICLE.fullmatch(ref):
                raise ValueError(f"{ref!r} is not an article reference like '000:24' or '003/B:8'")
        return refs

    @model_validator(mode="after")
    def _own_keys_exist(self) -> _Section:
        """A misspelt key in `dockd_own` would silently mark nothing."""
        keys = set(type(self).model_fields) - {"articles", "dockd_own"}
        unknown = [k for k in self.dockd_own if k not in keys]
        if unknown:
            raise ValueError(
                f"dockd_own names {', '.join(map(repr, unknown))}, not a key of this section "
                f"(keys: {', '.join(sorted(keys))})"
            )
        if not self.articles and set(self.dockd_own) != keys:
            raise ValueError(
                "articles is empty: cite the seed, or list every key in dockd_own "
                "(the seed says nothing of this section)"
            )
        return self


class OffloadPolicy(_Section):
    deadline_hours: float = Field(
        gt=0,
        description="Offload within this long of the end of the officer's working day (the "
        "day's last recording, or duty_day_end), or of a return from remote duty.",
    )
    duty_day_end: time | None = Field(
        None,
        description="Local time the duty day ends; the day's work ends at the later of it and "
        "the day's last recording. null: the day's last recording.",
    )
    two_person_seal: bool = Field(
        description="A dock session is sealed only after two distinct operators attest it."
    )


class RetentionPolicy(_Section):
    routine_months: int = Field(
        gt=0,
        description="Routine footage whose kind is not known is kept at least this many "
        "calendar months: the longest routine class, never a shorter one.",
    )
    classes: dict[str, int] = Field(
        default_factory=dict,
        description="Routine classes with a period of their own (class -> calendar months), "
        "given to a recording by the activity it records (002:18(1) patrol and inspection).",
    )
    evidence: Literal["with-case-file"] = Field(
        description="Footage linked to a case is kept as long as the case file."
    )
    long_term_reasons: list[str] = Field(
        description="Reasons that place a long-term hold (e.g. complaint, mass-incident)."
    )

    @model_validator(mode="after")
    def _routine_is_longest(self) -> RetentionPolicy:
        """New footage defaults to routine, so routine must never be shorter than a class."""
        for name, months in self.classes.items():
            if months <= 0 or months > self.routine_months:
                raise ValueError(
                    f"[retention] class {name!r} keeps {months} months: a class keeps "
                    f"1..routine_months ({self.routine_months}), so the default is never shorter"
                )
        return self

    def months_for(self, classes: Sequence[str]) -> tuple[str, int]:
        """The class and period of footage of these kinds: the longest that applies."""
        known = [(self.classes[c], c) for c in classes if c in self.classes]
        if not known or len(known) < len(classes):
            return "routine", self.routine_months
        months, name = max(known)
        return name, months


class ClockPolicy(_Section):
    drift_warn_s: float = Field(2.0, gt=0, description="Recorder drift that is flagged.")
    drift_violation_s: float = Field(30.0, gt=0, description="Recorder drift that is a violation.")
    on_unsynchronised: Literal["warn", "refuse"] = Field(
        "warn", description="When the station's own clock is not synchronised."
    )
    set_recorder_clock: bool = Field(
        False, description="Write the recorder's clock-set file after a verified session."
    )


class StationPolicy(_Section):
    """How the agency's people read: the stations of a Chinese agency speak Chinese and
    keep Beijing time, whatever the host was installed with."""

    language: Literal["en", "zh-CN"] = Field(
        "en", description="Language of the e-mail and the CLI unless [station] language says."
    )
    timezone: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$",
        description="IANA zone times are shown in unless [station] timezone says (None: the "
        "host's).",
    )


class InterruptionPolicy(_Section):
    gap_tolerance_s: float = Field(
        gt=0, description="A hole between consecutive clips longer than this is to be reviewed."
    )
    duty_break_hours: float = Field(
        4.0, gt=0, description="A hole this long ends a duty stretch: not an interruption."
    )


class SpotCheckPolicy(_Section):
    ratio: float = Field(
        gt=0,
        le=1,
        description="Share of the period's recordings a spot-check draw takes: "
        "ceil(ratio × population), stratified by unit and custodian.",
    )


class MediaReturnPolicy(_Section):
    hours: float = Field(
        gt=0, description="A recorder taken off the dock must be docked again within this long."
    )


class EquipmentPolicy(_Section):
    officers_per_recorder: float | None = Field(
        None, gt=0, description="At most this many of a unit's officers share one recorder."
    )
    min_per_unit: int | None = Field(
        None, ge=1, description="Every unit with enforcement duties has at least this many."
    )


#: How long an approved viewing stays open when the pack does not say: dockd's own choice
#: (one working day), since no seed article sets it.
DOCKD_VIEWING_HOURS = 8.0


class ViewingPolicy(_Section):
    approvers: list[str] = Field(
        description="Roles that must each approve a viewing by one of the recording's own "
        "unit; empty: the unit views its own footage without approval (still registered)."
    )
    approvers_outside_unit: list[str] = Field(
        default_factory=list,
        description="Who approves instead when the viewer is not of the recording's own "
        "unit, or not one of its officers (tiered authorisation); empty: the same approvers "
        "for everyone.",
    )
    officer_role: str | None = Field(
        None,
        description="The role that makes a viewer of the unit one of its own enforcement "
        "officers (002:17 执法人员); a viewer of the unit without it is another person. "
        "null: everyone of the unit counts as its own.",
    )
    ordered: bool = Field(
        False,
        description="The approvals must come in the order the roles are listed (004:24: "
        "reviewed, then approved).",
    )
    open_hours: float | None = Field(
        None,
        gt=0,
        description="How long an approved viewing stays open; null: dockd's own default "
        f"of {DOCKD_VIEWING_HOURS:g} hours (no article sets it).",
    )

    @model_validator(mode="after")
    def _someone_approves(self) -> ViewingPolicy:
        if not self.approvers and not self.approvers_outside_unit:
            raise ValueError("[viewing] names no approver at all: every viewing needs one")
        return self

    @computed_field(  # type: ignore[prop-decorator]
        description="The window dockd applies: open_hours, or dockd's own default when null."
    )
    @property
    def effective_open_hours(self) -> float:
        return self.open_hours if self.open_hours is not None else DOCKD_VIEWING_HOURS

    def roles(self) -> list[str]:
        """Every role this section names, in order, once."""
        named = [*self.approvers, *self.approvers_outside_unit]
        if self.officer_role:
            named.append(self.officer_role)
        return list(dict.fromkeys(named))


class ExportPolicy(_Section):
    roles: list[str] = Field(
        min_length=1, description="Roles that may export evidence; every operator needs one."
    )
    operators: int = Field(
        1, ge=1, description="Distinct operators who must export together (004:21: two)."
    )

    def refusal(self, operators: Sequence[Operator]) -> str | None:
        """Why these operators may not export together, or None when they may."""
        badges = [o.badge for o in operators]
        if len(set(badges)) != len(badges):
            return (
                f"an operator is named twice ({', '.join(badges)}): each must be a different person"
            )
        if len(operators) < self.operators:
            return (
                f"{self.operators} distinct operators must export together; {len(operators)} given"
            )
        for o in operators:
            if not any(o.holds(role) for role in self.roles):
                return (
                    f"operator {o.badge} holds none of the export roles ({', '.join(self.roles)})"
                )
        return None


class ActivityPolicy(_Section):
    need_footage: list[str] = Field(
        description="Activity types that must be recorded (000:11, 001:6, 002:9, 004:10); "
        "an imported activity of another type is kept but never reported unrecorded."
    )
    retention_class: dict[str, str] = Field(
        default_factory=dict,
        description="Activity type -> the [retention] class its recordings take (Qidong).",
    )


class ForwardingPolicy(_Section):
    confirm_within_hours: float = Field(
        24.0,
        gt=0,
        description="A recording not confirmed in the central store within this long of its "
        "offload (verified_at) is reported late to the central store.",
    )


def _dockd_forwarding() -> ForwardingPolicy:
    """No seed regulation speaks of a central store: the default is dockd's own."""
    return ForwardingPolicy(articles=[], dockd_own=["confirm_within_hours"])


class ClearingPolicy(_Section):
    """Deleting a recorder's files once their copies are verified (数据清空). None of the
    shipped seeds speaks of it; each forbids altering the original record (000:30, 004:26),
    which the verified copy in the store is from then on. So it is off unless a pack cites
    the article of its own regime that allows it."""

    allowed: bool = Field(
        False,
        description="dockd may delete a recorder's verified files after offload, where the "
        "station also sets [daemon] clear_after_offload.",
    )

    @model_validator(mode="after")
    def _allowed_by_an_article(self) -> ClearingPolicy:
        if self.allowed and (not self.articles or "allowed" in self.dockd_own):
            raise ValueError(
                "[clearing] allowed = true needs the article that allows clearing recorders "
                "in articles (it cannot be dockd's own default)"
            )
        return self


def _dockd_clearing() -> ClearingPolicy:
    return ClearingPolicy(articles=[], dockd_own=["allowed"])


class PolicyPack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(description="The regulation's title, as published.")
    authority: str = Field(description="The agency whose regime this is, in English.")
    seed: str = Field(description="The regulation's text in ../shared/seeds/.")
    offload: OffloadPolicy
    retention: RetentionPolicy
    clock: ClockPolicy
    interruptions: InterruptionPolicy
    spot_check: SpotCheckPolicy
    viewing: ViewingPolicy
    export: ExportPolicy
    media_return: MediaReturnPolicy | None = None
    equipment: EquipmentPolicy | None = None
    activities: ActivityPolicy
    forwarding: ForwardingPolicy = Field(default_factory=_dockd_forwarding)
    clearing: ClearingPolicy = Field(default_factory=_dockd_clearing)
    station: StationPolicy = Field(default_factory=lambda: StationPolicy(articles=[]))

    @model_validator(mode="after")
    def _classes_exist(self) -> PolicyPack:
        unknown = set(self.activities.retention_class.values()) - set(self.retention.classes)
        if unknown:
            raise ValueError(
                f"[activities] retention_class names {sorted(unknown)}, not in [retention] classes"
            )
        return self
