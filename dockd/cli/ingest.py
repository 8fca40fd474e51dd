"""`dockd ingest`: one-shot copy and verify of a mounted recorder or a folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, print_json
from dockd.errors import EXIT_OK, EXIT_PROBLEM

if TYPE_CHECKING:
    from dockd.app import App


def ingest(app: App, args: argparse.Namespace) -> int:
    app.measure_station_clock_ahead()  # while the dock session is built
    outcome = app.dock_session.ingest(args.path, args.serial, args.profile, slot=args.slot)
    # the ledger's record is read back only to be shown: the lines below say the outcome
    view = app.ledger.session(outcome.session_id) if args.json else None
    if view is not None:
        print_json(view)
    else:
        tr = app.locale
        said = tr(
            "session {session}: {state}; {copied} copied and verified, {already} already in "
            "the store",
            session=outcome.session_id,
            state=outcome.state,
            copied=len(outcome.copied),
            already=outcome.already_verified,
        )
        print(said)
        for problem in outcome.problems:
            print(
                tr(
                    "  problem {code}: {path}: {message}",
                    code=problem.code,
                    path=problem.path,
                    message=tr.say(problem.message),
                )
            )
        if outcome.error is not None:
            print("  " + tr("hint: {hint}", hint=tr(outcome.error.hint)))
        if outcome.manifest is not None:
            print(tr("  manifest {key}", key=outcome.manifest.object_key))
    return EXIT_OK if outcome.state == "completed" else EXIT_PROBLEM


def register(sub: Subparsers) -> None:
    p = sub.add_parser("ingest", help="copy and verify a mounted recorder or a folder")
    p.add_argument("path", type=Path)
    p.add_argument("--serial", required=True, help="the recorder's serial number")
    p.add_argument("--profile", default="generic", help="recorder profile id")
    p.add_argument("--slot", help="the dock slot, for the ledger")
    p.add_argument("--json", action="store_true", help="print the session as JSON")
    p.set_defaults(handler=ingest, logs=True)
