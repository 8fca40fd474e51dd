"""In-memory twins of the report's ports: the ledger's report side and the mail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from dockd.core.policy import PolicyPack
from dockd.core.views import DeadlineReport
from dockd.errors import MailError


@dataclass
class FakeReportRecords:
    last_until: datetime | None = None
    issued: list[tuple[str, str, str]] = field(default_factory=list)  # delivery, to, by
    asked: list[tuple[datetime, datetime]] = field(default_factory=list)

    def last_report_until(self) -> datetime | None:
        return self.last_until

    def chain_head(self) -> tuple[int, str]:
        return 7, "ab" * 32

    def report_issued(
        self, report: DeadlineReport, delivery: str, recipients: str, at: datetime, by: str
    ) -> None:
        self.issued.append((delivery, recipients, by))

    def deadline_report(
        self, since: datetime, until: datetime, pack: PolicyPack, now: datetime, agency: bool
    ) -> DeadlineReport:
        self.asked.append((since, until))
        return DeadlineReport(
            pack=pack.id,
            since=since,
            until=until,
            late_offloads=[],
            overdue_recorders=[],
            drift_violations=[],
            interruptions=[],
            unsealed_sessions=[],
            verify_failures=[],
        )


@dataclass
class FakeMail:
    """A relay that is up or `down`, and an outbox."""

    send_when_empty: bool = True
    down: MailError | None = None
    outbox: list[str] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)  # Subject of each message sent

    def compose(self, report: DeadlineReport, pack_name: str) -> EmailMessage:
        message = EmailMessage()
        message["To"] = "ops@example.org"
        message["Subject"] = f"{pack_name} {report.since:%H}"
        return message

    def send(self, message: EmailMessage) -> None:
        if self.down is not None:
            raise self.down
        self.delivered.append(str(message["Subject"]))

    def keep(self, message: EmailMessage) -> str:
        self.outbox.append(str(message["Subject"]))
        return f"outbox/{len(self.outbox)}.eml"

    def kept(self) -> list[str]:
        return list(self.outbox)

    def resend(self, name: str) -> None:
        if self.down is not None:
            raise self.down
        self.delivered.append(name)

    def mark_sent(self, name: str) -> None:
        self.outbox.remove(name)
