"""Builders shared by the core tests: seeded candles, markets and a scripted test strategy.

Test-only code lives here, never in ``src``: the strategy below signals on the bar indices a
test names, so a test can place entries and exits exactly where it wants them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from tradebot.backtest.result import BacktestResult
from tradebot.backtest.runner import Backtester
from tradebot.data.frame import candles_from_arrays
from tradebot.domain.commands import PlaceOrder, Step
from tradebot.domain.decisions import HOLD, Decision, Signal, SignalAction
from tradebot.domain.events import BarClosed, Event, OrderFilled, OrderUpdated
from tradebot.domain.market import Market, timeframe_to_ms
from tradebot.domain.orders import ClientOrderId, Fill, OrderSide, OrderStatus
from tradebot.domain.portfolio import Portfolio, Position, Trade
from tradebot.exchange.simulated import FeeSchedule, SimulatedExchange
from tradebot.orchestrator.engine import TradingEngine
from tradebot.orchestrator.settings import EngineSettings
from tradebot.risk.controller import RiskController, RiskLimits
from tradebot.risk.sizing import PositionSizer, SizingMethod, SizingParams
from tradebot.risk.stops import StopLossManager, StopMethod, StopParams
from tradebot.strategy.base import Bars, IndexArray, Strategy, StrategyConfig

HOUR_MS = 3_600_000
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def make_candles(
    n_bars: int = 500,
    seed: int = 0,
    *,
    start: float = 100.0,
    volatility: float = 0.01,
    wick: float = 0.004,
    gap: float = 0.0,
    bar_ms: int = HOUR_MS,
    start_ms: int = START_MS,
) -> pd.DataFrame:
    """Seeded synthetic candles with columns ``ts_ms, open, high, low, close, volume``.

    Closes are a log-normal walk. Each open is the previous close moved by a random gap of
    scale ``gap`` (0 = no gaps), and wicks reach beyond the body by exponential amounts of
    scale ``wick``, so the OHLC relations hold on every bar.
    """
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0.0, volatility, n_bars)))
    prev = np.concatenate(([start], close[:-1]))
    open_ = prev * np.exp(rng.normal(0.0, gap, n_bars)) if gap > 0 else prev
    body_high, body_low = np.maximum(open_, close), np.minimum(open_, close)
    high = body_high * (1.0 + rng.exponential(wick, n_bars))
    low = body_low * (1.0 - rng.exponential(wick, n_bars))
    ts = start_ms + bar_ms * np.arange(n_bars, dtype=np.int64)
    volume = rng.exponential(10.0, n_bars)
    return pd.DataFrame(
        {"ts_ms": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )


def regime_candles(
    n_bars: int, seed: int, *, drift: float, volatility: float = 0.01, mean_regime_bars: int = 150
) -> pd.DataFrame:
    """Seeded candles with a planted, real edge: trends that last.

    The log return of each bar is ``±drift`` plus noise of scale ``volatility``; the sign
    (up or down regime) flips with probability ``1 / mean_regime_bars`` per bar, so a
    trend-follower that waits for a trend to show earns while it lasts.
    """
    rng = np.random.default_rng(seed)
    regime = np.cumsum(rng.random(n_bars) < 1 / mean_regime_bars) % 2
    log_returns = np.where(regime == 0, drift, -drift) + rng.normal(0.0, volatility, n_bars)
    close = 100.0 * np.exp(np.cumsum(log_returns))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * (1.0 + rng.exponential(0.003, n_bars))
    low = np.minimum(open_, close) * (1.0 - rng.exponential(0.003, n_bars))
    ts = START_MS + HOUR_MS * np.arange(n_bars, dtype=np.int64)
    volume = np.ones(n_bars)
    return pd.DataFrame(
        {"ts_ms": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )


def candles_from_rows(rows: Iterable[tuple[float, float, float, float]]) -> pd.DataFrame:
    """Hand-written ``(open, high, low, close)`` bars, one hour apart, volume 1."""
    data = np.asarray(list(rows), dtype=np.float64)
    n = len(data)
    return pd.DataFrame(
        {
            "ts_ms": START_MS + HOUR_MS * np.arange(n, dtype=np.int64),
            "open": data[:, 0],
            "high": data[:, 1],
            "low": data[:, 2],
            "close": data[:, 3],
            "volume": np.ones(n),
        }
    )


def make_market(
    symbol: str = "BTC/USDT",
    *,
    price_step: str = "0.01",
    qty_step: str = "0.00001",
    min_qty: str = "0.00001",
    min_notional: str = "5",
) -> Market:
    """A market with Binance-like BTC/USDT rules unless told otherwise."""
    base, quote = symbol.split("/")
    return Market(
        symbol,
        base,
        quote,
        Decimal(price_step),
        Decimal(qty_step),
        Decimal(min_qty),
        Decimal(min_notional),
    )


class ScriptedStrategy(Strategy):
    """BUY at the closes of ``buy_bars`` and SELL at the closes of ``sell_bars``; else HOLD.

    It announces exactly those bars as ``signal_candidates`` (so the backtester may skip
    every other bar), unless ``announce=False``, which makes the backtester ask every bar.
    """

    name: ClassVar[str] = "scripted"

    def __init__(
        self, buy_bars: Iterable[int] = (), sell_bars: Iterable[int] = (), announce: bool = True
    ) -> None:
        self.buy_bars = frozenset(int(i) for i in buy_bars)
        self.sell_bars = frozenset(int(i) for i in sell_bars)
        self.announce = announce

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """No indicators: the script is the signal."""
        return candles

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """BUY or SELL on the scripted bars, whatever the position."""
        if i in self.buy_bars:
            return Signal(SignalAction.BUY, 1.0, f"scripted buy at bar {i}")
        if i in self.sell_bars:
            return Signal(SignalAction.SELL, 1.0, f"scripted sell at bar {i}")
        return HOLD

    def get_config(self) -> StrategyConfig:
        """The script, for reports."""
        return {"buys": len(self.buy_bars), "sells": len(self.sell_bars)}

    def signal_candidates(self, bars: Bars) -> IndexArray | None:
        """Exactly the scripted bars (or None: ask every bar)."""
        if not self.announce:
            return None
        return np.asarray(sorted(self.buy_bars | self.sell_bars), dtype=np.int64)


@dataclass(slots=True)
class Recorder:
    """An observer of the real ``Backtester``: every event the engine handled, with its step.

    It keeps what the tests look at (the orders sent per bar, the refusals, the decisions)
    and calls ``after(bar, event, step)`` after each event, when the step's commands have
    been carried out, so a test can check the books after every single event.
    """

    after: Callable[[int, Event, Step], None] | None = None
    sent: list[tuple[int, PlaceOrder]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    def __call__(self, bar: int, event: Event, step: Step) -> None:
        self.sent.extend((bar, c) for c in step.commands if isinstance(c, PlaceOrder))
        if isinstance(event, OrderUpdated) and event.status is OrderStatus.REJECTED:
            self.rejected.append(event.reason)
        if step.decision is not None:
            self.decisions.append(step.decision)
        if self.after is not None:
            self.after(bar, event, step)


def drive(
    engine: TradingEngine,
    exchange: SimulatedExchange,
    candles: pd.DataFrame,
    *,
    events_at: dict[int, list[Event]] | None = None,
    after: Callable[[int, Event, Step], None] | None = None,
) -> Recorder:
    """Run the real Backtester over every bar of ``candles``; return what it recorded.

    ``events_at`` hands operator events (a kill switch) to the engine before a bar.
    """
    recorder = Recorder(after)
    Backtester(engine, exchange, every_bar=True, observer=recorder, events_at=events_at).run(
        candles
    )
    return recorder


def make_engine(
    strategy: Strategy,
    *,
    market: Market | None = None,
    cash: Decimal = Decimal(10_000),
    sizing: SizingParams | None = None,
    stops: StopParams | None = None,
    limits: RiskLimits | None = None,
    fees: FeeSchedule | None = None,
    slippage_bps: Decimal = Decimal(0),
    more: Sequence[tuple[Market, Strategy]] = (),
    **settings: Any,
) -> tuple[TradingEngine, SimulatedExchange]:
    """An engine trading ``market`` (BTC/USDT rules) and the simulated venue it trades on.

    ``settings`` go to ``EngineSettings`` (``use_limit_entries=True``...). Sizing defaults to
    a fixed 1,000 USDT notional, stops to none, so a test adds only what it is about.
    ``more`` adds symbols (market and strategy) on the same wallet and venue account.
    """
    market = market or make_market()
    fees = fees or FeeSchedule()
    settings.setdefault("fee_rate", fees.taker)
    engine = TradingEngine(
        EngineSettings(market.symbol, "1h", **settings),
        market,
        strategy,
        PositionSizer(sizing or SizingParams(method=SizingMethod.FIXED_NOTIONAL)),
        StopLossManager(stops or StopParams(method=StopMethod.NONE)),
        RiskController(limits or RiskLimits()),
        Portfolio.with_cash(cash),
        more=more,
    )
    markets = [market, *(m for m, _ in more)]
    exchange = SimulatedExchange(markets, {market.quote: cash}, fees, slippage_bps)
    return engine, exchange


def random_walk_candles(
    n: int, timeframe: str = "1m", start_ms: int = START_MS, seed: int = 7, price: float = 100.0
) -> pd.DataFrame:
    """A clean random walk at any timeframe: consistent OHLC, positive volume, no gaps."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.r_[price, close[:-1]][:n]
    high = np.maximum(open_, close) * (1 + rng.uniform(0.0, 0.0005, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0.0, 0.0005, n))
    ts = start_ms + np.arange(n, dtype=np.int64) * timeframe_to_ms(timeframe)
    return candles_from_arrays(ts, open_, high, low, close, rng.uniform(1.0, 10.0, n))


