"""/metrics of a paper bot (ccxt → sandbox, real SQLite) against what its database holds.

One replay feeds every test here: its exposition text and the database it wrote. The
deploy/ files (Grafana dashboard, Prometheus alert rules) are held to the metric names that
bot exported.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from paper_venue import make_bot, replay, sandbox
from tradebot.exchange.ccxt.metrics import ConnectorMetrics
from tradebot.monitoring.metrics import MetricsCollector
from tradebot.orchestrator.live import TradingBot
from tradebot.state import Database, KillSwitchLevel, Repository

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Scraped:
    text: str
    samples: Samples
    bot: TradingBot
    connector: ConnectorMetrics

    def value(self, name: str, **labels: str) -> float:
        return self.samples[(name, tuple(sorted(labels.items())))]


def _parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _replay(tmp_path: Path) -> Scraped:
    async with sandbox() as server:
        connector = ConnectorMetrics()
        collector = MetricsCollector(
            Repository(Database(f"sqlite:///{tmp_path / 'bot.db'}")),
            symbols=["BTC/USDT"],
            timeframe="1h",
            cycle_budget_s=5.0,
            connectors=[connector],
        )
        bot = make_bot(server, tmp_path, metrics=connector, observer=collector)
        collector.stats = bot.stats
        try:
            await bot.start()
            await replay(server, bot, 100)
        finally:
            await bot.close()
    bot.repo.set_kill_switch(KillSwitchLevel.HALTED, "test")
    text = collector.render().decode()
    return Scraped(text, _parse(text), bot, connector)


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Scraped:
    return asyncio.run(_replay(tmp_path_factory.mktemp("metrics")))


def test_metrics_account_figures_equal_the_database(scraped: Scraped) -> None:
    repo = scraped.bot.repo
    snapshot = repo.latest_snapshot()
    assert snapshot is not None
    trades = repo.trades()
    assert len(trades) >= 1
    peak = max(s.equity for s in repo.snapshots())
    assert scraped.value("tradebot_equity") == float(snapshot.equity)
    assert scraped.value("tradebot_cash") == float(snapshot.cash)
    assert scraped.value("tradebot_peak_equity") == float(peak)
    assert scraped.value("tradebot_drawdown_ratio") == pytest.approx(
        float((peak - snapshot.equity) / peak)
    )
    assert scraped.value("tradebot_trades_closed_total") == len(trades)
    wins = sum(1 for t in trades if t.pnl > 0)
    assert scraped.value("tradebot_trades_won_total") == wins
    assert scraped.value("tradebot_win_rate_ratio") == pytest.approx(wins / len(trades))
    held = {p.position.symbol: p.position.qty for p in repo.positions(open_only=True)}
    assert scraped.value("tradebot_open_positions") == len(held)
    for symbol, qty in held.items():
        assert scraped.value("tradebot_position_qty", symbol=symbol) == float(qty)
    unrealised = snapshot.exposure - sum(p.position.cost for p in repo.positions(open_only=True))
    assert scraped.value("tradebot_unrealised_pnl") == pytest.approx(float(unrealised))
    assert scraped.value("tradebot_kill_switch", state="HALTED") == 1
    assert scraped.value("tradebot_kill_switch", state="ACTIVE") == 0


def test_metrics_orders_and_cycles_equal_what_the_bot_did(scraped: Scraped) -> None:
    repo, stats = scraped.bot.repo, scraped.bot.stats
    orders = repo.orders()
    for status in {o.status for o in orders}:
        expected = sum(1 for o in orders if o.status is status)
        assert scraped.value("tradebot_orders", status=status.value) == expected
    sent = sum(
        v for (name, _), v in scraped.samples.items() if name == "tradebot_orders_sent_total"
    )
    assert sent == stats.orders_sent > 0
    assert scraped.value("tradebot_cycles_total") == stats.cycles == 100
    assert scraped.value("tradebot_decision_cycle_duration_seconds_count") == stats.cycles
    assert scraped.value("tradebot_fills_total") == stats.fills == len(repo.fills())
    filled = scraped.value("tradebot_order_fill_duration_seconds_count", type="market")
    assert filled == sum(
        1 for o in orders if o.type.value == "market" and o.status.value == "filled"
    )
    calls = scraped.connector.endpoints["fetch_ohlcv"].calls
    ohlcv = scraped.value(
        "tradebot_exchange_request_duration_seconds_count", method="fetch_ohlcv", outcome="ok"
    )
    assert ohlcv == calls
    inf = scraped.value(
        "tradebot_exchange_request_duration_seconds_bucket",
        method="fetch_ohlcv", outcome="ok", le="+Inf",
    )  # fmt: skip
    assert inf == calls
    assert 0 <= scraped.value("tradebot_candle_age_seconds", symbol="BTC/USDT", timeframe="1h") < 60
    assert scraped.value("tradebot_timeframe_seconds", symbol="BTC/USDT", timeframe="1h") == 3600


def _exported(scraped: Scraped) -> set[str]:
    names = {name for name, _ in scraped.samples}
    for family in text_string_to_metric_families(scraped.text):  # families without samples yet
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
    return names


def _queried(expression: str) -> set[str]:
    return set(re.findall(r"\btradebot_[a-z_]+\b", expression))


def test_grafana_dashboard_queries_only_metrics_the_bot_exports(scraped: Scraped) -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "tradebot.json").read_text(encoding="utf-8"))
    expressions = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    queried = set().union(*map(_queried, expressions))
    assert len(expressions) >= 15
    assert queried - _exported(scraped) == set()
    assert {"tradebot_equity", "tradebot_exposure", "tradebot_candle_age_seconds"} <= queried


def test_prometheus_alert_rules_query_only_metrics_the_bot_exports(scraped: Scraped) -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "tradebot-alerts.yml").read_text("utf-8"))
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    queried = set().union(*(_queried(rule["expr"]) for rule in alerts))
    assert len(alerts) >= 8
    assert all(rule["labels"]["severity"] in {"critical", "warning"} for rule in alerts)
    assert queried - _exported(scraped) == set()
