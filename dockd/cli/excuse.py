"""`dockd excuse`: an officer returned from remote duty, so their deadlines run from then."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, add_by, instant
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def excuse(app: App, args: argparse.Namespace) -> int:
    from dockd.ui.format import local_moment

    tr = app.locale
    changed = app.registry.excuse(args.badge, args.returned_at, args.reason, args.by)
    print(
        tr(
            "recorded: {badge} returned from remote duty at {returned_at}; {changed} earlier "
            "recording(s) changed verdict",
            badge=args.badge,
            returned_at=local_moment(args.returned_at, tr.zone),
            changed=changed,
        )
    )
    return EXIT_OK


def register(sub: Subparsers) -> None:
    p = sub.add_parser("excuse", help="an officer returned from remote duty at T")
    p.add_argument("--badge", required=True)
    p.add_argument("--returned-at", type=instant, required=True, help="RFC 3339")
    p.add_argument("--reason", required=True)
    add_by(p)
    p.set_defaults(handler=excuse)
