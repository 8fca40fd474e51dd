"""The composition root: every part is built here from the config and handed in."""

from __future__ import annotations

import gc
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dockd import __version__
from dockd.errors import ConfigError
from dockd.services.heap import freeze_start_up

if TYPE_CHECKING:  # the parts are imported when first used: `dockd --help` needs none
    from email.message import EmailMessage

    from dockd.adapters.central import S3CentralStore
    from dockd.adapters.ledger.audit import LedgerAudit
    from dockd.adapters.ledger.central import LedgerCentral
    from dockd.adapters.ledger.sessions import Ledger
    from dockd.adapters.mail import MailSettings, ReportMailer
    from dockd.adapters.ntp import StationClockSource
    from dockd.adapters.station_key import StationKey
    from dockd.adapters.store.objects import ObjectStore
    from dockd.adapters.store.signatures import SignatureFiles
    from dockd.adapters.volume import LocalVolume
    from dockd.config import CentralConfig, Config, MailConfig
    from dockd.core.policy import PolicyPack
    from dockd.core.profiles import RecorderProfile
    from dockd.core.views import DeadlineReport
    from dockd.daemon.board import StatusBoard
    from dockd.daemon.loop import Daemon
    from dockd.ports import Stopping
    from dockd.services.activities import Activities
    from dockd.services.archive import Archive
    from dockd.services.clearing import RecorderClearing
    from dockd.services.clocks import RecorderClockSetting
    from dockd.services.dock_session import DockSession, Station
    from dockd.services.export import Exports, PackageChecks
    from dockd.services.forward import Forwarder
    from dockd.services.operators import Operators
    from dockd.services.registry import Registry
    from dockd.services.report import Reports
    from dockd.services.retention import Retention
    from dockd.services.status import StatusService
    from dockd.services.supervision import Supervision
    from dockd.services.viewing import ViewingService
    from dockd.ui.i18n import Locale
    from dockd.web.server import WebServer


CLOCK_AHEAD_THREAD = "dockd-station-clock-ahead"


@contextmanager
def start_up() -> Iterator[None]:
    """No cyclic garbage collection while parts are imported and built.

    Building a part allocates a few hundred thousand objects that live as long as the
    process (modules, classes, mappers, schemas), and the collector walks them again and
    again as they pile up: some 200 collections and 80 ms of an empty `dockd ingest`.
    When the outermost part is built, before any evidence is copied, what it allocated
    is frozen (not walked again: the few cycles start-up left stay) and collection
    resumes for everything after. Copies share the one freeze: `dockd.services.heap`."""
    if not gc.isenabled():  # inside another part's start-up
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        freeze_start_up()
        gc.enable()


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip()
    except OSError:
        return "unknown"


def station_id(config: Config) -> str:
    """`[station] id`, or the name derived from this machine's /etc/machine-id."""
    from dockd.core.station import default_station_id

    if config.station.id is not None:
        return config.station.id
    try:
        machine_id: str | None = Path("/etc/machine-id").read_text("ascii")
    except (OSError, UnicodeDecodeError):
        machine_id = None
    return default_station_id(machine_id, socket.gethostname())


def station() -> Station:
    from dockd.services.dock_session import Station

    return Station(
        host=socket.gethostname(), boot_id=_boot_id(), pid=os.getpid(), version=__version__
    )


