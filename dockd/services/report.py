"""The deadline report for supervisors: its period, and its delivery by e-mail.

A report handed to the relay, partly delivered, or kept in the outbox is a custody
event either way: the ledger says supervisors were told (or when they will be), and
where the next report's period starts. A kept report is re-sent before a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dockd.core.backlog import backlog, late_to_central
from dockd.core.policy import PolicyPack
from dockd.core.trends import ReportTrends, trend_days, unit_trends, window
from dockd.core.views import ChainHead, DeadlineReport
from dockd.errors import MailError, MailRecipientsRefused
from dockd.ports import (
    ActivityRecords,
    BacklogRecords,
    ReportMail,
    ReportRecords,
    TrendRecords,
)
from dockd.ui.i18n import Said

FIRST_PERIOD = timedelta(hours=24)


@dataclass
class Mailed:
    """What happened to the mail: `notes` for the operator, `problems` for stderr."""

    delivered: bool = True
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Reports:
    def __init__(
        self,
        records: ReportRecords,
        policy: PolicyPack,
        clock: Callable[[], datetime],
        mail: Callable[[], ReportMail],
        backlog: BacklogRecords | None = None,
        agency: bool = False,
        trends: TrendRecords | None = None,
        activities: ActivityRecords | None = None,
    ) -> None:
        """`backlog`: None when no `[central]` store is configured (no central section).
        `agency`: reports cover every station on the ledger ([mail] scope). `trends`: None,
        no charts. `activities`: matched for the period before each report, so footage
        docked since an import counts (None: not)."""
        self.records = records
        self.backlog = backlog
        self.trends = trends
        self.activities = activities
        self.policy = policy
        self.clock = clock
        self._mail = mail  # built only when a report is mailed
        self.agency = agency

    def deadlines(
        self, since: timedelta | None, agency: bool | None = None, match: bool = True
    ) -> tuple[DeadlineReport, str | None]:
        """The report of the last `since`, or (None) from where the last e-mailed one
        ended, so a dock that was off at 02:00 never skips hours; and a note when
        there was no report before. `agency` overrides the configured scope; `match`:
        match the period's activities first."""
        now = self.clock()
        note = None
        if since is not None:
            start = now - since
        elif (last := self.records.last_report_until()) is None:
            note = Said("no report was e-mailed before: this one covers the last 24 h")
            start = now - FIRST_PERIOD
        else:
            start = min(last, now)
        agency = self.agency if agency is None else agency
        if match and self.activities is not None:
            self.activities.rematch(start, self.policy, now, "dockd-report")
        report = self.records.deadline_report(start, now, self.policy, now, agency)
        return self._complete(report, now), note

    def deadlines_between(self, since: datetime, until: datetime) -> DeadlineReport:
        now = self.clock()
        if self.activities is not None:
            self.activities.rematch(since, self.policy, now, "dockd-report")
        report = self.records.deadline_report(since, until, self.policy, now, self.agency)
        return self._complete(report, now)

    def _complete(self, report: DeadlineReport, now: datetime) -> DeadlineReport:
        """Every report carries this station's chain head: each copy a supervisor keeps can
        later show that the ledger's tail was cut (`dockd audit verify --head`). With a
        central store, it also tells what has not reached it: this station's backlog now,
        and the recordings late."""
        seq, head = self.records.chain_head()
        update: dict[str, object] = {"chain_head": ChainHead(seq=seq, hash=head)}
        if self.backlog is not None:
            within = timedelta(hours=self.policy.forwarding.confirm_within_hours)
            since, until = report.since, report.until
            candidates = self.backlog.central_candidates(within, since, until)
            lags = self.backlog.lock_lags()
            update["central_backlog"] = backlog(self.backlog.held(), now, lags)
            update["late_to_central"] = late_to_central(candidates, within, since, until)
        if self.trends is not None:
            # local days: the station's UTC offset at the report's making
            zone = now.astimezone().tzinfo
            assert zone is not None  # astimezone() always names one
            days = trend_days(report.until, zone)
            offloads, drift, missing = self.trends.trend_facts(*window(days, zone))
            hours = self.policy.offload.deadline_hours
            units = unit_trends(offloads, drift, missing, days, zone, hours)
            update["trends"] = ReportTrends(days=len(days), units=units)
        return report.model_copy(update=update)

    def mail(self, report: DeadlineReport, by: str) -> Mailed:
        mail = self._mail()
        out = Mailed()
        self._resend_kept(mail, out)
        if report.empty and not mail.send_when_empty:
            self.records.report_issued(report, "nothing to send", "", self.clock(), by)
            out.notes.append(
                Said("nothing to report; no e-mail sent ([mail] send_when_empty = false)")
            )
            return out
        message = mail.compose(report, self.policy.name)
        to = str(message["To"])
        try:
            mail.send(message)
        except MailRecipientsRefused as exc:
            self.records.report_issued(report, "partly delivered", to, self.clock(), by)
            out.problems.append(Said("report sent, but {error}", error=Said.error(exc)))
            out.delivered = False
            return out
        except MailError as exc:
            kept = mail.keep(message)
            self.records.report_issued(report, f"kept in {kept}", to, self.clock(), by)
            out.problems.append(
                Said(
                    "dockd: {code}: {error}\n  hint: {hint}\n  the report is kept in {kept} and "
                    "is sent first next time",
                    code=exc.code,
                    error=Said.error(exc),
                    hint=Said(exc.hint),
                    kept=kept,
                )
            )
            out.delivered = False
            return out
        self.records.report_issued(report, "sent", to, self.clock(), by)
        out.notes.append(Said("report e-mailed to {to}", to=to))
        return out

    @staticmethod
    def _resend_kept(mail: ReportMail, out: Mailed) -> None:
        for kept in mail.kept():
            try:
                mail.resend(kept)
            except MailRecipientsRefused as exc:
                out.problems.append(
                    Said(
                        "kept report {kept} partly delivered: {error}",
                        kept=kept,
                        error=Said.error(exc),
                    )
                )
            except MailError as exc:
                out.problems.append(
                    Said(
                        "kept report {kept} still not sent: {error}",
                        kept=kept,
                        error=Said.error(exc),
                    )
                )
                break
            mail.mark_sent(kept)
            out.notes.append(Said("sent kept report {kept}", kept=kept))
