"""The composition root: every part is built here from the config and handed in."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import systemd.daemon

from dockd import __version__
from dockd.adapters.blockdev import set_read_only
from dockd.adapters.clock import utc_now
from dockd.adapters.dropfolder import DropFolders
from dockd.adapters.ledger.policy import PolicyLedger
from dockd.adapters.ledger.sessions import Ledger
from dockd.adapters.mount import Mounter
from dockd.adapters.ntp import StationClockSource
from dockd.adapters.store.objects import ObjectStore
from dockd.adapters.udev import UdevSource
from dockd.adapters.volume import LocalVolume
from dockd.config import Config
from dockd.core.policy import PolicyPack, load_policy
from dockd.core.profiles import RecorderProfile, load_profiles, pick_profile
from dockd.daemon.board import StatusBoard
from dockd.daemon.loop import Daemon
from dockd.daemon.slots import Slots, SlotWorker
from dockd.services.clocks import RecorderClockSetting
from dockd.services.dock_session import DockSession, Station


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip()
    except OSError:
        return "unknown"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def station() -> Station:
    return Station(
        host=socket.gethostname(), boot_id=_boot_id(), pid=os.getpid(), version=__version__
    )


@dataclass
class App:
    config: Config
    profiles: dict[str, RecorderProfile]
    policy: PolicyPack
    ledger: Ledger
    store: ObjectStore
    registry: PolicyLedger
    station: Station
    station_clock: StationClockSource
    dock_session: DockSession
    clock_setting: RecorderClockSetting
    board: StatusBoard

    def close(self) -> None:
        self.store.close()
        self.ledger.close()


def sd_notify(state: str) -> None:
    """Tell systemd (Type=notify) how we are; a no-op when not run by systemd."""
    systemd.daemon.notify(state)


def build_daemon(app: App) -> Daemon:
    """The daemon and its parts; the web stack is imported only here, for the daemon."""
    from dockd.web.app import WebServer

    settings = app.config.daemon
    drops = (
        DropFolders(settings.watch_dirs, settings.settle_seconds) if settings.watch_dirs else None
    )
    drop_profile = pick_profile(app.profiles, settings.drop_profile).id
    web = WebServer(app)  # ConfigError (exit 2) before anything is docked
    slots = Slots()
    worker = SlotWorker(
        app.dock_session,
        app.clock_setting,
        Mounter(settings.mount_root),
        set_read_only,
        app.board,
        slots,
        drops,
    )
    return Daemon(
        UdevSource(),
        worker,
        slots,
        app.board,
        sd_notify,
        settings.max_parallel,
        drops,
        drop_profile,
        web,
    )


def open_ledger(config: Config) -> Ledger:
    return Ledger(config.ledger.url)


def build(config: Config) -> App:
    """Open everything; sessions a dead dockd left running are closed as interrupted."""
    profiles = load_profiles(config.rules.effective_dir)
    policy = load_policy(config.rules.effective_dir, config.policy.pack)
    station_clock = StationClockSource(
        config.clock.ntp_servers, config.clock.cache_seconds, config.clock.timeout_seconds
    )
    ledger = open_ledger(config)
    try:
        store = ObjectStore(config.store.root, config.store.chunk_mib << 20)
    except BaseException:
        ledger.close()
        raise
    here = station()
    ledger.close_abandoned_sessions(here.host, here.boot_id, _pid_alive, utc_now())
    registry = PolicyLedger(ledger)
    volume = LocalVolume()
    dock_session = DockSession(
        store,
        volume,
        ledger,
        registry,
        station_clock,
        utc_now,
        profiles,
        policy,
        here,
        parallel_files=config.store.parallel_files,
    )
    clock_setting = RecorderClockSetting(
        volume, ledger, station_clock, utc_now, profiles, policy.clock
    )
    return App(
        config,
        profiles,
        policy,
        ledger,
        store,
        registry,
        here,
        station_clock,
        dock_session,
        clock_setting,
        StatusBoard(),
    )