class App:
    """Every part, built the first time something asks for it: a command pays only for
    what it uses (`dockd sessions` opens the ledger and nothing else)."""

    def __init__(self, config: Config) -> None:
        self.config = config

    @property
    def clock(self) -> Callable[[], datetime]:
        """The station's wall clock, for a command that stamps what it records."""
        from dockd.adapters.clock import utc_now

        return utc_now

    @cached_property
    def profiles(self) -> dict[str, RecorderProfile]:
        from dockd.adapters.rules import load_profiles

        return load_profiles(self.config.rules.effective_dir)

    @cached_property
    def policy(self) -> PolicyPack:
        from dockd.adapters.rules import load_policy

        return load_policy(self.config.rules.effective_dir, self.config.policy.pack)

    @cached_property
    def locale(self) -> Locale:
        """The e-mail's and the CLI's language and zone: [station] first, then the pack."""
        from dockd.config import zone_named
        from dockd.ui.i18n import Locale

        station, pack = self.config.station, self.policy.station
        zone_name = station.timezone or pack.timezone
        try:
            zone = None if zone_name is None else zone_named(zone_name)
        except ValueError as exc:
            raise ConfigError(
                "policy pack {pack}: [station] timezone: {reason}", pack=self.policy.id, reason=exc
            ) from exc
        return Locale(station.language or pack.language, zone)

    @cached_property
    def ledger(self) -> Ledger:
        """Sessions a dead dockd left running are closed as interrupted on opening."""
        with start_up():
            from dockd.adapters.clock import utc_now
            from dockd.adapters.ledger.locks import pid_alive

            ledger = open_ledger(self.config)
            ledger.sign_checkpoints(self.signer)  # the key is read at the first write
            host = socket.gethostname()
            ledger.close_abandoned_sessions(host, _boot_id(), pid_alive, utc_now())
            return ledger

    @cached_property
    def ledger_audit(self) -> LedgerAudit:
        from dockd.adapters.ledger.audit import LedgerAudit

        return LedgerAudit(self.ledger)

    @cached_property
    def store(self) -> ObjectStore:
        from dockd.adapters.store.objects import ObjectStore

        store = self.config.store
        return ObjectStore(store.root, store.chunk_mib << 20, helpers=store.copy_helpers)

    @cached_property
    def signer(self) -> StationKey:
        """The station key, created at first use; read only when something is signed."""
        from dockd.adapters.station_key import StationKey

        station = self.config.station
        return StationKey(station.key_file or self.config.store.root.parent / "station.key")

    @cached_property
    def signatures(self) -> SignatureFiles:
        from dockd.adapters.store.signatures import SignatureFiles

        return SignatureFiles(self.store.root)

    @cached_property
    def board(self) -> StatusBoard:
        from dockd.daemon.board import StatusBoard

        return StatusBoard()

    @cached_property
    def station(self) -> Station:
        return station()

    @cached_property
    def station_clock(self) -> StationClockSource:
        from dockd.adapters.ntp import StationClockSource

        clock = self.config.clock
        return StationClockSource(clock.ntp_servers, clock.cache_seconds, clock.timeout_seconds)

    def measure_station_clock_ahead(self) -> None:
        """For a one-shot ingest: its session measures the station clock only after the
        ledger and the dock session are built (some 0.3 s of start-up on one core), and
        the measurement mostly waits (on chronyc and timedatectl, or on the NTP servers'
        answers). Taken on a thread meanwhile, it is there when the session asks, as
        `[clock] cache_seconds` allows; without caching the session measures itself.
        A failure is left for the session's own measurement to report."""
        if self.config.clock.cache_seconds <= 0:
            return
        source = self.station_clock

        def measure() -> None:
            with suppress(Exception):
                source.measure()

        threading.Thread(target=measure, name=CLOCK_AHEAD_THREAD, daemon=True).start()

    @cached_property
    def volume(self) -> LocalVolume:
        from dockd.adapters.volume import LocalVolume

        return LocalVolume()

    @cached_property
    def dock_session(self) -> DockSession:
        with start_up():
            from dockd.adapters.clock import utc_now
            from dockd.adapters.ledger.activities import LedgerActivities
            from dockd.adapters.ledger.interruptions import LedgerInterruptions
            from dockd.adapters.ledger.registry import LedgerRegistry
            from dockd.adapters.ledger.safeguard import LedgerSafeguard
            from dockd.services.dock_session import DockSession
            from dockd.services.safeguard import SafeguardCopies

            ledger = self.ledger
            self.signer.ensure()  # a bad key stops dockd before anything is docked
            ledger.register_station(utc_now())  # a changed key is on the chain from the start
            safeguard = SafeguardCopies(self.volume, self.store, LedgerSafeguard(ledger), utc_now)
            return DockSession(
                self.store,
                self.volume,
                ledger,
                LedgerRegistry(ledger),
                LedgerInterruptions(ledger),
                self.station_clock,
                utc_now,
                self.profiles,
                self.policy,
                self.station,
                self.signer,
                self.signatures,
                parallel_files=self.config.store.parallel_files,
                activities=LedgerActivities(ledger),
                safeguard=safeguard,
            )

    @cached_property
    def clock_setting(self) -> RecorderClockSetting:
        from dockd.adapters.clock import utc_now
        from dockd.services.clocks import RecorderClockSetting

        return RecorderClockSetting(
            self.volume, self.ledger, self.station_clock, utc_now, self.profiles, self.policy.clock
        )

    @cached_property
    def clearing(self) -> RecorderClearing:
        from dockd.adapters.clock import utc_now
        from dockd.adapters.ledger.clearing import LedgerClearing
        from dockd.adapters.recorder_files import LocalRecorderFiles
        from dockd.services.clearing import RecorderClearing

        return RecorderClearing(
            self.volume,
            LocalRecorderFiles(),
            LedgerClearing(self.ledger),
            self.store,
            utc_now,
            self.profiles,
            pack_allows=self.policy.clearing.allowed,
            enabled=self.config.daemon.clear_after_offload,
            central=self.config.central is not None,
        )

    @cached_property
    def registry(self) -> Registry:
        from dockd.adapters.clock import utc_now
        from dockd.adapters.ledger.holds import LedgerHolds
        from dockd.adapters.ledger.registry import LedgerRegistry
        from dockd.services.registry import Registry

        ledger = self.ledger
        return Registry(LedgerRegistry(ledger), LedgerHolds(ledger), self.policy, utc_now)

    @cached_property
    def operators(self) -> Operators:
        """The registered operators; also `ports.OperatorAuth` for every use case."""
        from dockd.adapters.clock import utc_now
        from dockd.adapters.ledger.operators import LedgerOperators
        from dockd.services.operators import Operators

        return Operators(LedgerOperators(self.ledger), self.policy, utc_now)

    @cached_property
    def viewing(self) -> ViewingService:
        from dockd.adapters.clock import utc_now
        from dockd.adapters.ledger.operators import LedgerOperators
        from dockd.adapters.ledger.viewing import LedgerViewing
        from dockd.adapters.store.copies import StoreCopies
        from dockd.services.viewing import ViewingService

        return ViewingService(
            LedgerViewing(self.ledger),
            LedgerOperators(self.ledger),
            self.operators,
            StoreCopies(self.config.store.root),
            self.policy,
            utc_now,
        )

    @cached_property
    def archive(self) -> Archive:
        from dockd.adapters.clock import utc_now
        from dockd.adapters.ledger.archive import LedgerArchive
        from dockd.adapters.store.copies import StoreCopies
        from dockd.services.archive import Archive

        return Archive(
            LedgerArchive(self.ledger), self.operators, StoreCopies(self.config.store.root), utc_now
        )

    @cached_property
    def retention(self) -> Retention:
        from dockd.adapters.clock import utc_now
        from dockd.adapters.ledger.retention import LedgerRetention
        from dockd.services.retention import Retention

        return Retention(LedgerRetention(self.ledger), self.store, utc_now)

    @cached_property
    def reports(self) -> Reports:
        from dockd.adapters.clock import utc_now
        from dockd.adapters.ledger.activities import LedgerActivities
        from dockd.adapters.ledger.backlog import LedgerBacklog
        from dockd.adapters.ledger.report import LedgerReport
        from dockd.adapters.ledger.trends import LedgerTrends
        from dockd.services.report import Reports

        backlog = (
            LedgerBacklog(self.ledger, self.central_records)
            if self.config.central is not None
            else None
        )
        return Reports(
            LedgerReport(self.ledger),
            self.policy,
            utc_now,
            self._mailer,
            backlog,
            agency=self.config.mail.scope == "agency",
            trends=LedgerTrends(self.ledger),
            activities=LedgerActivities(self.ledger),
        )

    @cached_property
    def supervision(self) -> Supervision:
        from dockd.adapters.clock import utc_now
        from dockd.adapters.ledger.supervision import LedgerSupervision
        from dockd.services.supervision import Supervision

        return Supervision(LedgerSupervision(self.ledger), self.operators, self.policy, utc_now)

    @cached_property
    def activities(self) -> Activities:
        from dockd.adapters.clock import utc_now
        from dockd.adapters.ledger.activities import LedgerActivities
        from dockd.services.activities import Activities

        return Activities(LedgerActivities(self.ledger), self.policy, utc_now)

    @cached_property
    def exports(self) -> Exports:
        from dockd.adapters.bag import BagPackages
        from dockd.adapters.clock import utc_now
        from dockd.adapters.ledger.exports import LedgerExports
        from dockd.services.export import Exports

        return Exports(
            LedgerExports(self.ledger),
            self.store,
            BagPackages(),
            self.operators,
            self.signer,
            self.station_clock,
            utc_now,
            self.policy,
            self.station.host,
            f"dockd {__version__}",
        )

    @cached_property
    def package_checks(self) -> PackageChecks:
        """`dockd export verify`: the package alone, no ledger, store or key."""
        from dockd.adapters.bag import BagPackages
        from dockd.services.export import PackageChecks

        return PackageChecks(BagPackages())

    @property
    def central_config(self) -> CentralConfig:
        """`[central]`, or ConfigError (exit 2): a single box forwards nothing."""
        from dockd.errors import ConfigError

        if self.config.central is None:
            raise ConfigError(
                "no [central] section: this dock is a single box and forwards nothing",
                hint="Add [central] endpoint, bucket, access_key and secret_key (or "
                "secret_key_file) to /etc/dockd/dockd.toml to forward to the agency's bucket.",
            )
        return self.config.central

    @cached_property
    def central_records(self) -> LedgerCentral:
        from dockd.adapters.ledger.central import LedgerCentral

        prefix = self.config.central.prefix if self.config.central is not None else ""
        return LedgerCentral(self.ledger, prefix, self.policy.retention.routine_months)

    @cached_property
    def central_store(self) -> S3CentralStore:
        from dockd.adapters.central import S3CentralStore

        return S3CentralStore(self.central_config)

    def forwarder(
        self,
        wait_for_disk: Callable[[], None] = lambda: None,
        stopping: Stopping = lambda: None,
        lease_waiting: Callable[[], None] = lambda: None,
    ) -> Forwarder:
        """`wait_for_disk`: the daemon's, blocking while a slot copies (docking wins);
        `stopping`: the daemon's shutdown or `dockd forward`'s SIGTERM/SIGINT, asked by the
        pass between objects and by the bucket between parts; `lease_waiting`: called
        when another process's pass holds the lease."""
        from dockd.adapters.central import S3CentralStore
        from dockd.adapters.clock import utc_now
        from dockd.adapters.store.lease import ForwardingLease
        from dockd.services.forward import Forwarder

        central = self.central_config
        store = self.store
        return Forwarder(
            S3CentralStore(central, pace=wait_for_disk),
            self.central_records,
            store,
            utc_now,
            central.local_retention_days,
            central.streams,
            wait_for_disk,
            lambda: ForwardingLease(store.root).hold(lease_waiting),
            timedelta(minutes=central.upkeep_takeover_minutes),
            stopping,
        )

    def _mailer(self) -> ReportMailer:
        from dockd.adapters.mail import ReportMailer
        from dockd.ui.report import build_message, recipients_for

        def compose(report: DeadlineReport, pack_name: str, s: MailSettings) -> EmailMessage:
            to = recipients_for(report, s.recipients, s.recipients_by_unit)
            return build_message(report, pack_name, s.sender, to, tr=self.locale)

        return ReportMailer(mail_settings(self.config.mail), compose)

    def close(self) -> None:
        """Close what was opened, and only that."""
        if "store" in self.__dict__:
            self.store.close()
        if "ledger" in self.__dict__:
            self.ledger.close()


