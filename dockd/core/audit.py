"""The ledger's rows proven against the custody chain, and manifests against the rows.

Every custody event that creates or changes an evidence row carries the whole row
(`details["rows"]`, see `dockd.adapters.ledger.facts`). Replaying the chain, the last
fact about each row wins, gives the state every evidence table must have; any
difference from the rows is an edit, a deletion or an insertion made outside dockd.
Events that carry no rows (checkpoints, verify runs, kinds added later) are skipped,
so the replay never needs to know every kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dockd.core.chain_report import ChainBreak, ChainReport
from dockd.core.custody import LEGACY_STATION, CustodyEvent, canonical_json, event_hash
from dockd.core.retention import StoredCopy

RowKey = tuple[str, str]
Fields = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RowFact:
    """One row as a custody event vouches for it: table, primary key, every column."""

    table: str
    id: str
    fields: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"table": self.table, "id": self.id, "row": self.fields}


def facts_of(event: CustodyEvent) -> list[RowFact]:
    rows = event.details.get("rows")
    if not isinstance(rows, list):
        return []
    return [
        RowFact(str(r["table"]), str(r["id"]), dict(r["row"]))
        for r in rows
        if isinstance(r, dict) and isinstance(r.get("row"), dict)
    ]


def replay(events: Iterable[CustodyEvent]) -> dict[RowKey, dict[str, Any]]:
    """The rows the chain says the ledger holds: the last fact about each row wins."""
    state: dict[RowKey, dict[str, Any]] = {}
    for event in events:
        for fact in facts_of(event):
            state[(fact.table, fact.id)] = fact.fields
    return state


class RowDifference(BaseModel):
    """One way the ledger's rows (or a session's manifest) disagree with what vouches for them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(description="Ledger table, or 'manifests' for a session's manifest.")
    id: str = Field(description="The row's primary key (a session id for 'manifests').")
    problem: Literal["edited", "missing", "inserted"] = Field(
        description="edited: a field differs; missing: vouched for but not in the ledger; "
        "inserted: in the ledger but nothing vouches for it."
    )
    field: str | None = Field(description="The column (or manifest entry) that differs.")
    vouched: Any = Field(description="What the custody chain (or the manifest) says.")
    row: Any = Field(description="What the ledger's row says.")
    by: Literal["chain", "manifest"] = "chain"
    station: str | None = Field(
        None,
        description="The station whose chain vouches for the row (for 'inserted': the "
        "station the row names); null when none does: every station's audit reports it.",
    )


class AuditReport(BaseModel):
    """`dockd audit verify --json`: the chains, then every evidence row and manifest.

    Scope 'station' proves this station's chain (and the legacy 'local' one, which every
    station counts as its own) and the rows it or nobody vouches for; other stations'
    chains and rows are listed, and are theirs to answer for. Scope 'agency'
    (`--all-stations`) fails on any station's finding."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    station: str = Field("local", description="The station that ran the audit.")
    scope: Literal["station", "agency"] = "station"
    events: int = Field(description="Custody events of this station's chain.")
    broken: ChainBreak | None = Field(description="The first event that does not chain.")
    rows_checked: int
    manifests_checked: int
    manifests_not_here: int = Field(
        0, description="Manifests this station's store does not hold (see `dockd verify`)."
    )
    differences: list[RowDifference]
    anchors: list[str] = Field(
        default_factory=list,
        description="Signed checkpoints that do not hold, and a given --head the ledger lost.",
    )

    chains: list[ChainReport] = Field(
        default_factory=list, description="Every station's chain on the ledger."
    )
    legacy_own: bool = Field(
        True,
        description="The rows and chain from before stations had names ('local') are this "
        "station's: always on a one-box ledger, on a shared one once it adopted them.",
    )

    def answerable(self, station: str | None) -> bool:
        """A finding of this station (None: of no station) counts against this audit; the
        legacy chain's and rows' only for the station they belong to."""
        if self.scope == "agency" or station is None:
            return True
        return station == self.station or (station == LEGACY_STATION and self.legacy_own)

    @property
    def ok(self) -> bool:
        return (
            self.broken is None
            and not self.anchors
            and all(c.ok for c in self.chains if self.answerable(c.station))
            and not any(self.answerable(d.station) for d in self.differences)
        )


def _same(a: Any, b: Any) -> bool:
    return canonical_json(a) == canonical_json(b)


def _order(key: RowKey) -> tuple[str, int, str]:
    table, rid = key
    return (table, int(rid) if rid.isdigit() else -1, rid)


def compare(
    chain: Mapping[RowKey, Fields], rows: Mapping[RowKey, Fields], tables: Iterable[str]
) -> list[RowDifference]:
    """Every difference between the chain's state and the rows of `tables`.

    A column the chain's fact lacks (one a migration added later) must be NULL."""
    audited = set(tables)
    keys = sorted({k for k in (*chain, *rows) if k[0] in audited}, key=_order)
    out: list[RowDifference] = []
    for key in keys:
        table, rid = key
        vouched, found = chain.get(key), rows.get(key)
        if found is None:
            out.append(
                RowDifference(
                    table=table, id=rid, problem="missing", field=None, vouched=vouched, row=None
                )
            )
        elif vouched is None:
            out.append(
                RowDifference(
                    table=table,
                    id=rid,
                    problem="inserted",
                    field=None,
                    vouched=None,
                    row=dict(found),
                )
            )
        else:
            out += [
                RowDifference(
                    table=table,
                    id=rid,
                    problem="edited",
                    field=name,
                    vouched=vouched.get(name),
                    row=found.get(name),
                )
                for name in sorted({*vouched, *found})
                if not _same(vouched.get(name), found.get(name))
            ]
    return out


