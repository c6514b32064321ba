"""How the risk checks see the account at the close of one symbol's bar.

Equity and exposure over every held position (each symbol at its last close at or before the
bar), the deciding symbol's own position, and the value of the held positions whose returns
correlate with it. Pure reads of the engine's books; the engine calls it when it checks an
order, never on a bar where nothing is proposed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradebot.domain.decisions import KillSwitch
from tradebot.domain.market import decimal_from_float
from tradebot.execution.positions import PositionManager
from tradebot.orchestrator.books import SymbolBook
from tradebot.risk.controller import RiskLimits, RiskState
from tradebot.risk.correlation import rolling_correlation

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class AccountParts:
    """What the valuation reads: every symbol's book, the positions, the limits."""

    books: dict[str, SymbolBook]
    positions: PositionManager
    limits: RiskLimits

    def equity_at(self, book: SymbolBook, ts: int, close: float) -> float:
        """The account's equity at the close of ``book``'s bar ``ts``, as a decision records
        it: the cash and every holding (dust included) at its mark, not the deciding
        symbol's alone."""
        portfolio = self.positions.portfolio
        total = float(portfolio.cash)
        for symbol, position in portfolio.positions.items():
            if not position.qty:
                continue
            mark = close if symbol == book.symbol else self.books[symbol].mark_at(ts)
            total += float(position.qty) * (float(position.avg_price) if mark is None else mark)
        return total


def marks_at(parts: AccountParts, book: SymbolBook, ts: int, close: Decimal) -> dict[str, Decimal]:
    """Each held symbol's price at the close of bar ``ts``: this symbol's close, the
    others' last close at or before it (their bars close at the same moment)."""
    marks = {book.symbol: close}
    for symbol, position in parts.positions.portfolio.positions.items():
        if symbol in marks or not position.qty:
            continue
        mark = parts.books[symbol].mark_at(ts)
        marks[symbol] = position.avg_price if mark is None else decimal_from_float(mark)
    return marks


def account_risk_state(
    book: SymbolBook,
    ts: int,
    close: Decimal,
    parts: AccountParts,
    day_start_equity: Decimal,
    kill_switch: KillSwitch,
) -> RiskState:
    """Equity and exposure over every position, this symbol's position on its own."""
    positions = parts.positions
    portfolio = positions.portfolio
    marks: dict[str, Decimal] = {}
    if not portfolio.positions:
        equity, exposure, position_notional = portfolio.cash, ZERO, ZERO
    else:
        marks = marks_at(parts, book, ts, close)
        equity = portfolio.equity(marks)
        exposure = ZERO
        for symbol in marks:
            if not positions.is_flat(symbol):
                exposure += portfolio.positions[symbol].qty * marks[symbol]
        position_notional = (
            ZERO if positions.is_flat(book.symbol) else portfolio.positions[book.symbol].qty * close
        )
    correlated_exposure = ZERO
    correlated_with: tuple[tuple[str, float], ...] = ()
    if parts.limits.max_correlated_exposure is not None and exposure:
        correlated_exposure, correlated_with = _correlated(parts, book, ts, marks)
    return RiskState(
        equity=equity,
        exposure=exposure,
        position_notional=position_notional,
        open_positions=positions.open_positions(),
        day_start_equity=day_start_equity,
        kill_switch=kill_switch,
        correlated_exposure=correlated_exposure,
        correlated_with=correlated_with,
    )


def _correlated(
    parts: AccountParts, book: SymbolBook, ts: int, marks: dict[str, Decimal]
) -> tuple[Decimal, tuple[tuple[str, float], ...]]:
    """The held positions (all long: spot) whose returns correlate with ``book``'s above
    the threshold, up to bar ``ts``: their value at the marks, and who they are."""
    limits = parts.limits
    mine = (book.bars.ts_ms, book.bars["close"])
    value, peers = ZERO, []
    for symbol, mark in marks.items():
        if symbol == book.symbol or parts.positions.is_flat(symbol):
            continue
        other = parts.books[symbol].bars
        corr = rolling_correlation(
            mine, (other.ts_ms, other["close"]), ts, limits.correlation_window
        )
        if corr is not None and corr > limits.correlation_threshold:
            value += parts.positions.portfolio.positions[symbol].qty * mark
            peers.append((symbol, round(corr, 4)))
    return value, tuple(peers)


def value_at_day_start(books: Mapping[str, SymbolBook], cash: Decimal, last_open: int) -> Decimal:
    """The account at the close of the bar opened at ``last_open`` (the previous day's last):
    ``cash`` plus what each symbol held then at its own last close."""
    equity = cash
    for book in books.values():
        if book.last_qty:
            ts = book.bars.ts_ms
            boundary = int(np.searchsorted(ts, last_open, side="right")) - 1
            equity += book.last_qty * decimal_from_float(book.bars["close"][max(boundary, 0)])
    return equity
