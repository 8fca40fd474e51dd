"""`dockd activities`: the agency's case or dispatch list (id, type, badges, unit, start,
end, place), matched to its officers' footage (000:11, 001:6, 002:9, 004:10)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, add_by, duration
from dockd.errors import EXIT_OK, ActivityListError

if TYPE_CHECKING:
    from dockd.app import App
    from dockd.core.activities import Matching
    from dockd.ui.i18n import Locale


def import_(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    path: Path = args.file
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ActivityListError(
            "cannot read {path}: {exc}",
            hint="Give a UTF-8 CSV file that dockd can read.",
            path=path,
            exc=exc,
        ) from None
    done = app.activities.import_list(text, str(path), args.by)
    print(
        tr(
            "{n_added} activities imported, {n_unchanged} already there (same facts: skipped)",
            n_added=len(done.added),
            n_unchanged=len(done.unchanged),
        )
    )
    _matched(done, tr)
    return EXIT_OK


def match(app: App, args: argparse.Namespace) -> int:
    _matched(app.activities.rematch(args.since, args.by), app.locale)
    return EXIT_OK


def _matched(done: Matching, tr: Locale) -> None:
    print(tr("{linked} recordings matched to activities", linked=done.linked))
    for r in done.reclassified:
        print(
            tr(
                "recording {recording}: retention class {retention_class}, kept until {until}",
                recording=r.recording,
                retention_class=r.retention_class,
                until=r.retain_until.isoformat(),
            )
        )


def register(sub: Subparsers) -> None:
    group = sub.add_parser("activities", help="activities that must be recorded")
    actions = group.add_subparsers(dest="activities_command", required=True, metavar="ACTION")
    p = actions.add_parser(
        "import",
        help="import a case or dispatch list (CSV: id,type,badges,unit,start,end,place)",
        description="Badges are separated by ';'. Times are RFC 3339 with an offset. "
        "All or nothing: a bad line refuses the whole list. The same list again is a "
        "no-op; an id already imported with other facts is refused.",
    )
    p.add_argument("file", type=Path, metavar="FILE.csv")
    add_by(p)
    p.set_defaults(handler=import_)
    p = actions.add_parser("match", help="match the period's activities to footage docked since")
    p.add_argument("--since", type=duration, default=duration("30d"), help="e.g. 7d (default 30d)")
    add_by(p)
    p.set_defaults(handler=match)
