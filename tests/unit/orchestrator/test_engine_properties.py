"""Properties of random backtests, checked after every single event.

(a) The ledger adds up: ``portfolio.ledger_error(marks) == 0`` (to Decimal's precision) and
    the venue's balances equal the engine's cash and holding, after every fill, order update
    and bar close.
(b) No order breaks a risk limit: every entry is within ``max_position_size`` and the exposure
    limit, and none is sent while the daily loss limit is reached or the kill switch is not
    ACTIVE.

Random here means seeded candles, a strategy buying and selling on random bars, random fee
rates, slippage, sizing, stop and take-profit methods, entry order types and kill switches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import hypothesis.strategies as st
import pandas as pd
from hypothesis import HealthCheck, given, settings

from factories import (
    ScriptedStrategy,
    drive,
    make_candles,
    make_engine,
    make_market,
)
from tradebot.domain.commands import Step
from tradebot.domain.events import BarClosed, Event, KillSwitchSet, OrderFilled
from tradebot.domain.market import Market, decimal_from_float
from tradebot.domain.orders import OrderSide
from tradebot.exchange.simulated import FeeSchedule, SimulatedExchange
from tradebot.execution.router import OrderRole, role_of
from tradebot.orchestrator.engine import TradingEngine
from tradebot.orchestrator.settings import LimitTimeoutAction
from tradebot.risk.controller import KillSwitch, RiskLimits
from tradebot.risk.sizing import SizingMethod, SizingParams
from tradebot.risk.stops import StopMethod, StopParams, TakeProfitMethod

D = Decimal
H = 3_600_000
DAY_MS = 86_400_000
EXACT = D("1e-18")
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
MARKETS = {
    40_000.0: make_market(),
    100.0: make_market(qty_step="0.001", min_qty="0.001"),
}


@dataclass(frozen=True)
class Scenario:
    """One random backtest."""

    seed: int
    n_bars: int
    start: float
    volatility: float
    gap: float
    buys: frozenset[int]
    sells: frozenset[int]
    fees: FeeSchedule
    slippage_bps: Decimal
    sizing: SizingParams
    stops: StopParams
    limits: RiskLimits
    cash: Decimal
    limit_entries: bool
    timeout: LimitTimeoutAction
    kill_at: dict[int, KillSwitch] = field(default_factory=dict)

    def build(self) -> tuple[TradingEngine, SimulatedExchange]:
        return make_engine(
            ScriptedStrategy(self.buys, self.sells),
            market=MARKETS[self.start],
            cash=self.cash,
            sizing=self.sizing,
            stops=self.stops,
            limits=self.limits,
            fees=self.fees,
            slippage_bps=self.slippage_bps,
            use_limit_entries=self.limit_entries,
            limit_offset_bps=D(10),
            limit_timeout_ms=2 * H,
            on_limit_timeout=self.timeout,
        )


def rates(*values: str) -> st.SearchStrategy[Decimal]:
    return st.sampled_from([D(v) for v in values])


@st.composite
def scenarios(draw: st.DrawFn, timeouts: tuple[LimitTimeoutAction, ...]) -> Scenario:
    n_bars = draw(st.integers(80, 200))
    bar = st.integers(0, n_bars - 1)
    stop = draw(st.sampled_from(list(StopMethod)))
    take_profit = draw(st.sampled_from(list(TakeProfitMethod)))
    max_position = draw(rates("300", "1000", "4000"))
    return Scenario(
        seed=draw(st.integers(0, 2**16)),
        n_bars=n_bars,
        start=draw(st.sampled_from(sorted(MARKETS))),
        volatility=draw(st.sampled_from([0.004, 0.015, 0.03])),
        gap=draw(st.sampled_from([0.0, 0.003])),
        buys=frozenset(draw(st.lists(bar, min_size=5, max_size=40))),
        sells=frozenset(draw(st.lists(bar, max_size=20))),
        fees=FeeSchedule(draw(rates("0", "0.0002", "0.001")), draw(rates("0", "0.001", "0.0075"))),
        slippage_bps=draw(rates("0", "3", "25.5")),
        sizing=SizingParams(
            method=draw(st.sampled_from(list(SizingMethod))),
            max_position_size=draw(rates("500", "1000", "5000")),
            kelly_min_trades=3,
        ),
        stops=StopParams(
            method=stop,
            pct=draw(rates("0.005", "0.02")),
            atr_multiplier=draw(rates("0.5", "2")),
            take_profit=take_profit,
            take_profit_pct=draw(rates("0.01", "0.04")),
            take_profit_r=draw(rates("1", "2.5")),
        ),
        limits=RiskLimits(
            max_position_size=max_position,
            max_portfolio_exposure=max_position * draw(rates("0.5", "1", "3")),
            max_daily_loss=draw(rates("5", "30", "500")),
        ),
        cash=draw(rates("10000", "10000", "1500", "7")),
        limit_entries=draw(st.booleans()),
        timeout=draw(st.sampled_from(timeouts)),
        kill_at=draw(st.dictionaries(bar, st.sampled_from(list(KillSwitch)), max_size=3)),
    )


def candles_of(s: Scenario) -> pd.DataFrame:
    return make_candles(s.n_bars, s.seed, start=s.start, volatility=s.volatility, gap=s.gap)


def assert_books_agree(engine: TradingEngine, exchange: SimulatedExchange, mark: Decimal) -> None:
    market: Market = engine.market
    portfolio = engine.portfolio
    assert abs(portfolio.ledger_error({market.symbol: mark})) <= EXACT
    assert abs(portfolio.ledger_error({market.symbol: mark * 3 + 1})) <= EXACT
    balances = exchange.balances()
    pos = portfolio.position(market.symbol)
    assert balances[market.quote].total == portfolio.cash
    held = balances[market.base].total if market.base in balances else D(0)
    assert held == (pos.qty if pos else D(0))


@PROPERTY
@given(scenarios(timeouts=tuple(LimitTimeoutAction)))
def test_ledger_random_backtest_adds_up_after_every_event(scenario: Scenario) -> None:
    # Arrange
    candles = candles_of(scenario)
    close = [decimal_from_float(c) for c in candles["close"]]
    engine, exchange = scenario.build()
    checked: list[Event] = []

    def check(bar: int, event: Event, _: Step) -> None:
        assert_books_agree(engine, exchange, close[bar])
        checked.append(event)

    # Act
    drive(engine, exchange, candles, events_at=kill_switches(scenario), after=check)

    # Assert
    assert sum(isinstance(e, BarClosed) for e in checked) == scenario.n_bars
    assert len(exchange.fills()) == sum(isinstance(e, OrderFilled) for e in checked)


def kill_switches(scenario: Scenario) -> dict[int, list[Event]]:
    return {i: [KillSwitchSet(level)] for i, level in scenario.kill_at.items()}


@PROPERTY
@given(scenarios(timeouts=(LimitTimeoutAction.CANCEL,)))
def test_risk_random_backtest_never_sends_an_entry_that_breaks_a_limit(scenario: Scenario) -> None:
    # Arrange
    candles = candles_of(scenario)
    close = [decimal_from_float(c) for c in candles["close"]]
    ts = candles["ts_ms"].tolist()
    engine, exchange = scenario.build()
    equity_at_close: list[Decimal] = []
    kill: list[KillSwitch] = []

    def record(bar: int, event: Event, _: Step) -> None:
        if isinstance(event, BarClosed):
            pos = engine.portfolio.position(engine.symbol)
            qty = pos.qty if pos else D(0)
            equity_at_close.append(engine.portfolio.cash + qty * close[bar])
            kill.append(engine.kill_switch)

    # Act
    driver = drive(engine, exchange, candles, events_at=kill_switches(scenario), after=record)

    # Assert
    limits = scenario.limits
    day_start = day_start_equity(ts, equity_at_close, scenario.cash)
    for i, cmd in driver.sent:
        if role_of(cmd.client_order_id) is not OrderRole.ENTRY:
            assert cmd.side is OrderSide.SELL
            continue
        notional = cmd.qty * (cmd.price if cmd.price is not None else close[i])
        assert notional <= limits.max_position_size
        assert notional <= limits.max_portfolio_exposure
        assert equity_at_close[i] - day_start[i] > -limits.max_daily_loss
        assert kill[i] is KillSwitch.ACTIVE
    for decision in driver.decisions:
        if decision.action == "rejected":
            assert decision.verdict is not None
            assert decision.verdict.reasons


def day_start_equity(ts: list[int], equity: list[Decimal], cash: Decimal) -> list[Decimal]:
    """Equity at the last close of the previous UTC day (a bar's day is the day it closes)."""
    starts: list[Decimal] = []
    start, day = cash, None
    for i, t in enumerate(ts):
        bar_day = (t + H - 1) // DAY_MS
        if day is not None and bar_day != day:
            start = equity[i - 1]
        day = bar_day
        starts.append(start)
    return starts
