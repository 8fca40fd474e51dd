"""`dockd devices`: recorders as fixed assets and the officers who hold them."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, add_by, instant, print_json
from dockd.errors import EXIT_OK
from dockd.ui.i18n import N_

if TYPE_CHECKING:
    from dockd.app import App


def add(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    app.registry.add_device(args.serial, args.model, args.by)
    print(tr("registered recorder {serial} ({model})", serial=args.serial, model=args.model))
    return EXIT_OK


def assign(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    from dockd.core.registry import Custodian

    who = Custodian(args.badge, args.name, args.unit)
    app.registry.assign(args.serial, who, args.by, args.at)
    print(
        tr(
            "recorder {serial} is now in the custody of {name} ({badge}), {unit}",
            serial=args.serial,
            name=who.name,
            badge=who.badge,
            unit=who.unit,
        )
    )
    return EXIT_OK


# what each change says, a whole sentence per kind so that it translates
CHANGED = {
    "reclaimed": N_("recorder {serial} reclaimed: {reason}"),
    "retired": N_("recorder {serial} retired: {reason}"),
}


def change(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    app.supervision.change_device(args.serial, args.kind, args.reason, args.by)
    said = CHANGED[args.kind]
    print(tr(said, serial=args.serial, reason=args.reason))
    return EXIT_OK


def listing(app: App, args: argparse.Namespace) -> int:
    devices = app.registry.devices()
    if args.json:
        from dockd.core.views import CustodianStretch, CustodianView, DeviceView

        shown = [
            DeviceView(
                serial=d.serial,
                model=d.model,
                custodian=CustodianView(**asdict(d.custodian)) if d.custodian else None,
                history=[CustodianStretch(**asdict(c), since=s, until=u) for c, s, u in d.history],
                retired_at=d.retired_at,
            )
            for d in devices
        ]
        print_json(shown)
        return EXIT_OK
    tr = app.locale
    for d in devices:
        c = d.custodian
        if d.retired_at is not None:
            who = tr("retired")
        else:
            who = f"{c.name} ({c.badge}), {c.unit}" if c else tr("unassigned")
        print(tr("{serial:<20} {model:<20} {who}", serial=d.serial, model=d.model, who=who))
    return EXIT_OK


def register(sub: Subparsers) -> None:
    devices = sub.add_parser("devices", help="recorders as fixed assets and their custodians")
    actions = devices.add_subparsers(dest="devices_command", required=True, metavar="ACTION")
    p = actions.add_parser("add", help="register a recorder")
    p.add_argument("serial")
    p.add_argument("--model", required=True)
    add_by(p)
    p.set_defaults(handler=add)
    p = actions.add_parser("assign", help="hand a recorder to an officer")
    p.add_argument("serial")
    p.add_argument("--badge", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--at", type=instant, help="when it was handed over (RFC 3339; default now)")
    add_by(p)
    p.set_defaults(handler=assign)
    for action, kind, doing in (
        ("reclaim", "reclaimed", "back to the pool"),
        ("retire", "retired", "out of service"),
    ):
        p = actions.add_parser(action, help=f"take a recorder {doing}, with the reason")
        p.add_argument("serial")
        p.add_argument("--reason", required=True)
        add_by(p)
        p.set_defaults(handler=change, kind=kind)
    p = actions.add_parser("list", help="recorders, custodians and their history")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=listing)
