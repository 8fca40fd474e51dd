"""`dockd station key`: the public half of the station key, for whoever checks signatures."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def key(app: App, args: argparse.Namespace) -> int:
    """PEM first, so `dockd station key > station.pub` is a file openssl reads as it is
    (text after the PEM block is ignored by PEM readers)."""
    signer = app.signer
    print(signer.public_pem(), end="")
    print(f"fingerprint: {signer.fingerprint}")
    return EXIT_OK


def register(sub: Subparsers) -> None:
    station = sub.add_parser("station", help="this station's identity and signing key")
    actions = station.add_subparsers(dest="station_command", required=True, metavar="ACTION")
    actions.add_parser(
        "key", help="print the public key that checks this station's signatures (PEM)"
    ).set_defaults(handler=key)
