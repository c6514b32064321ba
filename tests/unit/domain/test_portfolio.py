"""The ledger: cash + positions at marks = start + realised + unrealised − fees, always."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradebot.domain.errors import StateError
from tradebot.domain.orders import ClientOrderId, Fill, OrderSide
from tradebot.domain.portfolio import Portfolio, Trade

SYMBOL = "BTC/USDT"
D = Decimal


def fill(
    side: OrderSide, qty: str, price: str, fee: str = "0", asset: str = "USDT", ts: int = 0
) -> Fill:
    cid = ClientOrderId(f"tb-BTCUSDT-{ts}-{'en' if side is OrderSide.BUY else 'ex'}")
    return Fill(cid, SYMBOL, side, D(qty), D(price), D(fee), asset, ts)


def apply(p: Portfolio, f: Fill, dust: str = "0") -> Trade | None:
    return p.apply_fill(f, "BTC", "USDT", D(dust))


def test_apply_fill_buy_with_quote_fee_takes_notional_and_fee_from_cash() -> None:
    p = Portfolio.with_cash(D(10_000))

    apply(p, fill(OrderSide.BUY, "0.5", "100", fee="0.05"))

    pos = p.position(SYMBOL)
    assert pos is not None
    assert (p.cash, pos.qty, pos.avg_price, p.fees) == (D("9949.95"), D("0.5"), D(100), D("0.05"))
    assert p.ledger_error({SYMBOL: D(120)}) == 0


def test_apply_fill_buy_with_base_fee_receives_less_and_values_fee_at_fill_price() -> None:
    p = Portfolio.with_cash(D(10_000))

    apply(p, fill(OrderSide.BUY, "1", "100", fee="0.001", asset="BTC"))

    pos = p.position(SYMBOL)
    assert pos is not None
    assert (p.cash, pos.qty, p.fees) == (D(9_900), D("0.999"), D("0.1"))
    assert p.ledger_error({SYMBOL: D(90)}) == 0


def test_apply_fill_round_trip_returns_trade_net_of_fees() -> None:
    p = Portfolio.with_cash(D(10_000))

    assert apply(p, fill(OrderSide.BUY, "2", "100", fee="0.2", ts=1)) is None
    trade = apply(p, fill(OrderSide.SELL, "2", "110", fee="0.22", ts=2))

    assert trade is not None
    assert (trade.entry_ts_ms, trade.exit_ts_ms) == (1, 2)
    assert (trade.qty, trade.entry_price, trade.exit_price) == (D(2), D(100), D(110))
    assert (trade.fees, trade.pnl) == (D("0.42"), D("19.58"))
    assert p.cash == D("10019.58")
    assert p.realised_pnl == D(20)
    assert p.ledger_error({SYMBOL: D(1)}) == 0


def test_apply_fill_partial_sells_close_trade_at_average_exit() -> None:
    p = Portfolio.with_cash(D(10_000))
    apply(p, fill(OrderSide.BUY, "2", "100"))

    assert apply(p, fill(OrderSide.SELL, "1", "110")) is None
    trade = apply(p, fill(OrderSide.SELL, "1", "90"))

    assert trade is not None
    assert (trade.exit_price, trade.pnl) == (D(100), D(0))


def test_apply_fill_dust_left_by_base_fee_closes_trip_and_stays_held() -> None:
    # Binance charges the buy fee in BTC; the lot step leaves an unsellable remainder.
    p = Portfolio.with_cash(D(10_000))
    apply(p, fill(OrderSide.BUY, "0.01000", "40000", fee="0.00001", asset="BTC"))

    trade = apply(p, fill(OrderSide.SELL, "0.00998", "41000", fee="0.40918"), dust="0.00001")

    pos = p.position(SYMBOL)
    assert trade is not None
    assert pos is not None
    assert pos.qty == D("0.00001")
    assert trade.qty == D("0.00998")
    assert p.ledger_error({SYMBOL: D(39_000)}) == 0


def test_apply_fill_next_entry_after_dust_opens_new_trip() -> None:
    p = Portfolio.with_cash(D(10_000))
    apply(p, fill(OrderSide.BUY, "0.01", "40000", fee="0.00001", asset="BTC", ts=1))
    apply(p, fill(OrderSide.SELL, "0.00998", "41000"), dust="0.00001")

    apply(p, fill(OrderSide.BUY, "0.01", "42000", ts=5))
    trade = apply(p, fill(OrderSide.SELL, "0.01001", "43000", ts=6), dust="0.00001")

    pos = p.position(SYMBOL)
    assert trade is not None
    assert pos is not None
    assert (trade.entry_ts_ms, trade.entry_price, pos.qty) == (5, D(42_000), D(0))
    assert p.ledger_error({SYMBOL: D(1)}) == 0


def test_apply_fill_sell_more_than_held_raises_state_error() -> None:
    p = Portfolio.with_cash(D(10_000))
    apply(p, fill(OrderSide.BUY, "1", "100"))

    with pytest.raises(StateError, match=r"sell of 2 BTC/USDT exceeds the 1 held"):
        apply(p, fill(OrderSide.SELL, "2", "100"))


def test_apply_fill_fee_in_third_asset_raises_state_error() -> None:
    p = Portfolio.with_cash(D(10_000))

    with pytest.raises(StateError, match="fee in BNB is not supported for BTC/USDT"):
        apply(p, fill(OrderSide.BUY, "1", "100", fee="0.01", asset="BNB"))


@pytest.mark.parametrize("mark", ["0.01", "99.99", "123456.789"])
def test_ledger_error_mixed_fills_is_zero_at_any_mark(mark: str) -> None:
    p = Portfolio.with_cash(D("10000"))
    apply(p, fill(OrderSide.BUY, "0.37", "101.37", fee="0.00037", asset="BTC"))
    apply(p, fill(OrderSide.BUY, "0.11", "97.03", fee="0.0107", asset="USDT"))
    apply(p, fill(OrderSide.SELL, "0.2", "105.5", fee="0.0211"))

    # Average cost is a division, so the identity is exact to Decimal's 28 digits, not to 0.
    assert abs(p.ledger_error({SYMBOL: D(mark)})) <= D("1e-18")
    assert p.equity({SYMBOL: D(mark)}) == p.cash + p.exposure({SYMBOL: D(mark)})


def test_ledger_error_cash_changed_outside_fills_is_reported() -> None:
    p = Portfolio.with_cash(D(10_000))
    apply(p, fill(OrderSide.BUY, "1", "100"))

    p.cash -= D("0.5")

    assert p.ledger_error({SYMBOL: D(100)}) == D("-0.5")


# --- several venues ----------------------------------------------------------------------
VENUE_OF = {"BTC/USDT": "binance", "ETH/USDT": "binance_b"}


def _venues() -> Portfolio:
    return Portfolio.with_venues({"binance": D(1000), "binance_b": D(300)}, VENUE_OF)


def _fill_of(symbol: str, side: OrderSide, qty: str, price: str, fee: str = "0") -> Fill:
    return Fill(
        ClientOrderId(f"tb-{symbol[:3]}-{side}"), symbol, side, D(qty), D(price), D(fee),
        "USDT", 1_000,
    )  # fmt: skip


def test_with_venues_a_fill_moves_the_cash_of_its_symbols_venue_only() -> None:
    portfolio = _venues()

    portfolio.apply_fill(_fill_of("ETH/USDT", OrderSide.BUY, "0.1", "2000", "0.2"), "ETH", "USDT")

    assert portfolio.venue_cash == {"binance": D(1000), "binance_b": D("99.8")}
    assert portfolio.cash == D("1099.8")
    assert portfolio.cash_for("ETH/USDT") == D("99.8")
    assert portfolio.cash_for("BTC/USDT") == D(1000)
    assert portfolio.ledger_error({"ETH/USDT": D(2100)}) == 0


def test_with_venues_reconciled_cash_of_one_venue_is_money_moved_in_or_out() -> None:
    portfolio = _venues()

    portfolio.set_venue_cash("binance_b", D(500))

    assert portfolio.venue_cash == {"binance": D(1000), "binance_b": D(500)}
    assert (portfolio.cash, portfolio.starting_cash) == (D(1500), D(1500))
    assert portfolio.venue_starting_cash == {"binance": D(1000), "binance_b": D(500)}
    assert portfolio.ledger_error({}) == 0


def test_with_venues_one_venue_is_the_one_account() -> None:
    portfolio = Portfolio.with_venues({"binance": D(1000)}, {"BTC/USDT": "binance"})

    assert portfolio == Portfolio.with_cash(D(1000))
    assert portfolio.cash_for("BTC/USDT") == D(1000)
