"""AlertManager on a real SQLite file: the bot's persisted facts become the design's alerts,
once each, across restarts of the monitor; history from before it started is not alerted."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import structlog

from tradebot.config.monitoring import AlertThresholds
from tradebot.domain.alerts import AlertRule
from tradebot.domain.decisions import Decision, RiskCheck, RiskVerdict, Signal, SignalAction
from tradebot.domain.orders import ClientOrderId, Order, OrderSide, OrderStatus, OrderType
from tradebot.domain.portfolio import Position, Trade
from tradebot.monitoring.alerts.logtap import LogTap
from tradebot.monitoring.alerts.manager import AlertManager
from tradebot.monitoring.alerts.routing import AlertRouting
from tradebot.monitoring.logging import configure_logging
from tradebot.state import Discrepancy, DiscrepancyKind, Fix, PortfolioSnapshot, create_database
from tradebot.state.outbox import AlertOutbox
from tradebot.state.repository import Repository
from tradebot.state.watch import StateWatch

HOUR = 3_600_000
T0 = 1_733_011_200_000  # 2024-12-01T00:00Z


class Clock:
    def __init__(self) -> None:
        self.s = 2_000_000.0


def _manager(
    db_path: Path,
    tap: LogTap | None = None,
    clock: Clock | None = None,
    *,
    max_slippage_pct: float = 0.005,
    cooldown_s: int = 900,
    **limits: float,
) -> AlertManager:
    database = create_database(db_path)
    routing = AlertRouting.build({"telegram": {"trade_opened": "silent"}, "email": {}}, cooldown_s)
    thresholds = AlertThresholds(
        exchange_unreachable_s=60,
        min_trades_for_win_rate=3,
        max_slippage_pct=max_slippage_pct,
        **limits,  # type: ignore[arg-type]
    )
    clock = clock or Clock()
    return AlertManager(
        StateWatch(database),
        AlertOutbox(database, now_ms=lambda: int(clock.s * 1000)),
        routing,
        thresholds,
        Decimal(500),
        tap,
        clock=lambda: clock.s,
    )


def _record(event: str, **fields: str) -> logging.LogRecord:
    # What structlog hands the standard library: the event dict as the message.
    return logging.LogRecord("tradebot.bot", logging.WARNING, "", 0, {"event": event, **fields},
                             None, None)  # fmt: skip


def _snapshot(repo: Repository, ts_ms: int, equity: str, held: str = "0") -> None:
    qty = Decimal(held)
    repo.record_snapshot(
        PortfolioSnapshot(ts_ms, Decimal(equity), Decimal(equity), Decimal(0), {"BTC/USDT": qty})
    )


def _trade(exit_ts: int, pnl: str) -> Trade:
    return Trade("BTC/USDT", exit_ts - 2 * HOUR, exit_ts, Decimal("0.1"), Decimal(100),
                 Decimal(90), Decimal("0.02"), Decimal(pnl), "stop <loss> & co")  # fmt: skip


def test_manager_turns_persisted_facts_into_alerts_once_each(tmp_path: Path) -> None:
    # Arrange: a bot database with history, then a monitor that starts on it.
    db = tmp_path / "bot.db"
    repo = Repository(create_database(db))
    _snapshot(repo, T0, "10000")
    repo.record_trade(_trade(T0, "5"))
    assert _manager(db).tick() == []  # history is not alerted
    # Act: what the bot persists afterwards.
    rejected = Order(ClientOrderId("tb-9"), "BTC/USDT", OrderSide.BUY, OrderType.LIMIT,
                     Decimal("0.1"), price=Decimal(100), created_ts_ms=T0 + HOUR)  # fmt: skip
    repo.record_order_intent(rejected)
    rejected.status, rejected.updated_ts_ms = OrderStatus.REJECTED, T0 + HOUR
    repo.update_order(rejected)
    tap = LogTap()
    tap.handle(_record("order rejected", client_order_id="tb-9", reason="insufficient <-2010>"))
    for n in range(3):
        repo.record_trade(_trade(T0 + (n + 2) * HOUR, "-10"))
    repo.record_reconciliation(
        Discrepancy(DiscrepancyKind.FILL_NOT_ON_EXCHANGE, "tb-3", "0.1", "none", Fix.HALT),
        T0 + 5 * HOUR,
    )
    verdict = RiskVerdict((RiskCheck("max_daily_loss", False, "loss 520 of 500"),))
    repo.append_decision(Decision(T0 + 6 * HOUR, "BTC/USDT", Signal(SignalAction.BUY), {},
                                  verdict, "rejected"))  # fmt: skip
    _snapshot(repo, T0 + 6 * HOUR, "8000")  # 20 % below the 10,000 peak
    manager = _manager(db, tap)  # a restarted monitor reads its saved marks
    raised = manager.tick()
    again = _manager(db).tick()
    # Assert
    rules = sorted(a.rule.value for a in raised)
    assert rules == sorted(
        ["order_failed", "trade_closed", "trade_closed", "trade_closed",
         "reconciliation_halt", "daily_loss_limit", "drawdown", "win_rate"]
    )  # fmt: skip
    failed = next(a for a in raised if a.rule is AlertRule.ORDER_FAILED)
    assert "insufficient <-2010>" in failed.body
    assert again == []  # nothing twice; the conditions still hold but are in cool-down
    outbox = AlertOutbox(create_database(db))
    entries = outbox.recent(100)
    assert {e.channel for e in entries} == {"telegram", "email"}
    by_email = [e.rule for e in entries if e.channel == "email"]
    assert "trade_closed" not in by_email  # trade notices are off by e-mail by default
    assert "order_failed" in by_email


def test_manager_exchange_down_past_threshold_and_unsaved_state_from_the_log(
    tmp_path: Path,
) -> None:
    # Arrange: a LogTap on the root logger, logging set up as `tradebot` does.
    configure_logging("INFO")
    clock = Clock()
    tap = LogTap(clock=lambda: clock.s)
    tap.attach()
    manager = _manager(tmp_path / "bot.db", tap, clock)
    manager.tick()
    log = structlog.get_logger("tradebot.bot")
    try:
        # Act
        log.warning("exchange unavailable; waiting", error="ExchangeUnavailable: 503 <html>")
        clock.s += 59
        before_threshold = manager.tick()
        clock.s += 2
        log.warning("exchange unavailable; waiting", error="timeout")
        logging.getLogger("tradebot.journal").critical("state not saved; new entries stop")
        after = manager.tick()
        log.warning("exchange back after an outage", policy="wait")
    finally:
        tap.detach()
    # Assert
    assert before_threshold == []
    assert sorted(a.rule.value for a in after) == ["exchange_unreachable", "persistence_failure"]
    assert "timeout" in next(a for a in after if a.rule is AlertRule.EXCHANGE_UNREACHABLE).body
    assert tap.unreachable_since is None


def test_manager_opened_position_and_old_position(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    repo = Repository(create_database(db))
    manager = _manager(db)
    manager.tick()
    position = Position("BTC/USDT", "BTC", "USDT", Decimal("0.1"), Decimal(10), opened_ts_ms=T0)
    repo.save_position(position, stop_price=Decimal(95))
    _snapshot(repo, T0, "10000", "0.1")
    opened = manager.tick()
    _snapshot(repo, T0 + 73 * HOUR, "10000", "0.1")
    aged = manager.tick()
    assert [a.rule for a in opened] == [AlertRule.TRADE_OPENED]
    assert sorted(a.rule.value for a in aged) == ["daily_summary", "position_age"]
    assert "73 h" in next(a for a in aged if a.rule is AlertRule.POSITION_AGE).title


def test_manager_fee_dust_left_after_a_trade_is_no_position(tmp_path: Path) -> None:
    # Arrange: the rounding of a fee charged in BTC, below Binance's minimum amount.
    db = tmp_path / "bot.db"
    repo = Repository(create_database(db))
    manager = _manager(db)
    manager.tick()
    dust = Position("BTC/USDT", "BTC", "USDT", Decimal("0.0000009"), Decimal("0.09"),
                    opened_ts_ms=T0)  # fmt: skip
    repo.save_position(dust)
    # Act
    _snapshot(repo, T0 + HOUR, "10000", "0.0000009")
    opened = manager.tick()
    _snapshot(repo, T0 + 100 * HOUR, "10000", "0.0000009")
    later = manager.tick()
    # Assert: no trade notice and no age warning; only the day's summary.
    assert opened == []
    assert [a.rule for a in later] == [AlertRule.DAILY_SUMMARY]


def _filled_stop(repo: Repository, cid: str, ts_ms: int, fill_price: str) -> None:
    """A stop at 100 that sold at ``fill_price`` (below it: slippage)."""
    order = Order(ClientOrderId(cid), "BTC/USDT", OrderSide.SELL, OrderType.STOP_LOSS,
                  Decimal("0.1"), stop_price=Decimal(100), created_ts_ms=ts_ms)  # fmt: skip
    repo.record_order_intent(order)
    order.status, order.updated_ts_ms = OrderStatus.FILLED, ts_ms
    order.filled_qty, order.avg_fill_price = Decimal("0.1"), Decimal(fill_price)
    repo.update_order(order)


def test_max_slippage_pct_is_the_line_a_fill_must_cross(tmp_path: Path) -> None:
    # Arrange: a stop at 100 filled at 99, 1 % worse, seen by two monitors
    db = tmp_path / "bot.db"
    repo = Repository(create_database(db))
    _snapshot(repo, T0, "10000")
    strict, lenient = _manager(db, max_slippage_pct=0.005), _manager(tmp_path / "other.db")
    other = Repository(create_database(tmp_path / "other.db"))
    _snapshot(other, T0, "10000")
    assert strict.tick() == lenient.tick() == []
    lenient = _manager(tmp_path / "other.db", max_slippage_pct=0.02)
    # Act
    _filled_stop(repo, "tb-s1", T0 + HOUR, "99")
    _filled_stop(other, "tb-s1", T0 + HOUR, "99")
    # Assert: past 0.5 % it is alerted, within 2 % it is not
    assert [a.rule for a in strict.tick()] == [AlertRule.SLIPPAGE]
    assert lenient.tick() == []


def test_cooldown_s_holds_a_repeated_alert_back_for_that_long(tmp_path: Path) -> None:
    # Arrange: two bots' databases with a drawdown that keeps holding; a clock that moves
    clock = Clock()
    repos, managers = [], []
    for name, cooldown in (("short", 300), ("long", 3600)):
        repo = Repository(create_database(tmp_path / f"{name}.db"))
        _snapshot(repo, T0, "10000")
        repos.append(repo)
        managers.append(_manager(tmp_path / f"{name}.db", clock=clock, cooldown_s=cooldown))
    assert [m.tick() for m in managers] == [[], []]
    for repo in repos:
        _snapshot(repo, T0 + HOUR, "8000")  # 20 % below the peak
    assert all(AlertRule.DRAWDOWN in [a.rule for a in m.tick()] for m in managers)
    # Act: ten minutes later the drawdown still holds
    clock.s += 600
    for repo in repos:
        _snapshot(repo, T0 + 2 * HOUR, "7900")
    short, long = (m.tick() for m in managers)
    # Assert: 600 s is past a 300 s cool-down, not past a 3600 s one
    assert AlertRule.DRAWDOWN in [a.rule for a in short]
    assert AlertRule.DRAWDOWN not in [a.rule for a in long]


def test_max_drawdown_pct_is_the_line_equity_must_cross(tmp_path: Path) -> None:
    # Arrange: equity 8 % below its peak, judged by a 5 % and a 10 % line
    raised = {}
    for limit in (0.05, 0.10):
        repo = Repository(create_database(tmp_path / f"{limit}.db"))
        _snapshot(repo, T0, "10000")
        manager = _manager(tmp_path / f"{limit}.db", max_drawdown_pct=limit)
        manager.tick()
        # Act
        _snapshot(repo, T0 + HOUR, "9200")
        raised[limit] = [a.rule for a in manager.tick()]
    # Assert
    assert AlertRule.DRAWDOWN in raised[0.05]
    assert AlertRule.DRAWDOWN not in raised[0.10]


def test_max_position_age_hours_is_the_age_a_position_must_pass(tmp_path: Path) -> None:
    # Arrange: a position 11 h old, judged by a 10 h and a 12 h limit
    raised = {}
    for hours in (10.0, 12.0):
        db = tmp_path / f"{hours}.db"
        repo = Repository(create_database(db))
        manager = _manager(db, max_position_age_hours=hours)
        manager.tick()
        position = Position("BTC/USDT", "BTC", "USDT", Decimal("0.1"), Decimal(10), opened_ts_ms=T0)
        repo.save_position(position, stop_price=Decimal(95))
        _snapshot(repo, T0, "10000", "0.1")
        manager.tick()
        # Act
        _snapshot(repo, T0 + 11 * HOUR, "10000", "0.1")
        raised[hours] = [a.rule for a in manager.tick()]
    # Assert
    assert AlertRule.POSITION_AGE in raised[10.0]
    assert AlertRule.POSITION_AGE not in raised[12.0]


def test_min_win_rate_is_the_rate_the_trades_must_fall_below(tmp_path: Path) -> None:
    # Arrange: 2 winners of 4 trades (50 %), judged by a 60 % and a 40 % line
    raised = {}
    for rate in (0.6, 0.4):
        db = tmp_path / f"{rate}.db"
        repo = Repository(create_database(db))
        _snapshot(repo, T0, "10000")
        manager = _manager(db, min_win_rate=rate)
        manager.tick()
        # Act
        for n, pnl in enumerate(("5", "-5", "5", "-5")):
            repo.record_trade(_trade(T0 + (n + 1) * HOUR, pnl))
        raised[rate] = [a.rule for a in manager.tick()]
    # Assert
    assert AlertRule.WIN_RATE in raised[0.6]
    assert AlertRule.WIN_RATE not in raised[0.4]
