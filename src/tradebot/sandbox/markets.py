"""Symbol rules (tick, lot, notional) in Binance's format: Binance's own for the pairs it
lists in ``domain/binance_spot.py``, else derived from the replayed prices."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from tradebot.domain.binance_spot import BINANCE_SPOT, MAX_QTY_BOUND
from tradebot.sandbox.replay import Bar

ORDER_TYPES = (
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)


def fmt(value: Decimal) -> str:
    """Format a number as Binance does: a string with 8 decimals."""
    return f"{value:.8f}"


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """One spot symbol: its ids and the filters Binance publishes for it."""

    symbol: str
    venue_id: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    max_price: Decimal

    @classmethod
    def derive(cls, symbol: str, bars: list[Bar]) -> MarketSpec:
        """Binance's filters for a pair it lists, else inferred from the data.

        A known pair keeps Binance's rules whatever its price, as the backtest does: paper
        and backtest then size orders alike. For another pair the tick is the finest price
        increment seen in the file and the lot step makes one step worth roughly 0.1–1 quote
        units at the first price (BTC ~1e-5, ETH ~1e-4). The maximum amount is Binance's
        for a known pair, else the largest Binance can state (``MAX_QTY_BOUND``): the
        sandbox never refuses an amount Binance would take.
        """
        base, quote = symbol.split("/")
        known = BINANCE_SPOT.get(symbol)
        if known is not None:
            tick, step = known.tick_size, known.step_size
            min_qty, min_notional = known.min_qty, known.min_notional
            max_qty = known.max_qty
        else:
            decimals = max(
                _decimals(p) for b in bars[:500] for p in (b.open, b.high, b.low, b.close)
            )
            tick = Decimal(1).scaleb(-decimals)
            digits = len(str(int(bars[0].open))) if bars[0].open >= 1 else 0
            step = Decimal(1).scaleb(-digits)
            min_qty, min_notional = step, Decimal(5)
            max_qty = MAX_QTY_BOUND
        return cls(
            symbol=symbol,
            venue_id=f"{base}{quote}",
            base=base,
            quote=quote,
            tick_size=tick,
            step_size=step,
            min_qty=min_qty,
            max_qty=max_qty,
            min_notional=min_notional,
            max_price=Decimal(1_000_000),
        )

    def floor_price(self, price: Decimal) -> Decimal:
        """Round a price down to the tick (bids)."""
        return (price / self.tick_size).to_integral_value(ROUND_FLOOR) * self.tick_size

    def ceil_price(self, price: Decimal) -> Decimal:
        """Round a price up to the tick (asks)."""
        return (price / self.tick_size).to_integral_value(ROUND_CEILING) * self.tick_size

    def floor_qty(self, qty: Decimal) -> Decimal:
        """Round an amount down to the lot step."""
        return (qty / self.step_size).to_integral_value(ROUND_FLOOR) * self.step_size

    def filter_failure(self, qty: Decimal, price: Decimal | None) -> str | None:
        """Return Binance's ``Filter failure: X`` message the order breaks, or None."""
        if price is not None and (
            price <= 0 or price > self.max_price or price % self.tick_size != 0
        ):
            return "Filter failure: PRICE_FILTER"
        if qty < self.min_qty or qty > self.max_qty or qty % self.step_size != 0:
            return "Filter failure: LOT_SIZE"
        if price is not None and qty * price < self.min_notional:
            return "Filter failure: NOTIONAL"
        return None

    def exchange_info(self) -> dict[str, object]:
        """The symbol's entry in ``GET /api/v3/exchangeInfo``."""
        return {
            "symbol": self.venue_id,
            "status": "TRADING",
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": list(ORDER_TYPES),
            "icebergAllowed": False,
            "ocoAllowed": True,
            "otoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": False,
            "cancelReplaceAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": self._filters(),
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_MAKER"],
        }

    def _filters(self) -> list[dict[str, object]]:
        return [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(self.tick_size),
                "maxPrice": fmt(self.max_price),
                "tickSize": fmt(self.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(self.min_qty),
                "maxQty": fmt(self.max_qty),
                "stepSize": fmt(self.step_size),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fmt(Decimal(0)),
                "maxQty": fmt(self.max_qty),
                "stepSize": fmt(Decimal(0)),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fmt(self.min_notional),
                "applyMinToMarket": True,
                "maxNotional": fmt(Decimal(9_000_000)),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ]


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
