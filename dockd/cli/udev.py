"""`dockd udev-rules`: udev/99-dockd.rules, written from the recorder profiles."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def udev_rules(app: App, args: argparse.Namespace) -> int:
    from dockd.core.udev_rules import render_rules

    sys.stdout.write(render_rules(app.profiles))
    return EXIT_OK


def register(sub: Subparsers) -> None:
    p = sub.add_parser("udev-rules", help="print udev/99-dockd.rules for the profiles")
    p.set_defaults(handler=udev_rules)
