"""`dockd export`: evidence packages for a case file (create, verify, list)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, print_json
from dockd.errors import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE

if TYPE_CHECKING:
    from dockd.app import App


def _passphrases(badges: list[str]) -> list[str] | None:
    """One line per operator, in --operator order; never from the command line."""
    lines = [sys.stdin.readline().rstrip("\r\n") for _ in badges]
    return lines if all(lines) else None


def create(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    from dockd.services.export import ExportRequest

    passphrases = _passphrases(args.operator)
    if passphrases is None:
        sys.stderr.write(
            tr(
                "dockd: {n} operators need {n} passphrases on stdin, one line each, in "
                "--operator order",
                n=len(args.operator),
            )
            + "\n"
        )
        return EXIT_USAGE
    made = app.exports.create(
        ExportRequest(
            recordings=tuple(args.recording or ()),
            session=args.session,
            case=args.case,
            purpose=args.purpose,
            maker=args.maker,
            operators=tuple(zip(args.operator, passphrases, strict=True)),
            out=args.out.absolute(),
            iso=args.iso,
        )
    )
    if args.json:
        print_json(made)
    else:
        iso = f" and {made.path}.iso" if args.iso else ""
        print(
            tr(
                "export {export}: {n_recordings} recordings, {bytes} bytes, in {path}{iso}",
                export=made.id,
                n_recordings=len(made.recordings),
                bytes=made.bytes,
                path=made.path,
                iso=iso,
            )
        )
    return EXIT_OK


def verify(app: App, args: argparse.Namespace) -> int:
    tr = app.locale
    check = app.package_checks.verify(args.path)
    if check.intact:
        print(
            tr(
                "intact: {check_path}: export {export_id}, {files} files, signed by the station "
                "key with SHA-256 fingerprint {key_fingerprint}",
                check_path=check.path,
                export_id=check.export_id,
                files=check.files,
                key_fingerprint=check.key_fingerprint,
            )
        )
        return EXIT_OK
    print(
        tr(
            "ALTERED: {check_path} (export {export_id}):",
            check_path=check.path,
            export_id=check.export_id,
        )
    )
    for finding in check.findings:
        print(tr("  {finding}", finding=finding))
    return EXIT_PROBLEM


def listing(app: App, args: argparse.Namespace) -> int:
    from dockd.ui.format import local_moment

    exports = app.exports.exports()
    if args.json:
        print_json(exports)
        return EXIT_OK
    tr = app.locale
    for e in exports:
        print(
            tr(
                "{export}  {state:<9} {started_at}  case {case}  by {operators}  recordings "
                "{recordings}  {path}",
                export=e.id,
                state=e.state,
                started_at=local_moment(e.started_at, tr.zone),
                case=e.case,
                operators=", ".join(e.operators),
                recordings=", ".join(map(str, e.recordings)),
                path=e.path,
            )
        )
    return EXIT_OK


def register(sub: Subparsers) -> None:
    export = sub.add_parser("export", help="evidence packages for a case file")
    actions = export.add_subparsers(dest="export_command", required=True, metavar="ACTION")
    p = actions.add_parser("create", help="write one package (BagIt, optionally an ISO)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--recording", type=int, action="append", metavar="ID")
    what.add_argument("--session", metavar="SID", help="every recording of a dock session")
    p.add_argument("--case", required=True, help="case number 案件")
    p.add_argument("--purpose", required=True, help="what the footage proves 证明对象")
    p.add_argument("--maker", required=True, help="who made the description 制作人")
    p.add_argument(
        "--operator", action="append", required=True, metavar="BADGE",
        help="an operator exporting (提取人); repeat for each",
    )  # fmt: skip
    p.add_argument(
        "--passphrases-stdin", action="store_true", required=True,
        help="read one passphrase per operator from stdin, in --operator order",
    )  # fmt: skip
    p.add_argument("--out", type=Path, required=True, help="the package folder (must not exist)")
    p.add_argument("--iso", action="store_true", help="also write OUT.iso for the disc")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=create)
    p = actions.add_parser("verify", help="check a package or its ISO by itself")
    p.add_argument("path", type=Path)
    p.set_defaults(handler=verify)
    p = actions.add_parser("list", help="every export, with operators, case and recordings")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=listing)
