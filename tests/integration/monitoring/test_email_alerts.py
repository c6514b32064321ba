"""E-mail alerts over SMTP with STARTTLS, against a real aiosmtpd server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smtp_standin import Inbox, smtp_standin
from tradebot.config.monitoring import EmailConfig
from tradebot.domain.alerts import Alert, AlertRule
from tradebot.monitoring.alerts.email import EmailChannel
from tradebot.monitoring.alerts.sender import AlertSender
from tradebot.state import create_database
from tradebot.state.outbox import AlertOutbox


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    with smtp_standin(tmp_path) as server:
        yield server


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


async def test_email_use_tls_false_sends_in_plain_text_to_a_relay_that_allows_it(
    tmp_path: Path,
) -> None:
    # Arrange: a relay that offers STARTTLS but does not require it
    with smtp_standin(tmp_path, require_starttls=False) as (inbox, port, cert):
        outbox = AlertOutbox(create_database(tmp_path / "bot.db"))
        alert = Alert(AlertRule.RECONCILIATION_HALT, "k", "Halted", "body")
        outbox.raise_alerts([(alert, {"email": False})], 0)
        plain = _config(port, cert).model_copy(update={"use_tls": False})
        # Act
        delivered = await AlertSender(outbox, [EmailChannel(plain)]).deliver_due()
    # Assert: sent, and not upgraded (the key was acted on, not the default)
    assert delivered == 1
    ((_envelope, _message, over_tls),) = inbox.messages
    assert not over_tls
