"""The dock session manifest, built from plain values.

It is the document a court sees: with it, `b3sum` and `sha256sum` alone, anyone
can check every recording of the session in the store, so it lists digests and
object paths rather than ledger ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from dockd.core.completeness import CheckResult
from dockd.core.custody import canonical_json
from dockd.core.model import Problem, SourceFile, VerifiedRecording, raw_hex
from dockd.core.views import (
    CheckView,
    Manifest,
    ManifestRecorder,
    ManifestRecording,
    ManifestStation,
    ProblemView,
    RecorderClockView,
    RecordingView,
    StationClockView,
)


def _from_verified(rec: VerifiedRecording) -> ManifestRecording:
    raw = rec.source.path
    return ManifestRecording(
        path=rec.source.display,
        path_raw_hex=raw_hex(raw),
        size=rec.source.size,
        mtime_ns=rec.source.mtime_ns,
        start=rec.times.start,
        end=rec.times.end,
        corrected_start=rec.corrected_start,
        corrected_end=rec.corrected_end,
        duration_s=rec.times.duration_s,
        time_source=rec.times.source,
        badge=rec.badge,
        sequence=rec.sequence,
        important=rec.important,
        blake3=rec.digests.blake3,
        sha256=rec.digests.sha256,
        object=rec.object_key,
        status="copied",
        verified_at=rec.verified_at,
    )


def _from_prior(file: SourceFile, prior: RecordingView) -> ManifestRecording:
    return ManifestRecording(
        path=prior.path,
        path_raw_hex=prior.path_raw_hex,
        size=prior.size,
        mtime_ns=file.mtime_ns,
        start=prior.start,
        end=prior.end,
        corrected_start=prior.corrected_start,
        corrected_end=prior.corrected_end,
        duration_s=prior.duration_s,
        time_source=prior.time_source,
        badge=prior.badge,
        sequence=prior.sequence,
        important=prior.important,
        blake3=prior.blake3,
        sha256=prior.sha256,
        object=prior.object,
        status="already-verified",
        verified_at=prior.verified_at,
    )


def build_manifest(
    *,
    session_id: str,
    state: str,
    started_at: datetime,
    finished_at: datetime,
    station: ManifestStation,
    recorder: ManifestRecorder,
    station_clock: StationClockView | None,
    recorder_clock: RecorderClockView | None,
    copied: Iterable[VerifiedRecording],
    already_verified: Iterable[tuple[SourceFile, RecordingView]],
    not_copied: Iterable[SourceFile],
    problems: Iterable[Problem],
    checks: Iterable[CheckResult] = (),
) -> Manifest:
    entries = [_from_verified(r) for r in copied]
    entries += [_from_prior(f, p) for f, p in already_verified]
    entries.sort(key=lambda e: (e.path, e.mtime_ns))
    return Manifest(
        session=session_id,
        state=state,
        started_at=started_at,
        finished_at=finished_at,
        station=station,
        recorder=recorder,
        station_clock=station_clock,
        recorder_clock=recorder_clock,
        recordings=entries,
        not_copied=sorted(f.display for f in not_copied),
        problems=[ProblemView(path=p.path, code=p.code, message=p.message) for p in problems],
        checks=[_check(c) for c in checks],
    )


def _check(check: CheckResult) -> CheckView:
    return CheckView(
        name=check.name,
        status=check.status,
        detail=check.detail,
        figures=dict(check.figures),
        problems=sorted({p.code for p in check.problems}),
    )


_SPLICE = "\0recordings\0"  # no field holds a NUL: a place-holder nothing can collide with


def manifest_bytes(manifest: Manifest) -> bytes:
    """Canonical JSON: the same manifest always hashes to the same BLAKE3.

    The recordings are encoded one by one and spliced in: the same bytes as dumping the
    whole manifest at once, without holding every recording as a dict and the whole
    document as a str besides (tens of MiB on a recorder of 10,000 short clips)."""
    top = manifest.model_dump(mode="json", exclude={"recordings"})
    top["recordings"] = _SPLICE
    rest, mark = canonical_json(top), canonical_json(_SPLICE)
    if rest.count(mark) != 1:  # a name that holds the place-holder itself
        return canonical_json(manifest.model_dump(mode="json"))
    head, _, tail = rest.partition(mark)
    entries = b",".join(canonical_json(e.model_dump(mode="json")) for e in manifest.recordings)
    return b"".join((head, b"[", entries, b"]", tail))
