"""The admin's policy commands: devices, duty returns, holds, retention, attestation, report.

Each one names who did it (`--by`, default the login name) because each is a
custody event: the ledger must say who changed what evidence was kept, and why.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any, TextIO

from dockd.adapters.clock import utc_now
from dockd.adapters.ledger.policy import Custodian, PolicyLedger
from dockd.adapters.mail import MailError, MailRecipientsRefused, Outbox, send
from dockd.app import App
from dockd.core.views import DeadlineReport
from dockd.errors import EXIT_OK, EXIT_PROBLEM, ConfigError
from dockd.ui.report import build_message, recipients_for, render_text

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


LAST_REPORT = "last"


def report_period(text: str) -> timedelta | str:
    """`--since`: a duration, or 'last' (from where the last e-mailed report ended)."""
    return LAST_REPORT if text.strip() == LAST_REPORT else duration(text)


def duration(text: str) -> timedelta:
    """'24h', '90m', '7d' -> timedelta; anything else is a usage error."""
    found = _DURATION.fullmatch(text.strip())
    if not found:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 24h, 90m or 7d")
    return timedelta(seconds=float(found[1]) * _UNITS[found[2]])


def instant(text: str) -> datetime:
    """An RFC 3339 time with an offset: a time without one is ambiguous evidence."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an RFC 3339 time") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (e.g. +08:00)")
    return value


def _duty(app: App) -> PolicyLedger:
    return app.registry


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def cmd_devices_add(app: App, args: argparse.Namespace) -> int:
    _duty(app).add_device(args.serial, args.model, utc_now(), args.by)
    print(f"registered recorder {args.serial} ({args.model})")
    return EXIT_OK


def cmd_devices_assign(app: App, args: argparse.Namespace) -> int:
    who = Custodian(args.badge, args.name, args.unit)
    _duty(app).assign(args.serial, who, utc_now(), args.by)
    print(f"recorder {args.serial} is now in the custody of {who.name} ({who.badge}), {who.unit}")
    return EXIT_OK


def cmd_devices_list(app: App, args: argparse.Namespace) -> int:
    devices = _duty(app).devices()
    if args.json:
        _print_json(
            [
                {
                    "serial": d.serial,
                    "model": d.model,
                    "custodian": asdict(d.custodian) if d.custodian else None,
                    "history": [
                        {
                            **asdict(c),
                            "since": s.isoformat(),
                            "until": u.isoformat() if u else None,
                        }
                        for c, s, u in d.history
                    ],
                }
                for d in devices
            ]
        )
        return EXIT_OK
    for d in devices:
        who = (
            f"{d.custodian.name} ({d.custodian.badge}), {d.custodian.unit}"
            if d.custodian
            else "unassigned"
        )
        print(f"{d.serial:<20} {d.model:<20} {who}")
    return EXIT_OK


def cmd_excuse(app: App, args: argparse.Namespace) -> int:
    changed = _duty(app).add_duty_return(
        args.badge,
        args.returned_at,
        args.reason,
        utc_now(),
        args.by,
        app.policy.offload.deadline_hours,
    )
    print(
        f"recorded: {args.badge} returned from remote duty at {args.returned_at.isoformat()}; "
        f"{changed} earlier recording(s) changed verdict"
    )
    return EXIT_OK


def cmd_holds_add(app: App, args: argparse.Namespace) -> int:
    if args.case is not None:
        if not args.case.strip():
            raise ConfigError("the case number is empty", hint="Give the case file's number.")
        kind, reference = "case", args.case.strip()
    else:
        reasons = app.policy.retention.long_term_reasons
        if args.reason not in reasons:
            raise ConfigError(
                f"{args.reason!r} is not a long-term reason of pack {app.policy.id}",
                hint="Use one of: " + (", ".join(reasons) or "(this pack names none: use --case)"),
            )
        kind, reference = "long-term", args.reason
    hold = _duty(app).add_hold(args.recording, kind, reference, utc_now(), args.by)
    print(f"hold {hold} placed on recording {args.recording}: {kind} {reference}")
    return EXIT_OK


