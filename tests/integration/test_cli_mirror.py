"""``tradebot run --mode paper`` on live prices (``exchange.sandbox.market_data: binance``).

No machine here reaches Binance, so a sandbox replaying the bundled sample stands in for it:
``exchange.sandbox.market_data_url`` points ccxt's binance URLs at it on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ports import free_port
from processes import NO_KEYS, eventually, paper_bot_process
from tradebot.cli import build_app
from tradebot.data.load import load_candles, sample_path
from tradebot.data.store import CandleStore
from tradebot.sandbox import SandboxConfig, run_sandbox_in_thread
from tradebot.state import Repository, create_database

SAMPLE = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), env=NO_KEYS)
    return result.exit_code, result.output


def write_config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(
        "exchange:\n  sandbox:\n    port: 0\n    market_data: binance\n"
        f"    market_data_url: {url}\n",
        encoding="utf-8",
    )
    return config


def test_run_paper_on_live_prices_decides_each_bar_the_exchange_closes(tmp_path: Path) -> None:
    # Arrange: "Binance" replays the sample from bar 400 and is advanced by the test
    exchange = SandboxConfig(
        port=0, data_files={"BTC/USDT": SAMPLE}, start_index=400, weight_limit_1m=10**7
    )
    with run_sandbox_in_thread(exchange) as binance:
        forming_ts = binance.current_candle("BTC/USDT").ts_ms
        sandbox_yaml = (
            f"    market_data: binance\n    market_data_url: {binance.http_url}\n"
            "    market_data_poll_s: 0.1\n"
        )
        with paper_bot_process(tmp_path, sandbox_yaml=sandbox_yaml) as bot:
            repo = Repository(create_database(f"sqlite:///{bot.db}"))
            before = repo.last_bar_ts("BTC/USDT", "1h")
            # Act: the exchange closes the bar that was forming
            binance.advance_sync(1)
            eventually(lambda: repo.last_bar_ts("BTC/USDT", "1h") == forming_ts, bot.output)
            code = bot.terminate()
            output = bot.output()
    # Assert: the bar before it was the newest closed one at start; the next, still forming
    # at the exchange, is never decided
    assert code == 0, output
    assert before == forming_ts - 3_600_000
    assert repo.last_bar_ts("BTC/USDT", "1h") == forming_ts
    source = f"exchange.sandbox.market_data: binance (market_data_url {binance.http_url})"
    assert f"prices: {source}" in output.replace("\n", "")


def test_run_paper_on_live_prices_records_the_exchanges_trades(tmp_path: Path) -> None:
    # Arrange
    exchange = SandboxConfig(
        port=0, data_files={"BTC/USDT": SAMPLE}, start_index=400, weight_limit_1m=10**7
    )
    with run_sandbox_in_thread(exchange) as binance:
        sandbox_yaml = (
            f"    market_data: binance\n    market_data_url: {binance.http_url}\n"
            "    market_data_poll_s: 0.1\n"
        )
        with paper_bot_process(tmp_path, "--record-trades", sandbox_yaml=sandbox_yaml) as bot:
            store = CandleStore(bot.db)

            def recorded() -> bool:  # the exchange trades a bar until the recorder has some
                if len(store.read_ticks("BTC/USDT")) >= 3:
                    return True
                binance.advance_sync(1)
                return False

            # Act
            eventually(recorded, bot.output)
            streams = len(binance.hub.connections)
            code = bot.terminate()
    # Assert: the prints come from the exchange's own trade stream (the mirror is asked over
    # REST only), each inside the exchange's candle of its hour
    output = bot.output()
    assert code == 0, output
    assert streams >= 1
    ticks = store.read_ticks("BTC/USDT")
    store.close()
    assert f"recorded {len(ticks)} public trades of BTC/USDT" in output
    candles = load_candles(SAMPLE).set_index("ts_ms")
    for tick in ticks:
        bar = candles.loc[tick.ts_ms - tick.ts_ms % 3_600_000]
        assert bar["low"] <= tick.price <= bar["high"]


def test_run_paper_on_an_unreachable_exchange_names_the_setting(tmp_path: Path) -> None:
    # Arrange
    url = f"http://127.0.0.1:{free_port()}"
    config = write_config(tmp_path, url)
    # Act
    code, output = invoke("run", "--mode", "paper", "-c", str(config), "--db", str(tmp_path / "b"))
    # Assert
    assert code == 2
    text = " ".join(output.split())
    assert f"exchange.sandbox.market_data: binance (market_data_url {url}): cannot load" in text
    assert "set it back to replay" in text


def test_run_paper_replay_flags_on_live_prices_are_refused_naming_the_setting(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    code, output = invoke("run", "--mode", "paper", "--bars", "10", "-c", str(config))
    assert code == 2
    assert "exchange.sandbox.market_data is binance (live prices): --bars" in " ".join(
        output.split()
    )


def test_sandbox_command_mirroring_an_unreachable_exchange_names_the_flag() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        build_app(),
        ["sandbox", "--port", "0", "--market-data", "binance", "--market-data-url", url],
        env=NO_KEYS,
    )
    assert result.exit_code == 2
    assert f"--market-data binance --market-data-url {url}: cannot load" in " ".join(
        result.output.split()
    )


def test_sandbox_command_mirror_with_a_data_file_is_refused() -> None:
    result = CliRunner().invoke(
        build_app(), ["sandbox", "--market-data", "binance", "--data", f"BTC/USDT={SAMPLE}"]
    )
    assert result.exit_code == 2
    assert "drop --data and --deterministic" in result.output


def test_run_paper_on_live_prices_refuses_an_account_kept_by_a_replay(tmp_path: Path) -> None:
    # Arrange: a replay keeps its paper account beside the database
    db = tmp_path / "bot.db"
    replay = tmp_path / "replay.yaml"
    replay.write_text("exchange:\n  sandbox:\n    port: 0\n", encoding="utf-8")
    code, output = invoke(
        "run", "--mode", "paper", "--bars", "5", "-c", str(replay), "--db", f"{db}"
    )
    assert code == 0, output
    account = tmp_path / "bot.sandbox.json"
    kept = account.read_bytes()
    exchange = SandboxConfig(port=0, data_files={"BTC/USDT": SAMPLE}, start_index=400)
    with run_sandbox_in_thread(exchange) as binance:
        live = write_config(tmp_path, binance.http_url)
        # Act
        code, output = invoke("run", "--mode", "paper", "-c", str(live), "--db", str(db))
    # Assert
    text = " ".join(output.split())
    assert code == 2
    assert f"the paper account {account} does not fit this run's data" in text
    assert "exchange.sandbox.market_data: binance" in text
    assert f"tradebot run --mode paper -c {live} --db {db} --fresh` starts a new account" in text
    assert account.read_bytes() == kept
