"""Which model a docked volume is, and whose it is: decided from what is on it.

A USB id says which vendor's chip is inside, not which recorder: many models share
one, and a card reader has none of the recorder's. So the content decides first (a
profile's declared folders, files and name patterns, over a listing of the top of the
volume and a sample of its file names), then a declared USB id, then `generic`, which
is flagged. The serial follows the same rule: the volume's own identity where the
profile says how, else the USB descriptor's; a disagreement between the two is a
problem, never silently resolved.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from dockd.core.model import Problem
from dockd.core.profiles import RecorderProfile
from dockd.core.said import Said

GENERIC = "generic"
UNRECOGNISED = "profile-unrecognised"
SERIAL_MISMATCH = "serial-mismatch"
SERIAL_UNREADABLE = "serial-unreadable"


@dataclass(frozen=True, slots=True)
class VolumeSample:
    """The top of a mounted volume and a sample of its file names (not paths)."""

    folders: frozenset[str]
    files: frozenset[str]
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Detection:
    profile: str
    how: str  # "content", "usb-id" or "fallback"
    serial: str
    serial_source: str
    problems: list[Problem] = field(default_factory=list)


def _recordings(profile: RecorderProfile, names: tuple[str, ...]) -> list[str]:
    return [n for n in names if n.rpartition(".")[2].lower() in profile.extensions and "." in n]


def _matches(profile: RecorderProfile, name: str) -> re.Match[str] | None:
    for pattern in profile.name_patterns:
        found = re.match(pattern.regex, name)
        if found is not None:
            return found
    return None


def content_score(profile: RecorderProfile, sample: VolumeSample) -> int | None:
    """How specifically the volume matches the profile's signature; None: it does not."""
    sig = profile.detect
    if sig is None:
        return None
    folders = {f.upper() for f in sample.folders}
    files = {f.upper() for f in sample.files}
    if any(f.upper() not in folders for f in sig.folders):
        return None
    if any(f.upper() not in files for f in sig.files):
        return None
    score = len(sig.folders) + len(sig.files)
    if sig.names:
        candidates = _recordings(profile, sample.names)
        matching = sum(1 for n in candidates if _matches(profile, n) is not None)
        if matching == 0 or 2 * matching < len(candidates):
            return None
        score += 1
    return score if score > 0 else None


def choose_profile(
    profiles: dict[str, RecorderProfile], sample: VolumeSample, declared: str | None
) -> tuple[str, str, list[Problem]]:
    """(profile id, how it was chosen, problems). The most specific content match wins
    (ties by id); then the profile udev tagged from a declared USB id; then generic."""
    scored = [
        (score, pid)
        for pid, profile in profiles.items()
        if (score := content_score(profile, sample)) is not None
    ]
    if scored:
        best = max(score for score, _ in scored)
        return min(pid for score, pid in scored if score == best), "content", []
    if declared is not None and declared in profiles:
        return declared, "usb-id", []
    shown = ", ".join(sorted(sample.folders)[:8]) or Said("none")
    problem = Problem(
        "/",
        UNRECOGNISED,
        Said(
            "no recorder profile matches this volume (top folders: {folders}); docked as "
            "{profile!r}: add a profile with a [detect] section for this model",
            folders=shown,
            profile=GENERIC,
        ),
    )
    return GENERIC, "fallback", [problem]


def names_serial(profile: RecorderProfile, names: tuple[str, ...]) -> str | None:
    """The serial most of the recorder's file names carry."""
    serials = Counter(
        found.group("serial")
        for n in _recordings(profile, names)
        if (found := _matches(profile, n)) is not None
        and "serial" in found.re.groupindex
        and found.group("serial")
    )
    return serials.most_common(1)[0][0] if serials else None


def file_serial(profile: RecorderProfile, text: str | None) -> str | None:
    if text is None:
        return None
    found = re.search(profile.serial_regex, text)
    return found.group("serial") if found else None


def volume_serial(
    profile: RecorderProfile,
    sample: VolumeSample,
    id_file_text: str | None,
    device_serial: str,
    device_source: str,
) -> tuple[str, str, list[Problem]]:
    """(serial, its source, problems). A serial a local udev rule set (DOCKD_SERIAL) is the
    admin's word and stands; otherwise the volume's own identity, when the profile says
    where it is, wins over the USB descriptor, and a disagreement is a named problem."""
    if device_source == "dockd-rule" or profile.serial_from == "usb":
        return device_serial, device_source, []
    if profile.serial_from == "names":
        own, source = names_serial(profile, sample.names), "file-names"
        where: str = Said("its file names")
    else:
        own, source = file_serial(profile, id_file_text), "id-file"
        where = profile.serial_file or Said("its ID file")
    if own is None:
        problem = Problem(
            profile.serial_file or "/",
            SERIAL_UNREADABLE,
            Said(
                "profile {profile!r} takes the serial from {where}, which gave none; the USB "
                "serial {serial!r} is used",
                profile=profile.id,
                where=where,
                serial=device_serial,
            ),
        )
        return device_serial, device_source, [problem]
    if device_source == "usb-descriptor" and own != device_serial:
        problem = Problem(
            profile.serial_file or "/",
            SERIAL_MISMATCH,
            Said(
                "the volume says serial {own!r} ({where}), the USB descriptor {serial!r}: "
                "check that the recorder is the one its label says",
                own=own,
                where=where,
                serial=device_serial,
            ),
        )
        return own, source, [problem]
    return own, source, []