def mail_settings(mail: MailConfig) -> MailSettings:
    """`[mail]` as the mail adapter's settings, the password revealed only here."""
    from dockd.adapters.mail import MailSettings

    return MailSettings(
        host=mail.host,
        port=mail.port,
        security=mail.security,
        username=mail.username,
        password=mail.password.get_secret_value() if mail.password is not None else None,
        timeout_s=mail.timeout_seconds,
        sender=mail.sender,
        recipients=list(mail.recipients),
        recipients_by_unit={unit: list(a) for unit, a in mail.recipients_by_unit.items()},
        send_when_empty=mail.send_when_empty,
        outbox=mail.outbox,
        cafile=mail.cafile,
    )


def configure_logging(verbose: bool) -> None:
    """journald under systemd, readable lines on a terminal."""
    from dockd.adapters.journal import configure_logging as configure

    configure(verbose)


def sd_notify(state: str) -> None:
    """Tell systemd (Type=notify) how we are; a no-op when not run by systemd."""
    import systemd.daemon

    systemd.daemon.notify(state)


def build_daemon(app: App) -> Daemon:
    """The daemon and every part it runs with; the web stack is imported only here."""
    from dockd.adapters.blockdev import set_read_only
    from dockd.adapters.bootregion import RawVolumes
    from dockd.adapters.clock import utc_now
    from dockd.adapters.dropfolder import DropFolders
    from dockd.adapters.ledger.engine import sqlite_folder
    from dockd.adapters.listing import VolumeSampler
    from dockd.adapters.mount import Mounter
    from dockd.adapters.udev import UdevSource
    from dockd.adapters.unlock import run_unlock
    from dockd.core.profiles import pick_profile
    from dockd.daemon.forwarding import BackgroundForwarder
    from dockd.daemon.loop import Daemon
    from dockd.daemon.slots import Slots, SlotWorker
    from dockd.daemon.unlock import Unlocker
    from dockd.services.detection import Detector

    settings = app.config.daemon
    drops = (
        DropFolders(settings.watch_dirs, settings.settle_seconds) if settings.watch_dirs else None
    )
    drop_profile = pick_profile(app.profiles, settings.drop_profile).id
    web = build_web(app)  # ConfigError (exit 2) before anything is docked
    slots = Slots()
    # set by systemd/dockd.service ("r") and its recorder-writes drop-in ("rw")
    unit_read_only = os.environ.get("DOCKD_RECORDER_DEVICES") == "r"
    writes = app.policy.clock.set_recorder_clock or (
        app.clearing.enabled and app.clearing.pack_allows
    )
    if writes and unit_read_only:
        import structlog

        from dockd.errors import RecorderWritesBlockedError

        structlog.get_logger("dockd.daemon").warning(
            "recorder-writes-blocked",
            message="clock set or clearing is on, but dockd.service opens recorders read-only",
            hint=RecorderWritesBlockedError.hint,
        )
    _warn_if_unlock_blocked(app)
    worker = SlotWorker(
        app.dock_session,
        app.clock_setting,
        app.clearing,
        Mounter(settings.mount_root),
        set_read_only,
        app.board,
        slots,
        drops,
        RawVolumes(),
        Detector(VolumeSampler(), app.volume, app.profiles),
        unit_read_only=unit_read_only,
    )
    unlocker = Unlocker(app.profiles, run_unlock, app.ledger, utc_now, app.board)
    central = app.config.central
    forwarding = (
        BackgroundForwarder(app.forwarder, app.board, central.pass_interval_seconds)
        if central is not None
        else None
    )
    ledger_folder = sqlite_folder(app.config.ledger.url)
    own = [Path("/"), app.config.store.root, *([ledger_folder] if ledger_folder else [])]
    return Daemon(
        UdevSource(settings.ports, own),
        worker,
        slots,
        app.board,
        sd_notify,
        settings.max_parallel,
        drops,
        drop_profile,
        web,
        unlocker,
        app.supervision.record_unplug,
        forwarding,
    )


