"""Recorder profiles: how to recognise a recorder model and read its media.

Profiles are data (rules/recorders/*.toml, read by `dockd.adapters.rules`) validated
by this model; the JSON Schema in schemas/ is generated from it so the two cannot
drift apart.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


class ContentSignature(BaseModel):
    """What a volume of this model looks like, so that it is recognised by its content
    (dockd.core.detect) before any USB id is trusted: all of it must be there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    folders: list[str] = Field(
        default_factory=list, description="Top-level folders the volume has (case-insensitive)."
    )
    files: list[str] = Field(
        default_factory=list, description="Files at the volume root (case-insensitive)."
    )
    names: bool = Field(
        False,
        description="Most sampled recording names (at least one) match the name_patterns.",
    )


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
    detect: ContentSignature | None = Field(
        None, description="How a volume of this model is recognised by its content."
    )
    serial_from: Literal["usb", "names", "file"] = Field(
        "usb",
        description="Where the recorder's serial comes from: the USB descriptor, the "
        "`serial` group of its file names, or serial_file.",
    )
    serial_file: str | None = Field(None, description="Vendor ID file at the volume root.")
    serial_regex: str = Field(
        r"(?P<serial>[A-Za-z0-9][A-Za-z0-9-]*)",
        description="Searched in serial_file; the named group `serial` is the serial.",
    )
    unlock: list[str] = Field(
        default_factory=list,
        description="Vendor command switching the USB device to mass storage; "
        "{devnode} is the USB device node. Run on the profile's USB ids.",
    )
    unlock_timeout_s: float = Field(30.0, gt=0, le=600, description="Timeout of `unlock`.")

    @field_validator("serial_regex")
    @classmethod
    def _serial_group(cls, regex: str) -> str:
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        if "serial" not in compiled.groupindex:
            raise ValueError("the pattern needs a named group 'serial'")
        return regex

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

    @model_validator(mode="after")
    def _serial_source_declared(self) -> RecorderProfile:
        if self.serial_from == "file" and not self.serial_file:
            raise ValueError('serial_from = "file" needs serial_file')
        if self.serial_from == "names" and not any(
            "serial" in re.compile(p.regex).groupindex for p in self.name_patterns
        ):
            raise ValueError('serial_from = "names" needs a name pattern with a group "serial"')
        if self.unlock and not self.usb:
            raise ValueError("unlock runs on the profile's USB ids: declare [[usb]]")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def pick_profile(profiles: dict[str, RecorderProfile], profile_id: str) -> RecorderProfile:
    try:
        return profiles[profile_id]
    except KeyError:
        known = ", ".join(sorted(profiles))
        raise UnknownProfileError(
            "no recorder profile {profile_id!r} (known: {known})",
            profile_id=profile_id,
            known=known,
        ) from None
