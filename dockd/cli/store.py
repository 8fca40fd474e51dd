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
        print(f"verified {report.checked} objects: {report.ok} match the ledger")
        for finding in report.findings:
            print(f"  {finding.problem}: {finding.object}")
    return EXIT_PROBLEM if report.findings else EXIT_OK


def audit_verify(app: App, args: argparse.Namespace) -> int:
    from dockd.services.integrity import audit_chain

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


def register(sub: Subparsers) -> None:
    p = sub.add_parser("verify", help="re-hash the store against the ledger")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=verify)

    audit = sub.add_parser("audit", help="custody chain")
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    actions.add_parser("verify", help="prove the custody chain").set_defaults(handler=audit_verify)
