"""One fill rule, two venues: each bar script fills the same on the backtest venue and the sandbox.

The rule is ``tradebot.domain.fills`` (docs/backtest.md, "How a bar fills an order"): the
price jumps to the open, then walks open → low → high → close; an order the open is already
through acts at the open as taker (a LIMIT_MAKER at its own price, as maker); one the walk
reaches fills at its own price, a limit as maker, a triggered stop as taker; the first leg of
an OCO list to act expires the other; every fill is stamped with its bar's open time.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from bar_scripts import Script, buy, play_backtest, play_sandbox, sell

from tradebot.domain.orders import OrderType
from tradebot.exchange.simulated import FeeSchedule

MAKER_CHEAPER = FeeSchedule(maker=Decimal("0.0008"), taker=Decimal("0.001"))
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
STOP, STOP_LIMIT = OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT

SCRIPTS = [
    Script(
        "market order fills at the open as taker",
        [("100", "101", "99.5", "100.5")],
        [buy("m", MARKET)],
        [("m", "100", "1", "0.001", "BTC", False, "bar 1")],
    ),
    Script(
        "rising bar fills limits at their own prices as makers, the low first",
        [("100", "103", "98", "102")],
        [sell("tp", LIMIT, price="102.5"), buy("b", LIMIT, price="99")],
        [
            ("b", "99", "1", "0.0008", "BTC", True, "bar 1"),
            ("tp", "102.5", "1", "0.082", "USDT", True, "bar 1"),
        ],
        fees=MAKER_CHEAPER,
    ),
    Script(
        "falling bar through both OCO legs fills the stop and expires the take-profit",
        [("100", "106", "94", "96")],
        [sell("sl", STOP, stop="95", take_profit=("tp", "105"))],
        [("sl", "95", "1", "0.095", "USDT", False, "bar 1")],
        {"tp": "expired"},
    ),
    Script(
        "rising bar through both OCO legs fills the stop and expires the take-profit",
        [("100", "106", "94", "104")],
        [sell("sl", STOP, stop="95", take_profit=("tp", "105"))],
        [("sl", "95", "1", "0.095", "USDT", False, "bar 1")],
        {"tp": "expired"},
    ),
    Script(
        "gap down through a resting sell stop fills at the open as taker",
        [("100", "100.5", "96", "96.5"), ("93", "94", "92", "93.5")],
        [sell("sl", STOP, stop="95")],
        [("sl", "93", "1", "0.093", "USDT", False, "bar 2")],
    ),
    Script(
        "gap down through a resting buy limit fills at the open as taker",
        [("100", "100.5", "99.5", "99.8"), ("98", "98.5", "97", "98.2")],
        [buy("b", LIMIT, price="99")],
        [("b", "98", "1", "0.001", "BTC", False, "bar 2")],
        fees=MAKER_CHEAPER,
    ),
    Script(
        "gap up through a resting sell limit fills at the open as taker",
        [("100", "101", "99.5", "101"), ("103", "104", "102.5", "103.5")],
        [sell("tp", LIMIT, price="102")],
        [("tp", "103", "1", "0.103", "USDT", False, "bar 2")],
        fees=MAKER_CHEAPER,
    ),
    Script(
        "gap up through an OCO take-profit fills the LIMIT_MAKER at its price as maker",
        [("100", "101", "99.5", "101"), ("103", "104", "102.5", "103.5")],
        [sell("sl", STOP, stop="95", take_profit=("tp", "102"))],
        [("tp", "102", "1", "0.0816", "USDT", True, "bar 2")],
        {"sl": "expired"},
        fees=MAKER_CHEAPER,
    ),
    Script(
        "exact touches fill: the stop at the low first, then the limit there, then the high",
        [("100", "100.5", "99", "99.6")],
        [
            buy("b", LIMIT, price="99"),
            sell("tp", LIMIT, price="100.5"),
            sell("sl", STOP, stop="99"),
        ],
        [
            ("sl", "99", "1", "0.099", "USDT", False, "bar 1"),
            ("b", "99", "1", "0.0008", "BTC", True, "bar 1"),
            ("tp", "100.5", "1", "0.0804", "USDT", True, "bar 1"),
        ],
        fees=MAKER_CHEAPER,
    ),
    Script(
        "stop-limit triggered inside the bar fills at its stop price as taker",
        [("100", "100.5", "93", "94")],
        [sell("sl", STOP_LIMIT, price="94", stop="95")],
        [("sl", "95", "1", "0.095", "USDT", False, "bar 1")],
        fees=MAKER_CHEAPER,
    ),
    Script(
        "gap through a stop-limit's limit rests it as a limit that fills as maker on the rise",
        [("100", "100.5", "96", "96.5"), ("93", "95", "92.5", "94.8")],
        [sell("sl", STOP_LIMIT, price="94.5", stop="95")],
        [("sl", "94.5", "1", "0.0756", "USDT", True, "bar 2")],
        fees=MAKER_CHEAPER,
    ),
    Script(
        "gap through a stop-limit's limit with no way back leaves it open, unfilled",
        [("100", "100.5", "96", "96.5"), ("93", "94", "92", "93.5")],
        [sell("sl", STOP_LIMIT, price="94.5", stop="95")],
        [],
    ),
]


def _expected_statuses(script: Script) -> dict[str, str]:
    filled = {f[0] for f in script.fills}
    ids = [c.client_order_id for c in script.orders]
    ids += [c.take_profit_id for c in script.orders if c.take_profit_id is not None]
    statuses = {cid: "filled" if cid in filled else "open" for cid in ids}
    return statuses | script.statuses


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.name.replace(" ", "-"))
async def test_bar_script_fills_alike_on_backtest_venue_and_sandbox(
    script: Script, tmp_path: Path
) -> None:
    # Act
    backtest = play_backtest(script)
    sandbox = await play_sandbox(script, tmp_path)
    # Assert: the rule's outcome, fill for fill, on both venues
    assert {"backtest": backtest.fills, "sandbox": sandbox.fills} == {
        "backtest": script.fills,
        "sandbox": script.fills,
    }
    expected = _expected_statuses(script)
    assert {"backtest": backtest.statuses, "sandbox": sandbox.statuses} == {
        "backtest": expected,
        "sandbox": expected,
    }
