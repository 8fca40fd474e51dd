"""`dockd attest`: operators seal a dock session at one sitting, each with their
passphrase (two distinct ones where the pack asks for two-person offload, 004:21)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers
from dockd.cli.operators import add_passphrase_stdin, read_passphrases
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def attest(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    sitting = list(zip(args.operator, read_passphrases(args.operator), strict=True))
    done = app.registry.attest(args.session, sitting, app.operators)
    print(
        tr(
            "session {session} sealed by {operators}",
            session=args.session,
            operators=", ".join(done.operators),
        )
    )
    return EXIT_OK


def register(sub: Subparsers) -> None:
    p = sub.add_parser("attest", help="operators seal a dock session")
    p.add_argument("session")
    p.add_argument(
        "--operator",
        action="append",
        required=True,
        help="an operator's badge (repeat: once per person at the sitting)",
    )
    add_passphrase_stdin(p, "operators' passphrases")
    p.set_defaults(handler=attest)
