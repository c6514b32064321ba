"""Compare saved state with the exchange's and say what differs and how each is fixed.

Pure logic, no I/O: the shell fetches (open orders, each saved open order by client id, recent
fills, balances), calls ``reconcile`` and then applies the result: records the missing fills,
writes the order updates, sets positions and cash, and saves every ``Discrepancy`` with
``Repository.record_reconciliation``. The exchange is the source of truth; where following it
is not safe (a fill we booked that the exchange does not know), the fix is ``HALT`` and a
person must look.

Fills missing locally are taken into account before positions and cash are compared, so a
crash between a fill and its record shows up once, as the missing fill, not again as a wrong
position.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from tradebot.domain.orders import Fill, Order, OrderSide, OrderStatus
from tradebot.domain.portfolio import Position

ZERO = Decimal(0)


class DiscrepancyKind(StrEnum):
    """What differs between saved state and the exchange."""

    ORDER_NOT_ON_EXCHANGE = "order_not_on_exchange"
    ORDER_STATUS = "order_status"
    ORDER_FILLED_QTY = "order_filled_qty"
    ORDER_UNKNOWN_LOCALLY = "order_unknown_locally"
    FOREIGN_ORDER = "foreign_order"
    FILL_MISSING = "fill_missing"
    FILL_NOT_ON_EXCHANGE = "fill_not_on_exchange"
    POSITION_QTY = "position_qty"
    CASH = "cash"


class Fix(StrEnum):
    """What is done about a discrepancy."""

    ADOPT_EXCHANGE = "adopt_exchange"  # overwrite the saved value with the exchange's
    RECORD_FROM_EXCHANGE = "record_from_exchange"  # save what only the exchange had
    CLOSE_AS_NOT_SENT = "close_as_not_sent"  # the intent never reached the exchange
    IGNORE = "ignore"  # not the bot's business (an order someone placed by hand); logged
    HALT = "halt"  # unsafe to guess: stop trading until a person looks


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One difference: what, about which id, both values, and the fix taken."""

    kind: DiscrepancyKind
    subject_id: str
    local_value: str
    exchange_value: str
    fix: Fix
    detail: str = ""

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.subject_id}: saved {self.local_value}, exchange "
            f"{self.exchange_value} → {self.fix}" + (f" ({self.detail})" if self.detail else "")
        )


@dataclass(frozen=True, slots=True)
class LocalState:
    """What the database holds.

    ``orders``: every saved order not yet terminal (recent terminal ones may be added).
    ``fills``: saved fills in the same time window as ``ExchangeState.fills``.
    ``positions``: one per traded symbol, flat ones included. ``cash``: None skips the check.
    """

    orders: Sequence[Order] = ()
    fills: Sequence[Fill] = ()
    positions: Sequence[Position] = ()
    cash: Decimal | None = None
    quote: str = "USDT"


