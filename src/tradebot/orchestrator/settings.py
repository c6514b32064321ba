"""Settings of the trading engine, built from the config by the shells."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

ATR_COLUMN: Final = "risk_atr"


class LimitTimeoutAction(StrEnum):
    """What to do with an entry limit order that has not filled in time."""

    CANCEL = "cancel"
    REPRICE = "reprice"
    MARKET = "market"


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How the engine trades one symbol."""

    symbol: str
    timeframe: str
    id_prefix: str = "tb"
    use_limit_entries: bool = False
    limit_offset_bps: Decimal = Decimal(0)
    limit_timeout_ms: int = 60_000
    on_limit_timeout: LimitTimeoutAction = LimitTimeoutAction.CANCEL
    fee_rate: Decimal = Decimal("0.001")
    atr_period: int = 14
    record_holds: bool = True
