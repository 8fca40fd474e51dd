"""The figures bench/stations.py reports: per-station forwarding, where a process's time
went, failed transactions, the ratios' spread, and the printed summary."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from bench.station_load import MIB, Forwarding, Run, ledger_errors


def summary(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
    }


def forwarded(loop: Forwarding, run: Run) -> dict[str, Any]:
    during = loop.during(run)
    return {
        "exit": loop.returncode,
        "passes": len(loop.passes),
        "passes_overlapping_ingest": len(during),
        "bytes_sent_by_passes_overlapping_ingest": sum(p["bytes_sent"] for p in during),
        "objects_confirmed": sum(p["confirmed"] for p in loop.passes),
        "failed": sum(sum(p["failed"].values()) for p in loop.passes),
        "stopped": sorted({p["stopped"] for p in loop.passes if p["stopped"]}),
    }


def outside_session(run: Run, row: dict[str, float]) -> dict[str, float]:
    """Where a process's time went that its session did not: start-up and the ledger's
    opening before the session starts, the manifest and closing after it ends."""
    return {
        "seconds_before_session": round(row["session_started"] - run.started, 3),
        "seconds_after_session": round(run.started + run.seconds - row["session_finished"], 3),
    }


def failed_transactions(runs: list[Run], loops: list[Forwarding]) -> dict[str, Any]:
    return {
        "ingest_nonzero_exits": sum(1 for r in runs if r.returncode != 0),
        "forwarding_nonzero_exits": sum(1 for f in loops if f.returncode != 0),
        "ledger_errors": sum(ledger_errors(r.stderr) for r in runs)
        + sum(ledger_errors(f.stderr) for f in loops),
        "stderr_of_failed": {
            **{f"ingest {r.station.name}": r.stderr[-500:] for r in runs if r.returncode},
            **{f"forward {f.station.name}": f.stderr[-500:] for f in loops if f.returncode},
        },
    }


def printed(report: dict[str, Any], results: Path) -> str:
    lines = []
    for name, s in report["sets"].items():
        f = s["failed_transactions"]
        lines.append(
            f"{name}: alone {s['alone']['session_mib_s_median']} MiB/s session, "
            f"{s['alone']['process_mib_s_median']} MiB/s process; {report['stations']} at once "
            f"{s['concurrent']['aggregate_ingest_mib_s']} MiB/s aggregate, "
            f"{s['concurrent']['custody_events_per_s']} custody events/s, "
            f"{s['concurrent']['cores_used_by_the_ingests']} cores used by the ingests, machine "
            f"{s['concurrent']['machine_cpu_while_docking']}, "
            f"{s['concurrent']['bytes_forwarded_during_ingests'] // MIB} MiB forwarded meanwhile\n"
            f"  ratio session {s['ratio_session_vs_alone']} met {s['target_met']['session']}\n"
            f"  ratio process {s['ratio_process_vs_alone']} met {s['target_met']['process']}; "
            f"s before the session {s['concurrent']['seconds_before_session_median']}\n"
            f"  failed: {f['ingest_nonzero_exits']} ingest exits, {f['forwarding_nonzero_exits']} "
            f"forwarding exits, {f['ledger_errors']} ledger errors; forwarded all on "
            f"{s['forwarding']['stations_confirming_all']}/{s['forwarding']['stations']}"
        )
    a = report["audit_verify"]
    lines.append(
        f"PostgreSQL log errors: {report['postgres_log_errors']}\n"
        f"audit verify: exit 0 on {a['passed']}/{a['stations']}; chain intact and rows matching "
        f"on {a['chain_intact_and_rows_match']}; --all-stations exit {a['all_stations']['exit']}\n"
        f"target met: {report['target_met']}\n"
        f"total {report['total_seconds']} s; wrote {results}"
    )
    return "\n".join(lines)
