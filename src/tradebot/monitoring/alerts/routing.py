"""Which channels get which alert, and how: each rule is on, silent or off per channel.

Silent on Telegram is ``disable_notification`` (the message arrives without a sound); by
e-mail it is a low-priority message (``Importance: low``). Off writes no delivery at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tradebot.domain.alerts import AlertRule

TELEGRAM, EMAIL = "telegram", "email"
_NOT_BY_EMAIL = (AlertRule.TRADE_OPENED, AlertRule.TRADE_CLOSED)

DEFAULT_MODES: dict[str, dict[AlertRule, str]] = {
    TELEGRAM: dict.fromkeys(AlertRule, "on"),
    EMAIL: {rule: "off" if rule in _NOT_BY_EMAIL else "on" for rule in AlertRule},
}
"""Telegram gets every rule; e-mail all but the trade notices (one a trade is too many)."""


@dataclass(frozen=True, slots=True)
class AlertRouting:
    """The mode of every rule on every configured channel, and the cool-down."""

    modes: Mapping[str, Mapping[AlertRule, str]] = field(default_factory=dict)
    cooldown_ms: int = 900_000

    @classmethod
    def build(cls, channels: Mapping[str, Mapping[str, str]], cooldown_s: int) -> AlertRouting:
        """Defaults for each channel in ``channels``, overridden by its ``rule: mode`` map."""
        modes = {
            name: {rule: overrides.get(rule.value, DEFAULT_MODES[name][rule]) for rule in AlertRule}
            for name, overrides in channels.items()
        }
        return cls(modes, cooldown_s * 1000)

    def channels_for(self, rule: AlertRule) -> dict[str, bool]:
        """Channel name -> silent, for each channel where ``rule`` is not off."""
        return {
            name: rules[rule] == "silent"
            for name, rules in self.modes.items()
            if rules[rule] != "off"
        }
