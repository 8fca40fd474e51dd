"""`dockd exemptions`: work records when recording was impossible (000:12, 001:7, 002:12,
003/A:5, 004:11): state secrets, emergencies, no night vision, explosion risk, an
informant's request."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, add_by, instant
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def add(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    from dockd.core.supervision import WorkRecord

    record = WorkRecord(args.badge, args.start, args.end, args.reason, args.basis, args.reported_to)
    record_id = app.supervision.add_work_record(record, args.by)
    print(
        tr(
            "work record {record_id}: {badge} could not record ({reason}, {basis})",
            record_id=record_id,
            badge=args.badge,
            reason=args.reason,
            basis=args.basis,
        )
    )
    return EXIT_OK


def register(sub: Subparsers) -> None:
    group = sub.add_parser("exemptions", help="work records when recording was impossible")
    actions = group.add_subparsers(dest="exemptions_command", required=True, metavar="ACTION")
    p = actions.add_parser("add", help="record a stretch when recording was impossible")
    p.add_argument("--badge", required=True)
    p.add_argument("--from", dest="start", type=instant, required=True, help="RFC 3339")
    p.add_argument("--to", dest="end", type=instant, required=True, help="RFC 3339")
    p.add_argument("--reason", required=True)
    p.add_argument("--basis", required=True, help="the article, e.g. 000:12")
    p.add_argument("--reported-to", required=True, help="badge of the supervisor told")
    add_by(p)
    p.set_defaults(handler=add)
