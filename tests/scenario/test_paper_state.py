"""While paper trading, the database says what the exchange says, after every single cycle."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tradebot.config import load_config, with_overrides
from tradebot.data.load import sample_path
from tradebot.orchestrator.paper import PaperSetup, paper_session

SAMPLE = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
QUICK = {"fast_period": 3, "slow_period": 8, "rsi_threshold": 100}
OCO = {"risk.take_profit_method": "pct", "risk.take_profit_pct": 0.004}


@pytest.mark.parametrize("protection", ["stop", "stop_and_take_profit"])
async def test_paper_every_cycle_database_orders_and_position_equal_the_exchange(
    tmp_path: Path, protection: str
) -> None:
    # Arrange
    updates: dict[str, object] = {"strategy.params": QUICK, "risk.stop_loss_method": "fixed_pct"}
    if protection == "stop_and_take_profit":
        updates |= OCO
    config = with_overrides(load_config(None), updates, "test")
    setup = PaperSetup(
        data_files={"BTC/USDT": SAMPLE}, database_url=f"sqlite:///{tmp_path / 'bot.db'}"
    )
    async with paper_session(config, setup) as session:
        bot, venue = session.bot, session.bot.connector
        differences = []
        for _ in range(150):
            # Act
            await session.replay(1)
            # Assert (collected, so one failure shows every bar that differed)
            saved = sorted(o.client_order_id for o in bot.repo.open_orders())
            working = sorted(o.client_order_id for o in await venue.fetch_open_orders("BTC/USDT"))
            held = {p.position.symbol: p.position.qty for p in bot.repo.positions()}
            balance = (await venue.fetch_balance()).get("BTC")
            base = balance.total if balance is not None else Decimal(0)
            if saved != working or held.get("BTC/USDT", Decimal(0)) != base:
                differences.append((session.server.now_ms, saved, working, held, base))
        assert differences == []
        assert len(bot.repo.trades()) >= 5
        exits = {t.exit_reason for t in bot.repo.trades()}
        if protection == "stop_and_take_profit":
            assert "take_profit" in exits
