"""CCXT dicts → domain values. Venue ids and raw payloads go no further than this folder.

CCXT returns floats for numbers; they become ``Decimal`` through ``str`` (the shortest
round-tripping form, so ``0.001`` stays ``0.001``) wherever the ledger needs exactness.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from tradebot.domain.errors import ExchangeError
from tradebot.domain.market import BookLevel, Candle, Market, OrderBook, Ticker
from tradebot.domain.orders import (
    ClientOrderId,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tradebot.exchange.port import Balance

Raw = Mapping[str, Any]

_STATUS = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}
_TYPES = {t.value: t for t in OrderType}


def dec(value: object, default: Decimal | None = None) -> Decimal | None:
    """Turn a CCXT number (float, int or numeric string) into a Decimal; None stays default."""
    if value is None or value == "":
        return default
    return Decimal(str(value))


def _dec0(value: object) -> Decimal:
    result = dec(value, Decimal(0))
    return result if result is not None else Decimal(0)


def _num(value: object, fallback: float = 0.0) -> float:
    return fallback if value is None else float(str(value))


def market(raw: Raw) -> Market:
    """Build a Market from a CCXT market (binance uses tick-size precision: steps, not digits)."""
    precision = raw.get("precision") or {}
    limits = raw.get("limits") or {}
    price_step = dec(precision.get("price"))
    qty_step = dec(precision.get("amount"))
    if price_step is None or qty_step is None:
        raise ExchangeError(f"market {raw.get('symbol')} has no price or amount precision")
    return Market(
        symbol=str(raw["symbol"]),
        base=str(raw["base"]),
        quote=str(raw["quote"]),
        price_step=price_step,
        qty_step=qty_step,
        min_qty=_dec0((limits.get("amount") or {}).get("min")),
        min_notional=_dec0((limits.get("cost") or {}).get("min")),
    )


def order_types(raw: Raw) -> frozenset[OrderType]:
    """The order types the venue accepts on a market (binance lists them in exchangeInfo)."""
    names = (raw.get("info") or {}).get("orderTypes") or []
    return frozenset(_TYPES[n.lower()] for n in names if n.lower() in _TYPES)


def candle(row: Sequence[Any]) -> Candle:
    """Build a Candle from a CCXT OHLCV row ``[ts, o, h, l, c, v]``."""
    return Candle(
        ts_ms=int(row[0]),
        open=float(row[1]),
        high=float(row[2]),
        low=float(row[3]),
        close=float(row[4]),
        volume=float(row[5]),
    )


def ticker(raw: Raw, symbol: str) -> Ticker:
    """Build a Ticker; a missing bid/ask (mini tickers carry none) falls back to the last price."""
    last = _num(raw.get("last") if raw.get("last") is not None else raw.get("close"))
    return Ticker(
        symbol=str(raw.get("symbol") or symbol),
        ts_ms=int(raw.get("timestamp") or 0),
        bid=_num(raw.get("bid"), last),
        ask=_num(raw.get("ask"), last),
        last=last,
    )


def order_book(raw: Raw, symbol: str) -> OrderBook:
    """Build an OrderBook snapshot, best levels first."""
    nonce = raw.get("nonce")
    return OrderBook(
        symbol=str(raw.get("symbol") or symbol),
        ts_ms=int(raw.get("timestamp") or 0),
        bids=tuple(BookLevel(float(p), float(q)) for p, q, *_ in raw.get("bids") or []),
        asks=tuple(BookLevel(float(p), float(q)) for p, q, *_ in raw.get("asks") or []),
        nonce=None if nonce is None else int(nonce),
    )


def balances(raw: Raw) -> dict[str, Balance]:
    """Balances by asset from CCXT's unified balance (``free``/``used`` per currency)."""
    free: Mapping[str, Any] = raw.get("free") or {}
    used: Mapping[str, Any] = raw.get("used") or {}
    assets = set(free) | set(used)
    return {
        asset: Balance(asset=asset, free=_dec0(free.get(asset)), locked=_dec0(used.get(asset)))
        for asset in sorted(assets)
    }


def _order_type(raw: Raw) -> OrderType:
    info = raw.get("info") or {}
    venue = info.get("type") or info.get("o") or raw.get("type") or "limit"
    if raw.get("postOnly") and str(venue).lower() == "limit":
        return OrderType.LIMIT_MAKER
    return _TYPES.get(str(venue).lower(), OrderType.LIMIT)


def _order_status(raw: Raw, filled: Decimal) -> OrderStatus:
    status = _STATUS.get(str(raw.get("status")), OrderStatus.UNKNOWN)
    if status is OrderStatus.OPEN and filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def fill(
    raw: Raw, client_order_id: ClientOrderId, symbol: str, side: OrderSide, default_ts_ms: int = 0
) -> Fill:
    """Build a Fill from a CCXT trade (an order's ``trades`` entry or a ``my_trades`` row).

    Binance's order response lists its fills without a time; they happened at the order's
    transaction time, which the caller passes as ``default_ts_ms``.
    """
    fee = raw.get("fee") or {}
    return Fill(
        client_order_id=client_order_id,
        symbol=str(raw.get("symbol") or symbol),
        side=OrderSide(str(raw.get("side") or side)),
        qty=_dec0(raw.get("amount")),
        price=_dec0(raw.get("price")),
        fee=_dec0(fee.get("cost")),
        fee_asset=str(fee.get("currency") or ""),
        ts_ms=int(raw.get("timestamp") or default_ts_ms),
        trade_id=str(raw.get("id") or ""),
        is_maker=raw.get("takerOrMaker") == "maker",
    )


def order(raw: Raw, client_order_id: ClientOrderId | None = None) -> Order:
    """Build an Order as the venue reports it.

    ``client_order_id`` overrides the payload's: Binance's cancel response carries the
    cancel request's own id there, not the order's.
    """
    cid = client_order_id or ClientOrderId(str(raw.get("clientOrderId") or ""))
    symbol = str(raw["symbol"])
    side = OrderSide(str(raw["side"]))
    filled = _dec0(raw.get("filled"))
    tif = raw.get("timeInForce")
    ts_ms = int(raw.get("timestamp") or 0)
    result = Order(
        client_order_id=cid,
        symbol=symbol,
        side=side,
        type=_order_type(raw),
        qty=_dec0(raw.get("amount")),
        price=dec(raw.get("price")) or None,
        stop_price=dec(raw.get("triggerPrice") or raw.get("stopPrice")),
        time_in_force=TimeInForce(str(tif)) if tif in TimeInForce.__members__ else TimeInForce.GTC,
        status=_order_status(raw, filled),
        exchange_order_id=None if raw.get("id") is None else str(raw["id"]),
        filled_qty=filled,
        avg_fill_price=dec(raw.get("average")) or None,
        created_ts_ms=ts_ms,
        updated_ts_ms=int(raw.get("lastUpdateTimestamp") or ts_ms),
    )
    done_ts = result.updated_ts_ms or ts_ms
    result.fills.extend(fill(t, cid, symbol, side, done_ts) for t in raw.get("trades") or [])
    return result
