"""The nightly report reaches a real SMTP server (aiosmtpd, in this process, on loopback).

Plain SMTP, STARTTLS and TLS with a self-signed certificate made here (trusted through
``MailSettings.cafile``), login, and every way it can fail: each failure is a
``MailError`` with code MAIL_FAILED, never a stack trace from smtplib or ssl. Then the
outbox that keeps a report which could not be sent.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

aiosmtpd = pytest.importorskip("aiosmtpd", reason="pip install aiosmtpd (the dev extra)")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

from dockd.adapters.mail import (  # noqa: E402
    EML_MODE,
    MailError,
    MailRecipientsRefused,
    MailSettings,
    Outbox,
    send,
)
from dockd.ui.report import build_message, recipients_for  # noqa: E402
from tests.unit.test_report import SCRIPT, hostile_report, sample_report  # noqa: E402

HOST = "127.0.0.1"
USER, PASSWORD = "dock7", "correct horse battery staple"
SENDER = "dockd@dock7.example"
RECIPIENTS = ["supervisor@example.org", "traffic@example.org"]


# --- a server -------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: bytes | None


@dataclass
class Collector:
    """aiosmtpd handler: keeps every message; refuses the recipients in ``refuse``."""

    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(message, EmailMessage)
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message,
                session.ssl is not None,
                session.auth_data.login if session.authenticated else None,
            )
        )
        return "250 Message accepted for delivery"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def smtp_server(handler: Collector, **smtp: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port, server_hostname="localhost", **smtp)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def _with_cryptography(cert: Path, key: Path) -> bool:
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        return False
    import ipaddress

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return True


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for localhost and 127.0.0.1, valid for a day."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "relay.pem", folder / "relay.key"
    if not _with_cryptography(cert, key):
        try:
            subprocess.run(
                [
                    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost",
                    "-addext", f"subjectAltName=DNS:localhost,IP:{HOST}",
                    "-keyout", str(key), "-out", str(cert),
                ],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
        except FileNotFoundError:
            pytest.skip("no cryptography module and no openssl: apt-get install openssl")
    return Certificate(cert, key)


def settings_for(port: int, **changes: Any) -> MailSettings:
    base = MailSettings(
        host=HOST, port=port, timeout_s=10.0, sender=SENDER, recipients=list(RECIPIENTS)
    )
    return replace(base, **changes)


def report_message() -> EmailMessage:
    return build_message(sample_report(), "Qidong", SENDER, list(RECIPIENTS))


def assert_is_the_report(message: EmailMessage) -> None:
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    text, page = (p.get_content() for p in parts)
    for item in ("PATROL_LI_2.MP4", "TRAFFIC_ZHANG.MP4", "SN0007", "S-UNSEALED", "0421 Li Wei"):
        assert item in text and item in page
    assert "LATE OFFLOADS (5)" in text and "Late offloads (5)</h2>" in page
    assert str(message["Subject"]).startswith("dockd: 5 late offloads, 1 overdue recorder")


def assert_mail_failed(error: pytest.ExceptionInfo[MailError], *words: str) -> None:
    assert error.value.code == "MAIL_FAILED"
    assert str(error.value).startswith("MAIL_FAILED: ")
    assert "[mail]" in error.value.hint
    for word in words:
        assert word in str(error.value) + error.value.hint


# --- delivery -------------------------------------------------------------------------


def test_plain_smtp_delivers_text_and_html() -> None:
    handler = Collector()
    with smtp_server(handler) as port:
        send(report_message(), settings_for(port))
    [got] = handler.received
    assert got.mail_from == SENDER
    assert got.rcpt_tos == RECIPIENTS
    assert not got.tls
    assert_is_the_report(got.message)


def test_hostile_text_arrives_escaped() -> None:
    handler = Collector()
    message = build_message(hostile_report(), "Qidong", SENDER, ["a@example.org"])
    with smtp_server(handler) as port:
        send(message, settings_for(port))
    text, page = (p.get_content() for p in handler.received[0].message.iter_parts())
    assert SCRIPT in text
    assert "<script" not in page.lower() and "&lt;script&gt;" in page


def test_recipients_per_unit_get_it() -> None:
    handler = Collector()
    report = sample_report()
    to = recipients_for(report, ["ops@example.org"], {"Patrol": ["patrol@example.org"]})
    with smtp_server(handler) as port:
        send(build_message(report, "Qidong", SENDER, to), settings_for(port))
    assert handler.received[0].rcpt_tos == ["ops@example.org", "patrol@example.org"]


def test_starttls_with_a_private_ca(certificate: Certificate) -> None:
    handler = Collector()
    tls = certificate.server_context()
    with smtp_server(handler, tls_context=tls, require_starttls=True) as port:
        send(report_message(), settings_for(port, security="starttls", cafile=certificate.cert))
    [got] = handler.received
    assert got.tls
    assert_is_the_report(got.message)


def test_starttls_checks_the_certificate(certificate: Certificate) -> None:
    handler = Collector()
    with (
        smtp_server(handler, tls_context=certificate.server_context()) as port,
        pytest.raises(MailError) as error,
    ):
        send(report_message(), settings_for(port, security="starttls"))  # system CAs only
    assert_mail_failed(error, "not trusted", "[mail] cafile")
    assert handler.received == []


def test_starttls_never_falls_back_to_clear() -> None:
    handler = Collector()
    with smtp_server(handler) as port, pytest.raises(MailError) as error:
        send(report_message(), settings_for(port, security="starttls"))
    assert_mail_failed(error, "STARTTLS")
    assert handler.received == []


def test_tls_from_the_first_byte(certificate: Certificate) -> None:
    handler = Collector()
    with smtp_server(handler, ssl_context=certificate.server_context()) as port:
        send(report_message(), settings_for(port, security="tls", cafile=certificate.cert))
    [got] = handler.received
    assert_is_the_report(got.message)


def test_login_over_starttls(certificate: Certificate) -> None:
    handler = Collector()
    server = {
        "tls_context": certificate.server_context(),
        "authenticator": authenticator,
        "auth_require_tls": True,
        "auth_required": True,
    }
    good = {
        "security": "starttls",
        "cafile": certificate.cert,
        "username": USER,
        "password": PASSWORD,
    }
    with smtp_server(handler, **server) as port:
        send(report_message(), settings_for(port, **good))
        with pytest.raises(MailError) as error:
            send(report_message(), settings_for(port, **{**good, "password": "wrong"}))
    assert_mail_failed(error, "refused the login", "password")
    assert PASSWORD not in str(error.value) and "wrong" not in str(error.value)
    [got] = handler.received  # only the good login got through
    assert got.tls and got.login == USER.encode()
    assert_is_the_report(got.message)


def test_password_is_not_in_the_settings_repr() -> None:
    assert PASSWORD not in repr(settings_for(25, username=USER, password=PASSWORD))


def test_no_password_in_clear_to_a_remote_relay() -> None:
    started = time.monotonic()
    with pytest.raises(MailError) as error:
        # TEST-NET-1: never reached, the refusal comes before any connection
        send(report_message(), MailSettings(host="192.0.2.1", username=USER, password=PASSWORD))
    assert time.monotonic() - started < 1
    assert_mail_failed(error, "in clear", "security")


def test_partly_refused_recipients() -> None:
    handler = Collector(refuse={"traffic@example.org"})
    with smtp_server(handler) as port, pytest.raises(MailRecipientsRefused) as error:
        send(report_message(), settings_for(port))
    assert error.value.code == "MAIL_RECIPIENTS_REFUSED"
    assert list(error.value.refused) == ["traffic@example.org"]
    assert error.value.refused["traffic@example.org"].startswith("550")
    assert handler.received[0].rcpt_tos == ["supervisor@example.org"]


def test_every_recipient_refused() -> None:
    handler = Collector(refuse=set(RECIPIENTS))
    with smtp_server(handler) as port, pytest.raises(MailError) as error:
        send(report_message(), settings_for(port))
    assert_mail_failed(error, "refused every recipient")
    assert not isinstance(error.value, MailRecipientsRefused)
    assert handler.received == []


def test_no_recipients() -> None:
    message = build_message(sample_report(), "Qidong", SENDER, [])
    with pytest.raises(MailError) as error:
        send(message, settings_for(free_port()))
    assert_mail_failed(error, "no recipients", "[mail] recipients")


# --- unreachable relays ---------------------------------------------------------------


def test_closed_port_fails_quickly() -> None:
    port = free_port()  # bound and released: nothing listens there now
    started = time.monotonic()
    with pytest.raises(MailError) as error:
        send(report_message(), settings_for(port))
    assert time.monotonic() - started < 2
    assert_mail_failed(error, f"{HOST}:{port}", "[mail] host, port")
    assert isinstance(error.value.__cause__, ConnectionRefusedError)


def test_silent_relay_times_out() -> None:
    """A relay that accepts the connection and never greets: given up after timeout_s."""
    with socket.socket() as mute:
        mute.bind((HOST, 0))
        mute.listen(1)  # the kernel completes the handshake; nobody ever answers
        port = mute.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(MailError) as error:
            send(report_message(), settings_for(port, timeout_s=0.5))
        assert time.monotonic() - started < 3
    assert_mail_failed(error, "did not answer within 0.5 s")


def test_unreadable_cafile(tmp_path: Path) -> None:
    with pytest.raises(MailError) as error:
        send(report_message(), settings_for(25, security="tls", cafile=tmp_path / "none.pem"))
    assert_mail_failed(error, "[mail] cafile")


# --- the outbox -----------------------------------------------------------------------


def test_outbox_round_trip(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    assert outbox.pending() == []
    first, second = report_message(), build_message(hostile_report(), "Q", SENDER, RECIPIENTS)
    kept = outbox.keep(first)
    later = outbox.keep(second)
    assert outbox.pending() == [kept, later]  # oldest first
    assert kept.suffix == ".eml"
    assert stat.S_IMODE(kept.stat().st_mode) == EML_MODE
    assert [p.name for p in outbox.folder.iterdir() if p.name.startswith(".")] == []

    assert kept.read_bytes() == first.as_bytes()
    again = outbox.load(kept)
    assert list(again.items()) == list(first.items())
    for a, b in zip(again.iter_parts(), first.iter_parts(), strict=True):
        assert a.get_content_type() == b.get_content_type()
        assert a.get_content() == b.get_content()

    handler = Collector()
    with smtp_server(handler) as port:
        send(again, settings_for(port))
    moved = outbox.sent(kept)
    assert moved == outbox.folder / "sent" / kept.name and moved.exists()
    assert outbox.pending() == [later]
    [got] = handler.received
    assert got.message["Message-ID"] == first["Message-ID"]  # the same message, re-sent
    assert_is_the_report(got.message)


def test_outbox_keeps_whatever_the_umask(tmp_path: Path) -> None:
    import os

    previous = os.umask(0o077)
    try:
        kept = Outbox(tmp_path / "o").keep(report_message())
    finally:
        os.umask(previous)
    assert stat.S_IMODE(kept.stat().st_mode) == EML_MODE


def test_outbox_failure_is_a_mail_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(MailError) as error:
        Outbox(blocker).keep(report_message())
    assert "[mail] outbox" in error.value.hint
    with pytest.raises(ValueError):
        Outbox(tmp_path / "o").sent(tmp_path / "elsewhere.eml")
