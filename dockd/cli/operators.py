"""`dockd operators`: the people who approve, view, export and seal.

Passphrases come from stdin only, one line per operator in the order the badges are
given: an argument would end up in the shell history and in `ps`.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, add_by, print_json
from dockd.errors import EXIT_OK, PassphraseMissingError

if TYPE_CHECKING:
    from dockd.app import App


def read_passphrases(badges: list[str]) -> list[str]:
    """One line of stdin per badge; a missing or empty line is refused for that badge."""
    out = []
    for badge in badges:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise PassphraseMissingError("no passphrase for operator {badge} on stdin", badge=badge)
        out.append(line)
    return out


def add_passphrase_stdin(parser: argparse.ArgumentParser, what: str = "passphrase") -> None:
    parser.add_argument(
        "--passphrase-stdin",
        action="store_true",
        required=True,
        help=f"read the {what} from stdin, one line per operator in the order given",
    )


def add(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    (passphrase,) = read_passphrases([args.badge])
    unnamed = app.operators.add(args.badge, args.name, args.unit, args.role, passphrase, args.by)
    print(
        tr(
            "operator {badge} registered: {name}, roles {roles}",
            badge=args.badge,
            name=args.name,
            roles=", ".join(args.role),
        )
    )
    if unnamed:
        sys.stderr.write(
            tr(
                "dockd: note: pack {pack} names no role {unnamed}; its roles are: {roles}",
                pack=app.policy.id,
                unnamed=", ".join(map(repr, unnamed)),
                roles=", ".join(app.policy.viewing.roles()),
            )
            + "\n"
        )
    return EXIT_OK


def listing(app: App, args: argparse.Namespace) -> int:
    found = app.operators.list()
    if args.json:
        from dockd.core.viewing import OperatorEntry

        print_json([OperatorEntry.of(o) for o in found])
        return EXIT_OK
    tr = app.locale
    for o in found:
        state = "  " + tr("(disabled)") if o.disabled else ""
        print(
            tr(
                "{badge:<12} {name:<20} {unit:<16} {roles}{state}",
                badge=o.badge,
                name=o.name,
                unit=o.unit or "-",
                roles=", ".join(o.roles),
                state=state,
            )
        )
    return EXIT_OK


def disable(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    app.operators.disable(args.badge, args.by)
    print(tr("operator {badge} disabled", badge=args.badge))
    return EXIT_OK


def register(sub: Subparsers) -> None:
    group = sub.add_parser("operators", help="people who approve, view, export and seal")
    actions = group.add_subparsers(dest="operators_command", required=True, metavar="ACTION")
    p = actions.add_parser("add", help="register an operator")
    p.add_argument("badge")
    p.add_argument("--name", required=True)
    p.add_argument("--unit", help="the operator's unit (own unit vs another, 002:17)")
    p.add_argument(
        "--role", action="append", required=True, help="a role the pack names (repeatable)"
    )
    add_passphrase_stdin(p)
    add_by(p)
    p.set_defaults(handler=add)
    p = actions.add_parser("list", help="registered operators")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=listing)
    p = actions.add_parser("disable", help="an operator who may no longer act")
    p.add_argument("badge")
    add_by(p)
    p.set_defaults(handler=disable)
