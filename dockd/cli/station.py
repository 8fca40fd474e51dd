"""`dockd station key`: the public half of the station key, for whoever checks signatures.
`dockd station adopt-legacy`: the rows from before stations had names become this
station's, once, on the station that wrote them (`dockd.adapters.ledger.legacy`)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers
from dockd.errors import EXIT_OK, EXIT_PROBLEM

if TYPE_CHECKING:
    from dockd.app import App


def key(app: App, args: argparse.Namespace) -> int:
    """PEM first, so `dockd station key > station.pub` is a file openssl reads as it is
    (text after the PEM block is ignored by PEM readers). Then what the ledger's
    registry holds for this station: a different key under its id is a finding."""
    tr = app.locale
    signer = app.signer
    print(signer.public_pem(), end="")
    print(tr("fingerprint: {fingerprint}", fingerprint=signer.fingerprint))
    ledger = app.ledger
    found = ledger.registration()
    if found is None:
        print(
            tr(
                "registry: station {station} registers this key at its first write",
                station=ledger.station,
            )
        )
        return EXIT_OK
    print(
        tr(
            "registry: station {station} since {registered_at} ({host})",
            station=found.station,
            registered_at=found.registered_at,
            host=found.host,
        )
    )
    if found.fingerprint == signer.fingerprint:
        return EXIT_OK
    print(
        tr(
            "KEY CHANGED: station {station} registered key {fingerprint}; this station signs "
            "with another, and every checkpoint it signs is a finding of `dockd audit verify`. "
            "Restore the registered key file, or give this box a new [station] id (a new "
            "station, with its own chain).",
            station=found.station,
            fingerprint=found.fingerprint,
        ),
        file=sys.stderr,
    )
    return EXIT_PROBLEM


def adopt_legacy(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    ledger = app.ledger
    adoption = ledger.adopt_legacy(app.clock())
    if adoption is None:
        print(tr("the ledger holds no rows from before stations had names: nothing to adopt"))
        return EXIT_OK
    rows = adoption.rows
    counts = {
        "station": ledger.station,
        "sessions": rows.sessions,
        "locations": rows.locations,
        "central_copies": rows.central_copies,
    }
    if adoption.already:
        print(
            tr(
                "station {station} had already adopted the rows from before stations had "
                "names: {sessions} sessions, {locations} object copies, {central_copies} "
                "central copies",
                **counts,
            )
        )
    else:
        print(
            tr(
                "station {station} adopted the rows from before stations had names: "
                "{sessions} sessions, {locations} object copies, {central_copies} central "
                "copies; restart dockd here for the daemon to count them",
                **counts,
            )
        )
    return EXIT_OK


def register(sub: Subparsers) -> None:
    station = sub.add_parser("station", help="this station's identity and signing key")
    actions = station.add_subparsers(dest="station_command", required=True, metavar="ACTION")
    actions.add_parser(
        "key", help="print the public key that checks this station's signatures (PEM)"
    ).set_defaults(handler=key)
    actions.add_parser(
        "adopt-legacy",
        help="once, on the station that wrote them: make the ledger's rows from before "
        "stations had names ('local') this station's",
    ).set_defaults(handler=adopt_legacy)