def cmd_holds_list(app: App, args: argparse.Namespace) -> int:
    for h in _duty(app).holds(active_only=not args.all):
        state = f"released {h.released_at.isoformat()}" if h.released_at else "active"
        print(
            f"{h.id:>6} recording {h.recording:<8} {h.kind}:{h.reference}  "
            f"placed {h.placed_at.isoformat()} by {h.placed_by}  {state}"
        )
    return EXIT_OK


def cmd_holds_release(app: App, args: argparse.Namespace) -> int:
    _duty(app).release_hold(args.hold, args.reason, utc_now(), args.by)
    print(f"hold {args.hold} released")
    return EXIT_OK


def cmd_retention_expire(app: App, args: argparse.Namespace) -> int:
    """Only objects past retain-until, under no hold, not shared with a recording that
    stays; each removal is a custody event. --dry-run lists them."""
    items = _duty(app).expirable(utc_now())
    for item in items:
        if args.dry_run:
            print(f"would expire {item.key} (retain until {item.retain_until.isoformat()})")
            continue
        app.store.expire(item.key)
        _duty(app).mark_expired(item, utc_now(), args.by)
        print(f"expired {item.key} (retain until {item.retain_until.isoformat()})")
    print(f"{len(items)} object(s) {'expirable' if args.dry_run else 'expired'}")
    return EXIT_OK


def cmd_attest(app: App, args: argparse.Namespace) -> int:
    needed = 2 if app.policy.offload.two_person_seal else 1
    operators = _duty(app).attest(args.session, args.operator, utc_now(), needed)
    if len(operators) >= needed:
        print(f"session {args.session} sealed by {', '.join(operators)}")
    else:
        print(
            f"session {args.session} attested by {', '.join(operators)}; "
            f"{needed - len(operators)} more operator(s) needed to seal it "
            f"({app.policy.id}: two-person offload)"
        )
    return EXIT_OK


def cmd_report_deadlines(app: App, args: argparse.Namespace) -> int:
    """Without --email: exit 1 when anything is reported. With --email: exit 1 only when
    the report could not be delivered (it is then kept in the outbox and re-sent first
    next time), so the timer's unit fails for a mail problem, not for a late officer."""
    now = utc_now()
    since = _report_start(_duty(app), args.since, now)
    report = _duty(app).deadline_report(since, now, app.policy, now)
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(render_text(report, app.policy.name))
    if not args.email:
        return EXIT_OK if report.empty else EXIT_PROBLEM
    # with --json, stdout is the report alone; what happened to the mail goes to stderr
    return _mail_report(app, report, args.by, sys.stderr if args.json else sys.stdout)


def _report_start(duty: PolicyLedger, since: timedelta | str, now: datetime) -> datetime:
    if isinstance(since, timedelta):
        return now - since
    last = duty.last_report_until()
    if last is None:
        print("no report was e-mailed before: this one covers the last 24 h", file=sys.stderr)
        return now - timedelta(hours=24)
    return min(last, now)


