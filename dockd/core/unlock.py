"""A vendor unlock command: its command line for one device, and what its result means."""

from __future__ import annotations

from dataclasses import dataclass

from dockd.core.said import Said

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


def failure_message(profile_id: str, result: UnlockResult) -> Said:
    """What the status board says (in its reader's language): the vendor tool's own output
    is shown as it printed it."""
    if result.returncode is None:  # timed out, or could not be started
        why: str = result.output
    elif result.output:
        why = Said("exit status {status}: {output}", status=result.returncode, output=result.output)
    else:
        why = Said("exit status {status}", status=result.returncode)
    return Said(
        "the '{profile}' unlock command failed ({why}); the recorder shows no disk",
        profile=profile_id,
        why=why,
    )
