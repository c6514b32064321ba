"""CapitalAllocator: how much of the account each symbol may trade with.

A symbol's **weight** is its share of the account's equity; its **sleeve** is weight ×
equity at the entry's decision. A new position is sized as if the sleeve were the account
(``fixed_fractional`` risks ``risk_per_trade`` of the sleeve, ``volatility_target`` aims
at it) and never exceeds the sleeve. Methods:

- ``none``: every symbol may use the whole account (weight 1), as without allocation;
- ``equal_weight``: 1/n for each of the n symbols traded;
- ``fixed_weights``: the configured weight of each symbol (they sum to at most 1; the rest
  stays cash);
- ``inverse_volatility``: weights proportional to 1/σ, σ the standard deviation of a
  symbol's log returns over its last ``volatility_window`` bars closed by the decision
  (causal, rolling). A symbol without a full window yet (its data starts later) gets the
  equal share 1/n, and the others share the rest by inverse volatility.

Then caps: ``max_weight`` for every symbol and ``caps`` per symbol (fractions of equity);
a capped weight is not handed to the others, the rest stays cash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
History = tuple[IntArray, FloatArray]
"""A symbol's bar open times (ms) and closes."""


class AllocationMethod(StrEnum):
    """How the account is split between symbols."""

    NONE = "none"
    EQUAL_WEIGHT = "equal_weight"
    FIXED_WEIGHTS = "fixed_weights"
    INVERSE_VOLATILITY = "inverse_volatility"


@dataclass(frozen=True, slots=True)
class AllocationParams:
    """The method, its inputs and the caps; weights and caps are fractions of equity."""

    method: AllocationMethod = AllocationMethod.NONE
    weights: Mapping[str, float] = field(default_factory=dict)
    volatility_window: int = 100
    max_weight: float | None = None
    caps: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Allotment:
    """One symbol's share of the account at one decision, and how it was reached."""

    symbol: str
    weight: Decimal
    sleeve: Decimal
    detail: str


class CapitalAllocator:
    """Weights of the symbols traded at a decision; pure, so backtest and live agree."""

    def __init__(self, params: AllocationParams, symbols: Sequence[str]) -> None:
        """``symbols`` are every symbol the account trades (n of ``equal_weight``).

        Raises:
            ValueError: fixed weights that do not name exactly the symbols traded, or sum
                above 1; a cap for a symbol not traded.
        """
        self.params = params
        self.symbols = tuple(symbols)
        if params.method is AllocationMethod.FIXED_WEIGHTS:
            if set(params.weights) != set(self.symbols):
                raise ValueError(
                    f"weights name {', '.join(params.weights) or 'no symbol'}; they must name "
                    f"exactly the symbols traded: {', '.join(self.symbols)}"
                )
            if sum(params.weights.values()) > 1 + 1e-9:
                raise ValueError("weights sum above 1: they are fractions of the account")
        unknown = [s for s in params.caps if s not in self.symbols]
        if unknown:
            raise ValueError(
                f"caps name {', '.join(unknown)}, not traded ({', '.join(self.symbols)})"
            )

    def allot(
        self, symbol: str, equity: Decimal, histories: Mapping[str, History], ts_ms: int
    ) -> Allotment:
        """``symbol``'s weight and sleeve at the close of the bar opened at ``ts_ms``.

        ``histories`` holds every symbol's bars; only bars opened at or before ``ts_ms``
        (closed by the decision) are read.
        """
        p = self.params
        raw, how = self._raw_weight(symbol, histories, ts_ms)
        weight, caps = raw, []
        if p.max_weight is not None and p.max_weight < weight:
            weight, caps = p.max_weight, [f"max_weight {p.max_weight:g}"]
        cap = p.caps.get(symbol)
        if cap is not None and cap < weight:
            weight, caps = cap, [f"cap {cap:g}"]
        exact = Decimal(f"{weight:.6f}")
        sleeve = equity * exact
        capped = f", capped by {caps[0]}" if caps else ""
        detail = f"{symbol} weight {exact:f} ({how}{capped}) of equity {equity:.2f} = {sleeve:.2f}"
        return Allotment(symbol, exact, sleeve, detail)

    def _raw_weight(
        self, symbol: str, histories: Mapping[str, History], ts_ms: int
    ) -> tuple[float, str]:
        p, n = self.params, len(self.symbols)
        if p.method is AllocationMethod.NONE:
            return 1.0, "none: the whole account"
        if p.method is AllocationMethod.EQUAL_WEIGHT:
            return 1.0 / n, f"equal_weight: 1/{n}"
        if p.method is AllocationMethod.FIXED_WEIGHTS:
            return p.weights[symbol], "fixed_weights"
        sigmas = {s: volatility(histories[s], ts_ms, p.volatility_window) for s in self.symbols}
        known = {s: v for s, v in sigmas.items() if v is not None}
        own = sigmas[symbol]
        if own is None:
            return 1.0 / n, f"inverse_volatility: no {p.volatility_window}-bar history yet, 1/{n}"
        inverse = sum(1.0 / v for v in known.values())
        weight = len(known) / n * (1.0 / own) / inverse
        return weight, f"inverse_volatility: sigma {own:.6f} over {p.volatility_window} bars"


def volatility(history: History, ts_ms: int, window: int) -> float | None:
    """Standard deviation of the log returns of the last ``window`` bars opened at or
    before ``ts_ms``; None without ``window`` returns, or for a price that never moved."""
    ts, close = history
    end = int(np.searchsorted(ts, ts_ms, side="right"))
    if end < window + 1:
        return None
    returns = np.diff(np.log(close[end - window - 1 : end]))
    sigma = float(returns.std())
    return sigma if sigma > 0 else None
