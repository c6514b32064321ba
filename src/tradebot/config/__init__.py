"""The YAML configuration: pydantic models, ``${ENV_VAR}`` interpolation, masked display.

Public API::

    load_config(path | None) -> Config        None = the built-in default.yaml
    parse_config(text, source=...) -> Config  the same for YAML in memory
    with_overrides(config, {"trading.symbol": "ETH/USDT"}, source) -> Config
    load_credentials(config) -> (api_key, api_secret) | None
    Config.model_dump_masked() -> dict         secrets as "**********", for display and reports

Every failure is a ``tradebot.domain.errors.ConfigError`` naming the key path, the bad value
(masked when secret) and what is allowed.
"""

from __future__ import annotations

from tradebot.config.base import MASK, mask_url_password
from tradebot.config.credentials import load_credentials
from tradebot.config.exchange import (
    ConnectionConfig,
    ExchangeConfig,
    SandboxConfig,
    TradedVenue,
    VenueConfig,
)
from tradebot.config.loader import (
    default_config_text,
    load_config,
    parse_config,
    validate_config,
    with_overrides,
)
from tradebot.config.model import Config
from tradebot.config.monitoring import (
    AlertThresholds,
    DashboardConfig,
    EmailConfig,
    MonitoringConfig,
)
from tradebot.config.risk import RiskConfig
from tradebot.config.sections import (
    TIMEFRAMES_MS,
    BacktestConfig,
    DatabaseConfig,
    DowntimeConfig,
    ExecutionConfig,
    TradingConfig,
)
from tradebot.config.strategy import (
    EnsembleConfig,
    MemberConfig,
    RegimeConfig,
    StrategyConfig,
    StrategySpec,
)

__all__ = [
    "MASK",
    "TIMEFRAMES_MS",
    "AlertThresholds",
    "BacktestConfig",
    "Config",
    "ConnectionConfig",
    "DashboardConfig",
    "DatabaseConfig",
    "DowntimeConfig",
    "EmailConfig",
    "EnsembleConfig",
    "ExchangeConfig",
    "ExecutionConfig",
    "MemberConfig",
    "MonitoringConfig",
    "RegimeConfig",
    "RiskConfig",
    "SandboxConfig",
    "StrategyConfig",
    "StrategySpec",
    "TradedVenue",
    "TradingConfig",
    "VenueConfig",
    "default_config_text",
    "load_config",
    "load_credentials",
    "mask_url_password",
    "parse_config",
    "validate_config",
    "with_overrides",
]
