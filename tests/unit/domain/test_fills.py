"""The bar-fill rule: which order acts where on a bar's path, at what price, in which role."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from tradebot.domain.fills import Act, BarAction, BarWalk, Leg, Resting, bar_path
from tradebot.domain.orders import OrderSide, OrderType

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL
TS = 1_000


def walk_all(
    legs: tuple[Leg, ...], orders: list[Resting]
) -> list[tuple[str | int, Act, str, bool]]:
    """Walk the legs, removing each order that fills (as a venue filling in full would)."""
    walk, resting, done = BarWalk(TS, legs), {o.key: o for o in orders}, []
    while (action := walk.next(list(resting.values()))) is not None:
        assert action.ts_ms == TS
        done.append((action.key, action.act, f"{action.price}", action.is_maker))
        view = resting.pop(action.key)
        if action.act is Act.TRIGGER:
            resting[action.key] = dataclasses.replace(view, triggered=True)
    return done


def path(o: str, h: str, low: str, c: str) -> tuple[Leg, ...]:
    return bar_path(D(o), D(h), D(low), D(c))


def test_bar_path_jumps_to_the_open_then_walks_low_high_close() -> None:
    assert path("100", "106", "94", "96") == (
        Leg(D(100), jump=True),
        Leg(D(94)),
        Leg(D(106)),
        Leg(D(96)),
    )
    assert bar_path(D(100), D(106), D(80), D(96), crash=D(80))[1] == Leg(D(80), jump=True)


def test_walk_falling_bar_reaches_the_stop_before_the_take_profit() -> None:
    orders = [
        Resting("tp", SELL, OrderType.LIMIT_MAKER, price=D(105)),
        Resting("sl", SELL, OrderType.STOP_LOSS, stop_price=D(95)),
    ]
    assert walk_all(path("100", "106", "94", "96"), orders)[0] == ("sl", Act.FILL, "95", False)


def test_walk_same_level_acts_stops_first_then_in_placement_order() -> None:
    orders = [
        Resting("b1", BUY, OrderType.LIMIT, price=D(99)),
        Resting("b2", BUY, OrderType.LIMIT, price=D(99)),
        Resting("sl", SELL, OrderType.STOP_LOSS, stop_price=D(99)),
    ]
    assert walk_all(path("100", "100.5", "99", "99.5"), orders) == [
        ("sl", Act.FILL, "99", False),
        ("b1", Act.FILL, "99", True),
        ("b2", Act.FILL, "99", True),
    ]


def test_walk_gap_fills_limits_at_the_open_as_taker_but_limit_maker_at_its_price() -> None:
    orders = [
        Resting("tp", SELL, OrderType.LIMIT, price=D(102)),
        Resting("mk", SELL, OrderType.LIMIT_MAKER, price=D(101)),
    ]
    assert walk_all(path("103", "104", "102.5", "103.5"), orders) == [
        ("tp", Act.FILL, "103", False),
        ("mk", Act.FILL, "101", True),
    ]


def test_walk_gap_past_a_stop_limits_limit_triggers_it_then_fills_it_as_maker() -> None:
    orders = [Resting("sl", SELL, OrderType.STOP_LOSS_LIMIT, price=D("94.5"), stop_price=D(95))]
    assert walk_all(path("93", "95", "92.5", "94.8"), orders) == [
        ("sl", Act.TRIGGER, "93", False),
        ("sl", Act.FILL, "94.5", True),
    ]


def test_walk_market_order_fills_at_the_open_as_taker() -> None:
    orders = [Resting("m", BUY, OrderType.MARKET)]
    assert walk_all((Leg(D(100), jump=True),), orders) == [("m", Act.FILL, "100", False)]


def test_walk_order_left_resting_after_acting_is_not_handed_out_again_at_that_point() -> None:
    # A venue whose book filled a taker only partly leaves the rest resting at the same point.
    limit = Resting("b", BUY, OrderType.LIMIT, price=D(99))
    walk = BarWalk(TS, path("98", "98.5", "97.5", "98"))
    first = walk.next([limit])
    assert first == BarAction("b", Act.FILL, D(98), False, TS)
    assert walk.next([limit]) == BarAction("b", Act.FILL, D(99), True, TS)  # at 97.5 → 98.5


def test_resting_reach_says_which_way_and_where_an_order_acts() -> None:
    assert Resting("s", SELL, OrderType.STOP_LOSS, stop_price=D(95)).reach() == (True, D(95))
    assert Resting("t", SELL, OrderType.TAKE_PROFIT, stop_price=D(105)).reach() == (False, D(105))
    assert Resting("b", BUY, OrderType.LIMIT, price=D(99)).reach() == (True, D(99))
    triggered = Resting("x", SELL, OrderType.STOP_LOSS_LIMIT, D(94), D(95), triggered=True)
    assert triggered.reach() == (False, D(94))
