"""The composition root: every part is built here from the config and handed in."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import systemd.daemon

from dockd import __version__
from dockd.adapters.clock import utc_now
from dockd.adapters.dropfolder import DropFolders
from dockd.adapters.ledger.policy import PolicyLedger
from dockd.adapters.ledger.sessions import Ledger
from dockd.adapters.mount import Mounter
from dockd.adapters.ntp import StationClockSource
from dockd.adapters.store.objects import ObjectStore
from dockd.config import Config
from dockd.core.policy import PolicyPack, load_policy
from dockd.core.profiles import RecorderProfile, load_profiles, pick_profile
from dockd.daemon.board import StatusBoard
from dockd.daemon.loop import Daemon
from dockd.services.dock_session import Ingestor, Station


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
    ingestor: Ingestor
    board: StatusBoard

    def close(self) -> None:
        self.store.close()
        self.ledger.close()


def sd_notify(state: str) -> None:
    """Tell systemd (Type=notify) how we are; a no-op when not run by systemd."""
    systemd.daemon.notify(state)


def build_daemon(app: App) -> Daemon:
    settings = app.config.daemon
    drops = (
        DropFolders(settings.watch_dirs, settings.settle_seconds) if settings.watch_dirs else None
    )
    return Daemon(
        app.ingestor,
        Mounter(settings.mount_root),
        settings.max_parallel,
        sd_notify,
        app.board,
        drops,
        pick_profile(app.profiles, settings.drop_profile).id,
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
    ingestor = Ingestor(
        store,
        ledger,
        profiles,
        here,
        station_clock.measure,
        policy,
        PolicyLedger(ledger),
        parallel_files=config.store.parallel_files,
    )
    return App(config, profiles, policy, ledger, store, ingestor, StatusBoard())
