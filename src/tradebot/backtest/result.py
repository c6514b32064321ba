"""What a backtest produces: the inputs to metrics and reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from tradebot.domain.decisions import Decision, MetadataValue
from tradebot.domain.orders import Fill, OrderStatus
from tradebot.domain.portfolio import Trade

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Leg:
    """One symbol of a basket on the basket's timeline (``BacktestResult.ts_ms``).

    ``close`` is the symbol's last close known at each timestamp (NaN before its data
    starts); ``high`` and ``low`` are its bar's at that timestamp (NaN where it had none);
    ``value`` is what the account held of it at each close, in the quote currency, and
    ``exposed`` whether that was a position (more than the dust fees leave).
    """

    close: FloatArray
    high: FloatArray
    low: FloatArray
    value: FloatArray
    exposed: BoolArray

    def from_bar(self, start: int) -> Leg:
        """The same from timeline index ``start`` on."""
        return Leg(
            self.close[start:],
            self.high[start:],
            self.low[start:],
            self.value[start:],
            self.exposed[start:],
        )


def basket_prices(legs: Mapping[str, Leg], first_open: Mapping[str, float]) -> FloatArray:
    """The equal-weight buy-and-hold basket from 1: each symbol's close over the open of its
    first bar, its share held as cash (1) until its data starts (its close is NaN there)."""
    basket = np.zeros(len(next(iter(legs.values())).close), dtype=np.float64)
    for symbol, leg in legs.items():
        basket += np.where(np.isnan(leg.close), 1.0, leg.close / first_open[symbol])
    return basket / len(legs)


def union_of_times(times: list[IntArray]) -> IntArray:
    """Every bar time of ``times`` (each sorted) once, sorted: a basket's timeline.

    Markets whose bars are runs of one bar length on one grid, with no time between them
    that none has (every market of ``../shared/data``), cover a range: made as one, no sort
    (the sort merging the eight 5m files was 74 M instructions, about 1 % of the basket's
    run). Anything else is sorted: a stable sort, which merges the joined runs as the runs
    they are, and a mask (``np.unique`` hashes first: 0.2 s of CPU on the eight 5m files).
    """
    grid = _grid_of(times)
    if grid is not None:
        return grid
    joined = np.sort(np.concatenate(times), kind="stable")
    keep = np.ones(len(joined), dtype=bool)
    np.not_equal(joined[1:], joined[:-1], out=keep[1:])
    return joined[keep]


def _grid_of(times: list[IntArray]) -> IntArray | None:
    """The union of ``times`` when each is a run of one bar length, all on one grid, and
    together they leave no time out between the first and the last (None: otherwise)."""
    present = sorted((t for t in times if len(t)), key=lambda t: int(t[0]))
    if not present or len(present[0]) < 2:
        return None
    start = int(present[0][0])
    step = int(present[0][1]) - start
    end = start - step  # the last time covered so far
    for t in present:
        first, last = int(t[0]), int(t[-1])
        if (
            step <= 0
            or (first - start) % step
            or first > end + step
            or last - first != (len(t) - 1) * step
            or not np.all(np.diff(t) == step)
        ):
            return None
        end = max(end, last)
    return np.arange(start, end + step, step, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class RefusedOrder:
    """An order the venue refused when it was sent, or expired unfilled at the next open
    (a market buy the cash no longer covers there): nothing of it traded."""

    ts_ms: int
    symbol: str
    client_order_id: str
    side: str
    type: str
    qty: Decimal
    status: OrderStatus
    """REJECTED (refused when sent) or EXPIRED (refused at the fill)."""
    reason: str


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """A finished backtest of one symbol.

    Arrays are per bar, aligned with ``ts_ms`` (bar open times, UTC ms). ``equity`` is
    marked at each bar's close; ``position_qty`` is the base amount held at that close.
    ``indicators`` are the strategy's columns per bar (a single symbol's run); ``legs`` are a
    basket's symbols, each on the basket's timeline. ``mode`` says what traded: a
    ``backtest``, or a ``paper`` or ``live`` session read back from its database.
    """

    symbol: str
    timeframe: str
    strategy_name: str
    strategy_config: Mapping[str, MetadataValue]
    starting_cash: float
    ts_ms: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    equity: FloatArray
    position_qty: FloatArray
    trades: list[Trade]
    fills: Sequence[Fill]
    decisions: Sequence[Decision]
    fees_paid: float
    refused: tuple[RefusedOrder, ...] = ()
    settings: Mapping[str, MetadataValue] = field(default_factory=dict)
    indicators: Mapping[str, FloatArray] = field(default_factory=dict)
    legs: Mapping[str, Leg] = field(default_factory=dict)
    mode: str = "backtest"

    @property
    def rejected_orders(self) -> int:
        """Orders refused or expired by the venue (``refused``)."""
        return len(self.refused)

    @property
    def n_bars(self) -> int:
        """Number of bars simulated."""
        return len(self.ts_ms)

    @property
    def final_equity(self) -> float:
        """Equity at the last bar's close."""
        return float(self.equity[-1]) if len(self.equity) else self.starting_cash

    def from_bar(self, start: int) -> BacktestResult:
        """The result from bar ``start`` on, for a run whose earlier bars only warmed the
        indicators up: metrics and charts then cover the traded period alone (nothing
        trades before ``start``, so trades, fills and decisions are all kept)."""
        if start == 0:
            return self
        return replace(
            self,
            ts_ms=self.ts_ms[start:],
            open=self.open[start:],
            high=self.high[start:],
            low=self.low[start:],
            close=self.close[start:],
            equity=self.equity[start:],
            position_qty=self.position_qty[start:],
            indicators={k: v[start:] for k, v in self.indicators.items()},
            legs={k: v.from_bar(start) for k, v in self.legs.items()},
        )
