"""Order and trade records of the sandbox, and their Binance JSON forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradebot.sandbox.markets import fmt

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})


@dataclass(slots=True)
class TradeRecord:
    """One execution of our order (the account's side of it)."""

    id: int
    order_id: int
    symbol: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    is_buyer: bool
    is_maker: bool
    order_list_id: int = -1

    def fill(self) -> dict[str, str | int]:
        """An entry of ``fills`` in a FULL order response."""
        return {
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "tradeId": self.id,
        }

    def my_trade(self) -> dict[str, object]:
        """A row of ``GET /api/v3/myTrades``."""
        return {
            "symbol": self.symbol,
            "id": self.id,
            "orderId": self.order_id,
            "orderListId": self.order_list_id,
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "quoteQty": fmt(self.price * self.qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "time": self.time_ms,
            "isBuyer": self.is_buyer,
            "isMaker": self.is_maker,
            "isBestMatch": True,
        }


@dataclass(slots=True)
class OrderRecord:
    """An order and the balance it keeps locked while open."""

    order_id: int
    client_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    stop_price: Decimal
    time_ms: int
    orig_quote_qty: Decimal = Decimal(0)
    executed_qty: Decimal = Decimal(0)
    cum_quote: Decimal = Decimal(0)
    status: str = "NEW"
    update_ms: int = 0
    working_ms: int = 0
    is_working: bool = True
    lock_asset: str = ""
    lock_left: Decimal = Decimal(0)
    order_list_id: int = -1
    list_client_id: str = ""
    trade_ids: list[int] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """NEW or PARTIALLY_FILLED."""
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        """Base amount still to fill."""
        return self.orig_qty - self.executed_qty

    def _common(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": self.order_list_id,
            "clientOrderId": self.client_id,
            "price": fmt(self.price),
            "origQty": fmt(self.orig_qty),
            "executedQty": fmt(self.executed_qty),
            "cummulativeQuoteQty": fmt(self.cum_quote),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
        }

    def stop_fields(self) -> dict[str, object]:
        """``stopPrice`` appears only on stop and take-profit orders, as on Binance."""
        return {"stopPrice": fmt(self.stop_price)} if self.type in STOP_TYPES else {}

    def placed(self, fills: list[TradeRecord]) -> dict[str, object]:
        """The FULL response of ``POST /api/v3/order``."""
        return {
            **self._common(),
            "transactTime": self.time_ms,
            "origQuoteOrderQty": fmt(self.orig_quote_qty),
            **self.stop_fields(),
            "workingTime": self.working_ms if self.is_working else -1,
            "fills": [t.fill() for t in fills],
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def queried(self) -> dict[str, object]:
        """A row of ``GET /api/v3/order``, ``openOrders`` and ``allOrders``."""
        return {
            **self._common(),
            "stopPrice": fmt(self.stop_price),
            "icebergQty": fmt(Decimal(0)),
            "time": self.time_ms,
            "updateTime": self.update_ms,
            "isWorking": self.is_working,
            "workingTime": self.working_ms if self.is_working else -1,
            "origQuoteOrderQty": fmt(self.orig_quote_qty),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def canceled(self, cancel_client_id: str, now_ms: int) -> dict[str, object]:
        """The response of ``DELETE /api/v3/order``: ``clientOrderId`` is the cancel's id."""
        common = self._common()
        common["clientOrderId"] = cancel_client_id
        return {
            **common,
            "origClientOrderId": self.client_id,
            "transactTime": now_ms,
            "origQuoteOrderQty": fmt(self.orig_quote_qty),
            **self.stop_fields(),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


def execution_report(
    order: OrderRecord, exec_type: str, trade: TradeRecord | None, event_ms: int
) -> dict[str, object]:
    """The user-data stream's ``executionReport`` for one change of ``order``."""
    zero = fmt(Decimal(0))
    return {
        "e": "executionReport",
        "E": event_ms,
        "s": order.symbol,
        "c": order.client_id,
        "S": order.side,
        "o": order.type,
        "f": order.time_in_force,
        "q": fmt(order.orig_qty),
        "p": fmt(order.price),
        "P": fmt(order.stop_price),
        "F": zero,
        "g": order.order_list_id,
        "C": order.client_id if exec_type == "CANCELED" else "",
        "x": exec_type,
        "X": order.status,
        "r": "NONE",
        "i": order.order_id,
        "l": fmt(trade.qty) if trade else zero,
        "z": fmt(order.executed_qty),
        "L": fmt(trade.price) if trade else zero,
        "n": fmt(trade.commission) if trade else zero,
        "N": trade.commission_asset if trade else None,
        "T": event_ms,
        "t": trade.id if trade else -1,
        "I": event_ms,
        "w": order.is_working and order.is_open,
        "m": trade.is_maker if trade else False,
        "M": False,
        "O": order.time_ms,
        "Z": fmt(order.cum_quote),
        "Y": fmt(trade.price * trade.qty) if trade else zero,
        "Q": fmt(order.orig_quote_qty),
        "W": order.working_ms,
        "V": "EXPIRE_MAKER",
    }
