"""`dockd archive`: the archive tree and its index table (003/E:17-18), and the labels
(密级 classification, subject, matter) recordings are filed by."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, add_by
from dockd.cli.operators import add_passphrase_stdin, read_passphrases
from dockd.errors import EXIT_OK, ConfigError

if TYPE_CHECKING:
    from dockd.app import App


def index(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(args.zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "{zone!r} is not a time zone", hint="e.g. Asia/Shanghai", zone=args.zone
        ) from None
    count = app.archive.index(args.out, not args.copy, zone, args.by)
    print(
        tr(
            "{count} recording(s) filed under {out}; index: 存储信息明细表.csv / .html",
            count=count,
            out=args.out,
        )
    )
    return EXIT_OK


def classify(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    (passphrase,) = read_passphrases([args.by])
    app.archive.classify(args.recording, args.level, args.subject, args.matter, args.by, passphrase)
    print(tr("recording {recording} relabelled", recording=args.recording))
    return EXIT_OK


def register(sub: Subparsers) -> None:
    group = sub.add_parser("archive", help="the archive tree and the labels it files by")
    actions = group.add_subparsers(dest="archive_command", required=True, metavar="ACTION")
    p = actions.add_parser("index", help="subject / time / matter tree with its index table")
    p.add_argument("--out", type=Path, required=True, help="a new or empty folder")
    p.add_argument("--copy", action="store_true", help="checked copies instead of links")
    p.add_argument("--zone", default="Asia/Shanghai", help="time zone of the 时间 column")
    add_by(p)
    p.set_defaults(handler=index)
    p = actions.add_parser("classify", help="change a recording's 密级, subject or matter")
    p.add_argument("recording", type=int)
    p.add_argument("--as", dest="level", help="公开, 内部, 秘密, 机密 or 绝密")
    p.add_argument("--subject", help="题名: the folder it is filed under")
    p.add_argument("--matter", help="事项: the folder below the date")
    p.add_argument("--by", required=True, help="the badge of the operator who decides")
    add_passphrase_stdin(p)
    p.set_defaults(handler=classify)
