"""`dockd verify` and `dockd audit verify`: proving the store and the custody chain."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, print_json
from dockd.errors import EXIT_OK, EXIT_PROBLEM

if TYPE_CHECKING:
    from dockd.app import App


def verify(app: App, args: argparse.Namespace) -> int:
    from dockd.services.integrity import verify_store

    report = verify_store(app.ledger, app.store, app.clock)
    if args.json:
        print_json(report)
    else:
        tr = app.locale
        said = tr(
            "verified {checked} objects: {ok} match the ledger",
            checked=report.checked,
            ok=report.ok,
        )
        print(said)
        for finding in report.findings:
            print(f"  {finding.problem}: {finding.object}")
    return EXIT_PROBLEM if report.findings else EXIT_OK


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
    p.add_argument("--json", action="store_true")
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
