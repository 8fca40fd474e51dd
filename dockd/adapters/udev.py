"""udev: recorders appearing and disappearing, and those already present at start-up.

The monitor is started *before* the enumeration of present devices, so a
recorder plugged in during start-up is seen by one or the other, never neither.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pyudev

from dockd.core.devices import DeviceEvent, RecorderDevice, recorder_from_properties

UDEV_CONTROL = Path("/run/udev/control")


def _recorder(device: pyudev.Device) -> RecorderDevice | None:
    partitioned = device.device_type == "disk" and any(
        child.device_type == "partition" for child in device.children
    )
    return recorder_from_properties(device.device_node, dict(device.properties), partitioned)


def udevd_running() -> bool:
    """Connect to udevd's control socket: a udevd that died leaves the socket file behind."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as control:
        try:
            control.connect(str(UDEV_CONTROL))
        except OSError:
            return False
    return True


class UdevSource:
    def __init__(self) -> None:
        self._context = pyudev.Context()
        self._monitor = pyudev.Monitor.from_netlink(self._context)
        self._monitor.filter_by(subsystem="block")

    def running(self) -> bool:
        return udevd_running()

    def start(self) -> list[RecorderDevice]:
        """Listen, then list the recorders already docked (the cold-plug scan)."""
        self._monitor.start()
        return self.present()

    def present(self) -> list[RecorderDevice]:
        """Recorders in udev's database now: the truth that events only announce.

        Events can be missed or arrive before udev has finished tagging a device
        (loop devices and card readers announce media with several 'change'
        events), so the daemon also reconciles against this list periodically.
        """
        found = []
        for device in self._context.list_devices(subsystem="block", DOCKD_RECORDER="1"):
            recorder = _recorder(device)
            if recorder is not None:
                found.append(recorder)
        return found

    def poll(self, timeout: float) -> Iterator[DeviceEvent]:
        device = self._monitor.poll(timeout=timeout)
        while device is not None:
            node = device.device_node
            if node is not None:
                yield DeviceEvent(
                    device.action or "change",
                    node,
                    recorder_from_properties(node, dict(device.properties)),
                )
            device = self._monitor.poll(timeout=0)
