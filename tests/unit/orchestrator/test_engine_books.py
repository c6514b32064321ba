"""One engine, several symbols on one wallet: each symbol is decided by its own strategy on
its own bars; orders, positions and cash are the account's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factories import ScriptedStrategy, bought_at, make_candles, make_engine, make_market
from tradebot.domain.commands import PlaceOrder
from tradebot.domain.events import BarClosed
from tradebot.domain.orders import OrderSide


def test_bar_closed_each_symbol_decided_by_its_own_strategy_on_its_bars() -> None:
    eth = make_market("ETH/USDT")
    engine, _ = make_engine(ScriptedStrategy([4]), more=[(eth, ScriptedStrategy([2]))])
    btc_bars = engine.prepare(make_candles(6, seed=1, start=40_000.0))
    eth_bars = engine.prepare(make_candles(6, seed=2, start=2_000.0), symbol="ETH/USDT")

    sent: list[PlaceOrder] = []
    for i in range(6):
        for symbol, bars in (("BTC/USDT", btc_bars), ("ETH/USDT", eth_bars)):
            step = engine.handle(BarClosed(symbol, int(bars.ts_ms[i]), i))
            sent += [c for c in step.commands if isinstance(c, PlaceOrder)]

    assert [(c.symbol, c.side) for c in sent] == [
        ("ETH/USDT", OrderSide.BUY),
        ("BTC/USDT", OrderSide.BUY),
    ]
    assert sent[0].client_order_id == f"tb-ETHUSDT-{int(eth_bars.ts_ms[2])}-en"
    # fixed 1,000 USDT notional at each symbol's own close
    assert float(sent[0].qty) * eth_bars["close"][2] == pytest.approx(1000, rel=1e-3)
    assert float(sent[1].qty) * btc_bars["close"][4] == pytest.approx(1000, rel=1e-3)
    assert engine.symbols == ("BTC/USDT", "ETH/USDT")


def test_prepare_unknown_symbol_refused_naming_the_traded_ones() -> None:
    engine, _ = make_engine(
        ScriptedStrategy(), more=[(make_market("ETH/USDT"), ScriptedStrategy())]
    )

    with pytest.raises(ValueError, match="trades BTC/USDT, ETH/USDT, not SOL/USDT"):
        engine.prepare(make_candles(5), symbol="SOL/USDT")


def test_day_start_values_a_fill_of_a_symbol_not_decided_since() -> None:
    # Arrange: ETH buys at its bar 2 and is never decided again; BTC decides every bar
    eth = make_market("ETH/USDT")
    engine, _ = make_engine(ScriptedStrategy(), more=[(eth, ScriptedStrategy([2]))])
    btc_bars = engine.prepare(make_candles(30, seed=1, start=40_000.0))
    eth_bars = engine.prepare(make_candles(30, seed=2, start=2_000.0), symbol="ETH/USDT")
    fill = bought_at(engine, eth_bars, "ETH/USDT", 2, "2000")  # filled at bar 3
    # Act: only BTC's bars close, into the next UTC day (bar 24)
    for i in range(3, 25):
        engine.handle(BarClosed("BTC/USDT", int(btc_bars.ts_ms[i]), i))
    # Assert: the day starts with the ETH held, at ETH's close of the day's last bar (23)
    expected = engine.portfolio.cash + fill.qty * Decimal(repr(float(eth_bars["close"][23])))
    assert engine.day_start_equity == expected
    assert engine.portfolio.cash < Decimal(10_000)
