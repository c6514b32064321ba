"""Protections (freqtrade's locks): closed trades that stop new entries for a while.

Three rules, each answering a closed trade with a lock (``domain/locks.py``) or nothing:

- ``cooldown``: after any exit, the symbol opens nothing for ``stop_duration_bars`` bars.
- ``stoploss_guard``: ``trade_limit`` stop-losses within ``lookback_bars`` bars lock the
  symbol (``scope: symbol``: counting that symbol's stops) or every symbol (``scope: all``:
  counting every symbol's) for ``stop_duration_bars``.
- ``max_drawdown``: the drawdown of realised equity (starting cash plus closed trades' net
  PnL) over the trades closed within ``lookback_bars`` bars, once at least ``trade_limit``
  trades closed there, reaching ``max_drawdown_pct`` locks every symbol for
  ``stop_duration_bars``.

Like freqtrade's, they judge closed trades, not marks: a trade closes at the same fill in a
backtest (which skips quiet bars) and in paper trading (which sees every bar), so both lock
alike. A lock counts bars from the bar the exit filled in: ``stop_duration_bars: 3`` blocks
the entries that bar and the next two would decide; the bar after may enter. Pure: the
engine asks, the shell persists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from tradebot.domain.decisions import RiskVerdict
from tradebot.domain.locks import ALL_SYMBOLS, Lock, utc_text
from tradebot.domain.portfolio import Trade

STOP_LOSS_EXIT: Final = "stop_loss"
"""The exit reason of a trade closed by its stop (``OrderRole.exit_reason``)."""


class ProtectionMethod(StrEnum):
    """Which protection a rule is."""

    COOLDOWN = "cooldown"
    STOPLOSS_GUARD = "stoploss_guard"
    MAX_DRAWDOWN = "max_drawdown"


class LockScope(StrEnum):
    """What a stop-loss guard locks: the symbol that hit its stops, or every symbol."""

    SYMBOL = "symbol"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class ProtectionRule:
    """One configured protection (``risk.protections``); unused fields keep their defaults."""

    method: ProtectionMethod
    stop_duration_bars: int
    lookback_bars: int = 0
    trade_limit: int = 1
    scope: LockScope = LockScope.SYMBOL
    max_drawdown_pct: Decimal = Decimal(0)


class Protections:
    """The rules in force and the locks they set; asked at every entry the engine decides."""

    def __init__(self, rules: Sequence[ProtectionRule], bar_ms: int) -> None:
        self.rules = tuple(rules)
        self.bar_ms = bar_ms
        self.locks: list[Lock] = []
        # realised PnL of the closed trades before index ``_summed`` (trades only grow)
        self._summed = 0
        self._pnl_before = Decimal(0)

    def lock_on(self, symbol: str, bar_ts_ms: int) -> Lock | None:
        """The lock that keeps ``symbol`` from entering on the bar opened at ``bar_ts_ms``
        (the longest, when several do), or None."""
        if not self.locks:
            return None
        holding = [lock for lock in self.locks if lock.blocks(symbol, bar_ts_ms)]
        return max(holding, key=lambda lock: lock.until_ms) if holding else None

    def verdict_on(self, symbol: str, bar_ts_ms: int) -> RiskVerdict | None:
        """The refusal of an entry order on ``symbol`` at the bar opened at ``bar_ts_ms``,
        naming the lock (None: no lock holds it)."""
        lock = self.lock_on(symbol, bar_ts_ms)
        return None if lock is None else RiskVerdict.rejected(lock.protection, lock.describe())

    def restore(self, locks: Sequence[Lock]) -> None:
        """Make ``locks`` the locks in force (saved ones after a restart, or the database's
        after a person removed some)."""
        self.locks = list(locks)

    def on_trade_closed(
        self, trade: Trade, trades: Sequence[Trade], starting_cash: Decimal
    ) -> tuple[Lock, ...]:
        """The locks ``trade`` (the newest of ``trades``, every closed trade in closing
        order) sets; they are in force from now."""
        if not self.rules:
            return ()
        new: list[Lock] = []
        for rule in self.rules:
            lock = self._judge(rule, trade, trades, starting_cash)
            if lock is not None:
                new.append(lock)
        self.locks = [lock for lock in self.locks if lock.until_ms > trade.exit_ts_ms] + new
        return tuple(new)

    def _judge(
        self, rule: ProtectionRule, trade: Trade, trades: Sequence[Trade], starting_cash: Decimal
    ) -> Lock | None:
        if rule.method is ProtectionMethod.COOLDOWN:
            bars = rule.stop_duration_bars
            why = f"cooldown of {bars} bars after the exit at {utc_text(trade.exit_ts_ms)}"
            return self._lock(rule, trade.symbol, trade, f"{why} ({trade.exit_reason})")
        recent = self._recent(rule, trade, trades)
        if rule.method is ProtectionMethod.STOPLOSS_GUARD:
            return self._stoploss_guard(rule, trade, recent)
        return self._max_drawdown(rule, trade, trades, recent, starting_cash)

    def _stoploss_guard(
        self, rule: ProtectionRule, trade: Trade, recent: Sequence[Trade]
    ) -> Lock | None:
        if trade.exit_reason != STOP_LOSS_EXIT:
            return None
        per_symbol = rule.scope is LockScope.SYMBOL
        stops = [
            t
            for t in recent
            if t.exit_reason == STOP_LOSS_EXIT and (not per_symbol or t.symbol == trade.symbol)
        ]
        if len(stops) < rule.trade_limit:
            return None
        where = f" on {trade.symbol}" if per_symbol else ""
        why = f"{len(stops)} stop-losses{where} within {rule.lookback_bars} bars"
        return self._lock(rule, trade.symbol if per_symbol else ALL_SYMBOLS, trade, why)

    def _max_drawdown(
        self,
        rule: ProtectionRule,
        trade: Trade,
        trades: Sequence[Trade],
        recent: Sequence[Trade],
        starting_cash: Decimal,
    ) -> Lock | None:
        if len(recent) < rule.trade_limit:
            return None
        equity = starting_cash + self._pnl_until(trades, len(trades) - len(recent))
        peak, worst = equity, Decimal(0)
        for t in recent:
            equity += t.pnl
            peak = max(peak, equity)
            if peak > 0:
                worst = max(worst, (peak - equity) / peak)
        if worst < rule.max_drawdown_pct:
            return None
        why = (
            f"drawdown {float(worst):.2%} of realised equity over {len(recent)} trades within "
            f"{rule.lookback_bars} bars >= {float(rule.max_drawdown_pct):.2%}"
        )
        return self._lock(rule, ALL_SYMBOLS, trade, why)

    def _recent(
        self, rule: ProtectionRule, trade: Trade, trades: Sequence[Trade]
    ) -> Sequence[Trade]:
        """The trades closed within ``lookback_bars`` bars up to ``trade``'s exit."""
        since = trade.exit_ts_ms - rule.lookback_bars * self.bar_ms
        k = len(trades)
        while k > 0 and trades[k - 1].exit_ts_ms > since:
            k -= 1
        return trades[k:]

    def _pnl_until(self, trades: Sequence[Trade], end: int) -> Decimal:
        """Net PnL of ``trades[:end]``, summed once across calls (windows only move on)."""
        if end < self._summed:
            self._summed, self._pnl_before = 0, Decimal(0)
        for t in trades[self._summed : end]:
            self._pnl_before += t.pnl
        self._summed = end
        return self._pnl_before

    def _lock(self, rule: ProtectionRule, symbol: str, trade: Trade, reason: str) -> Lock:
        exit_bar = trade.exit_ts_ms - trade.exit_ts_ms % self.bar_ms
        until = exit_bar + rule.stop_duration_bars * self.bar_ms
        return Lock(symbol, until, str(rule.method), reason, trade.exit_ts_ms)
