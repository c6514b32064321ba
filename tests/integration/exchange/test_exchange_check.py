"""``tradebot exchange check`` against the sandbox, and its refusal of withdrawal-enabled keys."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from canned_binance import CannedBinance, Reply
from sandbox_venue import write_candles
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.exchange.ccxt.check import run_check
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.sandbox import SandboxConfig, run_sandbox_in_thread


def test_exchange_check_on_sandbox_reports_skew_markets_balances(tmp_path: Path) -> None:
    # Arrange
    config = SandboxConfig(port=0, data_files={"BTC/USDT": write_candles(tmp_path / "b.csv.gz")})
    with run_sandbox_in_thread(config) as sandbox:
        # Act
        result = CliRunner().invoke(build_app(), ["exchange", "check", "--url", sandbox.http_url])

    # Assert
    assert result.exit_code == 0, result.output
    assert "connected   yes" in result.output
    assert "clock skew" in result.output
    assert "BTC/USDT" in result.output
    assert "USDT 10000" in result.output
    assert "withdrawals unknown" in result.output
    assert "sandbox-secret" not in result.output
    assert "result      OK" in result.output


def test_exchange_check_unreachable_exchange_exits_1_naming_it() -> None:
    result = CliRunner().invoke(build_app(), ["exchange", "check", "--url", "http://127.0.0.1:9"])

    assert result.exit_code == 1
    assert "cannot reach the exchange" in result.output


async def test_run_check_withdrawal_enabled_key_is_refused(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script(
        "GET",
        "/sapi/v1/account/apiRestrictions",
        Reply(
            200,
            {"enableReading": True, "enableWithdrawals": True, "enableSpotAndMarginTrading": True},
        ),
    )

    report = await run_check(connector, "binance (canned)")

    assert report.can_withdraw is True
    assert not report.ok
    assert any("may withdraw funds" in p for p in report.problems)
    assert report.lines()[-1].endswith("REFUSED")


async def test_run_check_slow_answer_is_not_taken_for_a_wrong_clock(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    # Arrange: the server's clock 700 ms behind ours, its answer 1.2 s late (a loaded machine);
    # the server read its clock somewhere inside those 1.2 s, so the skew is -700 ± 600 ms
    now_ms = round(time.time() * 1000)
    canned.script("GET", "/api/v3/time", Reply(200, {"serverTime": now_ms - 700}, delay_s=1.2))

    # Act
    report = await run_check(connector, "binance (canned)")

    # Assert: reported, but not called over the 1,000 ms limit
    assert report.skew_ms is not None
    assert report.skew_ms < -700
    assert not any("clock skew" in problem for problem in report.problems), report.problems


async def test_run_check_clock_far_behind_is_a_problem_naming_ntp(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    now_ms = round(time.time() * 1000)
    canned.script("GET", "/api/v3/time", Reply(200, {"serverTime": now_ms - 5000}))

    report = await run_check(connector, "binance (canned)")

    assert report.skew_ms is not None
    assert report.skew_ms <= -4900
    assert any("exceeds 1000 ms" in p and "NTP" in p for p in report.problems), report.problems


def test_exchange_check_paper_config_without_a_sandbox_says_to_start_one(tmp_path: Path) -> None:
    # Arrange: a paper config whose sandbox port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "paper.yaml"
    config.write_text(f"exchange:\n  mode: paper\n  sandbox:\n    port: {port}\n", encoding="utf-8")

    # Act
    result = CliRunner().invoke(build_app(), ["exchange", "check", str(config)])

    # Assert
    flat = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "cannot reach the exchange" in flat
    assert f"start `tradebot sandbox --port {port}`" in flat
