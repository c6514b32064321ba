"""PositionManager: dust counts as flat, and a closing fill becomes a labelled trade."""

from __future__ import annotations

from decimal import Decimal

from factories import make_market
from tradebot.domain.orders import ClientOrderId, Fill, OrderSide
from tradebot.domain.portfolio import Portfolio
from tradebot.execution.positions import PositionManager, Protection
from tradebot.execution.router import OrderRole, make_client_order_id

D = Decimal
TS = 1_704_067_200_000
MARKET = make_market(qty_step="0.00001", min_qty="0.00001")


def manager() -> PositionManager:
    return PositionManager(Portfolio.with_cash(D(10_000)), {MARKET.symbol: MARKET})


def fill(role: OrderRole | None, side: OrderSide, qty: str, fee: str, asset: str) -> Fill:
    cid = make_client_order_id("tb", "BTC/USDT", TS, role) if role else ClientOrderId("manual")
    return Fill(cid, "BTC/USDT", side, D(qty), D(40_000), D(fee), asset, TS)


def test_sellable_qty_after_base_fee_rounds_down_to_lot_step() -> None:
    pm = manager()

    pm.on_fill(fill(OrderRole.ENTRY, OrderSide.BUY, "0.025", "0.000025", "BTC"))

    assert pm.sellable_qty("BTC/USDT") == D("0.02497")
    assert not pm.is_flat("BTC/USDT")
    assert pm.open_positions() == 1


def test_on_fill_stop_leaving_dust_closes_trade_labelled_stop_loss() -> None:
    pm = manager()
    pm.on_fill(fill(OrderRole.ENTRY, OrderSide.BUY, "0.025", "0.000025", "BTC"))
    pm.protect("BTC/USDT", Protection(stop_order_id=ClientOrderId("s"), stop_price=D(39_000)))

    trade = pm.on_fill(fill(OrderRole.STOP_LOSS, OrderSide.SELL, "0.02497", "0.9988", "USDT"))

    assert trade is not None
    assert trade.exit_reason == "stop_loss"
    assert pm.is_flat("BTC/USDT")
    assert pm.protection_of("BTC/USDT") is None
    assert pm.trades == [trade]
    pm_pos = pm.position("BTC/USDT")
    assert pm_pos is not None
    assert pm_pos.qty == D("0.000005")  # the dust stays held
    assert pm.open_positions() == 0


def test_on_fill_exit_by_unknown_order_is_labelled_external() -> None:
    pm = manager()
    pm.on_fill(fill(OrderRole.ENTRY, OrderSide.BUY, "0.01", "0", "BTC"))

    trade = pm.on_fill(fill(None, OrderSide.SELL, "0.01", "0", "USDT"))

    assert trade is not None
    assert trade.exit_reason == "external"


def test_is_protective_only_stop_and_take_profit_ids() -> None:
    pm = manager()

    def cid(role: OrderRole) -> ClientOrderId:
        return make_client_order_id("tb", "BTC/USDT", TS, role)

    assert pm.is_protective(cid(OrderRole.STOP_LOSS))
    assert pm.is_protective(cid(OrderRole.TAKE_PROFIT))
    assert not pm.is_protective(cid(OrderRole.ENTRY))
    assert not pm.is_protective(cid(OrderRole.EXIT))