def _mail_report(app: App, report: DeadlineReport, by: str, out: TextIO) -> int:
    settings = app.config.mail.settings()
    outbox = Outbox(settings.outbox)
    for kept in outbox.pending():
        try:
            send(outbox.load(kept), settings)
        except MailRecipientsRefused as exc:
            print(f"kept report {kept.name} partly delivered: {exc.message}", file=sys.stderr)
        except MailError as exc:
            print(f"kept report {kept.name} still not sent: {exc.message}", file=sys.stderr)
            break
        outbox.sent(kept)
        print(f"sent kept report {kept.name}", file=out)
    if report.empty and not settings.send_when_empty:
        _duty(app).report_issued(report, "nothing to send", "", utc_now(), by)
        print("nothing to report; no e-mail sent ([mail] send_when_empty = false)", file=out)
        return EXIT_OK
    message = build_message(
        report,
        app.policy.name,
        settings.sender,
        recipients_for(report, settings.recipients, settings.recipients_by_unit),
    )
    try:
        send(message, settings)
    except MailRecipientsRefused as exc:
        _duty(app).report_issued(report, "partly delivered", message["To"], utc_now(), by)
        print(f"report sent, but {exc.message}", file=sys.stderr)
        return EXIT_PROBLEM
    except MailError as exc:
        kept = outbox.keep(message)
        _duty(app).report_issued(report, f"kept in {kept}", message["To"], utc_now(), by)
        print(
            f"dockd: {exc.code}: {exc.message}\n  hint: {exc.hint}\n  the report is kept "
            f"in {kept} and is sent first next time",
            file=sys.stderr,
        )
        return EXIT_PROBLEM
    _duty(app).report_issued(report, "sent", message["To"], utc_now(), by)
    print(f"report e-mailed to {message['To']}", file=out)
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the policy commands to the `dockd` parser."""
    by = {"default": getpass.getuser(), "help": "who does this (recorded in the custody log)"}

    devices = sub.add_parser("devices", help="recorders as fixed assets and their custodians")
    dsub = devices.add_subparsers(dest="devices_command", required=True, metavar="ACTION")
    add = dsub.add_parser("add", help="register a recorder")
    add.add_argument("serial")
    add.add_argument("--model", required=True)
    add.add_argument("--by", **by)
    add.set_defaults(handler=cmd_devices_add)
    assign = dsub.add_parser("assign", help="hand a recorder to an officer")
    assign.add_argument("serial")
    assign.add_argument("--badge", required=True)
    assign.add_argument("--name", required=True)
    assign.add_argument("--unit", required=True)
    assign.add_argument("--by", **by)
    assign.set_defaults(handler=cmd_devices_assign)
    listing = dsub.add_parser("list", help="recorders, custodians and their history")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_devices_list)

    excuse = sub.add_parser("excuse", help="an officer returned from remote duty at T")
    excuse.add_argument("--badge", required=True)
    excuse.add_argument("--returned-at", type=instant, required=True, help="RFC 3339")
    excuse.add_argument("--reason", required=True)
    excuse.add_argument("--by", **by)
    excuse.set_defaults(handler=cmd_excuse)

    holds = sub.add_parser("holds", help="keep recordings whatever their retention date")
    hsub = holds.add_subparsers(dest="holds_command", required=True, metavar="ACTION")
    hadd = hsub.add_parser("add", help="place a hold on a recording")
    hadd.add_argument("recording", type=int)
    why = hadd.add_mutually_exclusive_group(required=True)
    why.add_argument("--case", help="case number: kept with the case file")
    why.add_argument("--reason", help="a long-term reason of the policy pack")
    hadd.add_argument("--by", **by)
    hadd.set_defaults(handler=cmd_holds_add)
    hlist = hsub.add_parser("list", help="active holds")
    hlist.add_argument("--all", action="store_true", help="released ones too")
    hlist.set_defaults(handler=cmd_holds_list)
    hrel = hsub.add_parser("release", help="release a hold")
    hrel.add_argument("hold", type=int)
    hrel.add_argument("--reason", required=True)
    hrel.add_argument("--by", **by)
    hrel.set_defaults(handler=cmd_holds_release)

    retention = sub.add_parser("retention", help="retention expiry")
    rsub = retention.add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    expire = rsub.add_parser("expire", help="remove objects past retention and under no hold")
    expire.add_argument("--dry-run", action="store_true")
    expire.add_argument("--by", **by)
    expire.set_defaults(handler=cmd_retention_expire)

    attest = sub.add_parser("attest", help="an operator attests a dock session")
    attest.add_argument("session")
    attest.add_argument("--operator", required=True, help="the operator's badge")
    attest.set_defaults(handler=cmd_attest)

    report = sub.add_parser("report", help="reports for supervisors")
    rep = report.add_subparsers(dest="report_command", required=True, metavar="KIND")
    deadlines = rep.add_parser("deadlines", help="what went wrong in the period")
    deadlines.add_argument(
        "--since",
        type=report_period,
        default=timedelta(hours=24),
        help="a period like 24h or 7d, or 'last': from where the last e-mailed report ended",
    )
    deadlines.add_argument("--by", **by)
    deadlines.add_argument("--json", action="store_true")
    deadlines.add_argument("--email", action="store_true", help="send it over SMTP ([mail])")
    deadlines.set_defaults(handler=cmd_report_deadlines)
