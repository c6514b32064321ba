"""SimulatedExchange: the fill rules of its docstring, fees, locks and refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factories import make_market
from tradebot.domain.commands import PlaceOrder
from tradebot.domain.errors import InsufficientFunds, InvalidOrder, OrderNotFound
from tradebot.domain.events import OrderFilled, OrderUpdated
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderStatus, OrderType
from tradebot.exchange.simulated import FeeSchedule, SimEvent, SimulatedExchange

D = Decimal
SYMBOL = "BTC/USDT"
T0 = 1_704_067_200_000
H = 3_600_000
MARKET = make_market(qty_step="0.001", min_qty="0.001", min_notional="5")


def venue(
    usdt: str = "10000", btc: str = "0", slippage_bps: str = "0", maker: str = "0.001"
) -> SimulatedExchange:
    ex = SimulatedExchange(
        [MARKET],
        {"USDT": D(usdt), "BTC": D(btc)},
        FeeSchedule(maker=D(maker), taker=D("0.002")),
        D(slippage_bps),
    )
    ex.open_bar(SYMBOL, T0, 100.0, 101.0, 99.0, 100.0)  # a first bar gives market orders a price
    return ex


def order(
    cid: str,
    side: OrderSide,
    kind: OrderType,
    qty: str = "1",
    price: str | None = None,
    stop: str | None = None,
    oco_with: str | None = None,
) -> PlaceOrder:
    return PlaceOrder(
        ClientOrderId(cid),
        SYMBOL,
        side,
        kind,
        D(qty),
        None if price is None else D(price),
        None if stop is None else D(stop),
        oco_with=None if oco_with is None else ClientOrderId(oco_with),
    )


def bar(ex: SimulatedExchange, k: int, o: float, h: float, lo: float, c: float) -> list[SimEvent]:
    """Both phases of bar ``k``."""
    return ex.open_bar(SYMBOL, T0 + k * H, o, h, lo, c) + ex.trade_bar(SYMBOL)


def fills(events: list[SimEvent]) -> list[tuple[str, Decimal, Decimal, Decimal, str]]:
    return [
        (e.fill.client_order_id, e.fill.qty, e.fill.price, e.fill.fee, e.fill.fee_asset)
        for e in events
        if isinstance(e, OrderFilled)
    ]


def free(ex: SimulatedExchange, asset: str) -> Decimal:
    return ex.balances()[asset].free


def locked(ex: SimulatedExchange, asset: str) -> Decimal:
    return ex.balances()[asset].locked


# ----------------------------------------------------------------- market orders
def test_open_bar_market_buy_fills_at_next_open_plus_slippage_fee_in_base() -> None:
    ex = venue(slippage_bps="10")
    ex.submit(order("b", OrderSide.BUY, OrderType.MARKET))

    events = ex.open_bar(SYMBOL, T0 + H, 102.0, 103.0, 101.0, 102.5)

    assert fills(events) == [("b", D(1), D("102.10"), D("0.002"), "BTC")]
    assert free(ex, "USDT") == D("9897.90")
    assert free(ex, "BTC") == D("0.998")


def test_open_bar_market_sell_fills_at_next_open_minus_slippage_fee_in_quote() -> None:
    ex = venue(btc="2", slippage_bps="10")
    ex.submit(order("s", OrderSide.SELL, OrderType.MARKET, qty="2"))
    assert locked(ex, "BTC") == D(2)

    events = ex.open_bar(SYMBOL, T0 + H, 98.0, 99.0, 97.0, 98.0)

    # 98 × (1 − 0.001) = 97.902 → tick 97.90; fee 0.2 % of 195.80
    assert fills(events) == [("s", D(2), D("97.90"), D("0.39160"), "USDT")]
    assert free(ex, "USDT") == D("10195.40840")
    assert (free(ex, "BTC"), locked(ex, "BTC")) == (D(0), D(0))


def test_trade_bar_market_order_sent_after_close_waits_for_next_open() -> None:
    ex = venue()
    ex.submit(order("b", OrderSide.BUY, OrderType.MARKET))

    assert ex.trade_bar(SYMBOL) == []
    assert ex.order(ClientOrderId("b")).status is OrderStatus.OPEN


def test_open_bar_market_buy_unaffordable_after_gap_expires_with_reason() -> None:
    ex = venue(usdt="100.5")
    ex.submit(order("b", OrderSide.BUY, OrderType.MARKET))

    events = ex.open_bar(SYMBOL, T0 + H, 101.0, 102.0, 100.0, 101.0)

    assert len(events) == 1
    assert isinstance(events[0], OrderUpdated)
    assert events[0].status is OrderStatus.EXPIRED
    assert events[0].reason == "insufficient USDT at fill: needs 101.00"
    assert free(ex, "USDT") == D("100.5")


# ----------------------------------------------------------------- limit orders
def test_trade_bar_buy_limit_low_reaches_price_fills_at_limit_as_maker() -> None:
    ex = venue(maker="0.0005")
    ex.submit(order("l", OrderSide.BUY, OrderType.LIMIT, price="99"))
    assert (free(ex, "USDT"), locked(ex, "USDT")) == (D(9901), D(99))

    events = bar(ex, 1, 100.0, 100.5, 98.5, 99.5)

    assert fills(events) == [("l", D(1), D(99), D("0.0005"), "BTC")]
    assert (free(ex, "USDT"), locked(ex, "USDT")) == (D(9901), D(0))


def test_trade_bar_buy_limit_bar_opens_below_fills_at_better_open_as_taker() -> None:
    ex = venue()
    ex.submit(order("l", OrderSide.BUY, OrderType.LIMIT, price="99"))

    events = bar(ex, 1, 97.0, 98.0, 96.0, 97.5)

    assert fills(events) == [("l", D(1), D(97), D("0.002"), "BTC")]
    assert (free(ex, "USDT"), locked(ex, "USDT")) == (D(9903), D(0))


def test_trade_bar_buy_limit_not_reached_keeps_resting_and_locked() -> None:
    ex = venue()
    ex.submit(order("l", OrderSide.BUY, OrderType.LIMIT, price="95"))

    assert bar(ex, 1, 100.0, 101.0, 95.01, 100.0) == []
    assert locked(ex, "USDT") == D(95)
    assert [o.client_order_id for o in ex.open_orders()] == ["l"]


def test_cancel_resting_limit_releases_locked_quote() -> None:
    ex = venue()
    ex.submit(order("l", OrderSide.BUY, OrderType.LIMIT, price="95"))

    canceled = ex.cancel(ClientOrderId("l"))

    assert canceled.status is OrderStatus.CANCELED
    assert (free(ex, "USDT"), locked(ex, "USDT")) == (D(10_000), D(0))


def test_cancel_off_tick_limit_releases_exactly_what_it_locked() -> None:
    ex = venue()
    placed = ex.submit(order("l", OrderSide.BUY, OrderType.LIMIT, qty="2", price="94.996"))
    assert placed.price == D("95.00")

    ex.cancel(ClientOrderId("l"))

    assert (free(ex, "USDT"), locked(ex, "USDT")) == (D(10_000), D(0))


def test_trade_bar_off_tick_limit_fill_leaves_nothing_locked() -> None:
    ex = venue()
    ex.submit(order("l", OrderSide.BUY, OrderType.LIMIT, qty="2", price="94.996"))

    bar(ex, 1, 96.0, 96.0, 94.0, 95.0)

    assert (free(ex, "USDT"), locked(ex, "USDT")) == (D(9810), D(0))


def test_cancel_buy_stop_releases_what_it_locked() -> None:
    ex = venue()
    ex.submit(order("bs", OrderSide.BUY, OrderType.STOP_LOSS, stop="105"))
    assert locked(ex, "USDT") == D(105)

    ex.cancel(ClientOrderId("bs"))

    assert (free(ex, "USDT"), locked(ex, "USDT")) == (D(10_000), D(0))


def test_trade_bar_buy_stop_fill_unlocks_and_charges_fill_price() -> None:
    ex = venue()
    ex.submit(order("bs", OrderSide.BUY, OrderType.STOP_LOSS, stop="105"))

    events = bar(ex, 1, 106.0, 107.0, 105.5, 106.0)  # gaps above the stop: fills at the open

    assert fills(events) == [("bs", D(1), D(106), D("0.002"), "BTC")]
    assert (free(ex, "USDT"), locked(ex, "USDT")) == (D(9894), D(0))


# ----------------------------------------------------------------- stops and targets
def test_trade_bar_sell_stop_low_reaches_fills_at_stop_minus_slippage() -> None:
    ex = venue(btc="1", slippage_bps="20")
    ex.submit(order("sl", OrderSide.SELL, OrderType.STOP_LOSS, stop="95"))

    events = bar(ex, 1, 97.0, 98.0, 94.0, 96.0)

    # 95 × (1 − 0.002) = 94.81
    assert fills(events) == [("sl", D(1), D("94.81"), D("0.18962"), "USDT")]


def test_trade_bar_sell_stop_gap_below_fills_at_open() -> None:
    ex = venue(btc="1")
    ex.submit(order("sl", OrderSide.SELL, OrderType.STOP_LOSS, stop="95"))

    events = bar(ex, 1, 90.0, 92.0, 89.0, 91.0)

    assert fills(events)[0][2] == D(90)


def test_trade_bar_sell_stop_not_reached_keeps_resting() -> None:
    ex = venue(btc="1")
    ex.submit(order("sl", OrderSide.SELL, OrderType.STOP_LOSS, stop="95"))

    assert bar(ex, 1, 97.0, 98.0, 95.01, 96.0) == []
    assert locked(ex, "BTC") == D(1)


def oco_pair(ex: SimulatedExchange) -> None:
    ex.submit(order("sl", OrderSide.SELL, OrderType.STOP_LOSS, stop="95"))
    ex.submit(order("tp", OrderSide.SELL, OrderType.LIMIT_MAKER, price="105", oco_with="sl"))


def test_trade_bar_stop_and_target_inside_one_bar_stop_wins() -> None:
    ex = venue(btc="1")
    oco_pair(ex)

    events = bar(ex, 1, 100.0, 106.0, 94.0, 100.0)

    assert [f[:3] for f in fills(events)] == [("sl", D(1), D(95))]
    expired = [e for e in events if isinstance(e, OrderUpdated)]
    assert [(e.client_order_id, e.status, e.ts_ms, e.reason) for e in expired] == [
        ("tp", OrderStatus.EXPIRED, T0 + H, "OCO partner acted")
    ]
    assert (free(ex, "BTC"), locked(ex, "BTC")) == (D(0), D(0))
    assert ex.open_orders() == []


def test_trade_bar_target_reached_fills_at_target_as_maker_and_expires_stop() -> None:
    ex = venue(btc="1", maker="0.0005")
    oco_pair(ex)

    events = bar(ex, 1, 100.0, 105.5, 99.0, 105.0)

    assert fills(events) == [("tp", D(1), D(105), D("0.05250"), "USDT")]
    assert ex.order(ClientOrderId("sl")).status is OrderStatus.EXPIRED
    assert (free(ex, "BTC"), locked(ex, "BTC")) == (D(0), D(0))
    assert free(ex, "USDT") == D("10104.94750")


def test_submit_oco_pair_locks_the_amount_once() -> None:
    ex = venue(btc="1")

    oco_pair(ex)

    assert (free(ex, "BTC"), locked(ex, "BTC")) == (D(0), D(1))


def test_cancel_one_oco_leg_cancels_both_and_releases_once() -> None:
    ex = venue(btc="1")
    oco_pair(ex)

    ex.cancel(ClientOrderId("sl"))

    assert ex.order(ClientOrderId("tp")).status is OrderStatus.CANCELED
    assert (free(ex, "BTC"), locked(ex, "BTC")) == (D(1), D(0))
    assert ex.trigger_levels(SYMBOL) == (float("-inf"), float("inf"), False)


def test_trigger_levels_report_stop_below_and_target_above() -> None:
    ex = venue(btc="1")
    oco_pair(ex)
    ex.submit(order("b", OrderSide.BUY, OrderType.MARKET, qty="0.1"))

    assert ex.trigger_levels(SYMBOL) == (95.0, 105.0, True)


# ----------------------------------------------------------------- refusals
def test_submit_more_than_free_raises_insufficient_funds_with_amounts() -> None:
    ex = venue()

    with pytest.raises(InsufficientFunds) as err:
        ex.submit(order("b", OrderSide.BUY, OrderType.MARKET, qty="200"))

    assert str(err.value) == (
        "Account has insufficient balance for requested action: buy 200 BTC/USDT needs "
        "20000.00000000 USDT, 10000.00000000 free"
    )


def test_submit_sell_without_holding_raises_insufficient_funds() -> None:
    ex = venue()

    with pytest.raises(InsufficientFunds, match=r"needs 1\.00000000 BTC, 0\.00000000 free"):
        ex.submit(order("s", OrderSide.SELL, OrderType.MARKET))


def test_submit_duplicate_client_id_is_refused_and_first_order_stands() -> None:
    ex = venue()
    ex.submit(order("same", OrderSide.BUY, OrderType.LIMIT, price="90"))

    with pytest.raises(InvalidOrder, match=r"^Duplicate order sent\."):
        ex.submit(order("same", OrderSide.BUY, OrderType.LIMIT, price="80"))

    assert ex.order(ClientOrderId("same")).price == D(90)
    assert locked(ex, "USDT") == D(90)


def test_submit_below_min_notional_is_refused_naming_amounts() -> None:
    ex = venue()

    with pytest.raises(InvalidOrder, match=r"notional 4\.00000000 USDT is below .* 5 USDT"):
        ex.submit(order("b", OrderSide.BUY, OrderType.LIMIT, qty="0.04", price="100"))

    assert ex.open_orders() == []


def test_submit_amount_is_rounded_down_to_lot_step() -> None:
    ex = venue()

    placed = ex.submit(order("b", OrderSide.BUY, OrderType.LIMIT, qty="0.12399", price="90"))

    assert placed.qty == D("0.123")


def test_submit_unknown_symbol_is_refused_listing_markets() -> None:
    ex = venue()
    cmd = PlaceOrder(ClientOrderId("x"), "ETH/USDT", OrderSide.BUY, OrderType.MARKET, D(1))

    with pytest.raises(InvalidOrder, match=r"unknown symbol 'ETH/USDT'; this exchange trades BTC"):
        ex.submit(cmd)


def test_submit_market_order_before_any_bar_is_refused() -> None:
    ex = SimulatedExchange([MARKET], {"USDT": D(1000)})

    with pytest.raises(InvalidOrder, match="no price yet"):
        ex.submit(order("b", OrderSide.BUY, OrderType.MARKET))


def test_cancel_unknown_or_finished_order_raises_order_not_found() -> None:
    ex = venue()
    ex.submit(order("b", OrderSide.BUY, OrderType.MARKET))
    bar(ex, 1, 100.0, 100.0, 100.0, 100.0)

    with pytest.raises(OrderNotFound, match="order nope does not exist"):
        ex.cancel(ClientOrderId("nope"))
    with pytest.raises(OrderNotFound, match="order b is filled, not open"):
        ex.cancel(ClientOrderId("b"))
