"""The root ``Config``: one field per YAML section, each optional with defaults."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from tradebot.config.base import Section
from tradebot.config.exchange import (
    ExchangeConfig,
    TradedVenue,
    traded_venues,
    venue_coverage_problem,
)
from tradebot.config.monitoring import MonitoringConfig
from tradebot.config.risk import RiskConfig
from tradebot.config.sections import (
    BacktestConfig,
    DatabaseConfig,
    DowntimeConfig,
    ExecutionConfig,
    TradingConfig,
)
from tradebot.config.services import ServicesConfig
from tradebot.config.strategy import StrategyConfig


class Config(Section):
    """The whole bot configuration, validated and frozen.

    Build it with ``load_config(path)``, which interpolates ``${ENV_VAR}`` and turns every
    validation problem into one ``ConfigError``; ``Config()`` alone is the all-defaults config.
    """

    exchange: ExchangeConfig = Field(default_factory=ExchangeConfig)
    trading: TradingConfig = Field(default_factory=TradingConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    downtime: DowntimeConfig = Field(default_factory=DowntimeConfig)
    services: ServicesConfig = Field(default_factory=ServicesConfig)

    @model_validator(mode="before")
    @classmethod
    def _symbols_from_venues(cls, data: Any) -> Any:
        # With venues and no trading.symbol(s), the venues' symbols are the ones traded.
        if not isinstance(data, dict):
            return data
        exchange, trading = data.get("exchange"), data.get("trading") or {}
        venues = exchange.get("venues") if isinstance(exchange, dict) else None
        if not isinstance(venues, dict) or not isinstance(trading, dict):
            return data
        if "symbol" in trading or "symbols" in trading:
            return data
        symbols = [
            s
            for venue in venues.values()
            if isinstance(venue, dict) and isinstance(venue.get("symbols"), list)
            for s in venue["symbols"]
        ]
        return {**data, "trading": {**trading, "symbols": symbols}} if symbols else data

    @model_validator(mode="after")
    def _every_symbol_on_one_venue(self) -> Config:
        problem = venue_coverage_problem(self.exchange.venues, self.trading.all_symbols)
        if problem is not None:
            raise ValueError(problem)
        return self

    @property
    def venues(self) -> tuple[TradedVenue, ...]:
        """The exchange accounts traded, each with its connection and symbols (one unless
        ``exchange.venues`` names several)."""
        return traded_venues(self.exchange, self.trading.all_symbols, self.trading.starting_cash)
