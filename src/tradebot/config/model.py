"""The root ``Config``: one field per YAML section, each optional with defaults."""

from __future__ import annotations

from pydantic import Field

from tradebot.config.base import Section
from tradebot.config.monitoring import MonitoringConfig
from tradebot.config.risk import RiskConfig
from tradebot.config.sections import (
    BacktestConfig,
    DatabaseConfig,
    DowntimeConfig,
    ExchangeConfig,
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
