"""TradingEngine: signals become orders at the next open, risk refuses with reasons, stops guard.

The engine is driven by the real Backtester (every bar, observed through ``drive``) against
the real SimulatedExchange, with a scripted strategy that signals on chosen bars.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from factories import (
    ScriptedStrategy,
    candles_from_rows,
    drive,
    make_candles,
    make_engine,
)
from tradebot.backtest.result import BacktestResult
from tradebot.backtest.runner import Backtester
from tradebot.domain.commands import CancelOrder, PlaceOrder, Step
from tradebot.domain.events import BarClosed, Event, KillSwitchSet
from tradebot.domain.market import decimal_from_float
from tradebot.domain.orders import OrderSide, OrderType
from tradebot.exchange.simulated import FeeSchedule, SimulatedExchange
from tradebot.execution.router import OrderRole, role_of
from tradebot.orchestrator.engine import TradingEngine
from tradebot.orchestrator.settings import LimitTimeoutAction
from tradebot.risk.controller import KillSwitch, RiskLimits
from tradebot.risk.stops import StopMethod, StopParams, TakeProfitMethod

D = Decimal
H = 3_600_000
FLAT = [(100.0, 100.5, 99.5, 100.0)] * 40
NO_FEES = FeeSchedule(D(0), D(0))


def backtest(
    engine_and_exchange: tuple[TradingEngine, SimulatedExchange], candles: pd.DataFrame
) -> BacktestResult:
    engine, exchange = engine_and_exchange
    return Backtester(engine, exchange, every_bar=True).run(candles)


def test_on_bar_closed_signal_fills_at_next_bar_open() -> None:
    # Arrange
    candles = make_candles(40, seed=3, start=40_000.0, gap=0.002)
    engine, exchange = make_engine(ScriptedStrategy([5], [12]), fees=NO_FEES)

    # Act
    result = Backtester(engine, exchange).run(candles)

    # Assert
    (trade,) = result.trades
    tick = engine.market.round_price
    assert trade.entry_ts_ms == candles["ts_ms"][6]
    assert trade.entry_price == tick(decimal_from_float(candles["open"][6]))
    assert trade.exit_ts_ms == candles["ts_ms"][13]
    assert trade.exit_price == tick(decimal_from_float(candles["open"][13]))
    assert trade.exit_reason == "signal"


def test_on_fill_entry_filled_places_stop_below_fill_price() -> None:
    engine, exchange = make_engine(
        ScriptedStrategy([3]), stops=StopParams(method=StopMethod.FIXED_PCT, pct=D("0.05"))
    )

    drive(engine, exchange, candles_from_rows(FLAT[:6]))

    (stop,) = exchange.open_orders()
    assert (stop.type, stop.side, stop.stop_price) == (OrderType.STOP_LOSS, OrderSide.SELL, D(95))
    assert stop.qty == engine.view.sellable_qty("BTC/USDT")


def test_on_bar_closed_kill_switch_halted_refuses_entry_with_reason() -> None:
    engine, _ = make_engine(ScriptedStrategy([3]))
    engine.handle(KillSwitchSet(KillSwitch.HALTED))
    bars = engine.prepare(candles_from_rows(FLAT[:5]))

    step = engine.handle(BarClosed("BTC/USDT", int(bars.ts_ms[3]), 3))

    decision = step.decision
    assert step.commands == ()
    assert decision is not None
    assert decision.action == "rejected"
    assert decision.verdict is not None
    assert decision.verdict.reasons == ("kill switch HALTED: no orders are sent",)


def test_on_bar_closed_kill_switch_reducing_still_exits_but_never_enters() -> None:
    engine, exchange = make_engine(ScriptedStrategy([2, 12], [8]))
    reduce_from_bar_5: dict[int, list[Event]] = {5: [KillSwitchSet(KillSwitch.REDUCING)]}

    driver = drive(engine, exchange, candles_from_rows(FLAT[:20]), events_at=reduce_from_bar_5)

    roles = [(bar, role_of(cmd.client_order_id)) for bar, cmd in driver.sent]
    assert roles == [(2, OrderRole.ENTRY), (8, OrderRole.EXIT)]
    assert [t.exit_reason for t in engine.trades] == ["signal"]


def test_on_bar_closed_daily_loss_reached_refuses_entries_until_next_day() -> None:
    # Bought at 100, sold at 90: a 100 USDT loss against a 50 USDT daily limit.
    rows = [*FLAT[:3], (100.0, 100.0, 90.0, 90.0), *[(90.0, 90.5, 89.5, 90.0)] * 36]
    engine, exchange = make_engine(
        ScriptedStrategy([1, 6, 30], [3]), limits=RiskLimits(max_daily_loss=D(50)), fees=NO_FEES
    )

    result = Backtester(engine, exchange).run(candles_from_rows(rows))

    refused = [d for d in result.decisions if d.action == "rejected"]
    assert [d.ts_ms for d in refused] == [int(result.ts_ms[6])]
    assert refused[0].verdict is not None
    assert refused[0].verdict.reasons == ("daily PnL -100.00; loss limit 50 reached",)
    assert [t.entry_ts_ms for t in result.trades] == [int(result.ts_ms[2])]
    assert engine.view.is_flat("BTC/USDT") is False  # bar 30 is a new UTC day: bought


def test_on_bar_closed_entry_above_position_limit_is_refused_with_reason() -> None:
    engine, exchange = make_engine(ScriptedStrategy([3]), limits=RiskLimits(D(500)))

    result = backtest((engine, exchange), candles_from_rows(FLAT[:6]))

    (decision,) = result.decisions
    assert decision.verdict is not None
    assert decision.verdict.reasons == ("position 1000.00 > limit 500",)
    assert result.fills == []


def test_on_bar_closed_entry_below_min_notional_is_skipped_with_market_reason() -> None:
    engine, exchange = make_engine(ScriptedStrategy([3]), cash=D(4))

    result = backtest((engine, exchange), candles_from_rows(FLAT[:6]))

    (decision,) = result.decisions
    assert decision.action == "skip"
    assert decision.verdict is not None
    # 4 USDT less the 1 % cash buffer and the fee: 3.956
    assert decision.verdict.reasons[0].startswith("BTC/USDT: notional 3.95")
    assert decision.verdict.reasons[0].endswith("is below the minimum notional 5 USDT")


def test_on_bar_closed_exit_signal_cancels_stop_then_sells() -> None:
    engine, exchange = make_engine(
        ScriptedStrategy([2], [6]), stops=StopParams(method=StopMethod.FIXED_PCT)
    )
    drive(engine, exchange, candles_from_rows(FLAT[:6]))
    bars = engine.prepare(candles_from_rows(FLAT[:10]))

    commands = engine.handle(BarClosed("BTC/USDT", int(bars.ts_ms[6]), 6)).commands

    assert [type(c) for c in commands] == [CancelOrder, PlaceOrder]
    assert role_of(commands[0].client_order_id) is OrderRole.STOP_LOSS
    assert isinstance(commands[1], PlaceOrder)
    assert (commands[1].side, commands[1].qty) == (OrderSide.SELL, D("9.99000"))


def test_trade_bar_stop_hit_closes_trade_at_stop_price() -> None:
    rows = [*FLAT[:4], (100.0, 100.0, 94.0, 95.0), *FLAT[:3]]
    engine, exchange = make_engine(
        ScriptedStrategy([1]), stops=StopParams(method=StopMethod.FIXED_PCT, pct=D("0.02"))
    )

    result = backtest((engine, exchange), candles_from_rows(rows))

    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_price, trade.exit_ts_ms) == (
        "stop_loss",
        D(98),
        int(result.ts_ms[4]),
    )
    assert exchange.open_orders() == []


def test_on_bar_closed_trailing_stop_only_moves_up() -> None:
    closes = [100, 100, 100, 104, 108, 106, 103, 112, 111]
    rows = [(c, c + 0.5, c - 0.5, c) for c in closes]
    engine, exchange = make_engine(
        ScriptedStrategy([1]), stops=StopParams(method=StopMethod.TRAILING_PCT, pct=D("0.10"))
    )
    stops: list[Decimal] = []

    def watch(_: int, event: Event, __: Step) -> None:
        if isinstance(event, BarClosed):
            stops.extend(o.stop_price for o in exchange.open_orders() if o.stop_price)

    drive(engine, exchange, candles_from_rows(rows), after=watch)

    # Checked after the closes of bars 2..8: 104 → 93.60, 108 → 97.20, 112 → 100.80.
    assert stops == [D(90), D("93.60"), *[D("97.20")] * 3, D("100.80"), D("100.80")]


def test_on_fill_take_profit_hit_cancels_stop_and_books_take_profit() -> None:
    rows = [*FLAT[:4], (100.0, 104.5, 99.5, 104.0), *FLAT[:3]]
    engine, exchange = make_engine(
        ScriptedStrategy([1]),
        stops=StopParams(
            method=StopMethod.FIXED_PCT,
            pct=D("0.02"),
            take_profit=TakeProfitMethod.R_MULTIPLE,
            take_profit_r=D(2),
        ),
    )

    result = backtest((engine, exchange), candles_from_rows(rows))

    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_price) == ("take_profit", D(104))
    assert exchange.open_orders() == []
    assert engine.view.open_orders() == []


OCO_STOPS = StopParams(
    method=StopMethod.FIXED_PCT,
    pct=D("0.10"),
    take_profit=TakeProfitMethod.PCT,
    take_profit_pct=D("0.10"),
)


def test_on_bar_closed_second_exit_signal_with_stop_and_target_sells() -> None:
    engine, exchange = make_engine(ScriptedStrategy([2, 10], [6, 14]), stops=OCO_STOPS)

    result = backtest((engine, exchange), candles_from_rows(FLAT[:20]))

    assert [t.exit_reason for t in result.trades] == ["signal", "signal"]
    assert result.rejected_orders == 0
    assert engine.view.open_orders() == []


def test_on_bar_closed_trailing_stop_with_target_keeps_trailing() -> None:
    closes = [100, 100, 100, 102, 104, 106, 108, 110]
    rows = [(c, c + 0.5, c - 0.5, c) for c in closes]
    stops = StopParams(
        method=StopMethod.TRAILING_PCT,
        pct=D("0.10"),
        take_profit=TakeProfitMethod.PCT,
        take_profit_pct=D("0.50"),
    )
    engine, exchange = make_engine(ScriptedStrategy([1]), stops=stops)

    driver = drive(engine, exchange, candles_from_rows(rows))

    stop_prices = [o.stop_price for o in exchange.open_orders() if o.stop_price]
    assert stop_prices == [D(99)]
    assert driver.rejected == []


def test_on_bar_closed_limit_entry_repriced_while_halted_is_not_sent() -> None:
    engine, exchange = make_engine(
        ScriptedStrategy([3]),
        use_limit_entries=True,
        limit_offset_bps=D(100),
        limit_timeout_ms=H,
        on_limit_timeout=LimitTimeoutAction.REPRICE,
    )

    halt_after_entry: dict[int, list[Event]] = {4: [KillSwitchSet(KillSwitch.HALTED)]}

    driver = drive(engine, exchange, candles_from_rows(FLAT[:8]), events_at=halt_after_entry)

    entries = [bar for bar, cmd in driver.sent if role_of(cmd.client_order_id) is OrderRole.ENTRY]
    assert entries == [3]


def test_on_bar_closed_limit_entry_filled_at_limit_price() -> None:
    rows = [*FLAT[:5], (100.0, 100.2, 98.5, 99.5), *FLAT[:3]]
    engine, exchange = make_engine(
        ScriptedStrategy([3]),
        use_limit_entries=True,
        limit_offset_bps=D(100),
        limit_timeout_ms=3 * H,
    )

    result = backtest((engine, exchange), candles_from_rows(rows))

    (fill,) = result.fills
    assert (fill.price, fill.ts_ms, fill.side) == (D(99), int(result.ts_ms[5]), OrderSide.BUY)
