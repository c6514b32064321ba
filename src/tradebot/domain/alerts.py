"""Alerts: what the bot tells a person, by rule and severity (design section VI.C).

An ``Alert`` is a value: which rule raised it, about what (``subject``), and a plain-text
title and body. Channels escape and split it as they need; the outbox stores it as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How urgently a person must look."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class AlertRule(StrEnum):
    """Every rule the AlertManager knows; its severity is fixed by ``RULE_SEVERITY``."""

    ORDER_FAILED = "order_failed"
    POSITION_NOT_FOUND = "position_not_found"
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    BOT_STOPPED = "bot_stopped"
    EXCHANGE_UNREACHABLE = "exchange_unreachable"
    RECONCILIATION_HALT = "reconciliation_halt"
    PERSISTENCE_FAILURE = "persistence_failure"
    SERVICE_ALERT = "service_alert"
    SLIPPAGE = "slippage"
    WIN_RATE = "win_rate"
    API_LATENCY = "api_latency"
    DRAWDOWN = "drawdown"
    POSITION_AGE = "position_age"
    TRADE_OPENED = "trade_opened"
    TRADE_CLOSED = "trade_closed"
    DAILY_SUMMARY = "daily_summary"


RULE_SEVERITY: dict[AlertRule, Severity] = {
    AlertRule.ORDER_FAILED: Severity.CRITICAL,
    AlertRule.POSITION_NOT_FOUND: Severity.CRITICAL,
    AlertRule.DAILY_LOSS_LIMIT: Severity.CRITICAL,
    AlertRule.BOT_STOPPED: Severity.CRITICAL,
    AlertRule.EXCHANGE_UNREACHABLE: Severity.CRITICAL,
    AlertRule.RECONCILIATION_HALT: Severity.CRITICAL,
    AlertRule.PERSISTENCE_FAILURE: Severity.CRITICAL,
    AlertRule.SERVICE_ALERT: Severity.CRITICAL,
    AlertRule.SLIPPAGE: Severity.WARNING,
    AlertRule.WIN_RATE: Severity.WARNING,
    AlertRule.API_LATENCY: Severity.WARNING,
    AlertRule.DRAWDOWN: Severity.WARNING,
    AlertRule.POSITION_AGE: Severity.WARNING,
    AlertRule.TRADE_OPENED: Severity.INFO,
    AlertRule.TRADE_CLOSED: Severity.INFO,
    AlertRule.DAILY_SUMMARY: Severity.INFO,
}


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as raised. ``subject`` names what it is about (an order id, a symbol, a
    day); the same rule and subject raised again within the cool-down is a repeat."""

    rule: AlertRule
    subject: str
    title: str
    body: str

    @property
    def severity(self) -> Severity:
        """The rule's severity."""
        return RULE_SEVERITY[self.rule]

    @property
    def dedup_key(self) -> str:
        """What makes two alerts the same alert: rule and subject."""
        return f"{self.rule.value}:{self.subject}"[:200]
