"""The exchange, trading, execution, backtest, database and downtime sections.

Every field has a default, so an empty config file is a valid paper-trading config. Units are
in the names (``_s`` seconds, ``_bps`` basis points, ``_rate`` a fraction); money is Decimal
in the quote currency.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator

from tradebot.config.base import Section

TIMEFRAMES_MS: dict[str, int] = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
}
_SYMBOL = re.compile(r"^[A-Z0-9]{2,20}/[A-Z0-9]{2,20}$")
_COMMON_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY")
_DB_URL = re.compile(r"^[a-z][a-z0-9]*(\+[a-z0-9_]+)?://")


def check_symbol(symbol: str) -> str:
    """Accept a CCXT-unified ``BASE/QUOTE`` symbol; suggest the slash form when it is missing."""
    if _SYMBOL.match(symbol):
        return symbol
    hint = ""
    upper = symbol.upper().replace("-", "/").replace("_", "/")
    if _SYMBOL.match(upper):
        hint = f"; did you mean `{upper}`?"
    else:
        for quote in _COMMON_QUOTES:
            if upper.endswith(quote) and len(upper) > len(quote):
                hint = f"; did you mean `{upper[: -len(quote)]}/{quote}`?"
                break
    msg = f"must be BASE/QUOTE in capitals, e.g. BTC/USDT{hint}"
    raise ValueError(msg)


class TradingConfig(Section):
    """What to trade and how often to decide."""

    symbol: str = Field(default="BTC/USDT", description="Market traded, CCXT-unified BASE/QUOTE.")
    symbols: list[str] | None = Field(
        default=None,
        description="Several markets, same quote currency; replaces `symbol` when set.",
    )
    timeframe: str = Field(default="1h", description="Candle timeframe the strategy runs on.")
    cycle_interval_s: int = Field(
        # The design document's name without the unit is accepted too.
        validation_alias=AliasChoices("cycle_interval_s", "cycle_interval"),
        default=60,
        ge=1,
        description="Seconds between strategy evaluations.",
    )
    max_signal_age_bars: int = Field(
        default=1,
        ge=1,
        description=(
            "After a gap (an outage, a stop), decide only the newest this many closed bars; "
            "older ones are logged as skipped, never traded at today's price."
        ),
    )
    starting_cash: Decimal = Field(
        default=Decimal(10000),
        gt=0,
        allow_inf_nan=False,
        description="Quote balance (backtest, paper).",
    )

    @field_validator("symbol")
    @classmethod
    def _symbol_form(cls, value: str) -> str:
        return check_symbol(value)

    @field_validator("symbols")
    @classmethod
    def _symbols_form(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            msg = "must list at least one symbol, or be left out to use `symbol`"
            raise ValueError(msg)
        for item in value:
            check_symbol(item)
        if len(set(value)) != len(value):
            msg = "must not list a symbol twice"
            raise ValueError(msg)
        if len({s.split("/")[1] for s in value}) > 1:
            msg = "must share one quote currency (starting_cash and limits are in it)"
            raise ValueError(msg)
        return value

    @model_validator(mode="before")
    @classmethod
    def _first_symbol(cls, data: object) -> object:
        # `symbol` is the first of `symbols`, so everything reading `symbol` trades a market
        # the user listed (a lone `symbols: [ETH/USDT]` was once ignored for BTC/USDT).
        if isinstance(data, dict):
            symbols = data.get("symbols")
            if isinstance(symbols, list) and symbols and isinstance(symbols[0], str):
                return {**data, "symbol": symbols[0]}
        return data

    @field_validator("timeframe")
    @classmethod
    def _known_timeframe(cls, value: str) -> str:
        if value not in TIMEFRAMES_MS:
            msg = f"allowed: {', '.join(TIMEFRAMES_MS)}"
            raise ValueError(msg)
        return value

    @property
    def all_symbols(self) -> tuple[str, ...]:
        """The markets traded: ``symbols`` when given, else ``symbol`` alone."""
        return tuple(self.symbols) if self.symbols else (self.symbol,)

    @property
    def quote_currency(self) -> str:
        """The currency ``starting_cash`` and every risk limit are counted in."""
        return self.all_symbols[0].split("/")[1]

    @property
    def timeframe_ms(self) -> int:
        """Length of one candle in milliseconds."""
        return TIMEFRAMES_MS[self.timeframe]


class ExecutionConfig(Section):
    """How orders are sent."""

    order_type: Literal["market", "limit"] = Field(
        default="market", description="Entry order type."
    )
    limit_offset_bps: float = Field(
        default=0.0, ge=0, le=1000, description="Limit price this far better than last price (bps)."
    )
    limit_timeout_s: int = Field(default=60, ge=1, description="Seconds a limit order may rest.")
    on_limit_timeout: Literal["cancel", "reprice", "market"] = Field(
        default="cancel", description="What to do with a limit order still open after the timeout."
    )
    stops_on_exchange: bool = Field(
        default=True,
        description="Stop-losses rest on the exchange (always: false is refused).",
    )

    @field_validator("stops_on_exchange")
    @classmethod
    def _stops_rest_on_the_venue(cls, value: bool) -> bool:
        # Every mode places its stops as orders on the venue (they hold while the bot is
        # down); a stop watched only by the bot is not built, so false would be ignored.
        if not value:
            msg = (
                "false is not supported: the bot always places its stop-losses as orders on "
                "the exchange, so they hold while it is down (a stop kept only in the bot is "
                "not built); remove the key or set it to true, and choose the stop with "
                "risk.stop_loss_method"
            )
            raise ValueError(msg)
        return value


def _utc(value: datetime | None) -> datetime | None:
    # A time written without a zone is UTC, as candle timestamps are.
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class BacktestConfig(Section):
    """Historical data, costs and where reports go."""

    data: Path | None = Field(
        default=None, description="CSV/Parquet candles; unset = bundled sample."
    )
    start: datetime | None = Field(default=None, description="First bar (inclusive), UTC.")
    end: datetime | None = Field(default=None, description="End (exclusive), UTC.")
    trade_from: datetime | None = Field(
        default=None, description="First bar traded, UTC; earlier bars only warm up."
    )
    warmup_bars: int | None = Field(
        default=None, ge=0, description="Bars that only warm up before the first traded bar."
    )
    fee_rate: float = Field(
        default=0.001, ge=0, lt=0.1, description="Taker fee, a fraction of notional."
    )
    maker_fee_rate: float = Field(
        default=0.001, ge=-0.01, lt=0.1, description="Maker fee (rebate < 0)."
    )
    slippage_bps: float = Field(
        default=0.0, ge=0, le=1000, description="Adverse slippage on fills."
    )
    report_dir: Path = Field(
        default=Path("reports"), description="Folder the report folders go into."
    )
    data_repair: Literal["refuse", "drop", "ffill"] = Field(
        default="refuse", description="What to do with NaN, duplicate or unsorted rows and gaps."
    )

    @field_validator("start", "end", "trade_from", mode="before")
    @classmethod
    def _date_is_midnight(cls, value: object) -> object:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(), tzinfo=UTC)
        return value

    @field_validator("start", "end", "trade_from")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @model_validator(mode="after")
    def _start_before_end(self) -> BacktestConfig:
        if self.start is not None and self.end is not None and self.start >= self.end:
            msg = f"start ({self.start.isoformat()}) must be before end ({self.end.isoformat()})"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _trade_from_inside(self) -> BacktestConfig:
        when = self.trade_from
        if when is None:
            return self
        if self.start is not None and when < self.start:
            msg = f"trade_from ({when.isoformat()}) is before start ({self.start.isoformat()})"
            raise ValueError(msg)
        if self.end is not None and when >= self.end:
            msg = f"trade_from ({when.isoformat()}) must be before end ({self.end.isoformat()})"
            raise ValueError(msg)
        if self.start is not None and self.warmup_bars is not None:
            msg = (
                "with trade_from, start and warmup_bars both say where the data begins "
                f"(at {self.start.isoformat()}, or {self.warmup_bars} bars before "
                f"{when.isoformat()}): keep one"
            )
            raise ValueError(msg)
        return self

    @property
    def start_ts_ms(self) -> int | None:
        """``start`` as epoch milliseconds UTC, as candles carry it."""
        return None if self.start is None else int(self.start.timestamp() * 1000)

    @property
    def end_ts_ms(self) -> int | None:
        """``end`` as epoch milliseconds UTC (exclusive)."""
        return None if self.end is None else int(self.end.timestamp() * 1000)

    @property
    def trade_from_ts_ms(self) -> int | None:
        """``trade_from`` as epoch milliseconds UTC."""
        return None if self.trade_from is None else int(self.trade_from.timestamp() * 1000)


class DatabaseConfig(Section):
    """Where state, trades and the decision log are kept."""

    url_fields = frozenset({"url"})

    url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user:${PGPASSWORD}@host/db.",
    )
    path: Path = Field(
        default=Path("data/tradebot.db"), description="SQLite file used when url is unset."
    )

    @field_validator("url")
    @classmethod
    def _url_form(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _DB_URL.match(value.get_secret_value()):
            msg = "must be a SQLAlchemy URL like postgresql+psycopg://user:pw@host/db"
            raise ValueError(msg)
        return value

    @property
    def sqlalchemy_url(self) -> str:
        """The URL to connect with: ``url`` when set, else SQLite at ``path``."""
        if self.url is not None:
            return self.url.get_secret_value()
        return f"sqlite:///{self.path}"


class DowntimeConfig(Section):
    """What the bot does while the exchange cannot be reached."""

    on_exchange_down: Literal["wait", "flatten_on_recovery", "halt"] = Field(
        default="wait", description="wait; close every position once it is back; or stop trading."
    )
    health_check_interval_s: int = Field(
        default=10, ge=1, description="Seconds between health checks."
    )
