"""Builders for the dashboard tests: a bot database with one decided, filled entry, and the app.

Password hashes use Argon2's lowest cost so a login takes milliseconds; verifying reads the
cost from the hash, so the dashboard's code path is the one users get.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from argon2 import PasswordHasher
from fastapi import FastAPI
from pydantic import SecretStr

from tradebot.config.monitoring import DashboardConfig, DashboardUser
from tradebot.domain.decisions import Decision, RiskCheck, RiskVerdict, Signal, SignalAction
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderSide, OrderStatus, OrderType
from tradebot.domain.portfolio import Portfolio
from tradebot.monitoring.dashboard import DashboardParts, LogBuffer, create_app
from tradebot.state import Database, PortfolioSnapshot, Repository, create_database
from tradebot.state.outbox import AlertOutbox

TS = 1_706_000_400_000
ENTRY = ClientOrderId("tb-BTCUSDT-1706000400000-en")
PASSWORDS = {"olga": "operator-pass", "vic": "viewer-pass"}
FAST_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def users() -> list[DashboardUser]:
    """An operator (olga) and a viewer (vic)."""
    olga, vic = (SecretStr(FAST_HASH.hash(PASSWORDS[name])) for name in ("olga", "vic"))
    return [
        DashboardUser(name="olga", password_hash=olga, role="operator"),
        DashboardUser(name="vic", password_hash=vic),
    ]


def decision(
    ts_ms: int, close: float, action: str = "hold", orders: tuple[str, ...] = ()
) -> Decision:
    """A decision on a bar closing at ``close``, approved by two risk checks when it buys."""
    buys = action != "hold"
    return Decision(
        ts_ms=ts_ms,
        symbol="BTC/USDT",
        signal=Signal(SignalAction.BUY if buys else SignalAction.HOLD, 0.75 if buys else 0.0,
                      "EMA3 golden cross EMA8" if buys else "no signal"),
        indicators={"open": close - 5, "high": close + 20, "low": close - 20, "close": close,
                    "volume": 12.5, "ema_fast": close - 1, "rsi": 61.5, "risk_atr": float("nan")},
        verdict=RiskVerdict((RiskCheck("max_exposure", True, "exposure 1000 <= 5000"),
                             RiskCheck("daily_loss", True, "day PnL 0 > -500"))) if buys else None,
        action=action,
        client_order_ids=orders,
        equity=10_000.0,
        cash=9_000.0 if buys else 10_000.0,
        position_qty=0.025 if buys else 0.0,
    )  # fmt: skip


def bot_database(path: Path) -> Repository:
    """A bot database: three decided bars, an entry bought and filled, a snapshot per bar."""
    repo = Repository(create_database(f"sqlite:///{path}"))
    repo.append_decision(decision(TS - 7_200_000, 40_000.0))
    repo.append_decision(decision(TS - 3_600_000, 40_100.0))
    repo.append_decision(decision(TS, 40_200.0, "buy 0.025", (ENTRY,)))
    order = Order(ENTRY, "BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.025"),
                  created_ts_ms=TS, updated_ts_ms=TS, reason="entry")  # fmt: skip
    repo.record_order_intent(order)
    fill = Fill(ENTRY, "BTC/USDT", OrderSide.BUY, Decimal("0.025"), Decimal("40210"),
                Decimal("0.000025"), "BTC", TS + 1000, trade_id="77")  # fmt: skip
    order.status, order.filled_qty, order.avg_fill_price = OrderStatus.FILLED, fill.qty, fill.price
    order.fills.append(fill)
    portfolio = Portfolio.with_cash(Decimal(10_000))
    portfolio.apply_fill(fill, "BTC", "USDT")
    position = portfolio.position("BTC/USDT")
    assert position is not None
    with repo.transaction() as tx:
        tx.record_fill(fill)
        tx.update_order(order)
        tx.save_position(position, Decimal("39800"), None)
    for i, close in enumerate(("40000", "40100", "40200")):
        equity = Decimal(10_000) if i < 2 else Decimal("10000.1")
        repo.record_snapshot(
            PortfolioSnapshot(TS - (2 - i) * 3_600_000, Decimal(10_000), equity, Decimal(close), {})
        )
    return repo


def dashboard_app(repo: Repository, **settings: object) -> FastAPI:
    """The dashboard app over ``repo``'s database with ``settings`` (users, cors_origins...)."""
    config = DashboardConfig.model_validate(settings)
    database = Database(repo.location)
    parts = DashboardParts(
        Repository(database), AlertOutbox(database), config, LogBuffer(), stale_after_s=7200
    )
    return create_app(parts)
