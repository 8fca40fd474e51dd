"""`dockd interruptions`: why a recording stopped, and a supervisor's review of that
(000:20, 001:11, 002:13, 003/D:10)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def explain(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    app.supervision.explain(args.id, args.by, args.text)
    print(tr("interruption {interruption} explained by {by}", interruption=args.id, by=args.by))
    return EXIT_OK


def review(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    app.supervision.review_interruption(args.id, args.by)
    print(tr("interruption {interruption} reviewed by {by}", interruption=args.id, by=args.by))
    return EXIT_OK


def register(sub: Subparsers) -> None:
    group = sub.add_parser("interruptions", help="explain and review gaps between clips")
    actions = group.add_subparsers(dest="interruptions_command", required=True, metavar="ACTION")
    p = actions.add_parser("explain", help="say why recording stopped")
    p.add_argument("id", type=int)
    p.add_argument("--by", required=True, help="badge of who explains")
    p.add_argument("--text", required=True)
    p.set_defaults(handler=explain)
    p = actions.add_parser("review", help="a supervisor reviewed the explanation")
    p.add_argument("id", type=int)
    p.add_argument("--by", required=True, help="the supervisor's badge")
    p.set_defaults(handler=review)
