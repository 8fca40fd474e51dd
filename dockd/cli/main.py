"""The `dockd` command. Exit 0 = fine, 1 = something is wrong, 2 = usage or configuration."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, TypeAdapter

from dockd import __version__
from dockd.adapters.clock import utc_now
from dockd.adapters.journal import configure_logging
from dockd.app import App, build, build_daemon
from dockd.cli.policy import register as register_policy_commands
from dockd.config import Config, load_config
from dockd.core.udev_rules import render_rules
from dockd.core.views import RecordingView, SessionView
from dockd.errors import EXIT_OK, EXIT_PROBLEM, DockdError
from dockd.services.integrity import audit_chain, verify_store

Handler = Callable[[App, argparse.Namespace], int]


def _print_json(value: BaseModel | list[RecordingView] | list[SessionView]) -> None:
    if isinstance(value, BaseModel):
        text = value.model_dump_json(indent=2)
    else:
        text = TypeAdapter(type(value)).dump_json(value, indent=2).decode()
    sys.stdout.write(text + "\n")


def cmd_run(app: App, args: argparse.Namespace) -> int:
    return build_daemon(app).run()


def cmd_policy_show(app: App, args: argparse.Namespace) -> int:
    pack = app.policy
    if args.json:
        _print_json(pack)
        return EXIT_OK
    print(f"{pack.id}: {pack.name}")
    print(f"  {pack.authority} (seeds/{pack.seed})")
    for section_name, section in pack:
        if not isinstance(section, BaseModel):
            continue
        values = section.model_dump(exclude={"articles"})
        articles = ", ".join(getattr(section, "articles", []))
        print(f"[{section_name}]  from {articles}")
        for key, value in values.items():
            print(f"  {key} = {json.dumps(value, ensure_ascii=False)}")
    return EXIT_OK


def cmd_udev_rules(app: App, args: argparse.Namespace) -> int:
    sys.stdout.write(render_rules(app.profiles))
    return EXIT_OK


def cmd_ingest(app: App, args: argparse.Namespace) -> int:
    outcome = app.dock_session.ingest(args.path, args.serial, args.profile, slot=args.slot)
    view = app.ledger.session(outcome.session_id)
    if args.json and view is not None:
        _print_json(view)
    else:
        print(
            f"session {outcome.session_id}: {outcome.state}; {len(outcome.copied)} copied and "
            f"verified, {outcome.already_verified} already in the store"
        )
        for problem in outcome.problems:
            print(f"  problem {problem.code}: {problem.path}: {problem.message}")
        if outcome.error is not None:
            print(f"  hint: {outcome.error.hint}")
        if outcome.manifest is not None:
            print(f"  manifest {outcome.manifest.object_key}")
    return EXIT_OK if outcome.state == "completed" else EXIT_PROBLEM


def cmd_verify(app: App, args: argparse.Namespace) -> int:
    report = verify_store(app.ledger, app.store, utc_now)
    if args.json:
        _print_json(report)
    else:
        print(f"verified {report.checked} objects: {report.ok} match the ledger")
        for finding in report.findings:
            print(f"  {finding.problem}: {finding.object}")
    return EXIT_PROBLEM if report.findings else EXIT_OK


def cmd_recordings(app: App, args: argparse.Namespace) -> int:
    recordings = app.ledger.recordings()
    if args.json:
        _print_json(recordings)
    else:
        for r in recordings:
            print(
                f"{r.id:>6} {r.serial} {r.start.isoformat()} {r.size:>12} {r.blake3[:16]} {r.path}"
            )
    return EXIT_OK


def cmd_sessions(app: App, args: argparse.Namespace) -> int:
    sessions = app.ledger.sessions()
    if args.json:
        _print_json(sessions)
    else:
        for s in sessions:
            print(
                f"{s.id} {s.serial} {s.state:<24} {s.started_at.isoformat()} "
                f"copied={s.recordings} problems={len(s.problems)}"
            )
    return EXIT_OK


def cmd_status(app: App, args: argparse.Namespace) -> int:
    from dockd.cli.status import run_status  # rich and the web stack: only when asked for

    return run_status(app, as_json=args.json, watch=args.watch)


def cmd_audit_verify(app: App, args: argparse.Namespace) -> int:
    checked, broken, missing = audit_chain(app.ledger)
    if broken is not None:
        seq, reason = broken
        print(f"custody chain BROKEN at event {seq}: {reason}")
    for line in missing:
        print(f"custody gap: {line}")
    if broken is None and not missing:
        print(f"custody chain intact: {checked} events, every session and recording accounted for")
        return EXIT_OK
    return EXIT_PROBLEM


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dockd", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML config (default /etc/dockd/dockd.toml)")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"dockd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="the dock daemon (udev, mounts, copies)").set_defaults(
        handler=cmd_run
    )

    ingest = sub.add_parser("ingest", help="copy and verify a mounted recorder or a folder")
    ingest.add_argument("path", type=Path)
    ingest.add_argument("--serial", required=True, help="the recorder's serial number")
    ingest.add_argument("--profile", default="generic", help="recorder profile id")
    ingest.add_argument("--slot", help="the dock slot, for the ledger")
    ingest.add_argument("--json", action="store_true", help="print the session as JSON")
    ingest.set_defaults(handler=cmd_ingest)

    verify = sub.add_parser("verify", help="re-hash the store against the ledger")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=cmd_verify)

    for name, handler, what in (
        ("recordings", cmd_recordings, "verified recordings"),
        ("sessions", cmd_sessions, "dock sessions"),
    ):
        p = sub.add_parser(name, help=f"list {what}")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=handler)

    status = sub.add_parser(
        "status", help="the dock's live picture (slots, today, station), as on the status page"
    )
    status.add_argument("--json", action="store_true", help="print the /api/status document")
    status.add_argument("--watch", action="store_true", help="refresh every 2 s until Ctrl-C")
    status.set_defaults(handler=cmd_status)

    policy = sub.add_parser("policy", help="the active policy pack")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    show = policy_sub.add_parser("show", help="effective values and the articles they come from")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_policy_show)

    sub.add_parser("udev-rules", help="print udev/99-dockd.rules for the profiles").set_defaults(
        handler=cmd_udev_rules
    )

    register_policy_commands(sub)

    audit = sub.add_parser("audit", help="custody chain")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_sub.add_parser("verify", help="prove the custody chain").set_defaults(
        handler=cmd_audit_verify
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        config: Config = load_config(args.config)
        app = build(config)
    except DockdError as exc:
        _report(exc)
        return exc.exit_code
    try:
        handler: Handler = args.handler
        return handler(app, args)
    except DockdError as exc:
        _report(exc)
        return exc.exit_code
    finally:
        app.close()


def _report(exc: DockdError) -> None:
    sys.stderr.write(f"dockd: {exc.code}: {exc.message}\n  hint: {exc.hint}\n")


if __name__ == "__main__":
    sys.exit(main())
