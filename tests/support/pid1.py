"""A real systemd as PID 1 of its own namespaces, to run dockd's units as a dock does.

The boot script (each test writes its own: which units, which root) runs under
``unshare --pid --mount``, mounts what it needs and execs systemd with a target that
starts journald and dockd only; this host's sysinit units are masked, because
systemd-tmpfiles would clean the host's /tmp and udevd is the host's. The namespace is
entered with nsenter; leaving the context powers it off (SIGRTMIN+4, systemd's
"poweroff") and waits for it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.harness import wait_for

SYSTEMD = Path("/lib/systemd/systemd")
MASKED = (
    "systemd-tmpfiles-setup.service systemd-tmpfiles-setup-dev.service "
    "systemd-tmpfiles-clean.timer systemd-tmpfiles-clean.service systemd-udevd.service "
    "systemd-udevd-kernel.socket systemd-udevd-control.socket systemd-udev-trigger.service "
    "systemd-sysctl.service systemd-modules-load.service systemd-remount-fs.service "
    "getty.target console-getty.service systemd-logind.service"
)
USB_DEVICE_MAJOR = 189  # usbfs: /dev/bus/usb/BBB/DDD
UNSHARE = ("unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--mount-proc")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Systemd:
    pid: int  # systemd's PID as this side sees it

    def ctl(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A command inside the namespaces (systemctl, journalctl, a shell)."""
        return subprocess.run(
            ["nsenter", "-t", str(self.pid), "-m", "-p", "-u", "-i", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def show(self, unit: str, *props: str) -> dict[str, str]:
        shown = self.ctl("systemctl", "show", unit, *(f"-p{p}" for p in props)).stdout
        return dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)

    def journal(self, unit: str) -> list[dict[str, str]]:
        out = self.ctl("journalctl", "-u", unit, "-o", "json", "--no-pager").stdout
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@dataclass
class Booted:
    """dockd.service running under `system`, its state folder and its web port."""

    system: Systemd
    state: Path
    port: int

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.system.ctl(*args, timeout=60)

    def unit(self, *props: str) -> dict[str, str]:
        return self.system.show("dockd", *props)

    def journal(self) -> list[dict[str, str]]:
        return self.system.journal("dockd")

    def open_for_writing_as_dockd(self, dev: str) -> str:
        """Open `dev` read-write from a process in dockd.service's device cgroup: "opened",
        or the error. The device's own read-only flag (BLKROSET) does not refuse an open,
        only writes, so a refusal here is the unit's DeviceAllow= rule."""
        attempt = (
            'main=$(systemctl show -P MainPID dockd); cg=$(grep ":devices:" /proc/$main/cgroup'
            " | cut -d: -f3); echo $$ > /sys/fs/cgroup/devices$cg/cgroup.procs && exec python3"
            ' -c "import os, sys; os.open(sys.argv[1], os.O_RDWR); print(\'opened\')" "$0"'
        )
        result = self.ctl("sh", "-c", attempt, dev)
        return (result.stdout + result.stderr).strip().splitlines()[-1]

    def slot_card(self, slot: str) -> dict[str, object]:
        """The slot's card in the running dockd's /api/status."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/status", timeout=10) as r:
            document = json.loads(r.read())
        [card] = [c for c in document["slots"] if c["slot"] == slot]
        return dict(card)

    def page(self) -> str:
        """The status page as an English-speaking browser gets it."""
        url = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/", headers={"Accept-Language": "en"}
        )
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode())

    def custody(self, kinds: tuple[str, ...]) -> list[tuple[str, str, dict[str, object]]]:
        """The custody events of these kinds: (kind, subject, details), in chain order."""
        ledger = self.state / "ledger.sqlite3"
        if not ledger.exists():
            return []
        marks = ", ".join("?" * len(kinds))
        query = f"SELECT kind, subject, details FROM custody_events WHERE kind IN ({marks})"
        with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=1) as db:
            rows = db.execute(query + " ORDER BY seq", kinds).fetchall()
        return [(kind, subject, json.loads(details)) for kind, subject, details in rows]

    def verified(self, serial: str) -> int:
        ledger = self.state / "ledger.sqlite3"
        if not ledger.exists():
            return 0
        with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=1) as db:
            query = "SELECT count(*) FROM recordings WHERE serial = ?"
            return int(db.execute(query, (serial,)).fetchone()[0])


def need_pid1_tools() -> None:
    for tool in ("unshare", "nsenter"):
        assert shutil.which(tool), f"{tool} is missing: apt-get install util-linux"
    assert SYSTEMD.exists(), "apt-get install systemd"


@contextlib.contextmanager
def booted_systemd(script: Path, console_log: Path) -> Iterator[Systemd]:
    """Runs the boot ``script`` (which ends by exec'ing systemd) in new namespaces."""
    need_pid1_tools()
    script.chmod(0o755)
    with console_log.open("w") as console:
        unshare = subprocess.Popen(
            [*UNSHARE, str(script)],
            stdout=console,
            stderr=subprocess.STDOUT,
        )

        def systemd_pid() -> int | None:
            children = Path(f"/proc/{unshare.pid}/task/{unshare.pid}/children")
            text = children.read_text().split() if children.exists() else []
            return int(text[0]) if text else None

        pid = wait_for(systemd_pid, 30, "systemd to start in its namespace")
        booted = Systemd(pid)
        try:
            yield booted
        finally:
            booted.ctl("systemctl", "stop", "dockd", timeout=60)
            os.kill(pid, signal.SIGRTMIN + 4)  # systemd's "power off"
            try:
                unshare.wait(timeout=30)
            except subprocess.TimeoutExpired:
                unshare.kill()
                unshare.wait()


def usb_core_loaded() -> bool:
    return any(
        line.split()[1:] == ["usb_device"]
        for line in Path("/proc/devices").read_text().splitlines()
    )


def expected_usb_refusal() -> str:
    """What opening a usb_device node with no device behind it gives past the cgroup: the
    USB core's "no such device", or, on a kernel without USB (this VM's), no driver."""
    return os.strerror(errno.ENODEV if usb_core_loaded() else errno.ENXIO)


def free_usb_minor() -> int:
    """A usb_device minor no device of this host has (minor = (bus-1)*128 + address-1)."""
    taken = {p.name for p in Path("/sys/dev/char").iterdir()}
    return next(m for m in range(1023, 0, -1) if f"{USB_DEVICE_MAJOR}:{m}" not in taken)


def proc_devices_with_usb(tmp_path: Path) -> str:
    """A boot-script line giving systemd a /proc/devices that lists usb_device, as every
    kernel with USB support does, so that DeviceAllow=char-usb_device resolves on a test
    machine whose kernel has no USB at all (":" where it has)."""
    if usb_core_loaded():
        return ":"
    listing = Path("/proc/devices").read_text()
    devices = tmp_path / "proc-devices"
    devices.write_text(
        listing.replace("\nBlock devices:", f"{USB_DEVICE_MAJOR} usb_device\n\nBlock devices:")
    )
    return f"mount --bind {devices} /proc/devices"
