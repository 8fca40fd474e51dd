"""`dockd holds`: keep recordings whatever their retention date."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, add_by
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def add(app: App, args: argparse.Namespace) -> int:
    hold = app.registry.place_hold(args.recording, args.case, args.reason, args.by)
    print(f"hold {hold.id} placed on recording {args.recording}: {hold.kind} {hold.reference}")
    return EXIT_OK


def listing(app: App, args: argparse.Namespace) -> int:
    for h in app.registry.holds(active_only=not args.all):
        state = f"released {h.released_at.isoformat()}" if h.released_at else "active"
        print(
            f"{h.id:>6} recording {h.recording:<8} {h.kind}:{h.reference}  "
            f"placed {h.placed_at.isoformat()} by {h.placed_by}  {state}"
        )
    return EXIT_OK


def release(app: App, args: argparse.Namespace) -> int:
    app.registry.release_hold(args.hold, args.reason, args.by)
    print(f"hold {args.hold} released")
    return EXIT_OK


def register(sub: Subparsers) -> None:
    holds = sub.add_parser("holds", help="keep recordings whatever their retention date")
    actions = holds.add_subparsers(dest="holds_command", required=True, metavar="ACTION")
    p = actions.add_parser("add", help="place a hold on a recording")
    p.add_argument("recording", type=int)
    why = p.add_mutually_exclusive_group(required=True)
    why.add_argument("--case", help="case number: kept with the case file")
    why.add_argument("--reason", help="a long-term reason of the policy pack")
    add_by(p)
    p.set_defaults(handler=add)
    p = actions.add_parser("list", help="active holds")
    p.add_argument("--all", action="store_true", help="released ones too")
    p.set_defaults(handler=listing)
    p = actions.add_parser("release", help="release a hold")
    p.add_argument("hold", type=int)
    p.add_argument("--reason", required=True)
    add_by(p)
    p.set_defaults(handler=release)
