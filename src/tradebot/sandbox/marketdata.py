"""Public market-data payloads (REST and websocket) built from the venue's state."""

from __future__ import annotations

from decimal import Decimal

from tradebot.sandbox.markets import fmt
from tradebot.sandbox.replay import Bar
from tradebot.sandbox.venue import Venue

_DAY_MS = 86_400_000


def kline_row(bar: Bar, tf_ms: int) -> list[object]:
    """One row of ``GET /api/v3/klines``."""
    quote_volume = bar.volume * bar.close
    return [
        bar.ts_ms,
        fmt(bar.open),
        fmt(bar.high),
        fmt(bar.low),
        fmt(bar.close),
        fmt(bar.volume),
        bar.ts_ms + tf_ms - 1,
        fmt(quote_volume),
        0,
        fmt(bar.volume / 2),
        fmt(quote_volume / 2),
        "0",
    ]


def bars_until_now(venue: Venue, vid: str) -> list[Bar]:
    """Every bar that has opened by now; the last is the live bar as walked so far."""
    series = venue.series[vid]
    live_index = venue.live[vid].index
    return [*series.bars[:live_index], venue.current_bar(vid)]


def ticker_24hr(venue: Venue, vid: str) -> dict[str, object]:
    """``GET /api/v3/ticker/24hr`` for one symbol, over the bars of the last 24 hours."""
    series, now = venue.series[vid], venue.now_ms
    live_index = venue.live[vid].index
    first = series.index_at(now - _DAY_MS) + 1
    window = [*series.bars[max(first, 0) : live_index], venue.current_bar(vid)]
    opened = window[0]
    last = venue.price(vid)
    volume = sum((b.volume for b in window), Decimal(0))
    quote_volume = sum((b.volume * b.close for b in window), Decimal(0))
    prev_close = series.bars[live_index - 1].close if live_index > 0 else opened.open
    (bid, bid_qty), (ask, ask_qty) = venue.books[vid].best()
    change = last - opened.open
    return {
        "symbol": vid,
        "priceChange": fmt(change),
        "priceChangePercent": f"{change / opened.open * 100:.3f}",
        "weightedAvgPrice": fmt(quote_volume / volume if volume else last),
        "prevClosePrice": fmt(prev_close),
        "lastPrice": fmt(last),
        "lastQty": fmt(Decimal(0)),
        "bidPrice": fmt(bid),
        "bidQty": fmt(bid_qty),
        "askPrice": fmt(ask),
        "askQty": fmt(ask_qty),
        "openPrice": fmt(opened.open),
        "highPrice": fmt(max(b.high for b in window)),
        "lowPrice": fmt(min(b.low for b in window)),
        "volume": fmt(volume),
        "quoteVolume": fmt(quote_volume),
        "openTime": opened.ts_ms,
        "closeTime": now,
        "firstId": 0,
        "lastId": max(venue.engine.next_trade_id - 1, 0),
        "count": len(window),
    }


def book_ticker(venue: Venue, vid: str) -> dict[str, object]:
    """``GET /api/v3/ticker/bookTicker`` for one symbol."""
    (bid, bid_qty), (ask, ask_qty) = venue.books[vid].best()
    return {
        "symbol": vid,
        "bidPrice": fmt(bid),
        "bidQty": fmt(bid_qty),
        "askPrice": fmt(ask),
        "askQty": fmt(ask_qty),
    }


def depth(venue: Venue, vid: str, limit: int) -> dict[str, object]:
    """``GET /api/v3/depth``: the synthetic book and its update id."""
    book = venue.books[vid]
    bids, asks = book.snapshot(limit)
    return {
        "lastUpdateId": book.update_id,
        "bids": [[fmt(p), fmt(q)] for p, q in bids],
        "asks": [[fmt(p), fmt(q)] for p, q in asks],
    }


def agg_trades(
    venue: Venue, vid: str, limit: int, start_ms: int | None, end_ms: int | None
) -> list[dict[str, object]]:
    """``GET /api/v3/aggTrades`` from the recent public prints (one trade per aggregate)."""
    rows = [
        t
        for t in venue.public_trades[vid]
        if (start_ms is None or t.time_ms >= start_ms) and (end_ms is None or t.time_ms <= end_ms)
    ]
    rows = rows[:limit] if start_ms is not None else rows[-limit:]
    return [
        {
            "a": t.trade_id,
            "p": fmt(t.price),
            "q": fmt(t.qty),
            "f": t.trade_id,
            "l": t.trade_id,
            "T": t.time_ms,
            "m": t.buyer_is_maker,
            "M": True,
        }
        for t in rows
    ]
