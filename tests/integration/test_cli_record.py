"""``tradebot run --record-trades``: a real bot process stores the sandbox's public trades.

The real path: the embedded sandbox on 127.0.0.1 replaying the bundled BTC/USDT 1h sample,
a second ccxt connector on its websocket trade stream, the bot's SQLite file as the store.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from typer.testing import CliRunner

from processes import eventually, paper_bot_process
from tradebot.backtest.dataset import bundled_sample
from tradebot.cli import build_app
from tradebot.data.load import load_candles
from tradebot.data.store import CandleStore

_HOUR_MS = 3_600_000


def test_run_record_trades_stores_sandbox_prints_within_replayed_candles(tmp_path: Path) -> None:
    # Arrange: a real bot process with the embedded sandbox replaying 1h bars at 3600x
    with paper_bot_process(tmp_path, "--record-trades") as bot:
        store = CandleStore(bot.db)
        eventually(lambda: len(store.read_ticks("BTC/USDT")) >= 5, bot.output)
        # Act
        code = bot.terminate()
    # Assert: what the process says it recorded is in the store, once per trade id
    output = bot.output()
    assert code == 0, output
    ticks = store.read_ticks("BTC/USDT")
    store.close()
    recorded = re.search(r"recorded (\d+) public trades of BTC/USDT", output)
    assert recorded is not None, output
    assert int(recorded.group(1)) == len(ticks)
    assert len({t.trade_id for t in ticks}) == len(ticks)
    # every print lies inside the replayed candle of its hour
    candles = load_candles(bundled_sample("BTC/USDT", "1h")).set_index("ts_ms")
    for tick in ticks:
        bar = candles.loc[tick.ts_ms - tick.ts_ms % _HOUR_MS]
        assert bar["low"] <= tick.price <= bar["high"], (tick, bar.to_dict())
        assert tick.qty > 0
        assert tick.side in ("buy", "sell")


def test_run_without_record_trades_stores_no_ticks(tmp_path: Path) -> None:
    # Arrange
    with paper_bot_process(tmp_path) as bot:
        time.sleep(1.5)  # longer than the recorder's flush interval, were it running
        # Act
        code = bot.terminate()
    # Assert
    output = bot.output()
    assert code == 0, output
    assert "public trades" not in output
    with CandleStore(tmp_path / "bot.db") as store:
        assert store.read_ticks("BTC/USDT") == []


def test_run_record_trades_with_bars_is_refused_instead_of_recording_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bot.db"

    result = CliRunner().invoke(
        build_app(),
        ["run", "--mode", "paper", "--bars", "3", "--record-trades", "--db", str(db)],
        env={"COLUMNS": "200"},
    )

    flat = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "--record-trades cannot record a replay" in flat
    assert not db.exists()
