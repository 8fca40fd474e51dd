"""`dockd view`: request, approve or refuse, and open a viewing; the viewing register."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, print_json
from dockd.cli.operators import add_passphrase_stdin, read_passphrases
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App
    from dockd.core.viewing import RegisterEntry
    from dockd.ui.i18n import Locale


def request(app: App, args: argparse.Namespace) -> int:
    from dockd.core.viewing import Requested

    found = app.viewing.request(args.recording, args.viewer, args.reason)
    if args.json:
        print_json(Requested(id=found))
    else:
        tr = app.locale
        print(tr("viewing request {found}", found=found))
    return EXIT_OK


def approve(app: App, args: argparse.Namespace) -> int:
    from dockd.ui.format import local_moment

    tr = app.locale
    (passphrase,) = read_passphrases([args.approver])
    entry = app.viewing.approve(args.request, args.approver, passphrase)
    if entry.state == "approved":
        assert entry.open_until is not None
        print(
            tr(
                "viewing request {request} approved; open until {open_until}",
                request=entry.id,
                open_until=local_moment(entry.open_until, tr.zone),
            )
        )
    else:
        filled = {a.role for a in entry.approvals}
        still = [r for r in entry.required_roles if r not in filled]
        print(
            tr(
                "viewing request {request}: approval recorded; still needs {still}",
                request=entry.id,
                still=", ".join(still),
            )
        )
    return EXIT_OK


def refuse(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    (passphrase,) = read_passphrases([args.approver])
    app.viewing.refuse(args.request, args.approver, passphrase, args.reason)
    print(tr("viewing request {request} refused", request=args.request))
    return EXIT_OK


def open_(app: App, args: argparse.Namespace) -> int:
    from dockd.ui.format import local_moment

    tr = app.locale
    (passphrase,) = read_passphrases([args.viewer])
    viewing = app.viewing.open(args.request, args.viewer, passphrase, args.out)
    print(
        tr(
            "{files} file(s), {bytes} bytes, checked and read-only in {out}; the approval ends "
            "{until}",
            files=viewing.files,
            bytes=viewing.bytes,
            out=viewing.out,
            until=local_moment(viewing.until, tr.zone),
        )
    )
    return EXIT_OK


def register_(app: App, args: argparse.Namespace) -> int:
    entries = app.viewing.register()
    if args.json:
        print_json(entries)
        return EXIT_OK
    tr = app.locale
    for e in entries:
        print(_line(e, tr))
    return EXIT_OK


def _line(e: RegisterEntry, tr: Locale) -> str:
    """One request of the register; its state stays the register's own word (a value)."""
    from dockd.ui.format import local_moment

    approvals = "; ".join(
        f"{a.role}: {a.approver.badge} {local_moment(a.at, tr.zone)}" for a in e.approvals
    )
    viewed = "; ".join(f"{v.viewer.badge} {local_moment(v.opened_at, tr.zone)}" for v in e.viewings)
    parts = [
        f"{e.id:>5} {e.state:<9} {e.viewer.badge} ({e.viewer.name}, {e.viewer.unit or '-'})",
        tr("recordings {recordings}", recordings=",".join(map(str, e.recordings))),
        tr("why: {reason}", reason=e.reason),
        tr("asked {at}", at=local_moment(e.requested_at, tr.zone)),
        tr("approved by [{approvals}]", approvals=approvals or "-"),
    ]
    if e.refused_by is not None:
        parts.append(
            tr("refused by {badge}: {reason}", badge=e.refused_by.badge, reason=e.refusal_reason)
        )
    if viewed:
        parts.append(tr("viewed [{viewed}]", viewed=viewed))
    return "  ".join(parts)


def register(sub: Subparsers) -> None:
    view = sub.add_parser("view", help="viewing footage by approval, and its register")
    actions = view.add_subparsers(dest="view_command", required=True, metavar="ACTION")
    p = actions.add_parser("request", help="ask to view recordings")
    p.add_argument("recording", type=int, nargs="+")
    p.add_argument("--viewer", required=True, help="the badge of who will view")
    p.add_argument("--reason", required=True, help="why (recorded in the register)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=request)
    for name, handler, what in (
        ("approve", approve, "approve a viewing request"),
        ("refuse", refuse, "refuse a viewing request"),
    ):
        p = actions.add_parser(name, help=what)
        p.add_argument("request", type=int)
        p.add_argument("--approver", required=True, help="the approver's badge")
        if name == "refuse":
            p.add_argument("--reason", required=True)
        add_passphrase_stdin(p)
        p.set_defaults(handler=handler)
    p = actions.add_parser("open", help="a checked, read-only copy of approved footage")
    p.add_argument("request", type=int)
    p.add_argument("--viewer", required=True)
    p.add_argument("--out", type=Path, required=True, help="a new or empty folder")
    add_passphrase_stdin(p)
    p.set_defaults(handler=open_)
    p = actions.add_parser("register", help="every request: who, what, why, when, approved by")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=register_)
