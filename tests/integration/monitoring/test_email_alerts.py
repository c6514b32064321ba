"""E-mail alerts over SMTP with STARTTLS, against a real aiosmtpd server on loopback."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tradebot.config.monitoring import EmailConfig
from tradebot.domain.alerts import Alert, AlertRule
from tradebot.monitoring.alerts.email import EmailChannel
from tradebot.monitoring.alerts.sender import AlertSender
from tradebot.state import create_database
from tradebot.state.outbox import AlertOutbox


class Inbox:
    """An aiosmtpd handler that keeps what it receives, and whether it came over TLS."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message, bool]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.messages.append(
            (envelope, message_from_bytes(raw, policy=policy.default), session.ssl is not None)
        )
        return "250 OK"


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tradebot test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.pem", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    cert, key = _certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    inbox, port = Inbox(), _free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True
    )
    controller.start()
    try:
        yield inbox, port, cert
    finally:
        controller.stop()


def _config(port: int, cert: Path) -> EmailConfig:
    return EmailConfig(
        smtp_host="127.0.0.1",
        smtp_port=port,
        from_addr="bot@example.com",
        to_addrs=["you@example.com", "ops@example.com"],
        ca_file=cert,
    )


async def test_email_alert_over_starttls_has_subject_body_and_recipients(
    tmp_path: Path, smtp_server: tuple[Inbox, int, Path]
) -> None:
    # Arrange
    inbox, port, cert = smtp_server
    outbox = AlertOutbox(create_database(tmp_path / "bot.db"))
    alert = Alert(
        AlertRule.RECONCILIATION_HALT,
        "fill_not_on_exchange:tb-1",
        "Reconciliation halted trading\nBcc: evil@example.com",
        "fill_not_on_exchange tb-1: saved 0.5, exchange none. <b>not html</b> & more",
    )
    outbox.raise_alerts([(alert, {"email": False})], 0)
    sender = AlertSender(outbox, [EmailChannel(_config(port, cert))])
    # Act
    delivered = await sender.deliver_due()
    # Assert
    assert delivered == 1
    ((envelope, message, over_tls),) = inbox.messages
    assert over_tls
    assert envelope.rcpt_tos == ["you@example.com", "ops@example.com"]
    assert message["Subject"].strip() == (  # a long subject is folded onto its own line
        "[tradebot critical] Reconciliation halted trading Bcc: evil@example.com"
    )
    assert message["Bcc"] is None
    body = message.get_content()  # type: ignore[attr-defined]
    assert "saved 0.5, exchange none. <b>not html</b> & more" in body
    assert outbox.counts() == {"pending": 0, "sent": 1, "failed": 0}


async def test_email_untrusted_certificate_is_not_sent_and_is_retried(
    tmp_path: Path, smtp_server: tuple[Inbox, int, Path]
) -> None:
    # Arrange: the system CAs do not know the test server's certificate.
    inbox, port, _cert = smtp_server
    outbox = AlertOutbox(create_database(tmp_path / "bot.db"))
    outbox.raise_alerts([(Alert(AlertRule.BOT_STOPPED, "bot", "t", "b"), {"email": False})], 0)
    config = _config(port, _cert).model_copy(update={"ca_file": None})
    # Act
    await AlertSender(outbox, [EmailChannel(config)]).deliver_due()
    # Assert
    assert inbox.messages == []
    (entry,) = outbox.recent()
    assert entry.status == "pending"
    assert "CERTIFICATE_VERIFY_FAILED" in entry.last_error
