"""`/metrics`: Prometheus metrics computed from the status document at scrape time (no
global registry, nothing counted twice: the same picture the page shows)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dockd.core.backlog import CentralStatus
from dockd.core.status_document import SlotState
from dockd.services.status import StatusService

SLOT_STATES: tuple[SlotState, ...] = (
    "empty",
    "mounting",
    "copying",
    "verifying",
    "done",
    "interrupted",
    "error",
)
VIOLATION_KINDS = (
    "late_offloads",
    "overdue_recorders",
    "drift_violations",
    "interruptions",
    "unsealed_sessions",
    "verify_failures",
)


class DockdCollector(Collector):
    """Prometheus metrics computed from the App at scrape time (no global registry)."""

    def __init__(self, source: StatusService) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        doc = self.source.document()
        totals = self.source.totals()
        station = doc.station

        info = GaugeMetricFamily(
            "dockd_info", "dockd on this station", labels=["version", "host", "policy"]
        )
        info.add_metric([station.version, station.host, station.policy], 1)
        yield info
        if station.started_at is not None:
            yield GaugeMetricFamily(
                "dockd_start_time_seconds",
                "When the daemon started (Unix time)",
                value=station.started_at.timestamp(),
            )

        yield CounterMetricFamily(
            "dockd_ingested_bytes", "Bytes copied and verified into the store", totals.bytes
        )
        yield CounterMetricFamily(
            "dockd_ingested_recordings",
            "Recordings copied and verified into the store",
            totals.recordings,
        )
        sessions = CounterMetricFamily(
            "dockd_sessions", "Finished dock sessions by final state", labels=["state"]
        )
        for state in ("completed", "completed_with_problems", "interrupted", "failed"):
            sessions.add_metric([state], totals.sessions_by_state.get(state, 0))
        yield sessions
        yield GaugeMetricFamily(
            "dockd_sessions_running",
            "Dock sessions in progress",
            value=totals.sessions_by_state.get("running", 0),
        )

        yield CounterMetricFamily(
            "dockd_verify_failures",
            "Objects `dockd verify` found missing, corrupt or of the wrong size (all runs)",
            totals.verify_failures,
        )
        if station.last_verify is not None:
            yield GaugeMetricFamily(
                "dockd_last_verify_timestamp_seconds",
                "When `dockd verify` last ran (Unix time)",
                value=station.last_verify.at.timestamp(),
            )
            yield GaugeMetricFamily(
                "dockd_last_verify_findings",
                "Objects the last `dockd verify` found missing or altered",
                value=station.last_verify.findings,
            )

        slot_state = GaugeMetricFamily(
            "dockd_slot_state", "1 for the state each slot is in", labels=["slot", "state"]
        )
        done = GaugeMetricFamily(
            "dockd_slot_bytes_done", "Bytes copied in the slot's session", labels=["slot"]
        )
        total = GaugeMetricFamily(
            "dockd_slot_bytes_total", "Bytes to copy in the slot's session", labels=["slot"]
        )
        for card in doc.slots:
            for state in SLOT_STATES:
                slot_state.add_metric([card.slot, state], 1 if card.state == state else 0)
            done.add_metric([card.slot], card.bytes_done)
            total.add_metric([card.slot], card.bytes_total)
        yield slot_state
        yield done
        yield total

        clock = station.clock
        if clock is not None:
            yield GaugeMetricFamily(
                "dockd_station_clock_synchronised",
                "1 when the station clock is synchronised to true time",
                value=1 if clock.synchronised else 0,
            )
            if clock.offset_s is not None:
                yield GaugeMetricFamily(
                    "dockd_station_clock_offset_seconds",
                    "True time minus station time (NTP convention)",
                    value=clock.offset_s,
                )

        store = station.store
        if store is not None:
            yield GaugeMetricFamily(
                "dockd_store_free_bytes", "Free bytes in the evidence store", value=store.free_bytes
            )
            yield GaugeMetricFamily(
                "dockd_store_size_bytes", "Size of the store's filesystem", value=store.size_bytes
            )
            yield GaugeMetricFamily(
                "dockd_store_ingest_bytes_per_day",
                "Bytes copied per day, averaged over the last 7 days",
                value=store.ingest_bytes_per_day,
            )

        violations = GaugeMetricFamily(
            "dockd_violations",
            "Findings today (since the station's local midnight) by kind; "
            "absent when the deadline report could not be read",
            labels=["kind"],
        )
        for kind in VIOLATION_KINDS:
            found: list[Any] | None = getattr(doc.today, kind)
            if found is not None:
                violations.add_metric([kind], len(found))
        yield violations
        if doc.central is not None:
            yield from _central(doc.central)


def _central(central: CentralStatus) -> Iterable[Metric]:
    """Present only with `[central]` configured: a single box has no backlog to watch."""
    backlog = central.backlog
    yield GaugeMetricFamily(
        "dockd_central_backlog_objects",
        "Objects this station holds that the central store has not confirmed",
        value=backlog.objects,
    )
    yield GaugeMetricFamily(
        "dockd_central_backlog_bytes", "Bytes of those objects", value=backlog.bytes
    )
    yield GaugeMetricFamily(
        "dockd_central_backlog_oldest_seconds",
        "Age of the oldest of them since it was stored here; 0 without a backlog",
        value=backlog.oldest_s or 0.0,
    )
    yield GaugeMetricFamily(
        "dockd_central_failed_objects",
        "Objects whose last attempt to reach the central store failed",
        value=backlog.failed,
    )
    yield GaugeMetricFamily(
        "dockd_central_lock_upkeep_overdue_objects",
        "Objects of any station whose central lock lags what the ledger wants (a hold, a "
        "longer retention not yet on the bucket)",
        value=backlog.lock_upkeep_overdue,
    )
    yield GaugeMetricFamily(
        "dockd_central_lock_upkeep_oldest_seconds",
        "How long the longest of those lags has lasted; 0 when none lags",
        value=backlog.lock_upkeep_oldest_s or 0.0,
    )
    yield GaugeMetricFamily(
        "dockd_central_late_recordings",
        "Recordings not confirmed centrally within the pack's confirm_within_hours",
        value=central.late_to_central,
    )


def render_metrics(source: StatusService) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DockdCollector(source))
    return generate_latest(registry)
