"""The REST API's answers (pydantic models, so the OpenAPI document describes each one).

Ledger amounts (quantities, prices, cash, PnL) are exact decimals sent as strings; curves for
charts (equity, candles, indicators) are floats, with ``null`` where a value is not a number
yet (an indicator warming up).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel


class Overview(BaseModel):
    """The bot at a glance, and who is looking."""

    symbols: list[str]
    kill_switch: str
    kill_switch_reason: str
    flatten_requested: bool
    last_bar_ts_ms: int | None
    equity: Decimal | None
    cash: Decimal | None
    realised_pnl: Decimal
    trades: int
    open_orders: int
    open_positions: int
    user: str
    role: str
    may_operate: bool


class PositionView(BaseModel):
    """An open position, marked at the last close the bot decided on."""

    symbol: str
    qty: Decimal
    avg_price: Decimal
    stop_price: Decimal | None
    take_profit_price: Decimal | None
    opened_ts_ms: int
    realised_pnl: Decimal
    mark_price: float | None
    unrealised_pnl: float | None


class FillView(BaseModel):
    """One execution of an order."""

    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    ts_ms: int
    is_maker: bool


class OrderView(BaseModel):
    """An order as saved, with its fills."""

    client_order_id: str
    symbol: str
    side: str
    type: str
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    status: str
    filled_qty: Decimal
    avg_fill_price: Decimal | None
    created_ts_ms: int
    reason: str
    fills: list[FillView]


class TradeView(BaseModel):
    """A closed round trip."""

    symbol: str
    entry_ts_ms: int
    exit_ts_ms: int
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    fees: Decimal
    pnl: Decimal
    exit_reason: str


class EquityView(BaseModel):
    """The equity curve against buying and holding the symbol, and the drawdown from peak."""

    symbol: str | None
    ts_ms: list[int]
    equity: list[float]
    buy_and_hold: list[float | None]
    drawdown: list[float]
    max_drawdown: float


class Marker(BaseModel):
    """A fill drawn on the price chart."""

    ts_ms: int
    side: str
    price: float
    qty: float
    client_order_id: str


class CandleView(BaseModel):
    """Candles of the bars the bot decided on, with the strategy's indicator columns.

    ``overlays`` are indicators on the price's scale (moving averages, bands), drawn on the
    candles; ``oscillators`` are the rest (RSI, ATR...), drawn below.
    """

    symbol: str | None
    ts_ms: list[int]
    open: list[float | None]
    high: list[float | None]
    low: list[float | None]
    close: list[float | None]
    overlays: dict[str, list[float | None]]
    oscillators: dict[str, list[float | None]]
    markers: list[Marker]


class DecisionSummary(BaseModel):
    """One line of the decision browser."""

    id: int
    ts_ms: int
    symbol: str
    signal: str
    reason: str
    action: str
    verdict: str | None
    orders: int


class CheckView(BaseModel):
    """One risk check and its verdict."""

    name: str
    passed: bool
    detail: str


class ExplanationView(BaseModel):
    """Everything about one decision: signal, indicators, risk checks, action, orders, fills."""

    id: int
    ts_ms: int
    recorded_ts_ms: int
    symbol: str
    signal: str
    confidence: float
    reason: str
    metadata: dict[str, float | int | str | bool | None]
    indicators: dict[str, float | None]
    verdict: str | None
    checks: list[CheckView]
    action: str
    orders: list[OrderView]
    missing_orders: list[str]
    equity: float
    cash: float
    position_qty: float
    text: list[str]


class Figures(BaseModel):
    """The account's numbers exactly as ``/metrics`` exports them (``monitoring/figures.py``)."""

    equity: Decimal | None
    cash: Decimal | None
    peak_equity: Decimal
    drawdown: float
    unrealised_pnl: Decimal
    daily_pnl: Decimal | None
    trades: int
    trades_today: int
    win_rate: float | None
    orders_by_status: dict[str, int]
    discrepancies: dict[str, int]


class AlertEntry(BaseModel):
    """An alert and where its delivery stands on one channel."""

    alert_id: int
    created_ts_ms: int
    rule: str
    severity: str
    title: str
    repeats: int
    channel: str
    status: str
    attempts: int
    last_error: str


class AlertsView(BaseModel):
    """The alert outbox: deliveries by status, alerts raised, the newest deliveries."""

    deliveries: dict[str, int]
    raised: int
    recent: list[AlertEntry]


class Health(BaseModel):
    """Is the bot alive and is its state readable: the numbers a person checks first."""

    status: str
    problems: list[str]
    now_ms: int
    database: str
    database_ok: bool
    last_decision_ts_ms: int | None
    last_decision_recorded_ms: int | None
    last_decision_age_s: float | None
    kill_switch: str
    open_orders: int
    open_positions: int
    reconciliation_discrepancies: int
    dashboard_uptime_s: float
    figures: Figures
