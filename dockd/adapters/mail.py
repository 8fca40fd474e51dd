"""Sending the nightly report over SMTP (stdlib smtplib), and the outbox of unsent reports.

``send`` speaks to one relay: plain (``security = "none"``, for a local MTA), upgraded
with STARTTLS, or TLS from the first byte (``"tls"``, usually port 465). With TLS the
relay's certificate is always verified, against the system's CAs or, when ``cafile``
is set, against that file only (a private relay with its own CA). There is no
fallback: a relay that does not offer STARTTLS when asked for it is an error, never a
reason to send in clear. Every failure of the connection, TLS, login or the SMTP
dialogue leaves this module as a ``MailError`` (code MAIL_FAILED).

``Outbox`` keeps a report that could not be sent as an ``.eml`` file, so that the next
run sends it first: ``keep`` writes atomically (temp + rename, fsynced, mode 0640),
``pending`` lists what is waiting, oldest first, ``sent`` moves a file to ``sent/``.

``ReportMailer`` is the two together as the report service sees them (`ports.ReportMail`).
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from typing import Final, Literal

from dockd.core.net import is_loopback
from dockd.core.views import DeadlineReport
from dockd.errors import MailError, MailRecipientsRefused
from dockd.ui.i18n import N_

Security = Literal["none", "starttls", "tls"]

EML_MODE: Final = 0o640
DIR_MODE: Final = 0o750
SENT_DIR: Final = "sent"

__all__ = ["MailError", "MailRecipientsRefused", "MailSettings", "Outbox", "ReportMailer", "send"]


@dataclass(frozen=True)
class MailSettings:
    """What ``send`` and the report command need, taken from ``[mail]``."""

    host: str = "localhost"
    port: int = 25
    security: Security = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0
    sender: str = "dockd@localhost"
    recipients: list[str] = field(default_factory=list)
    recipients_by_unit: dict[str, list[str]] = field(default_factory=dict)
    send_when_empty: bool = True
    outbox: Path = Path("var/outbox")
    #: PEM file of the CA (or the certificate) to trust instead of the system's CAs.
    cafile: Path | None = None


# --- sending --------------------------------------------------------------------------


def _addresses(message: EmailMessage) -> list[str]:
    fields = [str(v) for key in ("To", "Cc", "Bcc") for v in message.get_all(key, [])]
    return [address for _, address in getaddresses(fields) if address]


def _tls_context(settings: MailSettings) -> ssl.SSLContext:
    cafile = str(settings.cafile) if settings.cafile is not None else None
    try:
        return ssl.create_default_context(cafile=cafile)
    except (ssl.SSLError, OSError) as exc:
        raise MailError(
            "cannot load [mail] cafile {cafile}: {exc}",
            hint="Point [mail] cafile at a readable PEM file with the relay's CA certificate.",
            cafile=settings.cafile,
            exc=exc,
        ) from exc


def _where(settings: MailSettings) -> str:
    return f"{settings.host}:{settings.port} ({settings.security})"


def _translate(exc: BaseException, settings: MailSettings) -> MailError:
    where = _where(settings)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return MailError(
            "{where} refused the login of {username!r}: {exc}",
            hint="Check [mail] username and password (or DOCKD_MAIL__PASSWORD).",
            where=where,
            username=settings.username,
            exc=_reply(exc),
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailError(
            "the TLS certificate of {where} is not trusted: {verify_message}",
            hint="Set [mail] cafile to the relay's CA certificate (PEM), or check that [mail] "
            "host is the name in the relay's certificate.",
            where=where,
            verify_message=exc.verify_message,
        )
    if isinstance(exc, ssl.SSLError):
        return MailError(
            "TLS with {where} failed: {exc}",
            hint='Check [mail] security: "tls" is TLS from the first byte (port 465), '
            '"starttls" upgrades a plain connection (port 587 or 25).',
            where=where,
            exc=exc,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return MailError(
            "{where} does not support what [mail] asks for: {exc}",
            hint='Check [mail] security ("starttls" needs a relay that offers STARTTLS; dockd '
            "never falls back to sending in clear) and username (the relay must offer AUTH).",
            where=where,
            exc=exc,
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(exc.recipients)
        return MailError(
            "{where} refused every recipient: {refused_list}",
            hint="Check the addresses in [mail] recipients and recipients_by_unit.",
            where=where,
            refused_list=refused,
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return MailError(
            "{where} refused the sender {sender!r}: {exc}",
            hint="Check [mail] sender: the relay must accept it (for this login, if any).",
            where=where,
            sender=exc.sender,
            exc=_reply(exc),
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return MailError("{where} answered {exc}", where=where, exc=_reply(exc))
    # smtplib reports a read that timed out as "Connection unexpectedly closed: timed out"
    timed_out = isinstance(exc, TimeoutError) or (
        isinstance(exc, smtplib.SMTPServerDisconnected)
        and isinstance(exc.__context__, TimeoutError)
    )
    if timed_out:
        return MailError(
            "{where} did not answer within {timeout_s:g} s",
            where=where,
            timeout_s=settings.timeout_s,
        )
    if isinstance(exc, smtplib.SMTPException):
        return MailError("SMTP with {where} failed: {exc}", where=where, exc=exc)
    return MailError("cannot reach {where}: {exc}", where=where, exc=exc)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{exc.smtp_code} {text}".strip()


def _connect(settings: MailSettings, context: ssl.SSLContext | None) -> smtplib.SMTP:
    if settings.security == "tls":
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout_s, context=context
        )
    return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)


def send(message: EmailMessage, settings: MailSettings) -> None:
    """Hand ``message`` to the relay, for the recipients in its To/Cc/Bcc headers.

    Raises ``MailError`` when nobody got it, ``MailRecipientsRefused`` when only some did.
    """
    if not _addresses(message):
        raise MailError(
            "the report has no recipients",
            hint="Set [mail] recipients (or recipients_by_unit for the units in the report).",
        )
    clear = settings.security == "none" and not is_loopback(settings.host)
    if settings.username is not None and clear:
        raise MailError(
            "refusing to send the [mail] password to {host} in clear",
            hint='Set [mail] security = "starttls" or "tls", or use a relay on localhost.',
            host=settings.host,
        )
    context = _tls_context(settings) if settings.security != "none" else None
    try:
        smtp = _connect(settings, context)
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise _translate(exc, settings) from exc
    try:
        try:
            if settings.security == "starttls":
                smtp.starttls(context=context)
            if settings.username is not None:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(message)
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise _translate(exc, settings) from exc
        # The relay has the message: a failing QUIT must not make it look unsent.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
    finally:
        smtp.close()
    if refused:
        answers = {address: _reply_of(code, text) for address, (code, text) in refused.items()}
        raise MailRecipientsRefused(
            "{settings} refused {answers} (and accepted the other recipients)",
            answers,
            settings=_where(settings),
            answers=", ".join(sorted(answers)),
        )


def _reply_of(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


# --- the outbox -----------------------------------------------------------------------

_OUTBOX_HINT = N_(
    "Check that [mail] outbox is a writable folder on a disk with free space (under "
    "/var/lib/dockd for the systemd units)."
)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Outbox:
    """Reports not sent yet, one ``.eml`` file each, oldest first by name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def sent_folder(self) -> Path:
        return self.folder / SENT_DIR

    def keep(self, message: EmailMessage) -> Path:
        """Write ``message`` as ``<UTC time>-<random>.eml`` (0640), whole or not at all."""
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.eml"
        final = self.folder / name
        temp = self.folder / f".{name}.tmp"
        data = message.as_bytes(policy=policy.default)
        try:
            self.folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
            fd = os.open(temp, flags, EML_MODE)
            try:
                os.fchmod(fd, EML_MODE)  # whatever the umask
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temp, final)
            _fsync_dir(self.folder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
            raise MailError(
                "cannot keep the report in {folder}: {exc}",
                hint=_OUTBOX_HINT,
                folder=self.folder,
                exc=exc,
            ) from exc
        return final

    def pending(self) -> list[Path]:
        """The kept reports, oldest first (an unfinished ``keep`` leaves none behind here)."""
        try:
            entries = list(self.folder.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise MailError(
                "cannot read the outbox {folder}: {exc}",
                hint=_OUTBOX_HINT,
                folder=self.folder,
                exc=exc,
            ) from exc
        return sorted(
            p for p in entries if p.suffix == ".eml" and not p.name.startswith(".") and p.is_file()
        )

    def load(self, path: Path) -> EmailMessage:
        """A kept report, as it was kept, ready for ``send``."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MailError(
                "cannot read the kept report {path}: {exc}", hint=_OUTBOX_HINT, path=path, exc=exc
            ) from exc
        message = BytesParser(policy=policy.default).parsebytes(data)
        if not isinstance(message, EmailMessage):  # policy.default always makes one
            raise TypeError(f"{path} did not parse as an EmailMessage")
        return message

    def sent(self, path: Path) -> Path:
        """Move a kept report that has now been sent to ``sent/``; returns where it went."""
        if path.parent != self.folder:
            raise ValueError(f"{path} is not in the outbox {self.folder}")
        target = self.sent_folder / path.name
        try:
            self.sent_folder.mkdir(mode=DIR_MODE, exist_ok=True)
            os.rename(path, target)
            _fsync_dir(self.sent_folder)
            _fsync_dir(self.folder)
        except OSError as exc:
            raise MailError(
                "cannot move {path} to {sent_folder}: {exc}",
                hint=_OUTBOX_HINT,
                path=path,
                sent_folder=self.sent_folder,
                exc=exc,
            ) from exc
        return target


Compose = Callable[[DeadlineReport, str, "MailSettings"], EmailMessage]


class ReportMailer:
    """The relay and the outbox of ``settings``; ``compose`` renders a report as a message
    (handed in, so that this module sends mail and knows nothing of its layout)."""

    def __init__(self, settings: MailSettings, compose: Compose) -> None:
        self.settings = settings
        self.outbox = Outbox(settings.outbox)
        self._compose = compose

    @property
    def send_when_empty(self) -> bool:
        return self.settings.send_when_empty

    def compose(self, report: DeadlineReport, pack_name: str) -> EmailMessage:
        return self._compose(report, pack_name, self.settings)

    def send(self, message: EmailMessage) -> None:
        send(message, self.settings)

    def keep(self, message: EmailMessage) -> str:
        return str(self.outbox.keep(message))

    def kept(self) -> list[str]:
        return [p.name for p in self.outbox.pending()]

    def resend(self, name: str) -> None:
        send(self.outbox.load(self.outbox.folder / name), self.settings)

    def mark_sent(self, name: str) -> None:
        self.outbox.sent(self.outbox.folder / name)
