"""``risk.allocation``: how the account's capital is split between the symbols traded.

Each key is acted on or refused: ``weights`` only with ``fixed_weights`` (and required
there), ``volatility_window`` only with ``inverse_volatility``. That the weights and caps
name the symbols traded is checked when the engine is built (``config validate`` too),
since a single-symbol view of a basket config (the backtest's data loader) lists one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from tradebot.config.base import Section
from tradebot.config.sections import check_symbol

DEFAULT_VOLATILITY_WINDOW = 100
AllocationMethod = Literal["none", "equal_weight", "fixed_weights", "inverse_volatility"]


class AllocationConfig(Section):
    """Each symbol's share of the account (a fraction of equity), and caps on it."""

    method: AllocationMethod = Field(
        default="none",
        description="none, equal_weight, fixed_weights or inverse_volatility.",
    )
    weights: dict[str, float] = Field(
        default_factory=dict, description="fixed_weights: symbol -> fraction of equity."
    )
    volatility_window: int | None = Field(
        default=None,
        ge=2,
        le=250,
        description="inverse_volatility: bars of returns the volatility is measured over "
        f"(default {DEFAULT_VOLATILITY_WINDOW}).",
    )
    max_weight: float | None = Field(
        default=None, gt=0, le=1, description="Cap on every symbol's weight."
    )
    caps: dict[str, float] = Field(
        default_factory=dict, description="A symbol's own cap on its weight."
    )

    @field_validator("weights", "caps")
    @classmethod
    def _fractions_of_symbols(cls, value: dict[str, float]) -> dict[str, float]:
        for symbol, fraction in value.items():
            check_symbol(symbol)
            if not 0 < fraction <= 1:
                msg = f"{symbol}: {fraction:g} must be > 0 and <= 1 (a fraction of equity)"
                raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _keys_of_the_method(self) -> AllocationConfig:
        if self.method == "fixed_weights" and not self.weights:
            msg = "method fixed_weights needs `weights` (symbol: fraction of equity)"
            raise ValueError(msg)
        if self.weights and self.method != "fixed_weights":
            msg = "`weights` is used by method fixed_weights only: remove it, or set that method"
            raise ValueError(msg)
        if self.volatility_window is not None and self.method != "inverse_volatility":
            msg = "`volatility_window` is used by method inverse_volatility only: remove it"
            raise ValueError(msg)
        if sum(self.weights.values()) > 1 + 1e-9:
            msg = f"weights sum to {sum(self.weights.values()):g}: at most 1 (the account)"
            raise ValueError(msg)
        return self

    @property
    def window(self) -> int:
        """Bars of returns inverse volatility is measured over."""
        return self.volatility_window or DEFAULT_VOLATILITY_WINDOW

    @property
    def is_active(self) -> bool:
        """False when every symbol may use the whole account (no method, no cap)."""
        return self.method != "none" or self.max_weight is not None or bool(self.caps)
