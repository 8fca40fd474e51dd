"""`dockd recordings` and `dockd sessions`: what the ledger holds."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, print_json
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def recordings(app: App, args: argparse.Namespace) -> int:
    from dockd.ui.format import local_moment

    found = app.ledger.recordings()
    if args.json:
        print_json(found)
    else:
        tr = app.locale
        for r in found:
            print(
                tr(
                    "{id:>6} {serial} {start} {size:>12} {blake3} {path}",
                    id=r.id,
                    serial=r.serial,
                    start=local_moment(r.start, tr.zone),
                    size=r.size,
                    blake3=r.blake3[:16],
                    path=r.path,
                )
            )
    return EXIT_OK


def sessions(app: App, args: argparse.Namespace) -> int:
    from dockd.ui.format import SESSION_LABELS, local_moment

    found = app.ledger.sessions()
    if args.json:
        print_json(found)
    else:
        tr = app.locale
        for s in found:
            print(
                tr(
                    "{id} {serial} {state:<24} {started_at} copied={recordings} "
                    "problems={n_problems}",
                    id=s.id,
                    serial=s.serial,
                    state=tr(SESSION_LABELS.get(s.state, s.state)),
                    started_at=local_moment(s.started_at, tr.zone),
                    recordings=s.recordings,
                    n_problems=len(s.problems),
                )
            )
            for problem in s.problems:
                print(
                    tr(
                        "  problem {code}: {path}: {message}",
                        code=problem.code,
                        path=problem.path,
                        message=tr.say(problem.said()),
                    )
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