@dataclass(frozen=True, slots=True)
class ExchangeState:
    """What the exchange reports.

    ``orders``: each saved open order looked up by client id (absent = the venue does not
    know it). ``balances``: the total (free + locked) per asset.
    """

    orders: Mapping[str, Order] = field(default_factory=dict)
    open_orders: Sequence[Order] = ()
    fills: Sequence[Fill] = ()
    balances: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The discrepancies and the corrected values to apply.

    ``order_updates`` already carry the exchange's status and filled amount: book
    ``fills_to_record`` in the portfolio and save them, but do not apply them to the orders
    again. ``position_qty`` and ``cash`` are what to adopt after those fills are booked.
    """

    discrepancies: tuple[Discrepancy, ...] = ()
    order_updates: tuple[Order, ...] = ()
    orders_to_record: tuple[Order, ...] = ()
    fills_to_record: tuple[Fill, ...] = ()
    position_qty: Mapping[str, Decimal] = field(default_factory=dict)
    cash: Decimal | None = None

    @property
    def is_clean(self) -> bool:
        """True when saved state and the exchange agree."""
        return not self.discrepancies

    @property
    def must_halt(self) -> bool:
        """True when a difference cannot be fixed safely and trading must not resume."""
        return any(d.fix is Fix.HALT for d in self.discrepancies)


@dataclass(frozen=True, slots=True)
class ReconcileRules:
    """How strictly to compare.

    ``client_id_prefix``: orders whose client id starts with it are the bot's ("" = all).
    ``reserved``: amounts per asset the bot does not manage (the owner's own holdings).
    ``tolerance``: differences up to this amount are not discrepancies (exchange rounding).
    """

    client_id_prefix: str = ""
    reserved: Mapping[str, Decimal] = field(default_factory=dict)
    tolerance: Decimal = ZERO


def _describe(order: Order) -> str:
    return f"{order.status} {order.filled_qty}/{order.qty}"


def _adopt(local: Order, venue: Order) -> Order:
    return dataclasses.replace(
        local,
        status=venue.status,
        filled_qty=venue.filled_qty,
        avg_fill_price=venue.avg_fill_price,
        exchange_order_id=venue.exchange_order_id or local.exchange_order_id,
        updated_ts_ms=max(local.updated_ts_ms, venue.updated_ts_ms),
        fills=list(local.fills),
    )


def _not_on_exchange(order: Order, now_ms: int) -> tuple[Discrepancy, Order | None]:
    if order.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
        detail = "the exchange acknowledged this order once but no longer knows it"
        return Discrepancy(
            DiscrepancyKind.ORDER_NOT_ON_EXCHANGE,
            order.client_order_id,
            _describe(order),
            "not found",
            Fix.HALT,
            detail,
        ), None
    closed = OrderStatus.REJECTED if order.status is OrderStatus.NEW else OrderStatus.EXPIRED
    update = dataclasses.replace(order, status=closed, updated_ts_ms=now_ms, fills=[])
    return Discrepancy(
        DiscrepancyKind.ORDER_NOT_ON_EXCHANGE,
        order.client_order_id,
        _describe(order),
        "not found",
        Fix.CLOSE_AS_NOT_SENT,
        f"intent saved but never reached the exchange; closed as {closed}, not resent",
    ), update


def _compare_order(local: Order, venue: Order) -> Discrepancy | None:
    if local.status != venue.status:
        kind = DiscrepancyKind.ORDER_STATUS
    elif local.filled_qty != venue.filled_qty:
        kind = DiscrepancyKind.ORDER_FILLED_QTY
    else:
        return None
    return Discrepancy(
        kind, local.client_order_id, _describe(local), _describe(venue), Fix.ADOPT_EXCHANGE
    )


def _reconcile_orders(
    local: LocalState, venue: ExchangeState, now_ms: int
) -> tuple[list[Discrepancy], list[Order]]:
    seen = {o.client_order_id: o for o in venue.open_orders} | dict(venue.orders)
    found: list[Discrepancy] = []
    updates: list[Order] = []
    for order in local.orders:
        venue_order = seen.get(order.client_order_id)
        if venue_order is None:
            if order.is_open:
                found_one, update = _not_on_exchange(order, now_ms)
                found.append(found_one)
                updates.extend([update] if update else [])
            continue
        difference = _compare_order(order, venue_order)
        if difference is not None:
            found.append(difference)
            updates.append(_adopt(order, venue_order))
    return found, updates


def _unknown_orders(
    local: LocalState, venue: ExchangeState, prefix: str
) -> tuple[list[Discrepancy], list[Order]]:
    known = {o.client_order_id for o in local.orders}
    found: list[Discrepancy] = []
    to_record: list[Order] = []
    for order in venue.open_orders:
        if order.client_order_id in known:
            continue
        ours = order.client_order_id.startswith(prefix)
        kind = DiscrepancyKind.ORDER_UNKNOWN_LOCALLY if ours else DiscrepancyKind.FOREIGN_ORDER
        fix = Fix.RECORD_FROM_EXCHANGE if ours else Fix.IGNORE
        found.append(Discrepancy(kind, order.client_order_id, "absent", _describe(order), fix))
        to_record.extend([order] if ours else [])
    return found, to_record


def fill_key(fill: Fill) -> str:
    """A fill's identity within its order (``Fill.key``: the venue's trade id, else contents)."""
    return fill.key


def _fill_id(fill: Fill) -> str:
    return f"{fill.client_order_id}/{fill_key(fill)}"


def _reconcile_fills(
    local: LocalState, venue: ExchangeState, prefix: str
) -> tuple[list[Discrepancy], list[Fill]]:
    saved = {_fill_id(f) for f in local.fills}
    reported = {_fill_id(f) for f in venue.fills}
    found: list[Discrepancy] = []
    missing: list[Fill] = []
    for fill in venue.fills:
        if _fill_id(fill) in saved or not fill.client_order_id.startswith(prefix):
            continue
        value = f"{fill.side} {fill.qty} {fill.symbol} @ {fill.price}"
        found.append(
            Discrepancy(
                DiscrepancyKind.FILL_MISSING,
                _fill_id(fill),
                "absent",
                value,
                Fix.RECORD_FROM_EXCHANGE,
            )
        )
        missing.append(fill)
    for fill in local.fills:
        if _fill_id(fill) not in reported:
            value = f"{fill.side} {fill.qty} {fill.symbol} @ {fill.price}"
            detail = "a saved fill the exchange does not report; books cannot be trusted"
            found.append(
                Discrepancy(
                    DiscrepancyKind.FILL_NOT_ON_EXCHANGE,
                    _fill_id(fill),
                    value,
                    "absent",
                    Fix.HALT,
                    detail,
                )
            )
    return found, missing


def _base_delta(fills: Iterable[Fill], symbol: str, base: str) -> Decimal:
    delta = ZERO
    for f in fills:
        if f.symbol != symbol:
            continue
        fee = f.fee if f.fee_asset == base else ZERO
        delta += f.qty - fee if f.side is OrderSide.BUY else -f.qty
    return delta


def _quote_delta(fills: Iterable[Fill], quote: str) -> Decimal:
    # Mirrors Portfolio.apply_fill: a quote fee is paid in cash; a base fee on a sell
    # shrinks what is sold for cash.
    delta = ZERO
    for f in fills:
        quote_fee = f.fee if f.fee_asset == quote else ZERO
        if f.side is OrderSide.BUY:
            delta -= f.notional + quote_fee
        else:
            base_fee = f.fee if f.fee_asset == f.symbol.split("/", 1)[0] else ZERO
            sold = f.qty - base_fee
            delta += sold * f.price - quote_fee
    return delta


def _reconcile_holdings(
    local: LocalState, venue: ExchangeState, missing: Sequence[Fill], rules: ReconcileRules
) -> tuple[list[Discrepancy], dict[str, Decimal], Decimal | None]:
    found: list[Discrepancy] = []
    adopt: dict[str, Decimal] = {}
    for pos in local.positions:
        expected = pos.qty + _base_delta(missing, pos.symbol, pos.base)
        reserved = rules.reserved.get(pos.base, ZERO)
        actual = venue.balances.get(pos.base, ZERO) - reserved
        if abs(actual - expected) > rules.tolerance:
            adopt[pos.symbol] = max(actual, ZERO)
            kind = DiscrepancyKind.POSITION_QTY
            found.append(
                Discrepancy(kind, pos.symbol, str(expected), str(actual), Fix.ADOPT_EXCHANGE)
            )
    if local.cash is None:
        return found, adopt, None
    expected_cash = local.cash + _quote_delta(missing, local.quote)
    actual_cash = venue.balances.get(local.quote, ZERO) - rules.reserved.get(local.quote, ZERO)
    if abs(actual_cash - expected_cash) <= rules.tolerance:
        return found, adopt, None
    found.append(
        Discrepancy(
            DiscrepancyKind.CASH,
            local.quote,
            str(expected_cash),
            str(actual_cash),
            Fix.ADOPT_EXCHANGE,
        )
    )
    return found, adopt, actual_cash


def reconcile(
    local: LocalState,
    venue: ExchangeState,
    now_ms: int,
    rules: ReconcileRules | None = None,
) -> Reconciliation:
    """Compare ``local`` with ``venue`` and return every discrepancy and the values to adopt.

    ``now_ms`` stamps orders closed because they never reached the exchange.
    """
    rules = rules or ReconcileRules()
    order_found, updates = _reconcile_orders(local, venue, now_ms)
    unknown_found, to_record = _unknown_orders(local, venue, rules.client_id_prefix)
    fill_found, missing = _reconcile_fills(local, venue, rules.client_id_prefix)
    holding_found, position_qty, cash = _reconcile_holdings(local, venue, missing, rules)
    return Reconciliation(
        discrepancies=tuple(order_found + unknown_found + fill_found + holding_found),
        order_updates=tuple(updates),
        orders_to_record=tuple(to_record),
        fills_to_record=tuple(missing),
        position_qty=position_qty,
        cash=cash,
    )
