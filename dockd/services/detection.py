"""Which model and which recorder a mounted volume is: after mounting, before copying.

The rule is pure (dockd.core.detect); this reads what it needs from the volume: a
sample of its top, and the vendor's ID file when the chosen profile has one.
"""

from __future__ import annotations

from pathlib import Path

from dockd.core.detect import Detection, choose_profile, volume_serial
from dockd.core.devices import RecorderDevice
from dockd.core.profiles import RecorderProfile
from dockd.ports import Volume, VolumeSampler


class Detector:
    def __init__(
        self, sampler: VolumeSampler, volume: Volume, profiles: dict[str, RecorderProfile]
    ) -> None:
        self.sampler, self.volume, self.profiles = sampler, volume, profiles

    def detect(self, root: Path, device: RecorderDevice) -> Detection:
        sample = self.sampler.sample(root)
        profile_id, how, problems = choose_profile(self.profiles, sample, device.declared_profile)
        profile = self.profiles[profile_id]
        id_text = None
        if profile.serial_from == "file" and profile.serial_file:
            raw = self.volume.read_small_file(root, profile.serial_file)
            id_text = raw.decode("utf-8", "replace") if raw is not None else None
        serial, source, serial_problems = volume_serial(
            profile, sample, id_text, device.serial, device.serial_source
        )
        return Detection(profile_id, how, serial, source, problems + serial_problems)
