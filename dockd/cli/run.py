"""`dockd run` (the dock daemon) and `dockd status` (its live picture in a terminal)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers

if TYPE_CHECKING:
    from dockd.app import App


def run(app: App, args: argparse.Namespace) -> int:
    from dockd.app import build_daemon

    return build_daemon(app).run()


def status(app: App, args: argparse.Namespace) -> int:
    from dockd.cli.status import run_status

    return run_status(app, as_json=args.json, watch=args.watch)


def register(sub: Subparsers) -> None:
    p = sub.add_parser("run", help="the dock daemon (udev, mounts, copies)")
    p.set_defaults(handler=run, logs=True)
    p = sub.add_parser(
        "status", help="the dock's live picture (slots, today, station), as on the status page"
    )
    p.add_argument("--json", action="store_true", help="print the /api/status document")
    p.add_argument("--watch", action="store_true", help="refresh every 2 s until Ctrl-C")
    p.set_defaults(handler=status, logs=True)
