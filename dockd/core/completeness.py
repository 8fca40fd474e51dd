"""Is an offload complete? The recorder's own evidence against what the scan found.

The filesystem's size (its boot sector) against the device's, the space its allocation
says is in use against the files found, its directory tree against itself (loops,
cross-links, sizes its clusters cannot hold), and the recorder's clip numbers against
the last one the ledger saw. Each check gives its figures for the manifest and a
named problem when something is missing; a check that cannot apply (a folder has no
boot sector) says so rather than passing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from dockd.core.fat import BootRegion, Chain, DirEntry
from dockd.core.model import Problem
from dockd.core.said import Said

MiB = 1 << 20
#: Healthy media use a little more than their files' clusters (directories, exFAT's
#: bitmap and up-case table): this much more is never called unaccounted.
UNACCOUNTED_SLACK_BYTES = 2 * MiB
UNACCOUNTED_SLACK_CLUSTERS = 16

#: The board's code for a finished session whose checks found something missing.
INCOMPLETE_CODE = "offload-incomplete"
#: The problem codes that mean "something on the recorder may not have been copied".
INCOMPLETE_CODES = frozenset(
    {
        "recordings-missing",
        "sequence-reset",
        "volume-truncated",
        "unaccounted-space",
        "directory-loop",
        "cross-linked",
        "size-overrun",
        "broken-chain",
        "fat-unreadable",
        "volume-unrecognised",
    }
)
CheckStatus = Literal["ok", "problem", "not-applicable"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One completeness check: what it compared, and the problems it named."""

    name: str
    status: CheckStatus
    detail: str
    figures: dict[str, int | float | str | None] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


def not_applicable(name: str, why: str) -> CheckResult:
    return CheckResult(name, "not-applicable", why)


def _result(
    name: str,
    detail: str,
    figures: dict[str, int | float | str | None],
    problems: Sequence[Problem],
) -> CheckResult:
    return CheckResult(name, "problem" if problems else "ok", detail, figures, tuple(problems))