def _warn_if_unlock_blocked(app: App) -> None:
    """The likely misconfiguration: an unlock profile on a unit without its drop-in (set by
    systemd/dockd.service "none" and dockd-unlock.conf "rw"); each unlock would then fail
    with the tool's "Operation not permitted", so say why once, at start."""
    locked = sorted(p.id for p in app.profiles.values() if p.unlock)
    if locked and os.environ.get("DOCKD_USB_DEVICES") == "none":
        import structlog

        from dockd.errors import UnlockBlockedError

        structlog.get_logger("dockd.daemon").warning(
            "unlock-blocked",
            profiles=",".join(locked),
            message="profiles declare an unlock tool, but dockd.service refuses it USB devices",
            hint=UnlockBlockedError.hint,
        )


def build_status(app: App, *, live: bool) -> StatusService:
    """The status picture; without the live board (`dockd status` when the daemon does not
    answer) it comes from the ledger alone."""
    from dockd.adapters.clock import utc_now
    from dockd.adapters.ledger.backlog import LedgerBacklog
    from dockd.adapters.ledger.registry import LedgerRegistry
    from dockd.adapters.ledger.report import LedgerReport
    from dockd.adapters.ledger.status import StatusReads
    from dockd.core.status import StoreSpace
    from dockd.services.status import StatusService

    root = app.store.root

    def store_space() -> StoreSpace:
        usage = shutil.disk_usage(root)
        return StoreSpace(str(root), usage.total, usage.free)

    return StatusService(
        StatusReads(app.ledger, LedgerRegistry(app.ledger), LedgerReport(app.ledger)),
        board=app.board if live else None,
        station_clock=app.station_clock.measure,
        store_space=store_space,
        store_root=str(root),
        policy=app.policy,
        host=socket.gethostname(),  # Station's; not importing the dock session for it
        version=__version__,
        clock=utc_now,
        backlog=LedgerBacklog(app.ledger, app.central_records)
        if app.config.central is not None
        else None,
    )


