"""Alerts by e-mail over SMTP, upgraded with STARTTLS (``monitoring.email``).

smtplib is blocking, so each message is sent in a worker thread. The Message-ID is derived
from the alert, so in the rare case a message is sent twice (a crash right after the server
took it) mail clients can tell it is the same one.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from tradebot.config.monitoring import EmailConfig
from tradebot.monitoring.alerts.channel import DELIVERED, Outcome, Result
from tradebot.monitoring.alerts.text import email_subject
from tradebot.state.outbox import Delivery


class EmailChannel:
    """Alerts to the configured recipients."""

    name = "email"

    def __init__(self, config: EmailConfig) -> None:
        """Send with ``config`` (its ``smtp_host`` must be set)."""
        if config.smtp_host is None or config.from_addr is None:
            raise ValueError("EmailChannel needs monitoring.email.smtp_host and from_addr")
        self._config = config
        self._host: str = config.smtp_host
        self._from: str = config.from_addr

    def parts(self, delivery: Delivery) -> list[str]:
        """One message: e-mail has no length limit worth cutting for."""
        return [delivery.body]

    def message(self, delivery: Delivery) -> EmailMessage:
        """The e-mail for ``delivery``: plain text, the subject on one line."""
        message = EmailMessage()
        message["Subject"] = email_subject(delivery.severity, delivery.title)
        message["From"] = self._from
        message["To"] = ", ".join(self._config.to_addrs)
        message["Date"] = formatdate(delivery.created_ts_ms / 1000, usegmt=True)
        message["Message-ID"] = (
            f"<tradebot-alert-{delivery.alert_id}-{delivery.created_ts_ms}@tradebot>"
        )
        if delivery.silent:
            message["Importance"] = "low"
            message["X-Priority"] = "5"
        message.set_content(f"{delivery.title}\n\n{delivery.body}\n")
        return message

    async def send(self, part: str, delivery: Delivery) -> Outcome:
        """Send the message; 5xx answers are final, the rest is tried again."""
        try:
            await asyncio.to_thread(self._send, self.message(delivery))
        except smtplib.SMTPAuthenticationError as exc:
            return Outcome(Result.TRANSIENT, f"smtp login refused ({exc.smtp_code})")
        except smtplib.SMTPResponseException as exc:
            kind = Result.REFUSED if exc.smtp_code >= 500 else Result.TRANSIENT
            return Outcome(kind, f"smtp {exc.smtp_code}: {exc.smtp_error!r}")
        except smtplib.SMTPRecipientsRefused as exc:
            return Outcome(Result.REFUSED, f"smtp refused recipients {sorted(exc.recipients)}")
        except (smtplib.SMTPException, OSError) as exc:
            return Outcome(Result.TRANSIENT, f"{type(exc).__name__}: {exc}")
        return DELIVERED

    def _send(self, message: EmailMessage) -> None:
        config = self._config
        with smtplib.SMTP(self._host, config.smtp_port, timeout=config.timeout_s) as smtp:
            if config.use_tls:
                cafile = None if config.ca_file is None else str(config.ca_file)
                smtp.starttls(context=ssl.create_default_context(cafile=cafile))
            if config.username is not None and config.password is not None:
                smtp.login(config.username, config.password.get_secret_value())
            smtp.send_message(message)
