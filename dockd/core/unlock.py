"""A vendor unlock command: its command line for one device, and what its result means."""

from __future__ import annotations

from dataclasses import dataclass

UNLOCK_FAILED = "unlock-failed"


@dataclass(frozen=True, slots=True)
class UnlockResult:
    returncode: int | None
    output: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def unlock_argv(template: list[str], devnode: str) -> list[str]:
    """The profile's command with the USB device node in place of {devnode} (no shell)."""
    return [part.replace("{devnode}", devnode) for part in template]


def failure_message(profile_id: str, result: UnlockResult) -> str:
    if result.returncode is None:  # timed out, or could not be started
        why = result.output
    else:
        why = f"exit status {result.returncode}" + (f": {result.output}" if result.output else "")
    return f"the {profile_id!r} unlock command failed ({why}); the recorder shows no disk"
