"""A long backtest does not keep every order it ever sent: closed orders are forgotten a day
after they closed (by the engine on ``TimerFired``, and by the venue), fills and trades stay."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from decimal import Decimal

from factories import ScriptedStrategy, make_engine, random_walk_candles
from tradebot.backtest.runner import Backtester
from tradebot.domain.commands import PlaceOrder
from tradebot.domain.events import TimerFired
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderStatus, OrderType
from tradebot.execution.router import OrderIntent, OrderRole, OrderRouter

TS = 1_704_067_200_000
DAY_MS = 86_400_000


def test_backtest_forgets_orders_closed_a_day_before_and_keeps_every_fill() -> None:
    # Arrange: ten days of 1h bars, a round trip on days 0, 2, 4 and 9.
    candles = random_walk_candles(240, "1h")
    engine, exchange = make_engine(ScriptedStrategy([5, 50, 100, 220], [10, 55, 105, 225]))

    # Act
    result = Backtester(engine, exchange).run(candles)

    # Assert
    assert len(result.trades) == 4
    assert len(result.fills) == 8
    first, last = result.fills[0].client_order_id, result.fills[-1].client_order_id
    assert engine.view.order(ClientOrderId(first)) is None
    assert exchange.known_order(ClientOrderId(first)) is None
    assert engine.view.order(ClientOrderId(last)) is not None  # closed in the last day
    assert exchange.known_order(ClientOrderId(last)) is not None


def test_engine_timer_forgets_closed_orders_and_never_reuses_their_ids() -> None:
    # Arrange: an entry refused and closed at TS.
    engine, _ = make_engine(ScriptedStrategy())
    router = OrderRouter()
    intent = OrderIntent("BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal(1), OrderRole.ENTRY)
    done = router.place(intent, TS)
    router.on_status(done.client_order_id, OrderStatus.REJECTED, TS)
    working = router.place(intent, TS + 1)

    # Act
    router.forget_closed(TS)  # closed at TS: not before it, kept
    kept = router.get(done.client_order_id)
    router.forget_closed(TS + 1)
    again: PlaceOrder = router.place(intent, TS)

    # Assert
    assert kept is not None
    assert router.get(done.client_order_id) is None
    assert [o.client_order_id for o in router] == [working.client_order_id, again.client_order_id]
    assert again.client_order_id != done.client_order_id
    assert engine.handle(TimerFired(TS + DAY_MS)).commands == ()


def test_backtest_without_records_trades_the_same_and_keeps_no_decisions_or_fills() -> None:
    # Arrange: an optimisation trial is scored on trades and equity alone.
    candles = random_walk_candles(240, "1h")
    script = ([5, 50, 100, 220], [10, 55, 105, 225])
    full = Backtester(*make_engine(ScriptedStrategy(*script))).run(candles)

    # Act
    lean = Backtester(*make_engine(ScriptedStrategy(*script)), keep_records=False).run(candles)

    # Assert
    assert lean.trades == full.trades
    assert lean.equity.tolist() == full.equity.tolist()
    assert (len(full.decisions), len(full.fills)) == (8, 8)
    assert (lean.decisions, lean.fills) == ([], [])


def test_a_backtest_does_not_load_the_database_libraries() -> None:
    # Arrange: a fresh interpreter running a backtest of the bundled sample, as
    # `tradebot backtest` does; SQLAlchemy and Alembic held 35 MB of its memory.
    probe = (
        "import sys\n"
        "from tradebot.backtest.session import run_backtest\n"
        "from tradebot.config import load_config\n"
        "run = run_backtest(load_config(None))\n"
        "print(len(run.result.trades) > 0, sorted(m for m in ('sqlalchemy', 'alembic')"
        " if m in sys.modules))\n"
    )

    # Act
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout

    # Assert
    assert out.strip().splitlines()[-1] == "True []"


def test_a_backtest_keeps_nothing_per_bar_but_its_result_arrays() -> None:
    # Arrange: 300,000 1m bars and two round trips; 2.4 MB per per-bar array of floats.
    n = 300_000
    candles = random_walk_candles(n, "1m")
    engine, exchange = make_engine(ScriptedStrategy([5, 200_000], [10, 250_000]))
    tracemalloc.start()

    # Act
    try:
        result = Backtester(engine, exchange).run(candles)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Assert: the result's equity and holding (8 bytes a bar each) and a little more: 7 MB;
    # the engine's copy of the bar times as a Python list held another 36 bytes a bar (19).
    assert len(result.trades) == 2
    assert held < 3 * 8 * n + 2_000_000
