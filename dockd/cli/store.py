"""`dockd verify` and `dockd audit verify`: proving the store and the custody chain."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, print_json, say
from dockd.errors import EXIT_OK, EXIT_PROBLEM

if TYPE_CHECKING:
    from dockd.app import App


def verify(app: App, args: argparse.Namespace) -> int:
    if args.scheduled:
        return scheduled_scrub(app, args)
    if args.central:
        return verify_central(app, args)
    from dockd.services.integrity import verify_store

    report = verify_store(app.ledger, app.store, app.clock)
    if args.json:
        print_json(report)
    else:
        tr = app.locale
        said = tr(
            "verified {checked} objects: {ok} match the ledger",
            checked=report.checked,
            ok=report.ok,
        )
        print(said)
        for finding in report.findings:
            print(
                tr(
                    "  {problem_name}: {object}",
                    problem_name=finding.problem,
                    object=finding.object,
                )
            )
        if report.legacy_unowned:
            print(
                tr(
                    "{count} object copies from before stations had names ('local') are no "
                    "station's own on this shared ledger, and none verifies them: run `dockd "
                    "station adopt-legacy` on the station that wrote them",
                    count=report.legacy_unowned,
                )
            )
    return EXIT_PROBLEM if report.findings else EXIT_OK


def verify_central(app: App, args: argparse.Namespace) -> int:
    """The central copies this station confirmed: every one HEADed, a sample read back."""
    from dockd.services.central_verify import CentralVerifier

    verifier = CentralVerifier(app.central_store, app.central_records, app.clock, app.ledger)
    report = verifier.verify(args.sample)
    if args.json:
        print_json(report)
    else:
        tr = app.locale
        print(
            tr(
                "checked {checked} central copies, read back {read_back}: {n_findings} finding(s)",
                checked=report.checked,
                read_back=report.read_back,
                n_findings=len(report.findings),
            )
        )
        for finding in report.findings:
            print(
                tr(
                    "  {problem_name}: {finding_key}: {detail}",
                    problem_name=finding.problem,
                    finding_key=finding.key,
                    detail=finding.detail,
                )
            )
    return EXIT_PROBLEM if report.findings else EXIT_OK


def _percent(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(say("{text} is not a percentage (0 to 100)", text=text))
    return value


def scheduled_scrub(app: App, args: argparse.Namespace) -> int:
    """What dockd-verify.timer runs weekly: the store, then the central copies (`verify
    --central`) where [central] is configured; the worse exit code of the two, so one
    failed half fails the unit."""
    tr = app.locale
    steps = [{"central": False}]
    if app.config.central is None:
        print(tr("scheduled scrub: the store ([central] is not configured)"))
    else:
        print(tr("scheduled scrub: the store, then the central copies"))
        steps.append({"central": True})
    return max(
        verify(app, argparse.Namespace(**{**vars(args), "scheduled": False, **step}))
        for step in steps
    )


def _head(text: str) -> tuple[int, str]:
    from dockd.core.signing import parse_head

    try:
        return parse_head(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def audit_verify(app: App, args: argparse.Namespace) -> int:
    """The chains first, then every evidence row against them, then every manifest, then
    the signed checkpoints and a head copied outside the ledger."""
    from dockd.services.integrity import audit_ledger
    from dockd.ui.format import row_difference

    report = audit_ledger(
        app.ledger_audit, app.store, app.signer, args.head, all_stations=args.all_stations
    )
    if args.json:
        print_json(report)
        return EXIT_OK if report.ok else EXIT_PROBLEM
    tr = app.locale
    if report.broken is not None:
        print(
            tr(
                "custody chain BROKEN at event {seq}: {reason}",
                seq=report.broken.seq,
                reason=report.broken.reason,
            )
        )
    for line in report.anchors:
        print(tr("anchor: {line}", line=line))
    for chain in report.chains:
        if chain.station == report.station:
            continue
        counts = (
            "" if report.answerable(chain.station) else " " + tr("(theirs: see --all-stations)")
        )
        if chain.broken is not None:
            print(
                tr(
                    "station {station}: custody chain BROKEN at event {seq}: {reason}{counts}",
                    station=chain.station,
                    seq=chain.broken.seq,
                    reason=chain.broken.reason,
                    counts=counts,
                )
            )
        for line in chain.findings:
            print(
                tr(
                    "station {station}: {line}{counts}",
                    station=chain.station,
                    line=line,
                    counts=counts,
                )
            )
    ours = [d for d in report.differences if report.answerable(d.station)]
    for found in report.differences:
        theirs = (
            "" if report.answerable(found.station) else " " + tr("(theirs: see --all-stations)")
        )
        print(tr("{found}{theirs}", found=row_difference(found), theirs=theirs))
    if report.manifests_not_here:
        print(
            tr(
                "{manifests_not_here} manifest(s) not in this store: see `dockd verify`",
                manifests_not_here=report.manifests_not_here,
            )
        )
    if report.ok:
        scope = (
            tr(
                "custody chains intact: {stations} stations, {events} events",
                stations=len(report.chains),
                events=sum(c.events for c in report.chains),
            )
            if report.scope == "agency"
            else tr(
                "custody chain intact: station {station}, {events} events",
                station=report.station,
                events=report.events,
            )
        )
        if report.differences or not all(c.ok for c in report.chains):
            print(
                tr(
                    "{scope}; the {rows_checked} evidence rows and {manifests_checked} "
                    "manifests match them but for the other stations' findings above: theirs to "
                    "answer (`dockd audit verify --all-stations`)",
                    scope=scope,
                    rows_checked=report.rows_checked,
                    manifests_checked=report.manifests_checked,
                )
            )
        else:
            print(
                tr(
                    "{scope}; all {rows_checked} evidence rows and {manifests_checked} "
                    "manifests match them",
                    scope=scope,
                    rows_checked=report.rows_checked,
                    manifests_checked=report.manifests_checked,
                )
            )
        if args.head is not None:
            print(
                tr(
                    "the ledger still holds head {head}:{head2}",
                    head=args.head[0],
                    head2=args.head[1],
                )
            )
        return EXIT_OK
    if ours:
        print(
            tr("{n_ours} difference(s) between the ledger and its custody chains", n_ours=len(ours))
        )
    return EXIT_PROBLEM


def register(sub: Subparsers) -> None:
    p = sub.add_parser("verify", help="re-hash the store against the ledger")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--json", action="store_true")
    how.add_argument(
        "--scheduled",
        action="store_true",
        help="the weekly scrub (dockd-verify.timer): the store, plus --central when [central] "
        "is configured",
    )
    p.add_argument(
        "--central",
        action="store_true",
        help="check the central copies instead: HEAD every confirmed one, read back a sample",
    )
    p.add_argument(
        "--sample",
        type=_percent,
        default=2.0,
        metavar="PERCENT",
        help="with --central: the share read back in full (default 2, at least one object)",
    )
    p.set_defaults(handler=verify)

    audit = sub.add_parser("audit", help="custody chain")
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    p = actions.add_parser(
        "verify", help="prove the custody chain, then every evidence row and manifest against it"
    )
    p.add_argument(
        "--head",
        type=_head,
        metavar="SEQ:HASH",
        help="a chain head copied outside the ledger (journal, nightly report): exit 1 if "
        "the ledger no longer holds it",
    )
    p.add_argument(
        "--all-stations",
        action="store_true",
        help="prove every station's chain on the ledger, each against its registered key, "
        "and fail on any station's finding (default: this station's)",
    )
    p.add_argument("--json", action="store_true", help="the report (schemas/audit.schema.json)")
    p.set_defaults(handler=audit_verify)