def _mib(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


def check_volume_size(boot: BootRegion, device_bytes: int) -> CheckResult:
    """A device smaller than its filesystem lost the end of it (a card cut short, a bad
    reader): whatever lay there cannot have been listed, whatever the driver says."""
    figures: dict[str, int | float | str | None] = {
        "filesystem": boot.kind,
        "filesystem_bytes": boot.volume_bytes,
        "device_bytes": device_bytes,
    }
    problems = []
    if device_bytes < boot.volume_bytes:
        problems.append(
            Problem(
                "/",
                "volume-truncated",
                Said(
                    "the {filesystem} filesystem is {filesystem_bytes} bytes ({filesystem_mib}) "
                    "but the device holds only {device_bytes} bytes ({device_mib}): recordings "
                    "past the end cannot be read",
                    filesystem=boot.kind,
                    filesystem_bytes=boot.volume_bytes,
                    filesystem_mib=_mib(boot.volume_bytes),
                    device_bytes=device_bytes,
                    device_mib=_mib(device_bytes),
                ),
            )
        )
    return _result(
        "volume-size", "boot sector's volume size against the device's", figures, problems
    )


def round_up(size: int, cluster: int) -> int:
    return -(-size // cluster) * cluster


def check_unaccounted_space(
    used_bytes: int, cluster_size: int, file_sizes: Iterable[int], directories: int, source: str
) -> CheckResult:
    """Space the allocation says is in use that no file found accounts for: files that
    exist but could not be listed, lost chains, hidden data."""
    found = sum(round_up(s, cluster_size) for s in file_sizes) + directories * cluster_size
    unaccounted = used_bytes - found
    allowed = UNACCOUNTED_SLACK_BYTES + UNACCOUNTED_SLACK_CLUSTERS * cluster_size
    figures: dict[str, int | float | str | None] = {
        "used_bytes": used_bytes,
        "found_bytes": found,
        "unaccounted_mib": round(max(unaccounted, 0) / MiB, 1),
        "allowed_mib": round(allowed / MiB, 1),
        "cluster_size": cluster_size,
        "used_from": source,
    }
    problems = []
    if unaccounted > allowed:
        problems.append(
            Problem(
                "/",
                "unaccounted-space",
                Said(
                    "{mib:.1f} MiB in use on the recorder ({source}) is not in any file found: "
                    "files that could not be listed, lost chains or hidden data",
                    mib=unaccounted / MiB,
                    source=source,
                ),
            )
        )
    return _result("unaccounted-space", "space in use against the files found", figures, problems)


def is_directory_loop(identity: object, ancestors: Iterable[object]) -> bool:
    """A directory that is one of its own ancestors must not be entered again."""
    return identity in set(ancestors)


def directory_loop(path: str, target: str) -> Problem:
    return Problem(
        path,
        "directory-loop",
        Said(
            "this folder is {target} again (a cross-linked directory): not followed, "
            "its files are recorded once",
            target=target,
        ),
    )


class FatSurvey:
    """The directory tree as the FAT records it, walked once: which clusters each entry
    claims, and whether the claims fit."""

    def __init__(self, cluster_size: int) -> None:
        self.cluster_size = cluster_size
        self.owner: dict[int, str] = {}
        self.problems: list[Problem] = []
        self.entries = 0

    def claim(self, path: str, entry: DirEntry, chain: Chain) -> None:
        self.entries += 1
        if chain.fault is not None:
            self.problems.append(
                Problem(path, "broken-chain", Said("its cluster chain {fault}", fault=chain.fault))
            )
        if not entry.is_directory and entry.size > len(chain.clusters) * self.cluster_size:
            self.problems.append(
                Problem(
                    path,
                    "size-overrun",
                    Said(
                        "the entry says {size} bytes but its clusters hold {held}: only those "
                        "bytes can be copied",
                        size=entry.size,
                        held=len(chain.clusters) * self.cluster_size,
                    ),
                )
            )
        shared = [c for c in chain.clusters if c in self.owner]
        if shared:
            other = self.owner[shared[0]]
            self.problems.append(
                Problem(
                    path,
                    "cross-linked",
                    Said(
                        "{count} of its clusters also belong to {other}: one of the two holds "
                        "the other's bytes",
                        count=len(shared),
                        other=other,
                    ),
                )
            )
        for c in chain.clusters:
            self.owner.setdefault(c, path)

    def result(self) -> CheckResult:
        figures: dict[str, int | float | str | None] = {
            "entries": self.entries,
            "clusters_claimed": len(self.owner),
        }
        return _result(
            "fat-consistency", "directory entries against the FAT's chains", figures, self.problems
        )


@dataclass(frozen=True, slots=True)
class Numbered:
    """A recording on the recorder with a clip number in its name."""

    sequence: int
    start: datetime
    new: bool


def _ranges(numbers: Sequence[int]) -> str:
    parts, i = [], 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        parts.append(str(numbers[i]) if i == j else f"{numbers[i]}-{numbers[j]}")
        i = j + 1
    return ", ".join(parts)


def check_sequence(found: Iterable[Numbered], last_seen: int | None) -> CheckResult:
    """The recorder numbers its clips: in recording order, each new clip continues from
    the one before it (on the recorder, or the last the ledger saw). A jump forward is
    recordings missing; a number going back is a reset (a format, a counter wrapping
    round), reported as such and not counted as lost. Only holes before a clip new to
    the ledger are named, so a hole reported once is not reported at every dock."""
    clips = sorted(found, key=lambda n: (n.start, n.sequence))
    missing: list[int] = []
    resets: list[tuple[int, int]] = []
    previous = last_seen
    for clip in clips:
        if previous is not None and clip.new:
            if clip.sequence > previous + 1:
                missing.extend(range(previous + 1, clip.sequence))
            elif clip.sequence <= previous:
                resets.append((previous, clip.sequence))
        previous = clip.sequence
    figures: dict[str, int | float | str | None] = {
        "numbered": len(clips),
        "new": sum(1 for c in clips if c.new),
        "last_seen_before": last_seen,
        "last_now": previous,
        "missing": len(missing),
        "resets": len(resets),
    }
    problems = []
    if missing:
        problems.append(
            Problem(
                "/",
                "recordings-missing",
                Said(
                    "{count} recording(s) numbered {numbers} are neither on the recorder nor in "
                    "the ledger",
                    count=len(missing),
                    numbers=_ranges(sorted(set(missing))),
                ),
            )
        )
    for before, after in resets:
        problems.append(
            Problem(
                "/",
                "sequence-reset",
                Said(
                    "clip numbers went back from {before} to {after}: the recorder was "
                    "formatted or its counter wrapped round (a reset, not counted as missing)",
                    before=before,
                    after=after,
                ),
            )
        )
    return _result("sequence", "clip numbers against the recorder's last known", figures, problems)


def last_sequence(prior: Iterable[tuple[str, datetime, datetime, int | None]]) -> int | None:
    """The recorder's last clip number the ledger saw: in its latest dock session (by
    verification time), the number of the clip recorded last. From (session,
    verified_at, start, sequence) of its verified recordings."""
    rows = [r for r in prior if r[3] is not None]
    if not rows:
        return None
    latest = max(rows, key=lambda r: r[1])[0]
    newest = max((r for r in rows if r[0] == latest), key=lambda r: (r[2], r[3] or 0))
    return newest[3]
