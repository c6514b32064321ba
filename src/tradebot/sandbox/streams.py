"""Websocket event payloads of Binance's market and user-data streams."""

from __future__ import annotations

from decimal import Decimal

from tradebot.sandbox.book import BookDiff
from tradebot.sandbox.events import TradePrinted
from tradebot.sandbox.marketdata import book_ticker, ticker_24hr
from tradebot.sandbox.markets import fmt
from tradebot.sandbox.venue import Venue


def kline_event(venue: Venue, vid: str, closed: bool) -> dict[str, object]:
    """``<sym>@kline_<tf>``: the current bar, or the bar just closed when ``closed``."""
    series = venue.series[vid]
    live = venue.live[vid]
    bar = venue.current_bar(vid)
    return {
        "e": "kline",
        "E": venue.engine.now_ms,
        "s": vid,
        "k": {
            "t": bar.ts_ms,
            "T": bar.ts_ms + series.tf_ms - 1,
            "s": vid,
            "i": series.timeframe,
            "f": 0,
            "L": 0,
            "o": fmt(live.open),
            "c": fmt(live.close),
            "h": fmt(live.high),
            "l": fmt(live.low),
            "v": fmt(live.volume),
            "n": 0,
            "x": closed,
            "q": fmt(live.volume * live.close),
            "V": fmt(live.volume / 2),
            "Q": fmt(live.volume * live.close / 2),
            "B": "0",
        },
    }


def ticker_event(venue: Venue, vid: str, mini: bool) -> dict[str, object]:
    """``<sym>@ticker`` (24hrTicker) or ``<sym>@miniTicker`` (24hrMiniTicker)."""
    t = ticker_24hr(venue, vid)
    base = {
        "E": venue.engine.now_ms,
        "s": vid,
        "c": t["lastPrice"],
        "o": t["openPrice"],
        "h": t["highPrice"],
        "l": t["lowPrice"],
        "v": t["volume"],
        "q": t["quoteVolume"],
    }
    if mini:
        return {"e": "24hrMiniTicker", **base}
    return {
        "e": "24hrTicker",
        **base,
        "p": t["priceChange"],
        "P": t["priceChangePercent"],
        "w": t["weightedAvgPrice"],
        "x": t["prevClosePrice"],
        "Q": t["lastQty"],
        "b": t["bidPrice"],
        "B": t["bidQty"],
        "a": t["askPrice"],
        "A": t["askQty"],
        "O": t["openTime"],
        "C": t["closeTime"],
        "F": t["firstId"],
        "L": t["lastId"],
        "n": t["count"],
    }


def book_ticker_event(venue: Venue, vid: str) -> dict[str, object]:
    """``<sym>@bookTicker``: best bid/ask with the book's update id, no ``e``."""
    row = book_ticker(venue, vid)
    return {
        "u": venue.books[vid].update_id,
        "s": vid,
        "b": row["bidPrice"],
        "B": row["bidQty"],
        "a": row["askPrice"],
        "A": row["askQty"],
    }


def depth_event(venue: Venue, vid: str, diff: BookDiff) -> dict[str, object]:
    """``<sym>@depth``: one diff; ``U``..``u`` continue REST's ``lastUpdateId``."""
    return {
        "e": "depthUpdate",
        "E": venue.engine.now_ms,
        "s": vid,
        "U": diff.update_id,
        "u": diff.update_id,
        "b": [[fmt(p), fmt(q)] for p, q in diff.bids],
        "a": [[fmt(p), fmt(q)] for p, q in diff.asks],
    }


def trade_event(trade: TradePrinted, aggregate: bool) -> dict[str, object]:
    """``<sym>@trade`` or ``<sym>@aggTrade`` for one print."""
    body: dict[str, object] = {
        "E": trade.time_ms,
        "s": trade.venue_id,
        "p": fmt(trade.price),
        "q": fmt(trade.qty),
        "T": trade.time_ms,
        "m": trade.buyer_is_maker,
        "M": True,
    }
    if aggregate:
        return {
            "e": "aggTrade",
            **body,
            "a": trade.trade_id,
            "f": trade.trade_id,
            "l": trade.trade_id,
        }
    return {"e": "trade", **body, "t": trade.trade_id}


def account_position(venue: Venue, assets: tuple[str, ...]) -> dict[str, object]:
    """``outboundAccountPosition`` for the assets that changed."""
    acct = venue.account
    return {
        "e": "outboundAccountPosition",
        "E": venue.engine.now_ms,
        "u": venue.engine.now_ms,
        "B": [
            {
                "a": a,
                "f": fmt(acct.free.get(a, Decimal(0))),
                "l": fmt(acct.locked.get(a, Decimal(0))),
            }
            for a in assets
        ],
    }
