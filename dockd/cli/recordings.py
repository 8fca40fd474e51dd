"""`dockd recordings` and `dockd sessions`: what the ledger holds."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, print_json
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def recordings(app: App, args: argparse.Namespace) -> int:
    found = app.ledger.recordings()
    if args.json:
        print_json(found)
    else:
        for r in found:
            print(
                f"{r.id:>6} {r.serial} {r.start.isoformat()} {r.size:>12} {r.blake3[:16]} {r.path}"
            )
    return EXIT_OK


def sessions(app: App, args: argparse.Namespace) -> int:
    found = app.ledger.sessions()
    if args.json:
        print_json(found)
    else:
        for s in found:
            print(
                f"{s.id} {s.serial} {s.state:<24} {s.started_at.isoformat()} "
                f"copied={s.recordings} problems={len(s.problems)}"
            )
    return EXIT_OK


def register(sub: Subparsers) -> None:
    for name, handler, what in (
        ("recordings", recordings, "verified recordings"),
        ("sessions", sessions, "dock sessions"),
    ):
        p = sub.add_parser(name, help=f"list {what}")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=handler)
