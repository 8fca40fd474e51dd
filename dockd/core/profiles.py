"""Recorder profiles: how to recognise a recorder model and read its media.

Profiles are data (rules/recorders/*.toml, read by `dockd.adapters.rules`) validated
by this model; the JSON Schema in schemas/ is generated from it so the two cannot
drift apart.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dockd.errors import UnknownProfileError


class NamePattern(BaseModel):
    """A file-name convention; named groups: serial, badge, start, seq, important."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regex: str = Field(description="Python regular expression matched against the file name.")
    time_format: str = Field(description="strptime format of the `start` group.")

    @field_validator("regex")
    @classmethod
    def _compiles(cls, regex: str) -> str:
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        if "start" not in compiled.groupindex:
            raise ValueError("the pattern needs a named group 'start'")
        return regex


class UsbId(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vendor_id: str = Field(pattern=r"^[0-9a-f]{4}$")
    model_id: str = Field(pattern=r"^[0-9a-f]{4}$")


class RecorderProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    timezone: str = Field(description="IANA zone of the recorder's clock: FAT times carry none.")
    extensions: list[str] = Field(min_length=1, description="Recording extensions, lower case.")
    media_roots: list[str] = Field(
        default=[""], description="Folders (relative, '/'-separated) holding recordings; '' = all."
    )
    name_patterns: list[NamePattern] = Field(default_factory=list)
    usb: list[UsbId] = Field(default_factory=list, description="USB ids udev tags as this profile.")
    clock_file: str | None = Field(
        None, description="File at the volume root where the recorder writes its clock on docking."
    )
    clock_format: str = Field("%Y-%m-%d %H:%M:%S", description="strptime format of clock_file.")
    clock_set_file: str | None = Field(
        None, description="File the recorder reads at power-up to set its clock (if allowed)."
    )

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {zone!r}") from exc
        return zone

    @field_validator("extensions")
    @classmethod
    def _lower(cls, extensions: list[str]) -> list[str]:
        return [ext.lower().lstrip(".") for ext in extensions]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def pick_profile(profiles: dict[str, RecorderProfile], profile_id: str) -> RecorderProfile:
    try:
        return profiles[profile_id]
    except KeyError:
        known = ", ".join(sorted(profiles))
        raise UnknownProfileError(f"no recorder profile {profile_id!r} (known: {known})") from None
