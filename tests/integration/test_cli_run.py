"""``tradebot run``, ``stop`` and ``status`` through typer's CliRunner (and one real process).

The paper replay is the real path: the embedded sandbox on 127.0.0.1, ccxt, a SQLite file.
"""

from __future__ import annotations

import re
import socket
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factories import random_walk_candles
from processes import NO_KEYS, eventually, paper_bot_process
from tradebot.cli import build_app
from tradebot.domain.portfolio import Position
from tradebot.state import KillSwitchLevel, Repository, create_database

SECRET = "s3cr3t-live-VALUE-42"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), env={**NO_KEYS, **(env or {})})
    return result.exit_code, result.output


def _row(output: str, name: str) -> str:
    line = next(line for line in output.splitlines() if f" {name} " in line)
    return line.split("│")[2].strip()


def test_run_paper_replay_prints_summary_matching_the_database(tmp_path: Path) -> None:
    # Arrange: the embedded sandbox on a free port
    db = tmp_path / "bot.db"
    config = tmp_path / "config.yaml"
    config.write_text("exchange:\n  sandbox:\n    port: 0\n", encoding="utf-8")
    # Act
    code, output = invoke(
        "run", "--mode", "paper", "--replay", "--bars", "300", "-c", str(config), "--db", str(db)
    )
    # Assert
    assert code == 0, output
    repo = Repository(create_database(f"sqlite:///{db}"))
    assert _row(output, "bars replayed") == "300"
    assert int(_row(output, "trades")) == len(repo.trades()) > 0
    assert int(_row(output, "fills")) == len(repo.fills())
    assert int(_row(output, "orders")) == len(repo.orders())
    assert _row(output, "discrepancies") == "0"
    snapshot = repo.latest_snapshot()
    assert snapshot is not None
    assert _row(output, "equity") == f"{snapshot.equity:.2f}"


def test_stop_flatten_then_status_shows_halted_and_flatten_requested(tmp_path: Path) -> None:
    # Arrange
    db = tmp_path / "bot.db"
    Repository(create_database(f"sqlite:///{db}"))
    # Act
    stop_code, stop_output = invoke("stop", "--flatten", "--db", str(db))
    code, output = invoke("status", "--db", str(db))
    # Assert
    assert stop_code == 0
    assert "HALTED" in stop_output
    assert "Flatten requested" in stop_output
    assert code == 0
    assert _row(output, "kill switch") == "HALTED (tradebot stop)"
    assert _row(output, "flatten requested") == "yes"
    assert _row(output, "position") == "flat"
    assert _row(output, "last bar") == "none yet"


def test_stop_without_flatten_halts_only(tmp_path: Path) -> None:
    # Arrange
    db = tmp_path / "bot.db"
    repo = Repository(create_database(f"sqlite:///{db}"))
    # Act
    code, _ = invoke("stop", "--db", str(db))
    # Assert
    assert code == 0
    assert repo.kill_switch() is KillSwitchLevel.HALTED
    assert repo.get_control("flatten_requested") is None


def test_status_missing_database_names_the_path(tmp_path: Path) -> None:
    # Act
    code, output = invoke("status", "--db", str(tmp_path / "absent.db"))
    # Assert
    assert code == 2
    assert "absent.db" in output
    assert "--db" in output


def test_run_live_without_keys_or_flag_names_both(tmp_path: Path) -> None:
    # Act
    code, output = invoke("run", "--mode", "live", "--db", str(tmp_path / "x.db"))
    # Assert
    assert code == 2
    assert "BINANCE_API_KEY" in output
    assert "--i-understand-this-trades-real-money" in output


def test_run_live_with_keys_without_flag_refuses_and_hides_the_secret(tmp_path: Path) -> None:
    # Arrange
    keys = {"BINANCE_API_KEY": "live-key-1", "BINANCE_API_SECRET": SECRET}
    # Act
    code, output = invoke("run", "--mode", "live", "--db", str(tmp_path / "x.db"), env=keys)
    # Assert
    assert code == 2
    assert "missing: the confirmation flag --i-understand-this-trades-real-money" in output
    assert "BINANCE_API_KEY" not in output
    assert SECRET not in output
    assert not (tmp_path / "x.db").exists()


def test_run_unknown_mode_is_refused() -> None:
    # Act
    code, output = invoke("run", "--mode", "yolo")
    # Assert
    assert code == 2
    assert "choose paper or live" in output


def _cycles(output: str) -> int:
    found = re.search(r"stopped after (\d+) cycles", output)
    return -1 if found is None else int(found.group(1))


