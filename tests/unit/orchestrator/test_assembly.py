"""build_engine: each config setting reaches the engine part that uses it."""

from __future__ import annotations

from decimal import Decimal

from factories import make_market
from tradebot.config import load_config, with_overrides
from tradebot.domain.portfolio import Portfolio
from tradebot.orchestrator.assembly import build_engine
from tradebot.orchestrator.settings import LimitTimeoutAction
from tradebot.risk.controller import KillSwitch
from tradebot.risk.sizing import SizingMethod
from tradebot.risk.stops import StopMethod, TakeProfitMethod

D = Decimal


def test_build_engine_default_config_wires_defaults() -> None:
    engine = build_engine(load_config(None), make_market(), Portfolio.with_cash(D(10_000)))

    assert (engine.symbol, engine.settings.timeframe, engine.bar_ms) == (
        "BTC/USDT",
        "1h",
        3_600_000,
    )
    assert engine.strategy.name == "ema_crossover"
    assert engine.sizer.params.method is SizingMethod.FIXED_FRACTIONAL
    assert engine.sizer.params.risk_per_trade == D("0.02")
    assert (engine.stops.params.method, engine.stops.params.atr_multiplier) == (
        StopMethod.ATR,
        D(2),
    )
    assert engine.risk.limits.max_position_size == D(1000)
    assert engine.risk.limits.max_daily_loss == D(500)
    assert engine.kill_switch is KillSwitch.ACTIVE
    assert engine.settings.fee_rate == D("0.001")
    assert not engine.settings.use_limit_entries


def test_build_engine_overrides_reach_sizing_stops_limits_and_execution() -> None:
    config = with_overrides(
        load_config(None),
        {
            "strategy.name": "breakout",
            "risk.position_sizing_method": "kelly",
            "risk.kelly_fraction_cap": 0.1,
            "risk.stop_loss_method": "trailing_pct",
            "risk.stop_loss_pct": 0.03,
            "risk.take_profit_method": "r_multiple",
            "risk.take_profit_r": 3.0,
            "risk.max_position_size": 2500,
            "risk.max_portfolio_exposure": 2500,
            "risk.kill_switch": "reducing",
            "execution.order_type": "limit",
            "execution.limit_offset_bps": 5,
            "execution.limit_timeout_s": 120,
            "execution.on_limit_timeout": "market",
            "backtest.fee_rate": 0.00075,
        },
        "test",
    )

    engine = build_engine(config, make_market(), Portfolio.with_cash(D(10_000)), id_prefix="x")

    assert engine.strategy.name == "breakout"
    assert engine.sizer.params.method is SizingMethod.KELLY
    assert engine.sizer.params.kelly_fraction_cap == D("0.1")
    assert engine.sizer.params.max_position_size == D(2500)
    assert engine.stops.params.method is StopMethod.TRAILING_PCT
    assert engine.stops.params.pct == D("0.03")
    assert engine.stops.params.take_profit is TakeProfitMethod.R_MULTIPLE
    assert engine.stops.params.take_profit_r == D(3)
    assert engine.risk.limits.max_portfolio_exposure == D(2500)
    assert engine.kill_switch is KillSwitch.REDUCING
    settings = engine.settings
    assert settings.use_limit_entries
    assert (settings.limit_offset_bps, settings.limit_timeout_ms) == (D(5), 120_000)
    assert settings.on_limit_timeout is LimitTimeoutAction.MARKET
    assert settings.fee_rate == D("0.00075")
    assert settings.id_prefix == "x"
