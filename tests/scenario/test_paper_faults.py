"""Paper trading through a misbehaving exchange: the bot keeps going and never trades twice.

The real path (TradingBot → CcxtConnector → ccxt → HTTP on 127.0.0.1 → the sandbox), with
the sandbox's fault injection: 5xx, requests that hang, order placements that execute but
whose answer is lost, a maintenance window, a 429 and a flash crash. Retries are made fast
(milliseconds) so that a few hundred bars of faults replay in seconds.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from paper_venue import (
    KEY,
    duplicates,
    eventually,
    replay,
    set_faults,
    trading,
    venue_orders,
)
from tradebot.orchestrator.continuity import DowntimePolicy
from tradebot.sandbox import FaultConfig


async def test_paper_faults_errors_timeouts_lost_answers_maintenance_keeps_trading(
    tmp_path: Path,
) -> None:
    # Arrange: 8 % of requests 503, 4 % hang then 504, 30 % of placements lost after execution
    faults = FaultConfig(
        error_rate=0.08, timeout_rate=0.04, hang_s=0.05, ambiguous_timeout_rate=0.3
    )
    async with trading(tmp_path, faults) as (server, bot, metrics):
        await set_faults(server, error_rate=0, timeout_rate=0)
        await bot.start()
        await set_faults(server, error_rate=0.08, timeout_rate=0.04)
        # Act
        outcomes = await replay(server, bot, 250)
        await set_faults(server, maintenance_s=3.0)
        during_maintenance = await replay(server, bot, 2)
        await set_faults(server, error_rate=0, timeout_rate=0, ambiguous_timeout_rate=0)
        await eventually(bot.step)
        orders = await venue_orders(server)
        # Assert
        assert metrics.errors_of("ExchangeUnavailable") > 20, "5xx and timeouts were retried"
        assert metrics.events["order_resolved"] > 0, "placements whose answer was lost"
        assert bot.stats.errors >= 2
        assert not any(during_maintenance)
        assert outcomes.count(True) > 200
        assert bot.repo.last_bar_ts("BTC/USDT", "1h") == server.now_ms - 3_600_000
        assert duplicates(orders) == 0
        assert len(orders) >= 10
        assert len(bot.repo.fills()) == sum(1 for o in orders if o["filled"]) > 0
        assert bot.engine.trades
        assert not [o for o in bot.repo.open_orders() if o.status.value == "unknown"]


async def test_paper_flash_crash_triggers_the_protective_stop(tmp_path: Path) -> None:
    # Arrange: trade until a position is held with its stop on the exchange
    async with trading(tmp_path, FaultConfig()) as (server, bot, _):
        await bot.start()
        for _ in range(300):
            protection = bot.engine.view.protection_of("BTC/USDT")
            if protection is not None and protection.stop_order_id is not None:
                break
            await replay(server, bot, 1)
        assert protection is not None
        assert protection.stop_price is not None
        trades_before = len(bot.engine.trades)
        crash = Decimal(str(server.current_candle("BTC/USDT").open)) * Decimal("0.85")
        # Act: the next bar jumps 15 % down right after its open
        await set_faults(server, price_shock_pct=15)
        await replay(server, bot, 1)
        # Assert: the price jumped past the stop, so the stop sold where the crash landed,
        # not at its stop price (domain/fills.py: a gap fills a stop at the landing price)
        trade = bot.engine.trades[trades_before]
        assert trade.exit_reason == "stop_loss"
        assert trade.exit_price < protection.stop_price * Decimal("0.99")
        assert abs(trade.exit_price - crash) <= crash * Decimal("0.001")
        assert bot.engine.view.is_flat("BTC/USDT")
        saved = bot.repo.trades()
        assert saved[-1].exit_reason == "stop_loss"


async def test_paper_rate_limited_by_the_venue_counts_an_error_and_never_gets_banned(
    tmp_path: Path,
) -> None:
    # Arrange: the venue allows less weight per minute than the bot believes it may use (and
    # than 40 polls use: a resting stop no longer costs its trades at every poll)
    async with trading(tmp_path, FaultConfig(), weight_limit_1m=250) as (server, bot, metrics):
        await bot.start()
        # Act
        outcomes = await replay(server, bot, 40)
        # Assert
        assert metrics.events["rate_limited"] > 0, "the venue answered 429"
        assert False in outcomes, "the venue's 429 must have stopped some cycle"
        assert bot.stats.errors == outcomes.count(False)
        assert outcomes[0] is True
        async with aiohttp.ClientSession() as http:
            url = f"{server.http_url}/api/v3/ping"
            async with http.get(url, headers={"X-MBX-APIKEY": KEY}) as resp:
                status = resp.status
        assert status != 418, "the bot kept calling after the 429 and got itself banned"


async def test_paper_maintenance_with_halt_policy_stops_new_entries(tmp_path: Path) -> None:
    # Arrange: downtime.on_exchange_down = halt
    async with trading(tmp_path, FaultConfig(), on_exchange_down=DowntimePolicy.HALT) as (
        server,
        bot,
        _,
    ):
        await bot.start()
        await replay(server, bot, 60)
        await set_faults(server, maintenance_s=2.0)
        # Act: polls fail through the maintenance window, then one gets through
        assert not any(await replay(server, bot, 2))
        await eventually(bot.step)
        entries_before = _entries(await venue_orders(server))
        await replay(server, bot, 80)
        entries_after = _entries(await venue_orders(server))
        # Assert
        assert bot.repo.kill_switch().value == "HALTED"
        assert "exchange was down" in bot.repo.kill_switch_reason()
        assert bot.downtime.outages == 1
        assert entries_after == entries_before, "no new entry after the halt"


def _entries(orders: list[dict[str, Any]]) -> int:
    return sum(1 for o in orders if str(o["clientOrderId"]).endswith("-en"))
