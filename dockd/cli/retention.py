"""`dockd retention expire`: remove objects past retention and under no hold."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, add_by
from dockd.errors import EXIT_OK, EXIT_PROBLEM

if TYPE_CHECKING:
    from dockd.app import App
    from dockd.core.audit import RowDifference
    from dockd.services.retention import Expiry
    from dockd.ui.i18n import Locale


def _line(expiry: Expiry, tr: Locale) -> str:
    from dockd.ui.format import local_moment

    item = expiry.item
    until = local_moment(item.retain_until, tr.zone)
    said = tr("{key} (retain until {until})", key=item.key, until=until)
    if expiry.finished:
        said += " " + tr("(finishing an expiry a previous run started)")
    return said


def expire(app: App, args: argparse.Namespace) -> int:
    """Each removal is two custody events around the deletion; --dry-run lists them."""
    tr = app.locale
    from dockd.ui.format import row_difference

    if args.dry_run:
        due, disputed = app.retention.plan(app.clock())
        for found in disputed:
            print(tr("kept, {found}", found=row_difference(found)))
        for expiry in due:
            print(tr("would expire {expiry}", expiry=_line(expiry, tr)))
        print(tr("{n_due} object(s) expirable", n_due=len(due)))
        return EXIT_PROBLEM if disputed else EXIT_OK
    kept: list[RowDifference] = []

    def dispute(found: RowDifference) -> None:
        kept.append(found)
        print(tr("kept, {found}", found=row_difference(found)), flush=True)

    done = app.retention.expire(
        args.by, lambda e: print(tr("expired {e}", e=_line(e, tr)), flush=True), dispute
    )
    print(tr("{n_done} object(s) expired", n_done=len(done)))
    if kept:
        print(
            tr(
                "objects whose ledger rows disagree with the custody chain were kept: "
                "run `dockd audit verify`"
            )
        )
    return EXIT_PROBLEM if kept else EXIT_OK


def register(sub: Subparsers) -> None:
    retention = sub.add_parser("retention", help="retention expiry")
    actions = retention.add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    p = actions.add_parser("expire", help="remove objects past retention and under no hold")
    p.add_argument("--dry-run", action="store_true")
    add_by(p)
    p.set_defaults(handler=expire)
