"""Settings of the sandbox exchange: accounts, market synthesis, replay clock and faults.

Every field has a default so ``SandboxConfig()`` starts a working exchange on the bundled
BTC/USDT 1m sample; tests and the CLI override only what they need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tradebot.sandbox.mirror import MirrorConfig

_SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
BUNDLED_BTC_1M = _SAMPLES / "binance_BTC-USDT_1m_2024-12.csv.gz"
BUNDLED_ETH_1H = _SAMPLES / "binance_ETH-USDT_1h_2024Q4.csv.gz"


def default_data_files() -> dict[str, Path]:
    """Return the bundled real samples: BTC/USDT 1m (Dec 2024) and ETH/USDT 1h (Q4 2024)."""
    return {"BTC/USDT": BUNDLED_BTC_1M, "ETH/USDT": BUNDLED_ETH_1H}


def _default_balances() -> dict[str, Decimal]:
    return {"USDT": Decimal(10000)}


@dataclass(slots=True)
class FaultConfig:
    """Faults the sandbox injects, for the bot's reliability tests.

    Rates are probabilities per REST request, drawn from a generator seeded by
    ``SandboxConfig.seed`` so a run is reproducible.
    """

    error_rate: float = 0.0
    """Share of REST requests answered 503 ``-1001`` without being processed."""
    latency_ms: int = 0
    """Delay added before every REST response."""
    timeout_rate: float = 0.0
    """Share of REST requests that hang for ``hang_s`` without being processed."""
    ambiguous_timeout_rate: float = 0.0
    """Share of order placements that ARE executed but whose response hangs for ``hang_s``."""
    hang_s: float = 30.0
    """How long a timed-out request hangs before the sandbox answers 504."""
    ws_disconnect_after_s: float = 0.0
    """Drop every websocket (close code 1011) this many seconds after it opens; 0 = never."""
    maintenance_s: float = 0.0
    """Answer every REST request 503 ``System is under maintenance.`` for this long from start."""
    price_shock_pct: float = 0.0
    """Flash crash: the next bar walked dips this many percent below its open; one-shot."""

    def __post_init__(self) -> None:
        """Refuse a value outside its range, so a typo never runs a different experiment.

        Raises:
            ValueError: names the field, its range and the value.
        """
        for f in fields(self):
            _check_fault(f.name, getattr(self, f.name))

    def update(self, changes: dict[str, object]) -> None:
        """Apply admin changes all or nothing, refusing unknown fields and bad values.

        Raises:
            ValueError: names the field and what it must be.
        """
        known = {f.name for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(known))}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"fault {name!r} must be a number, got {value!r}")
            _check_fault(name, value)
        for name, value in changes.items():
            setattr(self, name, type(getattr(self, name))(value))


def _check_fault(name: str, value: float) -> None:
    """Rates (``*_rate``) are shares of requests in [0, 1]; every other fault is >= 0."""
    if name.endswith("_rate"):
        if not 0 <= value <= 1:  # NaN fails both comparisons
            raise ValueError(f"fault {name!r} must be a share between 0 and 1, got {value!r}")
    elif not (math.isfinite(value) and value >= 0):
        raise ValueError(f"fault {name!r} must be a finite number >= 0, got {value!r}")


@dataclass(slots=True)
class SandboxConfig:
    """Everything a sandbox needs; see docs/sandbox.md for the meaning of each knob."""

    host: str = "127.0.0.1"
    port: int = 8765
    """TCP port; 0 picks a free one (read it back from ``SandboxServer.http_url``)."""
    api_key: str = "sandbox-key"
    api_secret: str = "sandbox-secret"  # noqa: S105 (documented default of a local sandbox)
    data_files: dict[str, Path] = field(default_factory=default_data_files)
    """Unified symbol -> normalized candle CSV(.gz); the timeframe is inferred per file."""
    balances: dict[str, Decimal] = field(default_factory=_default_balances)
    maker_fee_rate: Decimal = Decimal("0.001")
    taker_fee_rate: Decimal = Decimal("0.001")
    spread_bps: Decimal = Decimal(2)
    """Distance between best bid and best ask, in basis points of the current price."""
    depth_levels: int = 20
    """Synthetic price levels per side."""
    depth_step_bps: Decimal = Decimal(1)
    """Gap between consecutive synthetic levels, in basis points."""
    level_notional: Decimal = Decimal(50000)
    """Quote value of each synthetic level (qty = level_notional / price, lot-rounded)."""
    deterministic: bool = True
    """True: time moves only on ``advance``; False: replay at ``speed`` x real time."""
    speed: float = 1.0
    """Replay speed when not deterministic; 0 means one bar per event-loop turn."""
    start_index: int = 0
    """Bar index of the first symbol's file where the clock starts (ignored if start_ms)."""
    start_ms: int | None = None
    snapshot_path: Path | None = None
    """JSON file that keeps accounts, orders and the clock across restarts."""
    faults: FaultConfig = field(default_factory=FaultConfig)
    seed: int = 0
    weight_limit_1m: int = 6000
    """Request weight a client may use per minute before 429."""
    calls_before_ban: int = 3
    """Requests a client may still send after a 429 (before Retry-After) before a 418 ban."""
    ban_s: float = 120.0
    mirror: MirrorConfig | None = None
    """Mirror mode: prices from a real exchange's public candles instead of ``data_files``
    (which are then not read); the clock follows the source's closed bars."""


def parse_decimal(text: str, what: str) -> Decimal:
    """Parse a decimal from user input.

    Raises:
        ValueError: names ``what`` and the bad value.
    """
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what}: {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{what}: {text!r} is not a finite number")
    return value
