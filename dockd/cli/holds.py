"""`dockd holds`: keep recordings whatever their retention date."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, add_by
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def add(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    hold = app.registry.place_hold(args.recording, args.case, args.reason, args.by)
    print(
        tr(
            "hold {hold_id} placed on recording {recording}: {kind} {reference}",
            hold_id=hold.id,
            recording=args.recording,
            kind=hold.kind,
            reference=hold.reference,
        )
    )
    return EXIT_OK


def listing(app: App, args: argparse.Namespace) -> int:
    from dockd.ui.format import local_moment

    tr = app.locale
    for h in app.registry.holds(active_only=not args.all):
        released = h.released_at
        when = local_moment(released, tr.zone)
        state = tr("released {at}", at=when) if released else tr("active")
        print(
            tr(
                "{hold:>6} recording {recording:<8} {kind}:{reference}  placed {placed_at} by "
                "{placed_by}  {state}",
                hold=h.id,
                recording=h.recording,
                kind=h.kind,
                reference=h.reference,
                placed_at=local_moment(h.placed_at, tr.zone),
                placed_by=h.placed_by,
                state=state,
            )
        )
    return EXIT_OK


def release(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    app.registry.release_hold(args.hold, args.reason, args.by)
    print(tr("hold {hold} released", hold=args.hold))
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
