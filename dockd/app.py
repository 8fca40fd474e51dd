"""The composition root: every part is built here from the config and handed in."""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import systemd.daemon

from dockd import __version__
from dockd.adapters.clock import utc_now
from dockd.adapters.dropfolder import DropFolders
from dockd.adapters.ledger.policy import PolicyLedger
from dockd.adapters.ledger.sessions import Ledger
from dockd.adapters.ledger.status import StatusReads
from dockd.adapters.mount import Mounter
from dockd.adapters.ntp import StationClockSource
from dockd.adapters.store.objects import ObjectStore
from dockd.config import Config
from dockd.core.access import access_for
from dockd.core.policy import PolicyPack, load_policy
from dockd.core.profiles import RecorderProfile, load_profiles, pick_profile
from dockd.core.status import StoreSpace
from dockd.daemon.board import StatusBoard
from dockd.daemon.loop import Daemon
from dockd.services.dock_session import Ingestor, Station
from dockd.services.status import StatusService

if TYPE_CHECKING:
    from dockd.web.server import WebServer


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


def build_status(app: App, *, live: bool) -> StatusService:
    """The status picture; without the live board (`dockd status` when the daemon does not
    answer) it comes from the ledger alone."""
    root = app.store.root
    settings = app.config.clock

    def store_space() -> StoreSpace:
        usage = shutil.disk_usage(root)
        return StoreSpace(str(root), usage.total, usage.free)

    return StatusService(
        StatusReads(app.ledger, PolicyLedger(app.ledger)),
        board=app.board if live else None,
        station_clock=StationClockSource(
            settings.ntp_servers, settings.cache_seconds, settings.timeout_seconds
        ).measure,
        store_space=store_space,
        store_root=str(root),
        policy=app.policy,
        host=socket.gethostname(),
        version=__version__,
        clock=utc_now,
    )


def build_web(app: App) -> WebServer:
    """The status pages of `dockd run`; ConfigError (exit 2) when `[web]` would expose them."""
    from dockd.web.routes import build_asgi  # the web stack: only for the daemon
    from dockd.web.server import WebServer

    access = access_for(app.config.web)
    return WebServer(access, build_asgi(build_status(app, live=True), access))


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
