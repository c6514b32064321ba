"""MetricsCollector on its own: exchange errors by class, cycle overruns, candle age, serving."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tradebot.config import load_config, with_overrides
from tradebot.domain.errors import ConfigError, RateLimited
from tradebot.exchange.ccxt.errors import IpBanned
from tradebot.exchange.ccxt.metrics import ConnectorMetrics
from tradebot.monitoring.metrics import MetricsCollector
from tradebot.monitoring.server import serve_metrics
from tradebot.state import Repository, create_database


class ManualClock:
    """Seconds that move only when the test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def collector(
    tmp_path: Path,
    connectors: list[ConnectorMetrics],
    clock: ManualClock,
    symbols: tuple[str, ...] = ("BTC/USDT",),
) -> MetricsCollector:
    repo = Repository(create_database(f"sqlite:///{tmp_path / 'bot.db'}"))
    return MetricsCollector(
        repo, symbols=symbols, timeframe="1h", cycle_budget_s=1.0, connectors=connectors,
        clock=clock,
    )  # fmt: skip


def samples(c: MetricsCollector) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = c.render().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def test_collector_exchange_errors_by_class_include_429_and_418(tmp_path: Path) -> None:
    # Arrange: two connectors (the bot's and the trade recorder's) that met the venue's limits
    bot, recorder = ConnectorMetrics(), ConnectorMetrics()
    bot.record_call("fetch_ticker", 0.004, None)
    bot.record_call("fetch_ticker", 0.2, RateLimited("429 Too Many Requests"))
    bot.count("rate_limited")
    recorder.record_call("fetch_ticker", 0.003, None)
    recorder.record_call("create_order", 0.01, IpBanned("418 I'm a teapot"))
    recorder.count("banned")
    recorder.count("ws_drop.trades", 2)
    # Act
    found = samples(collector(tmp_path, [bot, recorder], ManualClock()))
    # Assert
    errors = "tradebot_exchange_errors_total"
    assert found[key(errors, method="fetch_ticker", error="RateLimited")] == 1
    assert found[key(errors, method="create_order", error="IpBanned")] == 1
    assert found[key("tradebot_exchange_events_total", event="rate_limited")] == 1
    assert found[key("tradebot_exchange_events_total", event="banned")] == 1
    assert found[key("tradebot_websocket_reconnects_total", stream="trades")] == 2
    bucket = "tradebot_exchange_request_duration_seconds_bucket"
    assert found[key(bucket, method="fetch_ticker", outcome="ok", le="0.005")] == 2
    assert found[key(bucket, method="fetch_ticker", outcome="RateLimited", le="0.1")] == 0
    assert found[key(bucket, method="fetch_ticker", outcome="RateLimited", le="0.25")] == 1
    count = "tradebot_exchange_request_duration_seconds_count"
    assert found[key(count, method="create_order", outcome="IpBanned")] == 1


def test_collector_cycle_over_budget_counts_an_overrun(tmp_path: Path) -> None:
    c = collector(tmp_path, [], ManualClock())
    c.on_cycle(0, 0.5)
    c.on_cycle(3_600_000, 1.5)
    found = samples(c)
    assert found[key("tradebot_decision_cycle_duration_seconds_count")] == 2
    assert found[key("tradebot_decision_cycle_overruns_total")] == 1


def test_collector_candle_age_grows_until_a_newer_candle_closes(tmp_path: Path) -> None:
    # Arrange
    clock = ManualClock(100.0)
    c = collector(tmp_path, [], clock)
    assert c.candle_age_s("BTC/USDT") is None
    c.on_candles(venue_now_ms=5_000_000, newest_close_ms={"BTC/USDT": 3_600_000})
    # Act: polls that see the same candle, then a newer one
    clock.now = 130.0
    c.on_candles(venue_now_ms=5_030_000, newest_close_ms={"BTC/USDT": 3_600_000})
    stale = c.candle_age_s("BTC/USDT")
    clock.now = 140.0
    c.on_candles(venue_now_ms=7_200_000, newest_close_ms={"BTC/USDT": 7_200_000})
    # Assert
    assert stale == 30.0
    assert c.candle_age_s("BTC/USDT") == 0.0


def test_collector_candle_age_is_per_symbol_so_one_stalled_market_shows(tmp_path: Path) -> None:
    # Arrange: two markets on one bot; ETH/USDT's candles stop after the first poll
    clock = ManualClock(100.0)
    c = collector(tmp_path, [], clock, symbols=("BTC/USDT", "ETH/USDT"))
    c.on_candles(5_000_000, {"BTC/USDT": 3_600_000, "ETH/USDT": 3_600_000})
    # Act: two hours later BTC/USDT has a new candle, ETH/USDT still the old one
    clock.now = 7_300.0
    c.on_candles(12_200_000, {"BTC/USDT": 10_800_000, "ETH/USDT": 3_600_000})
    found = samples(c)
    # Assert: each market's own age, under its own label, and each its bar length
    age = "tradebot_candle_age_seconds"
    assert found[key(age, symbol="BTC/USDT", timeframe="1h")] == 0.0
    assert found[key(age, symbol="ETH/USDT", timeframe="1h")] == 7_200.0
    bar = "tradebot_timeframe_seconds"
    assert found[key(bar, symbol="ETH/USDT", timeframe="1h")] == 3_600.0


def test_collector_before_the_first_bar_has_no_equity_and_an_active_switch(
    tmp_path: Path,
) -> None:
    found = samples(collector(tmp_path, [], ManualClock()))
    assert key("tradebot_equity") not in found
    assert found[key("tradebot_kill_switch", state="ACTIVE")] == 1
    assert found[key("tradebot_trades_closed_total")] == 0


def test_config_metrics_host_not_loopback_is_refused_unless_allowed() -> None:
    base = load_config(None)
    with pytest.raises(ConfigError, match=r"metrics_host 0\.0\.0\.0 is not a loopback address"):
        with_overrides(base, {"monitoring.metrics_host": "0.0.0.0"}, "test")
    allowed = with_overrides(
        base, {"monitoring.metrics_host": "0.0.0.0", "monitoring.metrics_allow_remote": True}, "t"
    )
    assert allowed.monitoring.metrics_host == "0.0.0.0"


async def test_serve_metrics_answers_over_http_on_loopback(tmp_path: Path) -> None:
    c = collector(tmp_path, [], ManualClock())
    async with serve_metrics(c, "127.0.0.1", 0, 300) as endpoint:
        assert endpoint is not None
        async with aiohttp.ClientSession() as http, http.get(endpoint.url) as resp:
            body = await resp.text()
    assert endpoint.url.startswith("http://127.0.0.1:")
    assert 'tradebot_kill_switch{state="ACTIVE"} 1.0' in body


async def test_serve_metrics_port_in_use_names_the_setting(tmp_path: Path) -> None:
    c = collector(tmp_path, [], ManualClock())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            ConfigError, match=f"monitoring.metrics_port: cannot serve /metrics on 127.0.0.1:{port}"
        ):
            async with serve_metrics(c, "127.0.0.1", port, 300):
                pass
