"""``tradebot run --record-trades``: a real bot process stores the sandbox's public trades.

The real path: the embedded sandbox on 127.0.0.1 replaying the bundled BTC/USDT 1h sample,
a second ccxt connector on its websocket trade stream, the bot's SQLite file as the store.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tradebot.backtest.session import bundled_sample
from tradebot.data.load import load_candles
from tradebot.data.store import CandleStore

_NO_KEYS = {"BINANCE_API_KEY": "", "BINANCE_API_SECRET": "", "COLUMNS": "200"}
_HOUR_MS = 3_600_000


def eventually(check: Callable[[], bool], what: Callable[[], str], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not met within {timeout_s} s: {what()}")
        time.sleep(0.1)


def _start(tmp_path: Path, out: object, *flags: str) -> subprocess.Popen[bytes]:
    config = tmp_path / "config.yaml"
    config.write_text(
        "exchange:\n  sandbox:\n    port: 0\ntrading:\n  cycle_interval_s: 1\n", encoding="utf-8"
    )
    command = [sys.executable, "-c", "from tradebot.cli import main; main()"]
    args = ["run", "--mode", "paper", "--config", str(config), "--db", str(tmp_path / "bot.db")]
    env = {**os.environ, **_NO_KEYS, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*command, *args, "--speed", "3600", *flags], stdout=out, stderr=subprocess.STDOUT, env=env
    )


def test_run_record_trades_stores_sandbox_prints_within_replayed_candles(tmp_path: Path) -> None:
    # Arrange: a real bot process with the embedded sandbox replaying 1h bars at 3600x
    log = tmp_path / "out.txt"
    db = tmp_path / "bot.db"
    with log.open("w") as out:
        proc = _start(tmp_path, out, "--record-trades")
        try:
            eventually(lambda: "Ctrl-C stops" in log.read_text(), log.read_text)
            store = CandleStore(db)
            eventually(lambda: len(store.read_ticks("BTC/USDT")) >= 5, log.read_text)
            # Act
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # Assert: what the process says it recorded is in the store, once per trade id
    output = log.read_text()
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
    log = tmp_path / "out.txt"
    with log.open("w") as out:
        proc = _start(tmp_path, out)
        try:
            eventually(lambda: "Ctrl-C stops" in log.read_text(), log.read_text)
            time.sleep(1.5)  # longer than the recorder's flush interval, were it running
            # Act
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # Assert
    output = log.read_text()
    assert code == 0, output
    assert "public trades" not in output
    with CandleStore(tmp_path / "bot.db") as store:
        assert store.read_ticks("BTC/USDT") == []
