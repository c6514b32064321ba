"""Mirror mode: the sandbox's prices come from a real exchange's public candles.

The sandbox stands for the outside world and imports nothing of tradebot but ``domain``, so
it reads the source through ``MarketSource``, a port any keyless exchange connection fills
(``tradebot.exchange.ccxt.market_source`` builds one over ccxt). Orders are still matched
here, by the one fill rule of ``domain/fills.py``: mirror mode is a replay whose file grows
as the source closes bars.

A bar counts as closed once the source serves the bar after it: the last candle a source
returns is the one still forming (Binance always includes it), so it is never walked; only
its open is used, as the price the sandbox stands at until it closes.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from tradebot.domain.binance_spot import MAX_QTY_BOUND
from tradebot.domain.errors import ConfigError, DataError, ExchangeUnavailable, TradebotError
from tradebot.domain.market import Candle, Market
from tradebot.sandbox.markets import MarketSpec
from tradebot.sandbox.replay import Bar, Series

T = TypeVar("T")
_UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


class MarketSource(Protocol):
    """The public market data of an exchange (no keys): its markets and its candles."""

    async def load_markets(self) -> dict[str, Market]:
        """Markets by unified symbol, with their tick, lot step and minimums."""
        ...

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int = 500
    ) -> list[Candle]:
        """Candles oldest first; the last one is still forming."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@dataclass(slots=True)
class MirrorConfig:
    """Where a mirroring sandbox takes its market data from.

    The server owns ``source`` once started and closes it when it stops.
    """

    source: MarketSource
    symbols: tuple[str, ...]
    timeframe: str
    label: str
    """The setting that chose the source (``exchange.sandbox.market_data: binance``): every
    error about the source names it, so the reader knows what to change."""
    poll_s: float = 2.0
    """Seconds between asking the source for new candles (when not deterministic)."""
    history_bars: int = 1000
    """Closed candles fetched at start, so the bot's warm-up window is served at once."""

    @property
    def tf_ms(self) -> int:
        """The bar length of ``timeframe``.

        Raises:
            ConfigError: not a Binance interval such as ``1m``, ``4h`` or ``1d``.
        """
        count, unit = self.timeframe[:-1], self.timeframe[-1:]
        if not count.isdigit() or unit not in _UNITS_MS or int(count) < 1:
            raise ConfigError(f"{self.label}: timeframe {self.timeframe!r} is not like 1m, 4h, 1d")
        return int(count) * _UNITS_MS[unit]


def to_bar(candle: Candle) -> Bar:
    """A source candle as the sandbox's exact bar (the shortest decimal of each float)."""
    return Bar(
        candle.ts_ms,
        Decimal(repr(candle.open)),
        Decimal(repr(candle.high)),
        Decimal(repr(candle.low)),
        Decimal(repr(candle.close)),
        Decimal(repr(candle.volume)),
    )


def forming(candle: Candle) -> Bar:
    """The bar still forming at the source, as the sandbox holds it until it closes: its open."""
    price = Decimal(repr(candle.open))
    return Bar(candle.ts_ms, price, price, price, price, Decimal(0))


async def prime(mirror: MirrorConfig) -> dict[str, tuple[Series, MarketSpec]]:
    """Load each symbol's rules and recent candles from the source.

    Raises:
        ExchangeUnavailable: the source cannot be reached; names the setting.
        ConfigError: the source lists no such market or refuses the timeframe; names it.
    """
    tf_ms = mirror.tf_ms
    markets = await _ask(mirror, "load its markets", mirror.source.load_markets())
    loaded: dict[str, tuple[Series, MarketSpec]] = {}
    for symbol in mirror.symbols:
        if symbol not in markets:
            known = ", ".join([s for s in sorted(markets) if s.endswith("/USDT")][:8])
            raise ConfigError(
                f"{mirror.label}: the source lists no spot market {symbol}; trade one it "
                f"lists (e.g. {known or 'BTC/USDT'}), or set it back to replay"
            )
        candles = await fetch_since(mirror, symbol, None, mirror.history_bars + 1)
        if len(candles) < 2:
            raise DataError(
                f"{mirror.label}: the source served {len(candles)} {mirror.timeframe} candles of "
                f"{symbol}; it needs a closed one and the one forming"
            )
        bars = [*(to_bar(c) for c in candles[:-1]), forming(candles[-1])]
        loaded[symbol] = (Series.from_bars(symbol, bars, tf_ms), from_market(markets[symbol]))
    return loaded


async def fetch_since(
    mirror: MirrorConfig, symbol: str, since_ms: int | None, limit: int
) -> list[Candle]:
    """The source's candles of ``symbol`` from ``since_ms`` (the newest ``limit`` without).

    Raises:
        ExchangeUnavailable: the source cannot be reached; names the setting.
        ConfigError: the source refused the request (an interval it does not serve).
    """
    call = mirror.source.fetch_ohlcv(symbol, mirror.timeframe, since_ms, min(limit, 1000))
    return await _ask(mirror, f"fetch {symbol} {mirror.timeframe} candles", call)


async def _ask(mirror: MirrorConfig, what: str, call: Awaitable[T]) -> T:
    try:
        return await call
    except ExchangeUnavailable as e:
        raise ExchangeUnavailable(
            f"{mirror.label}: cannot {what} from the market-data source ({e}); check the "
            "network or the source's URL, or set it back to replay"
        ) from e
    except TradebotError as e:
        raise ConfigError(f"{mirror.label}: the source refused to {what}: {e}") from e


def from_market(market: Market) -> MarketSpec:
    """The sandbox's filters for a market as the source states them."""
    return MarketSpec(
        symbol=market.symbol,
        venue_id=f"{market.base}{market.quote}",
        base=market.base,
        quote=market.quote,
        tick_size=market.price_step,
        step_size=market.qty_step,
        min_qty=market.min_qty or market.qty_step,
        max_qty=MAX_QTY_BOUND,  # the source states no maximum here: never be stricter
        min_notional=market.min_notional,
        max_price=Decimal(1_000_000),
    )
