"""``tradebot stop`` and ``stop --flatten`` reach a running paper bot through its database."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.config import load_config, with_overrides
from tradebot.data.load import sample_path
from tradebot.orchestrator.paper import PaperSession, PaperSetup, paper_session
from tradebot.state import KillSwitchLevel

SAMPLE = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))


async def _hold_a_position(session: PaperSession) -> None:
    for _ in range(300):
        if not session.bot.engine.view.is_flat("BTC/USDT"):
            return
        await session.replay(1)
    raise AssertionError("no position within 300 bars")


def _session(db: Path) -> AbstractAsyncContextManager[PaperSession]:
    # a quick strategy, so that a position with its stop on the exchange comes soon
    params = {"fast_period": 3, "slow_period": 8, "rsi_threshold": 100}
    config = with_overrides(load_config(None), {"strategy.params": params}, "test")
    return paper_session(
        config, PaperSetup(data_files={"BTC/USDT": SAMPLE}, database_url=f"sqlite:///{db}")
    )


def _stop(db: Path, *flags: str) -> str:
    result = CliRunner().invoke(build_app(), ["stop", *flags, "--db", str(db)])
    assert result.exit_code == 0, result.output
    return result.output


async def test_stop_flatten_running_paper_bot_sells_at_market_and_stays_halted(
    tmp_path: Path,
) -> None:
    # Arrange: a quick strategy holding a position with its stop on the exchange
    db = tmp_path / "bot.db"
    async with _session(db) as session:
        bot = session.bot
        await _hold_a_position(session)
        orders_before = len(bot.repo.orders())
        # Act
        _stop(db, "--flatten")
        await session.replay(1)
        await session.replay(30)
        # Assert
        assert bot.engine.view.is_flat("BTC/USDT")
        assert bot.engine.trades[-1].exit_reason == "flatten"
        assert bot.repo.trades()[-1].exit_reason == "flatten"
        assert bot.repo.open_orders() == []
        assert await bot.connector.fetch_open_orders("BTC/USDT") == []
        assert bot.repo.kill_switch() is KillSwitchLevel.HALTED
        assert bot.repo.get_control("flatten_requested") == "0"
        new_orders = bot.repo.orders()[orders_before:]
        assert [o.client_order_id.rsplit("-", 1)[-1] for o in new_orders] == ["fl"]


async def test_stop_without_flatten_sends_no_order_and_leaves_the_stop_working(
    tmp_path: Path,
) -> None:
    # Arrange
    db = tmp_path / "bot.db"
    async with _session(db) as session:
        bot = session.bot
        await _hold_a_position(session)
        open_before = [o.client_order_id for o in bot.repo.open_orders()]
        orders_before = len(bot.repo.orders())
        # Act
        _stop(db)
        await session.replay(20)
        # Assert
        assert len(bot.repo.orders()) == orders_before
        statuses = {bot.repo.get_order(cid).status.value for cid in open_before}  # type: ignore[union-attr]
        assert statuses <= {"open", "filled"}, "the protective stop is never cancelled"
        assert bot.repo.kill_switch() is KillSwitchLevel.HALTED