def round_trips_result(n_trades: int, t0_ms: int = 1_705_276_800_000) -> BacktestResult:
    """A 1m BTC/USDT run with a round trip every 10 bars (bought at bar 10k+1's open, sold at
    bar 10k+6's), each entry placed by a decision: a 10,000-trade report in a second."""
    n = n_trades * 10 + 10
    ts = t0_ms + np.arange(n, dtype=np.int64) * 60_000
    close = 40_000 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.001, n)))
    open_ = np.concatenate(([close[0]], close[:-1]))
    qty, cash = Decimal("0.01"), 10_000.0
    fills: list[Fill] = []
    trades: list[Trade] = []
    decisions: list[Decision] = []
    held = np.zeros(n)
    cash_at = np.full(n, cash)
    for k in range(n_trades):
        i, j = 10 * k + 1, 10 * k + 6
        buy_px, sell_px = Decimal(f"{open_[i]:.2f}"), Decimal(f"{open_[j]:.2f}")
        buy = Fill(ClientOrderId(f"b{k}"), "BTC/USDT", OrderSide.BUY, qty, buy_px, Decimal(0),
                   "BTC", int(ts[i]), f"tb{k}")  # fmt: skip
        sell = Fill(ClientOrderId(f"s{k}"), "BTC/USDT", OrderSide.SELL, qty, sell_px, Decimal(0),
                    "USDT", int(ts[j]), f"ts{k}")  # fmt: skip
        reason = f"dip {close[i - 1]:.2f} under the band"
        signal = Signal(SignalAction.BUY, 1.0, reason)
        decisions.append(
            Decision(int(ts[i - 1]), "BTC/USDT", signal, {}, None, "buy", (buy.client_order_id,))
        )
        fills += [buy, sell]
        pnl = (sell_px - buy_px) * qty
        trades.append(Trade("BTC/USDT", buy.ts_ms, sell.ts_ms, qty, buy_px, sell_px, Decimal(0),
                            pnl, "signal" if k % 3 else "stop_loss"))  # fmt: skip
        held[i:j] = float(qty)
        cash_at[i:j] = cash - float(buy_px * qty)
        cash += float(pnl)
        cash_at[j:] = cash
    return BacktestResult(
        symbol="BTC/USDT", timeframe="1m", strategy_name="dip_buyer", strategy_config={},
        starting_cash=10_000.0, ts_ms=ts, open=open_, high=np.maximum(open_, close) * 1.0005,
        low=np.minimum(open_, close) * 0.9995, close=close, equity=cash_at + held * close,
        position_qty=held, trades=trades, fills=fills, decisions=decisions, fees_paid=0.0,
    )  # fmt: skip


def bought_at(engine: TradingEngine, bars: Bars, symbol: str, bar: int, price: str) -> Fill:
    """Close ``bar`` of ``symbol`` (its strategy must buy there) and fill the buy at ``price``
    at the next bar, fee-free; return the fill the engine booked."""
    buy = engine.handle(BarClosed(symbol, int(bars.ts_ms[bar]), bar)).commands[0]
    assert isinstance(buy, PlaceOrder)
    fill = Fill(
        buy.client_order_id, symbol, OrderSide.BUY, buy.qty, Decimal(price), Decimal(0),
        "USDT", int(bars.ts_ms[bar + 1]), trade_id="1",
    )  # fmt: skip
    engine.handle(OrderFilled(fill))
    return fill
