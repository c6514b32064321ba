"""The risk section: limits, position sizing, stops, targets and the kill switch.

Money limits are Decimal in the quote currency (USDT for BTC/USDT). Rates and ``_pct`` values
are fractions: 0.02 means 2 %, so a value above 1 is almost surely a percentage typed by
mistake and is refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from tradebot.config.allocation import AllocationConfig
from tradebot.config.base import Section
from tradebot.config.protections import ProtectionConfig

SizingMethod = Literal["fixed_fractional", "kelly", "volatility_target", "fixed_notional"]
StopLossMethod = Literal["fixed_pct", "atr", "trailing_pct", "trailing_atr", "none"]
TakeProfitMethod = Literal["none", "pct", "r_multiple"]
KillSwitch = Literal["active", "reducing", "halted"]


def _money(default: int, description: str) -> Any:
    # A money limit: a positive finite Decimal. Returns a pydantic FieldInfo.
    return Field(default=Decimal(default), gt=0, allow_inf_nan=False, description=description)


class RiskConfig(Section):
    """Limits every order must pass, and how big each position is."""

    max_position_size: Decimal = _money(1000, "Largest position, quote currency (USDT).")
    max_portfolio_exposure: Decimal = _money(5000, "Sum of all positions, quote currency.")
    max_daily_loss: Decimal = _money(500, "Stop opening positions after losing this much today.")
    max_open_positions: int = Field(default=1, ge=1, description="Positions open at once.")
    max_correlated_exposure: Decimal | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description=(
            "Cap, quote currency, on held positions whose returns correlate above "
            "correlation_threshold with a new entry's, the entry included: the entry is "
            "resized to fit, or refused. null: no cap."
        ),
    )
    correlation_threshold: float = Field(
        default=0.7, gt=-1, lt=1, description="Correlation above which positions form a cluster."
    )
    correlation_window: int = Field(
        default=100, ge=21, description="Bars of returns the correlation is measured over."
    )
    position_sizing_method: SizingMethod = Field(
        default="fixed_fractional", description="How the size of a new position is chosen."
    )
    risk_per_trade: float = Field(
        default=0.02, gt=0, le=1, description="Fraction of equity lost if the stop is hit."
    )
    cash_buffer_pct: float = Field(
        default=0.01,
        ge=0,
        lt=1,
        description=(
            "Fraction of the free cash an entry leaves unspent, so a buy sized at the signal "
            "bar's close still fits when it fills at a higher next open."
        ),
    )
    kelly_fraction_cap: float = Field(
        default=0.25, gt=0, le=1, description="Largest Kelly fraction used."
    )
    kelly_min_trades: int = Field(
        default=20, ge=1, description="Trades needed before Kelly is used."
    )
    volatility_target: float = Field(
        default=0.02,
        gt=0,
        le=1,
        description="Target per-bar volatility of the position (fraction).",
    )
    stop_loss_method: StopLossMethod = Field(
        default="atr", description="How the stop price is set."
    )
    stop_loss_pct: float = Field(
        default=0.02, gt=0, lt=1, description="Stop distance, fraction of entry."
    )
    stop_loss_multiplier: float = Field(
        default=2.0, gt=0, le=20, description="Stop distance in ATRs."
    )
    atr_period: int = Field(
        default=14, ge=1, le=1000, description="Bars in the ATR used by stops/sizing."
    )
    take_profit_method: TakeProfitMethod = Field(
        default="none", description="How the target is set."
    )
    take_profit_pct: float = Field(
        default=0.04, gt=0, le=10, description="Target, fraction of entry."
    )
    take_profit_r: float = Field(
        default=2.0, gt=0, le=100, description="Target in multiples of risk R."
    )
    kill_switch: KillSwitch = Field(
        default="active", description="active: trade; reducing: only close; halted: no orders."
    )
    allocation: AllocationConfig = Field(default_factory=AllocationConfig)
    protections: list[ProtectionConfig] = Field(
        default_factory=list,
        description="Locks on new entries after exits, stop-losses or a drawdown (method: "
        "cooldown, stoploss_guard, max_drawdown).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> RiskConfig:
        if self.max_position_size > self.max_portfolio_exposure:
            msg = (
                f"max_position_size ({self.max_position_size}) must not exceed "
                f"max_portfolio_exposure ({self.max_portfolio_exposure})"
            )
            raise ValueError(msg)
        if self.take_profit_method == "r_multiple" and self.stop_loss_method == "none":
            msg = "take_profit_method r_multiple needs a stop (R is the stop distance)"
            raise ValueError(msg)
        if self.position_sizing_method == "fixed_fractional" and self.stop_loss_method == "none":
            msg = (
                "position_sizing_method fixed_fractional needs a stop (it risks a fraction of "
                "equity over the stop distance); choose a stop_loss_method or fixed_notional"
            )
            raise ValueError(msg)
        return self
