"""`dockd verify` and `dockd audit verify`: proving the store and the custody chain."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, print_json
from dockd.errors import EXIT_OK, EXIT_PROBLEM

if TYPE_CHECKING:
    from dockd.app import App


def verify(app: App, args: argparse.Namespace) -> int:
    if args.scheduled:
        return scheduled_scrub(app, args)
    from dockd.services.integrity import verify_store

    report = verify_store(app.ledger, app.store, app.clock)
    if args.json:
        print_json(report)
    else:
        print(f"verified {report.checked} objects: {report.ok} match the ledger")
        for finding in report.findings:
            print(f"  {finding.problem}: {finding.object}")
    return EXIT_PROBLEM if report.findings else EXIT_OK


def scheduled_scrub(app: App, args: argparse.Namespace) -> int:
    """What dockd-verify.timer runs weekly: the store, then the central copies (`verify
    --central`) where [central] is configured and this build has the central check; the
    worse exit code of the two, so one failed half fails the unit."""
    steps = [{"central": False}]
    if app.config.central is None:
        print("scheduled scrub: the store ([central] is not configured)")
    elif "central" not in vars(args):
        print("scheduled scrub: the store (this dockd has no `verify --central`)")
    else:
        print("scheduled scrub: the store, then the central copies")
        steps.append({"central": True})
    return max(
        verify(app, argparse.Namespace(**{**vars(args), "scheduled": False, **step}))
        for step in steps
    )


def _head(text: str) -> tuple[int, str]:
    from dockd.core.signing import parse_head

    try:
        return parse_head(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def audit_verify(app: App, args: argparse.Namespace) -> int:
    """The chain first, then every evidence row against it, then every manifest, then the
    signed checkpoints and a head copied outside the ledger."""
    from dockd.services.integrity import audit_anchors, audit_ledger
    from dockd.ui.format import row_difference

    report = audit_ledger(app.ledger_audit, app.store)
    anchors = audit_anchors(app.ledger_audit, app.signer, args.head)
    report = report.model_copy(update={"anchors": anchors})
    if args.json:
        print_json(report)
        return EXIT_OK if report.ok else EXIT_PROBLEM
    if report.broken is not None:
        print(f"custody chain BROKEN at event {report.broken.seq}: {report.broken.reason}")
    for found in report.differences:
        print(row_difference(found))
    for line in report.anchors:
        print(f"anchor: {line}")
    if report.manifests_not_here:
        print(f"{report.manifests_not_here} manifest(s) not in this store: see `dockd verify`")
    if report.ok:
        print(
            f"custody chain intact: {report.events} events; all {report.rows_checked} evidence "
            f"rows and {report.manifests_checked} manifests match it"
        )
        if args.head is not None:
            print(f"the ledger still holds head {args.head[0]}:{args.head[1]}")
        return EXIT_OK
    if report.differences:
        print(f"{len(report.differences)} difference(s) between the ledger and its custody chain")
    return EXIT_PROBLEM


def register(sub: Subparsers) -> None:
    p = sub.add_parser("verify", help="re-hash the store against the ledger")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--json", action="store_true")
    how.add_argument(
        "--scheduled",
        action="store_true",
        help="the weekly scrub (dockd-verify.timer): the store, plus --central when [central] "
        "is configured",
    )
    p.set_defaults(handler=verify)

    audit = sub.add_parser("audit", help="custody chain")
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    p = actions.add_parser(
        "verify", help="prove the custody chain, then every evidence row and manifest against it"
    )
    p.add_argument(
        "--head",
        type=_head,
        metavar="SEQ:HASH",
        help="a chain head copied outside the ledger (journal, nightly report): exit 1 if "
        "the ledger no longer holds it",
    )
    p.add_argument("--json", action="store_true", help="the report (schemas/audit.schema.json)")
    p.set_defaults(handler=audit_verify)
