"""The completeness checks of one dock session, over what the scan, the raw volume and
the ledger hold: did everything on the recorder get copied?

The decisions are `dockd.core.completeness`; this gathers their inputs. A folder (a
drop folder, `dockd ingest DIR`) has no boot sector and no allocation of its own:
those checks say "not applicable" in the manifest rather than passing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dockd.core.completeness import (
    CheckResult,
    Numbered,
    check_sequence,
    check_unaccounted_space,
    last_sequence,
    not_applicable,
)
from dockd.core.model import Problem, SourceFile
from dockd.core.names import parse_name
from dockd.core.profiles import RecorderProfile
from dockd.core.said import Said
from dockd.core.transfer import Scan, VolumeEvidence
from dockd.core.views import RecordingView
from dockd.ports import Volume

NO_DEVICE = "not a block device (a folder): no boot sector or allocation to check against"


def _volume_checks(
    evidence: VolumeEvidence | None, volume: Volume, source: Path, scan: Scan
) -> list[CheckResult]:
    if evidence is None:
        return [not_applicable(name, NO_DEVICE) for name in ("volume-size", "unaccounted-space")]
    if evidence.boot is None:
        why = Said("the volume's own size could not be read: {why}", why=evidence.unrecognised)
        unread = Problem("/", "volume-unrecognised", why)
        return [
            CheckResult("volume-size", "problem", "no FAT or exFAT boot region", {}, (unread,)),
            not_applicable("unaccounted-space", "no FAT or exFAT allocation to count"),
        ]
    checks = list(evidence.checks)
    cluster = evidence.boot.cluster_size
    if evidence.fat_used_bytes is not None:
        used, counted_by = evidence.fat_used_bytes, "the FAT's own count"
    else:
        mounted = volume.space_in_use(source)
        if mounted is None:
            checks.append(
                not_applicable("unaccounted-space", "the driver does not count space in use")
            )
            return checks
        used, counted_by = mounted[0], "the mounted filesystem's count"
    checks.append(
        check_unaccounted_space(used, cluster, scan.file_sizes, scan.directories, counted_by)
    )
    return checks


def _numbered(
    profile: RecorderProfile, files: list[SourceFile], new: set[tuple[bytes, int, int]]
) -> list[Numbered]:
    found = []
    for f in files:
        info = parse_name(profile, os.path.basename(f.display))
        if info is not None and info.sequence is not None and info.start is not None:
            found.append(Numbered(info.sequence, info.start, f.identity in new))
    return found


def check_completeness(
    *,
    evidence: VolumeEvidence | None,
    volume: Volume,
    source: Path,
    scan: Scan,
    profile: RecorderProfile,
    prior: Mapping[tuple[bytes, int, int], RecordingView],
) -> list[CheckResult]:
    """Every completeness check of the session, in the order the manifest lists them."""
    checks = _volume_checks(evidence, volume, source, scan)
    loops = tuple(p for p in scan.problems if p.code == "directory-loop")
    checks.append(
        CheckResult(
            "directory-loops",
            "problem" if loops else "ok",
            "folders that are their own ancestor, not followed",
            {"folders": scan.directories, "loops": len(loops)},
            loops,
        )
    )
    new = {f.identity for f in scan.recordings if f.identity not in prior}
    last = last_sequence((r.session, r.verified_at, r.start, r.sequence) for r in prior.values())
    checks.append(check_sequence(_numbered(profile, scan.recordings, new), last))
    return checks