def test_run_paper_realtime_trades_bars_then_sigterm_stops_gracefully(tmp_path: Path) -> None:
    # Arrange: a real process, embedded sandbox on a free port replaying 1h bars at 3600x
    with paper_bot_process(tmp_path) as bot:
        repo = Repository(create_database(f"sqlite:///{bot.db}"))
        first = repo.last_bar_ts("BTC/USDT", "1h")
        assert first is not None
        eventually(lambda: (repo.last_bar_ts("BTC/USDT", "1h") or 0) > first, bot.output)
        # Act
        code = bot.terminate()
    # Assert
    output = bot.output()
    assert code == 0, output
    assert _cycles(output) >= 1
    assert "protective stops left in place" in output
    assert len(repo.snapshots()) == _cycles(output)
    assert repo.kill_switch() is KillSwitchLevel.ACTIVE


@pytest.mark.parametrize("command", ["run", "stop", "status"])
def test_help_lists_the_database_option(command: str) -> None:
    # Act
    code, output = invoke(command, "--help")
    # Assert
    assert code == 0
    assert "--db" in output


def test_run_without_mode_takes_it_from_the_config(tmp_path: Path) -> None:
    # Arrange
    live = tmp_path / "live.yaml"
    live.write_text("exchange:\n  mode: live\n", encoding="utf-8")
    backtest = tmp_path / "backtest.yaml"
    backtest.write_text("exchange:\n  mode: backtest\n", encoding="utf-8")
    # Act
    live_code, live_output = invoke("run", "--config", str(live), "--db", str(tmp_path / "a.db"))
    bt_code, bt_output = invoke("run", "--config", str(backtest), "--db", str(tmp_path / "b.db"))
    # Assert
    assert live_code == 2
    assert "live mode sends real orders" in live_output
    assert bt_code == 2
    assert "tradebot backtest" in bt_output


def test_cli_resume_after_stop_sets_active_and_says_what_it_was(tmp_path: Path) -> None:
    # Arrange: a bot database halted by `tradebot stop`
    db = tmp_path / "bot.db"
    Repository(create_database(db))
    runner = CliRunner()
    assert runner.invoke(build_app(), ["stop", "--flatten", "--db", str(db)]).exit_code == 0
    # Act
    result = runner.invoke(build_app(), ["resume", "--db", str(db)])
    # Assert
    assert result.exit_code == 0, result.output
    assert "kill switch ACTIVE (was HALTED (tradebot stop))" in result.output
    repo = Repository(create_database(db))
    assert repo.kill_switch().value == "ACTIVE"
    assert repo.get_control("flatten_requested") == "0"


def test_cli_run_paper_port_in_use_says_which_setting_to_change(tmp_path: Path) -> None:
    # Arrange: something already listens on the port the config names
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = tmp_path / "c.yaml"
        config.write_text(f"exchange:\n  sandbox:\n    port: {port}\n", encoding="utf-8")
        # Act
        result = CliRunner().invoke(
            build_app(),
            [
                "run",
                "--mode",
                "paper",
                "--bars",
                "5",
                "-c",
                str(config),
                "--db",
                str(tmp_path / "b.db"),
            ],
        )
    # Assert
    assert result.exit_code == 2
    assert "exchange.sandbox.port" in result.output


def test_status_fee_dust_below_the_minimum_amount_shows_flat_not_a_stopless_position(
    tmp_path: Path,
) -> None:
    # Arrange: what a round trip leaves behind: the buy's fee rounding, below one lot step
    db = tmp_path / "bot.db"
    repo = Repository(create_database(f"sqlite:///{db}"))
    dust = Position("BTC/USDT", "BTC", "USDT", qty=Decimal("0.00000999"), cost=Decimal("0.42"))
    repo.save_position(dust)
    # Act
    code, output = invoke("status", "--db", str(db))
    # Assert
    assert code == 0, output
    assert _row(output, "position").startswith("flat (dust 0.00000999 BTC")
    assert "None" not in output


def test_run_paper_data_file_of_another_market_is_an_error_naming_both(tmp_path: Path) -> None:
    # a DOGE file replayed as the config's BTC/USDT would trade with BTC's price step
    data = tmp_path / "DOGEUSDT-1h-2024.csv"
    frame = random_walk_candles(300, "1h", price=0.39).rename(columns={"ts_ms": "timestamp"})
    frame.to_csv(data, index=False)

    code, output = invoke(
        "run", "--mode", "paper", "--replay", "--bars", "5", "--data", str(data),
        "--db", str(tmp_path / "bot.db"),
    )  # fmt: skip

    flat = " ".join(output.split())
    assert code == 2
    assert "DOGEUSDT-1h-2024.csv holds DOGE/USDT" in flat
    assert "trading.symbol is BTC/USDT" in flat
