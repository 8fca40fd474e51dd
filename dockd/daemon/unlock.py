"""Unlocking recorders that show no disk until their vendor's command switches them.

udev announces the USB device (DOCKD_UNLOCK=<profile>); the profile's command runs on
it with a timeout; its result is a custody event, and a failure stays on the status
board (slot `unlock-<device>`) until the device goes away. A success shows nothing
here: the recorder's disk appears and is docked like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import structlog

from dockd.core.devices import slot_name
from dockd.core.profiles import RecorderProfile
from dockd.core.said import Said
from dockd.core.unlock import UNLOCK_FAILED, UnlockResult, failure_message, unlock_argv
from dockd.daemon.board import StatusBoard

log = structlog.get_logger("dockd.daemon.unlock")
Runner = Callable[[list[str], float], UnlockResult]


class CustodyEvents(Protocol):
    def record_event(
        self, at: datetime, kind: str, subject: str, details: dict[str, Any]
    ) -> None: ...


def board_slot(devnode: str) -> str:
    return slot_name("unlock-" + devnode)


class Unlocker:
    def __init__(
        self,
        profiles: dict[str, RecorderProfile],
        run: Runner,
        events: CustodyEvents,
        clock: Callable[[], datetime],
        board: StatusBoard,
    ) -> None:
        self.profiles, self.run, self.events = profiles, run, events
        self.clock, self.board = clock, board

    def unlock(self, devnode: str, profile_id: str) -> bool:
        profile = self.profiles.get(profile_id)
        if profile is None or not profile.unlock:
            log.warning("unlock-unknown-profile", devnode=devnode, profile=profile_id)
            return False
        argv = unlock_argv(profile.unlock, devnode)
        started = self.clock()
        result = self.run(argv, profile.unlock_timeout_s)
        details = {
            "devnode": devnode,
            "profile": profile_id,
            "command": argv,
            "returncode": result.returncode,
            "timed_out": result.timed_out,
            "output": result.output,
            "started": started.isoformat(),
        }
        kind = "recorder-unlocked" if result.ok else "recorder-unlock-failed"
        self.events.record_event(self.clock(), kind, devnode, details)
        if result.ok:
            log.info("unlocked", devnode=devnode, profile=profile_id)
            self.board.clear(board_slot(devnode))
            return True
        message = failure_message(profile_id, result)
        log.error("problem", devnode=devnode, code=UNLOCK_FAILED, message=message)
        self.board.set(
            board_slot(devnode),
            state="error",
            profile=profile_id,
            message=message,
            code=UNLOCK_FAILED,
            hint=Said(
                "Check the vendor tool {tool} and its password; unplug and re-plug the "
                "recorder to try again.",
                tool=argv[0],
            ),
        )
        return False
