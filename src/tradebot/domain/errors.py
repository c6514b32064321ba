"""The error tree every tradebot component raises from.

Callers decide by type, never by message text::

    TradebotError
    ├── ConfigError              at startup; names the field, the bad value and the fix
    ├── DataError                gap, NaN, non-monotonic ts → fail fast, never trade on it
    ├── StrategyError            wraps whatever a strategy raises (the strategy barrier)
    │   └── LookaheadError            generate_signals read a bar after the one it decides
    ├── ExchangeError
    │   ├── ExchangeUnavailable       network, timeout, 5xx → retry with backoff
    │   │   └── RateLimited           429/418: stop calling until retry_after_s
    │   ├── AuthenticationError       fatal: bad key, bad signature
    │   ├── OrderRejected             the venue said no → record, alert, no blind retry
    │   │   ├── InsufficientFunds
    │   │   └── InvalidOrder          below minimum, bad precision, unknown symbol
    │   └── OrderNotFound
    └── StateError
        └── ReconciliationError       local ≠ exchange → halt trading, alert
"""

from __future__ import annotations


class TradebotError(Exception):
    """Root of every error tradebot raises on purpose."""


class ConfigError(TradebotError):
    """The configuration is wrong; the message names the key path, the value and the fix."""


class DataError(TradebotError):
    """Market data cannot be trusted (gaps, NaNs, unsorted or duplicate timestamps)."""


class StrategyError(TradebotError):
    """A strategy raised; the original exception is the ``__cause__``."""


class LookaheadError(StrategyError):
    """A strategy read bar ``bar`` of ``column`` while deciding at the close of bar ``at_bar``.

    Raised in backtests and live trading alike: a signal may depend on bars ``0..at_bar``
    only. ``bar_time`` (UTC text, may be empty) says when the bar read opens or would open.
    """

    def __init__(self, strategy: str, column: str, bar: int, at_bar: int, bar_time: str) -> None:
        when = f" (the bar of {bar_time})" if bar_time else ""
        super().__init__(
            f"strategy {strategy} read {column}[{bar}]{when} while deciding bar {at_bar}:"
            f" a signal may read bars 0..{at_bar} only, the later ones are the future"
        )
        self.strategy = strategy
        self.column = column
        self.bar = bar
        self.at_bar = at_bar


class ExchangeError(TradebotError):
    """Anything that went wrong talking to an exchange."""


class ExchangeUnavailable(ExchangeError):
    """Transient: network down, timeout, 5xx, maintenance. Safe to retry idempotent calls."""


class RateLimited(ExchangeUnavailable):
    """The venue throttled us; no call may be made for ``retry_after_s`` seconds."""

    def __init__(self, message: str, retry_after_s: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class AuthenticationError(ExchangeError):
    """Bad key, bad signature or missing permission. Fatal: a person must act."""


class OrderRejected(ExchangeError):
    """The venue refused an order. Never retried blindly."""


class InsufficientFunds(OrderRejected):
    """Not enough free balance for the order."""


class InvalidOrder(OrderRejected):
    """The order breaks a market rule: precision, minimum amount or notional, symbol."""


class ReplaceRefused(OrderRejected):
    """The venue refused a cancel-replace: the new order is not placed, and the old one may
    or may not be canceled (look it up)."""


class OrderNotFound(ExchangeError):
    """The venue does not know the order id asked for."""


class StateError(TradebotError):
    """Persistent state is missing, corrupt or inconsistent."""


class ReconciliationError(StateError):
    """Saved state and the exchange disagree in a way the bot cannot fix by itself."""