def genuine(event: CustodyEvent) -> bool:
    """The event's content still hashes to its hash (its place in the chain is not checked)."""
    return event.hash == event_hash(
        event.prev_hash,
        event.seq,
        event.at,
        event.kind,
        event.subject,
        event.actor,
        event.details,
    )


def instant(value: Any) -> datetime | None:
    """A time as the facts encode it (ISO 8601), for comparing across encodings."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


_ENTRY_COLUMNS = {
    "path": "path",
    "size": "size",
    "mtime_ns": "mtime_ns",
    "start": "start",
    "end": "end",
    "corrected_start": "corrected_start",
    "corrected_end": "corrected_end",
    "duration_s": "duration_s",
    "time_source": "time_source",
    "badge": "badge",
    "sequence": "sequence",
    "important": "important",
    "blake3": "blake3",
    "sha256": "sha256",
    "object": "object_key",
    "verified_at": "verified_at",
}
_SESSION_COLUMNS = {
    "session": "id",
    "state": "state",
    "started_at": "started_at",
    "finished_at": "finished_at",
}
_RECORDER_COLUMNS = ("serial", "profile", "slot", "source")


def _agree(a: Any, b: Any) -> bool:
    moments = instant(a), instant(b)
    if None not in moments:
        return moments[0] == moments[1]
    return _same(a, b)


def _entry_key(entry: Fields) -> tuple[str, int]:
    raw = entry.get("path_raw_hex") or str(entry.get("path", "")).encode("utf-8").hex()
    return raw, int(entry.get("mtime_ns", 0))


def manifest_differences(
    session: Fields,
    manifest: Mapping[str, Any] | None,
    recordings: Iterable[Fields],
    known: Mapping[str, str],
) -> list[RowDifference]:
    """How a session's manifest in the store disagrees with its rows.

    `recordings` are the session's recording rows; `known` maps the BLAKE3 of every
    recording in the ledger to its SHA-256, for the entries verified by earlier sessions.
    `manifest` is None when the object is missing, unreadable or not the one recorded."""
    sid = str(session["id"])

    def diff(problem: Any, field: str | None, vouched: Any, row: Any) -> RowDifference:
        return RowDifference(
            table="manifests",
            id=sid,
            problem=problem,
            field=field,
            vouched=vouched,
            row=row,
            by="manifest",
        )

    if manifest is None:
        return [diff("missing", None, None, session.get("manifest_blake3"))]
    out = [
        diff("edited", name, manifest.get(name), session.get(column))
        for name, column in _SESSION_COLUMNS.items()
        if not _agree(manifest.get(name), session.get(column))
    ]
    recorder = manifest.get("recorder") or {}
    out += [
        diff("edited", f"recorder.{name}", recorder.get(name), session.get(name))
        for name in _RECORDER_COLUMNS
        if not _agree(recorder.get(name), session.get(name))
    ]
    entries = [e for e in manifest.get("recordings") or [] if isinstance(e, dict)]
    copied = {_entry_key(e): e for e in entries if e.get("status") == "copied"}
    rows = {(str(r["path_raw"]), int(r["mtime_ns"])): r for r in recordings}
    for key in sorted({*copied, *rows}):
        entry, row = copied.get(key), rows.get(key)
        if row is None:
            assert entry is not None
            out.append(diff("missing", f"recordings[{entry.get('path')}]", entry, None))
        elif entry is None:
            out.append(diff("inserted", f"recordings[{row['path']}]", None, row["id"]))
        else:
            out += [
                diff(
                    "edited",
                    f"recordings[{entry.get('path')}].{name}",
                    entry.get(name),
                    row.get(column),
                )
                for name, column in _ENTRY_COLUMNS.items()
                if not _agree(entry.get(name), row.get(column))
            ]
    for entry in entries:
        if entry.get("status") != "already-verified":
            continue
        name = f"recordings[{entry.get('path')}]"
        sha256 = known.get(str(entry.get("blake3")))
        if sha256 is None:
            out.append(diff("missing", name, entry, None))
        elif sha256 != entry.get("sha256"):
            out.append(diff("edited", f"{name}.sha256", entry.get("sha256"), sha256))
    return out


def _disputes(copy: StoredCopy, state: Mapping[RowKey, Fields]) -> list[RowDifference]:
    rid = str(copy.recording)
    fact = state.get(("recordings", rid))
    if fact is None:
        return [
            RowDifference(
                table="recordings", id=rid, problem="inserted", field=None, vouched=None, row=rid
            )
        ]
    row = {"blake3": copy.blake3, "object_key": copy.key, "expired_at": None}
    out = [
        RowDifference(
            table="recordings",
            id=rid,
            problem="edited",
            field=name,
            vouched=fact.get(name),
            row=value,
        )
        for name, value in row.items()
        if fact.get(name) != value
    ]
    if instant(fact.get("retain_until")) != copy.retain_until:
        found = copy.retain_until.isoformat() if copy.retain_until else None
        out.append(
            RowDifference(
                table="recordings",
                id=rid,
                problem="edited",
                field="retain_until",
                vouched=fact.get("retain_until"),
                row=found,
            )
        )
    holds = sum(
        1
        for (table, _), hold in state.items()
        if table == "holds"
        and hold.get("recording_id") == copy.recording
        and hold.get("released_at") is None
    )
    if holds != copy.active_holds:
        out.append(
            RowDifference(
                table="holds",
                id=f"recording {rid}",
                problem="edited",
                field="active holds",
                vouched=holds,
                row=copy.active_holds,
            )
        )
    return out


def confirm(
    copies: Iterable[StoredCopy], events: Iterable[CustodyEvent]
) -> tuple[list[StoredCopy], list[RowDifference]]:
    """The expiry candidates as their own custody events vouch for them.

    `events` are the events whose subject is a candidate's recording id. A copy whose row
    disagrees with its events, or whose events no longer hash to their hashes, loses its
    retention date: the rule then keeps its object. The disagreements, for the operator."""
    own: dict[str, list[CustodyEvent]] = {}
    for event in sorted(events, key=lambda e: e.seq):
        own.setdefault(event.subject, []).append(event)
    kept: list[StoredCopy] = []
    disputed: list[RowDifference] = []
    for copy in copies:
        mine = own.get(str(copy.recording), [])
        forged = [
            RowDifference(
                table="custody_events",
                id=str(e.seq),
                problem="edited",
                field="hash",
                vouched=e.hash,
                row="content that hashes otherwise",
            )
            for e in mine
            if not genuine(e)
        ]
        problems = forged + _disputes(copy, replay(e for e in mine if genuine(e)))
        disputed += problems
        kept.append(replace(copy, retain_until=None) if problems else copy)
    return kept, disputed
