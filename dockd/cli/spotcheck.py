"""`dockd spotcheck`: supervisors' spot checks of recordings (000:32, 002:20, 004:28)."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, add_by, duration, print_json, say
from dockd.errors import EXIT_OK, EXIT_PROBLEM

if TYPE_CHECKING:
    from dockd.app import App


def _yes_no(text: str) -> bool:
    if text not in ("yes", "no"):
        raise argparse.ArgumentTypeError(say("{text}: answer yes or no", text=repr(text)))
    return text == "yes"


def draw(app: App, args: argparse.Namespace) -> int:
    from dockd.core.views import DrawnItem, SpotCheckDraw

    draw_id, drawn = app.supervision.draw(args.since, args.by)
    recorded = app.supervision.recorded_draw(draw_id)
    items = [
        DrawnItem(item=item, recording=m.recording, unit=m.unit, custodian=m.custodian)
        for item, m in recorded.items
    ]
    if args.json:
        shown = SpotCheckDraw(
            id=draw_id,
            seed=drawn.seed,
            population=len(drawn.population),
            ratio=drawn.ratio,
            items=items,
        )
        print_json(shown)
        return EXIT_OK
    tr = app.locale
    print(
        tr(
            "draw {draw_id}: {n_items} of {n_population} recording(s) (ratio {ratio:g}, seed "
            "{seed}…)",
            draw_id=draw_id,
            n_items=len(items),
            n_population=len(drawn.population),
            ratio=drawn.ratio,
            seed=drawn.seed[:16],
        )
    )
    for i in items:
        print(
            tr(
                "  item {item:<6} recording {recording:<8} {unit} {custodian}",
                item=i.item,
                recording=i.recording,
                unit=i.unit,
                custodian=i.custodian,
            )
        )
    return EXIT_OK


def verify(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    from dockd.core.supervision import draw_differences

    problems = draw_differences(app.supervision.recorded_draw(args.draw))
    for problem in problems:
        print(tr("draw {draw}: {problem_name}", draw=args.draw, problem_name=problem))
    if problems:
        return EXIT_PROBLEM
    print(tr("draw {draw}: the sample follows from its seed and population", draw=args.draw))
    return EXIT_OK


def review(app: App, args: argparse.Namespace) -> int:
    from dockd.cli.operators import read_passphrases
    from dockd.core.supervision import Review

    (passphrase,) = read_passphrases([args.reviewer])
    outcome = Review(args.reviewer, args.recorded, args.uninterrupted, args.handed_over, args.note)
    app.supervision.review(args.item, outcome, passphrase)
    finding = not (args.recorded and args.uninterrupted and args.handed_over)
    tr = app.locale
    if finding:
        print(
            tr(
                "item {item} reviewed by {reviewer}: a finding",
                item=args.item,
                reviewer=args.reviewer,
            )
        )
    else:
        print(tr("item {item} reviewed by {reviewer}", item=args.item, reviewer=args.reviewer))
    return EXIT_OK


def register(sub: Subparsers) -> None:
    from dockd.cli.operators import add_passphrase_stdin

    group = sub.add_parser("spotcheck", help="supervisors' spot checks of recordings")
    actions = group.add_subparsers(dest="spotcheck_command", required=True, metavar="ACTION")
    p = actions.add_parser("draw", help="draw and record a sample of the period's recordings")
    p.add_argument("--since", type=duration, default=timedelta(days=30), help="default 30d")
    p.add_argument("--json", action="store_true")
    add_by(p)
    p.set_defaults(handler=draw)
    p = actions.add_parser("verify", help="recompute a draw's sample from what was recorded")
    p.add_argument("draw", type=int)
    p.set_defaults(handler=verify)
    p = actions.add_parser("review", help="record what a spot check of one item found")
    p.add_argument("item", type=int)
    p.add_argument("--reviewer", required=True, help="the reviewing operator's badge")
    for flag in ("--recorded", "--uninterrupted", "--handed-over"):
        p.add_argument(flag, type=_yes_no, required=True, metavar="yes|no")
    p.add_argument("--note")
    add_passphrase_stdin(p, "reviewer's passphrase")
    p.set_defaults(handler=review)
