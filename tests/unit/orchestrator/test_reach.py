"""The closed bars vouch for a resting order only while none of them since its placement
reached its price (``domain.fills``' rule), without a gap, and only for an order resting as
the venue last answered."""

from __future__ import annotations

from decimal import Decimal

from tradebot.domain.market import Candle
from tradebot.domain.orders import ClientOrderId, Order, OrderSide, OrderStatus, OrderType
from tradebot.orchestrator.reach import Reach

H = 3_600_000
SYMBOL = "BTC/USDT"


def _bars(*lows_highs: tuple[float, float], first: int = 10) -> list[Candle]:
    """Hourly bars from hour ``first``, each (low, high)."""
    return [
        Candle((first + k) * H, (lo + hi) / 2, hi, lo, (lo + hi) / 2, 1.0)
        for k, (lo, hi) in enumerate(lows_highs)
    ]


def _order(
    kind: OrderType = OrderType.STOP_LOSS,
    side: OrderSide = OrderSide.SELL,
    *,
    price: str | None = None,
    stop: str | None = "95",
    placed_hour: int = 10,
    status: OrderStatus = OrderStatus.OPEN,
) -> Order:
    return Order(
        ClientOrderId(f"tb-BTCUSDT-{placed_hour * H}-sl"), SYMBOL, side, kind, Decimal("0.1"),
        None if price is None else Decimal(price), None if stop is None else Decimal(stop),
        status=status, created_ts_ms=placed_hour * H,
    )  # fmt: skip


def _untouched(order: Order, *polls: list[Candle]) -> list[bool]:
    """The verdict after each poll reads its closed candles."""
    reach, verdicts = Reach(H), []
    for closed in polls:
        reach.follow({SYMBOL: closed}, lambda _symbol: [order])
        verdicts.append(reach.untouched(SYMBOL, [order]))
    return verdicts


def test_a_stop_no_bar_reached_is_untouched_until_a_low_touches_it() -> None:
    bars = _bars((96, 99), (95.5, 98), (95, 97))
    assert _untouched(_order(), bars[:1], bars[:2], bars[:3]) == [True, True, False]


def test_a_stop_once_reached_stays_reached_though_the_price_climbs_back() -> None:
    bars = _bars((96, 99), (94, 98), (97, 101), (98, 102))
    assert _untouched(_order(), bars[:2], bars[:3], bars[1:4]) == [False, False, False]


def test_bars_before_the_order_was_placed_do_not_count() -> None:
    bars = _bars((90, 99), (96, 99), (96.5, 100))  # hour 10 went below the stop placed at 11
    assert _untouched(_order(placed_hour=11), bars) == [True]


def test_a_gap_in_the_bars_is_never_vouched_for_again() -> None:
    bars = _bars((96, 99), (96, 99), (96, 99), (96, 99))
    assert _untouched(_order(), bars[:1], [bars[0], bars[2]], bars[:4]) == [True, False, False]


def test_limits_and_take_profits_are_reached_from_the_other_side() -> None:
    take_profit = _order(OrderType.LIMIT_MAKER, price="105", stop=None)
    bid = _order(OrderType.LIMIT, OrderSide.BUY, price="95", stop=None)
    bars = _bars((96, 104), (96, 105))
    assert _untouched(take_profit, bars[:1], bars) == [True, False]
    assert _untouched(bid, bars[:1], _bars((96, 104), (95, 99))) == [True, False]


def test_an_order_not_resting_as_the_venue_answered_is_not_vouched_for() -> None:
    bars = _bars((96, 99))
    unconfirmed = _order(status=OrderStatus.SUBMITTING)
    market = _order(OrderType.MARKET, stop=None)
    assert _untouched(unconfirmed, bars) == [False]
    assert _untouched(market, bars) == [False]
    assert _untouched(_order(status=OrderStatus.PARTIALLY_FILLED), bars) == [False]


def test_an_order_the_bars_were_not_counted_for_is_not_vouched_for() -> None:
    reach = Reach(H)
    reach.follow({SYMBOL: _bars((96, 99))}, lambda _symbol: [])
    assert reach.untouched(SYMBOL, [_order()]) is False
