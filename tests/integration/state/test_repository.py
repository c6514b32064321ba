"""Round trips and idempotency of the repository on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.exc import StatementError

from tradebot.domain.errors import StateError
from tradebot.domain.orders import (
    ClientOrderId,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tradebot.domain.portfolio import Portfolio, Position, Trade
from tradebot.state.control import KillSwitchLevel
from tradebot.state.db import Database
from tradebot.state.reconcile import Discrepancy, DiscrepancyKind, Fix
from tradebot.state.repository import Repository
from tradebot.state.rows import PortfolioSnapshot, SavedPosition

D = Decimal
SYMBOL = "BTC/USDT"
# More digits than a float holds and more decimals than NUMERIC(38,18) keeps.
LONG_PRICE = D("97123.4567890123456789012345")


def make_order(
    coid: str = "tb-1-buy", qty: str = "0.00150", price: Decimal | None = LONG_PRICE
) -> Order:
    return Order(
        client_order_id=ClientOrderId(coid),
        symbol=SYMBOL,
        side=OrderSide.BUY,
        type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        qty=D(qty),
        price=price,
        stop_price=D("90000.01") if price is not None else None,
        time_in_force=TimeInForce.IOC,
        created_ts_ms=1_733_011_260_000,
        updated_ts_ms=1_733_011_260_000,
        reason="sma cross up",
    )


def make_fill(order: Order, qty: str, price: str, trade_id: str = "", ts_ms: int = 0) -> Fill:
    return Fill(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        qty=D(qty),
        price=D(price),
        fee=D("0.00000075") if order.side is OrderSide.BUY else D("0.19585"),
        fee_asset="BTC" if order.side is OrderSide.BUY else "USDT",
        ts_ms=ts_ms or order.created_ts_ms + 1_000,
        trade_id=trade_id,
        is_maker=True,
    )


def test_record_order_intent_round_trip_keeps_every_field_exactly(repo: Repository) -> None:
    # Arrange
    order = make_order()
    # Act
    written = repo.record_order_intent(order, decision_id="dec-42")
    loaded = repo.get_order("tb-1-buy")
    # Assert
    assert written is True
    assert loaded == order
    assert loaded is not None
    assert str(loaded.price) == "97123.4567890123456789012345"
    assert loaded.stop_price == D("90000.01")


def test_record_order_intent_twice_returns_false_and_keeps_one_order(repo: Repository) -> None:
    # Arrange
    order = make_order()
    repo.record_order_intent(order)
    # Act
    again = repo.record_order_intent(make_order())
    # Assert
    assert again is False
    assert [o.client_order_id for o in repo.orders()] == ["tb-1-buy"]


def test_record_order_intent_with_other_terms_raises_naming_the_field(repo: Repository) -> None:
    repo.record_order_intent(make_order(qty="0.0015"))
    with pytest.raises(StateError, match=r"tb-1-buy was saved with qty=0\.0015, not 0\.0030"):
        repo.record_order_intent(make_order(qty="0.0030"))


def test_update_order_without_intent_raises_state_error(repo: Repository) -> None:
    with pytest.raises(StateError, match="tb-1-buy has no saved intent"):
        repo.update_order(make_order())


def test_update_order_saves_status_exchange_id_and_fills(repo: Repository) -> None:
    # Arrange
    order = make_order()
    repo.record_order_intent(order)
    order.transition(OrderStatus.SUBMITTING, order.created_ts_ms + 5)
    order.exchange_order_id = "881234"
    order.transition(OrderStatus.OPEN, order.created_ts_ms + 9)
    fill = make_fill(order, "0.0005", "97000.5", trade_id="t-1")
    order.apply_fill(fill)
    # Act
    with repo.transaction() as tx:
        tx.record_fill(fill)
        tx.update_order(order)
    loaded = repo.get_order(order.client_order_id)
    # Assert
    assert loaded == order
    assert loaded is not None
    assert loaded.status is OrderStatus.PARTIALLY_FILLED
    assert loaded.filled_qty == D("0.0005")
    assert loaded.avg_fill_price == D("97000.5")
    assert loaded.fills == [fill]


def test_record_fill_twice_returns_false_and_keeps_one_fill(repo: Repository) -> None:
    order = make_order()
    repo.record_order_intent(order)
    fill = make_fill(order, "0.0005", "97000.5", trade_id="t-1")
    assert repo.record_fill(fill) is True
    assert repo.record_fill(fill) is False
    assert repo.fills() == [fill]


def test_record_fill_without_trade_id_dedupes_by_content(repo: Repository) -> None:
    order = make_order()
    repo.record_order_intent(order)
    first = make_fill(order, "0.0005", "97000.5", ts_ms=1_733_011_270_000)
    second = make_fill(order, "0.0005", "97000.5", ts_ms=1_733_011_271_000)
    results = [repo.record_fill(first), repo.record_fill(first), repo.record_fill(second)]
    assert results == [True, False, True]
    assert repo.fills(symbol=SYMBOL, since_ms=1_733_011_271_000) == [second]


def test_record_fill_for_unsaved_order_raises_state_error(repo: Repository) -> None:
    fill = make_fill(make_order(), "0.0005", "97000.5", trade_id="t-9")
    with pytest.raises(StateError, match="tb-1-buy, which has no saved intent"):
        repo.record_fill(fill)


def test_transaction_that_raises_leaves_nothing_written(repo: Repository) -> None:
    # Arrange
    order = make_order()
    repo.record_order_intent(order)
    fill = make_fill(order, "0.0005", "97000.5", trade_id="t-1")

    def crash_mid_transaction() -> None:
        with repo.transaction() as tx:
            tx.record_fill(fill)
            tx.save_position(Position(SYMBOL, "BTC", "USDT", qty=D("0.0005")))
            raise RuntimeError("crash between the fill and its position")

    # Act
    with pytest.raises(RuntimeError, match="crash"):
        crash_mid_transaction()
    # Assert
    assert repo.fills() == []
    assert repo.positions() == []


def test_open_orders_excludes_terminal_orders_and_filters_by_symbol(repo: Repository) -> None:
    # Arrange
    resting, done = make_order("tb-1-a"), make_order("tb-1-b")
    eth = Order(ClientOrderId("tb-1-c"), "ETH/USDT", OrderSide.SELL, OrderType.MARKET, D("1"))
    for order in (resting, done, eth):
        repo.record_order_intent(order)
    done.transition(OrderStatus.REJECTED, 1_733_011_300_000)
    repo.update_order(done)
    # Act
    every_open = repo.open_orders()
    btc_open = repo.open_orders(symbol=SYMBOL)
    # Assert
    assert {o.client_order_id for o in every_open} == {"tb-1-a", "tb-1-c"}
    assert [o.client_order_id for o in btc_open] == ["tb-1-a"]


def test_position_round_trip_keeps_stops_and_round_trip_bookkeeping(repo: Repository) -> None:
    # Arrange
    position = Position(
        SYMBOL,
        "BTC",
        "USDT",
        qty=D("0.00149925"),
        cost=D("145.6125432100000000000001"),
        realised_pnl=D("-3.2"),
        fees=D("0.0728"),
        opened_ts_ms=1_733_011_260_000,
        trip_bought_qty=D("0.00149925"),
        trip_bought_notional=D("145.6125432100000000000001"),
        trip_fees=D("0.0728"),
    )
    # Act
    repo.save_position(position, stop_price=D("95000.00"), take_profit_price=D("101000.5"))
    repo.save_position(position, stop_price=D("95500.00"), take_profit_price=None)
    loaded = repo.positions()
    # Assert
    assert loaded == [SavedPosition(position, D("95500.00"), None)]
    assert repo.positions(open_only=True) == loaded


def test_trade_and_snapshot_round_trip_exactly(repo: Repository) -> None:
    # Arrange
    trade = Trade(SYMBOL, 1, 2, D("0.0015"), D("97000.1"), D("98000.3"), D("0.29"), D("1.21"), "tp")
    snapshot = PortfolioSnapshot(
        ts_ms=1_733_011_320_000,
        cash=D("9854.123456789012345678"),
        equity=D("10001.5"),
        exposure=D("147.376543210987654322"),
        positions={SYMBOL: D("0.0015"), "ETH/USDT": D("0")},
    )
    # Act
    trade_id = repo.record_trade(trade)
    repo.record_snapshot(snapshot)
    # Assert
    assert trade_id == 1
    assert repo.trades() == [trade]
    assert repo.trades(symbol="ETH/USDT") == []
    assert repo.snapshots() == [snapshot]
    assert repo.latest_snapshot() == snapshot


def test_money_column_refuses_a_float(repo: Repository) -> None:
    position = Position(SYMBOL, "BTC", "USDT", qty=0.1)  # type: ignore[arg-type]
    with pytest.raises(StatementError, match=r"money columns take Decimal, got float 0\.1"):
        repo.save_position(position)


def test_record_execution_books_a_real_round_trip_identically(repo: Repository) -> None:
    # Arrange: buy in two partial fills, sell in one, booked by the real Portfolio.
    portfolio = Portfolio.with_cash(D("10000"))
    buy, sell = make_order("tb-2-buy", qty="0.002", price=None), make_order("tb-2-sell")
    sell.side, sell.qty = OrderSide.SELL, D("0.0019985")  # what the buys left after BTC fees
    fills = [
        (buy, make_fill(buy, "0.0012", "97000.10", "t-1", 1_733_011_300_000)),
        (buy, make_fill(buy, "0.0008", "97010.30", "t-2", 1_733_011_301_000)),
        (sell, make_fill(sell, "0.0019985", "98000.00", "t-3", 1_733_011_900_000)),
    ]
    trades = []
    for order in (buy, sell):
        repo.record_order_intent(order)
    # Act
    for order, fill in fills:
        order.apply_fill(fill)
        trade = portfolio.apply_fill(fill, "BTC", "USDT")
        saved = SavedPosition(portfolio.positions[SYMBOL], stop_price=D("95000"))
        assert repo.record_execution(fill, order, saved, trade) is True
        trades += [trade] if trade else []
    replayed = repo.record_execution(fills[0][1], buy, SavedPosition(Position(SYMBOL, "B", "Q")))
    # Assert
    assert replayed is False
    assert repo.positions() == [SavedPosition(portfolio.positions[SYMBOL], D("95000"))]
    assert repo.trades() == trades
    assert len(trades) == 1
    assert trades[0].exit_price == D("98000.00")
    assert trades[0].qty == D("0.0019985")
    assert repo.get_order("tb-2-buy") == buy
    assert repo.fills() == [f for _, f in fills]


def test_state_survives_closing_and_reopening_the_database(database: Database) -> None:
    # Arrange
    order = make_order()
    Repository(database).record_order_intent(order, decision_id="dec-1")
    database.close()
    # Act
    reopened = Database(database.engine.url)
    try:
        loaded = Repository(reopened).open_orders()
    finally:
        reopened.close()
    # Assert
    assert loaded == [order]


def test_kill_switch_defaults_to_active_and_survives_a_restart(database: Database) -> None:
    # Arrange
    before = Repository(database).kill_switch()
    Repository(database).set_kill_switch(KillSwitchLevel.REDUCING, "daily loss limit hit")
    # Act: a new repository on a new engine, as after a restart.
    reopened = Database(database.engine.url)
    repo = Repository(reopened)
    level, reason = repo.kill_switch(), repo.kill_switch_reason()
    reopened.close()
    # Assert
    assert before is KillSwitchLevel.ACTIVE
    assert (level, reason) == (KillSwitchLevel.REDUCING, "daily loss limit hit")


def test_kill_switch_with_a_corrupt_value_raises_naming_it(repo: Repository) -> None:
    repo.set_control("kill_switch", "PAUSED")
    with pytest.raises(StateError, match="kill_switch='PAUSED' is not one of ACTIVE, REDUCING"):
        repo.kill_switch()


def test_control_state_keeps_last_bar_and_day_start_equity_per_utc_day(repo: Repository) -> None:
    # Arrange: 2024-12-01 23:59 UTC and 2024-12-02 00:00 UTC are different days.
    late, next_day = 1_733_097_540_000, 1_733_097_600_000
    # Act
    repo.set_last_bar_ts(SYMBOL, "1m", 1_733_011_200_000)
    repo.set_last_bar_ts(SYMBOL, "1m", 1_733_011_260_000)
    repo.set_day_start_equity(late - 86_000_000, D("10000.123456789"))
    # Assert
    assert repo.last_bar_ts(SYMBOL, "1m") == 1_733_011_260_000
    assert repo.last_bar_ts(SYMBOL, "1h") is None
    assert repo.day_start_equity(late) == D("10000.123456789")
    assert repo.day_start_equity(next_day) is None
    assert repo.get_control("no such key") is None


def test_reconciliation_events_round_trip_in_order(repo: Repository) -> None:
    found = [
        Discrepancy(DiscrepancyKind.FILL_MISSING, "tb-1/t-9", "absent", "buy 0.1", Fix.HALT),
        Discrepancy(DiscrepancyKind.CASH, "USDT", "1000", "1100", Fix.ADOPT_EXCHANGE, "why"),
    ]
    for n, discrepancy in enumerate(found):
        repo.record_reconciliation(discrepancy, ts_ms=1_000 + n)
    events = repo.reconciliation_events()
    assert [(e.ts_ms, e.discrepancy) for e in events] == [(1_000, found[0]), (1_001, found[1])]
    assert len(repo.reconciliation_events(since_ms=1_001)) == 1
