"""`dockd attest`: an operator attests a dock session (two of them seal it, where the
pack asks for two-person offload)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def attest(app: App, args: argparse.Namespace) -> int:
    done = app.registry.attest(args.session, args.operator)
    if done.sealed:
        print(f"session {args.session} sealed by {', '.join(done.operators)}")
    else:
        print(
            f"session {args.session} attested by {', '.join(done.operators)}; "
            f"{done.needed - len(done.operators)} more operator(s) needed to seal it "
            f"({app.policy.id}: two-person offload)"
        )
    return EXIT_OK


def register(sub: Subparsers) -> None:
    p = sub.add_parser("attest", help="an operator attests a dock session")
    p.add_argument("session")
    p.add_argument("--operator", required=True, help="the operator's badge")
    p.set_defaults(handler=attest)
