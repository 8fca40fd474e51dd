"""`dockd report deadlines`: what went wrong in the period, for supervisors."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, add_by, duration
from dockd.errors import EXIT_OK, EXIT_PROBLEM

if TYPE_CHECKING:
    from dockd.app import App

LAST_REPORT = "last"


def report_period(text: str) -> timedelta | None:
    """`--since`: a duration, or 'last' (None: from where the last e-mailed report ended)."""
    return None if text.strip() == LAST_REPORT else duration(text)


def deadlines(app: App, args: argparse.Namespace) -> int:
    """Without --email: exit 1 when anything is reported. With --email: exit 1 only when
    the report could not be delivered (it is then kept in the outbox and re-sent first
    next time), so the timer's unit fails for a mail problem, not for a late officer."""
    from dockd.ui.report import render_text

    report, note = app.reports.deadlines(args.since, True if args.all_stations else None)
    if note is not None:
        print(app.locale.say(note), file=sys.stderr)
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(render_text(report, app.policy.name, app.locale))
    if not args.email:
        return EXIT_OK if report.empty else EXIT_PROBLEM
    mailed = app.reports.mail(report, args.by)
    # with --json, stdout is the report alone; what happened to the mail goes to stderr
    out = sys.stderr if args.json else sys.stdout
    for line in mailed.problems:
        print(app.locale.say(line), file=sys.stderr)
    for line in mailed.notes:
        print(app.locale.say(line), file=out)
    return EXIT_OK if mailed.delivered else EXIT_PROBLEM


def register(sub: Subparsers) -> None:
    report = sub.add_parser("report", help="reports for supervisors")
    kinds = report.add_subparsers(dest="report_command", required=True, metavar="KIND")
    p = kinds.add_parser("deadlines", help="what went wrong in the period")
    p.add_argument(
        "--since",
        type=report_period,
        default=timedelta(hours=24),
        help="a period like 24h or 7d, or 'last': from where the last e-mailed report ended",
    )
    p.add_argument(
        "--all-stations",
        action="store_true",
        help="every station on the ledger (default: [mail] scope, which defaults to this one)",
    )
    add_by(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--email", action="store_true", help="send it over SMTP ([mail])")
    p.set_defaults(handler=deadlines)