def build_web(app: App) -> WebServer:
    """The status pages of `dockd run`; ConfigError (exit 2) when `[web]` would expose them."""
    from dockd.adapters.clock import utc_now
    from dockd.adapters.store.stream import StoreReader
    from dockd.core.access import access_for
    from dockd.web.routes import build_asgi  # the web stack: only for the daemon
    from dockd.web.server import WebServer, check_tls

    access = access_for(app.config.web)
    check_tls(access)
    viewing = (app.viewing, StoreReader(str(app.config.store.root)), utc_now)
    # a page view reads: it does not match activities (the nightly report does)
    report = (
        lambda: app.reports.deadlines(timedelta(hours=24), match=False)[0],
        app.policy.name,
    )
    status = build_status(app, live=True)
    return WebServer(access, build_asgi(status, access, viewing, app.locale.zone, report))


def open_ledger(config: Config) -> Ledger:
    """This station's view of the ledger: its sessions and the objects its store holds."""
    from dockd.adapters.ledger.sessions import Ledger

    return Ledger(config.ledger.url, station=station_id(config))


def build(config: Config) -> App:
    return App(config)


def load_config(path: Path | None = None) -> Config:
    """The config the CLI runs with (`--config FILE`, else /etc/dockd/dockd.toml)."""
    from dockd.adapters.rules import load_config as read

    return read(path)
