"""Build a TradingEngine from the validated config: the one place settings become objects.

Backtest, paper and live all call ``build_engine``, so a setting means the same thing in
every mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from tradebot.config import Config
from tradebot.config.protections import ProtectionConfig
from tradebot.domain.errors import ConfigError
from tradebot.domain.events import KillSwitchSet
from tradebot.domain.market import Market, timeframe_to_ms
from tradebot.domain.portfolio import Portfolio
from tradebot.orchestrator.engine import TradingEngine
from tradebot.orchestrator.settings import EngineSettings, LimitTimeoutAction
from tradebot.orchestrator.strategies import strategy_from_spec
from tradebot.risk.allocation import AllocationMethod, AllocationParams, CapitalAllocator
from tradebot.risk.controller import KillSwitch, RiskController, RiskLimits
from tradebot.risk.protections import LockScope, ProtectionMethod, ProtectionRule, Protections
from tradebot.risk.sizing import PositionSizer, SizingMethod, SizingParams
from tradebot.risk.stops import StopLossManager, StopMethod, StopParams, TakeProfitMethod
from tradebot.strategy.base import Strategy

if TYPE_CHECKING:  # recovery reads the database: a backtest never loads SQLAlchemy for it
    from tradebot.orchestrator.recovery import EngineFactory


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))


def build_strategy(config: Config, symbol: str | None = None) -> Strategy:
    """The strategy configured for ``symbol`` (default: the first one traded), with its
    parameters: a symbol's override (``strategy.symbols``) or ``strategy``.

    Raises:
        ConfigError: the strategy, a member or a parameter cannot be built; the message
            names the config key.
    """
    symbol = symbol or config.trading.all_symbols[0]
    overridden = symbol in config.strategy.symbols
    key = f"strategy.symbols.{symbol}" if overridden else "strategy"
    return strategy_from_spec(config.strategy.for_symbol(symbol), key)


def check_overrides(config: Config, symbols: Sequence[str]) -> None:
    """Refuse a per-symbol strategy for a symbol that is not traded (it would be ignored).

    Raises:
        ConfigError: ``strategy.symbols`` names a symbol not in ``symbols``.
    """
    unknown = [s for s in config.strategy.symbols if s not in symbols]
    if unknown:
        raise ConfigError(
            f"strategy.symbols gives {', '.join(unknown)} a strategy, but only "
            f"{', '.join(symbols)} are traded: add them to trading.symbols or remove the override"
        )


def protection_rule(config: ProtectionConfig) -> ProtectionRule:
    """One ``risk.protections`` entry as the rule the engine applies."""
    method = ProtectionMethod(config.method)
    rule = ProtectionRule(method, config.stop_duration_bars)
    if config.method == "stoploss_guard":
        scope = LockScope(config.scope)
        return replace(rule, lookback_bars=config.lookback_bars, trade_limit=config.trade_limit,
                       scope=scope)  # fmt: skip
    if config.method == "max_drawdown":
        return replace(rule, lookback_bars=config.lookback_bars, trade_limit=config.trade_limit,
                       max_drawdown_pct=_dec(config.max_drawdown_pct))  # fmt: skip
    return rule


def build_allocator(config: Config, symbols: Sequence[str]) -> CapitalAllocator | None:
    """``risk.allocation`` for ``symbols`` (None when every symbol may use the whole account).

    Raises:
        ConfigError: fixed weights or caps that name other symbols than those traded.
    """
    allocation = config.risk.allocation
    if not allocation.is_active:
        return None
    params = AllocationParams(
        AllocationMethod(allocation.method),
        allocation.weights,
        allocation.window,
        allocation.max_weight,
        allocation.caps,
    )
    try:
        return CapitalAllocator(params, symbols)
    except ValueError as exc:
        raise ConfigError(f"`risk.allocation`: {exc}") from exc


def starting_portfolio(config: Config) -> Portfolio:
    """The backtest's account: each venue's ``starting_cash`` on its own (one venue: the
    whole ``trading.starting_cash``)."""
    venues = config.venues
    return Portfolio.with_venues(
        {v.id: Decimal(v.starting_cash) for v in venues},
        {s: v.id for v in venues for s in v.symbols},
    )


def build_engine(
    config: Config,
    market: Market,
    portfolio: Portfolio,
    *,
    strategy: Strategy | None = None,
    record_holds: bool = True,
    id_prefix: str = "tb",
    more_markets: Sequence[Market] = (),
    strategy_for: Callable[[str], Strategy] | None = None,
) -> TradingEngine:
    """Wire strategy, sizing, stops, risk limits and execution settings for ``market``
    (and ``more_markets`` on the same wallet, each with its own instance of its strategy).

    ``strategy_for`` gives each symbol's strategy instead of the configured one (the
    execution service's stand-ins for the strategy service)."""
    strategy_of = strategy_for or (lambda symbol: build_strategy(config, symbol))
    symbols = [market.symbol, *(m.symbol for m in more_markets)]
    check_overrides(config, symbols)
    risk, execution = config.risk, config.execution
    settings = EngineSettings(
        symbol=market.symbol,
        timeframe=config.trading.timeframe,
        id_prefix=id_prefix,
        use_limit_entries=execution.order_type == "limit",
        limit_offset_bps=_dec(execution.limit_offset_bps),
        limit_timeout_ms=execution.limit_timeout_s * 1000,
        on_limit_timeout=LimitTimeoutAction(execution.on_limit_timeout),
        fee_rate=_dec(config.backtest.fee_rate),
        atr_period=risk.atr_period,
        record_holds=record_holds,
    )
    sizing = SizingParams(
        method=SizingMethod(risk.position_sizing_method),
        max_position_size=risk.max_position_size,
        risk_per_trade=_dec(risk.risk_per_trade),
        cash_buffer=_dec(risk.cash_buffer_pct),
        kelly_fraction_cap=_dec(risk.kelly_fraction_cap),
        kelly_min_trades=risk.kelly_min_trades,
        volatility_target=_dec(risk.volatility_target),
    )
    stops = StopParams(
        method=StopMethod(risk.stop_loss_method),
        pct=_dec(risk.stop_loss_pct),
        atr_multiplier=_dec(risk.stop_loss_multiplier),
        take_profit=TakeProfitMethod(risk.take_profit_method),
        take_profit_pct=_dec(risk.take_profit_pct),
        take_profit_r=_dec(risk.take_profit_r),
    )
    limits = RiskLimits(
        max_position_size=risk.max_position_size,
        max_portfolio_exposure=risk.max_portfolio_exposure,
        max_daily_loss=risk.max_daily_loss,
        max_open_positions=risk.max_open_positions,
        max_correlated_exposure=risk.max_correlated_exposure,
        correlation_threshold=risk.correlation_threshold,
        correlation_window=risk.correlation_window,
    )
    engine = TradingEngine(
        settings,
        market,
        strategy or strategy_of(market.symbol),
        PositionSizer(sizing),
        StopLossManager(stops),
        RiskController(limits),
        portfolio,
        more=[(m, strategy_of(m.symbol)) for m in more_markets],
        protections=Protections(
            [protection_rule(p) for p in risk.protections],
            timeframe_to_ms(config.trading.timeframe),
        ),
        allocator=build_allocator(config, symbols),
    )
    engine.handle(KillSwitchSet(KillSwitch(risk.kill_switch.upper()), "config"))
    return engine


def engine_factory(
    config: Config, strategy_for: Callable[[str], Strategy] | None = None
) -> EngineFactory:
    """How paper and live trading (and ``state rebuild``) build their engine: every market
    of ``trading.symbols`` on one wallet, the first first, each with the configured
    strategy (or ``strategy_for``'s), holds recorded (the decision log has a record per
    symbol per bar)."""

    def build(markets: Sequence[Market], portfolio: Portfolio) -> TradingEngine:
        first, *more = markets
        return build_engine(
            config,
            first,
            portfolio,
            record_holds=True,
            more_markets=more,
            strategy_for=strategy_for,
        )

    return build
