"""The ``tradebot sandbox`` command, the threaded runner, admin endpoints and snapshots."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.domain.errors import DataError
from tradebot.sandbox import SandboxConfig, SandboxServer, run_sandbox_in_thread


def _http(method: str, url: str, body: bytes | None = None) -> Any:
    request = urllib.request.Request(url, data=body, method=method)  # loopback only
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.loads(resp.read())


def test_cli_sandbox_help_documents_the_options() -> None:
    result = CliRunner().invoke(build_app(), ["sandbox", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--port", "--api-key", "--api-secret", "--data", "--balance", "--speed"):
        assert option in result.output
    assert "--deterministic" in result.output
    assert "--fault-maintenance-s" in result.output


def test_cli_sandbox_bad_balance_names_the_option() -> None:
    result = CliRunner().invoke(build_app(), ["sandbox", "--balance", "USDT=lots", "--port", "0"])
    assert result.exit_code == 2
    assert "--balance USDT" in result.output


def test_thread_runner_advances_from_the_caller_thread(
    make_config: Callable[..., SandboxConfig], t0: int
) -> None:
    with run_sandbox_in_thread(make_config()) as server:
        # Act
        server.advance_sync(2)
        state = _http("GET", f"{server.http_url}/admin/state")
        advanced = _http("POST", f"{server.http_url}/admin/advance?bars=3")
        # Assert
        assert state["now_ms"] == t0 + 120_000
        assert state["prices"] == {"BTC/USDT": "102"}
        assert advanced["now_ms"] == t0 + 300_000
        assert server.current_candle("BTC/USDT").open == 105


async def test_snapshot_keeps_orders_balances_and_clock_across_restart(
    make_config: Callable[..., SandboxConfig], make_exchange: Callable[..., Any], tmp_path: Path
) -> None:
    # Arrange
    config = make_config(snapshot_path=tmp_path / "sandbox.json")
    async with SandboxServer(config) as first:
        ex = make_exchange(first)
        await ex.create_order("BTC/USDT", "limit", "buy", 1, 90, params={"clientOrderId": "keep"})
        await first.advance(2)
    # Act
    async with SandboxServer(config) as second:
        ex = make_exchange(second)
        order = await ex.fetch_order(None, "BTC/USDT", params={"clientOrderId": "keep"})
        balance = await ex.fetch_balance()
        now = second.now_ms
    # Assert
    assert order["status"] == "open"
    assert balance["USDT"]["used"] == pytest.approx(90)
    assert now == first.now_ms


async def test_realtime_replay_moves_the_clock_by_itself(
    make_config: Callable[..., SandboxConfig], t0: int
) -> None:
    async with SandboxServer(make_config(deterministic=False, speed=0)) as server:
        for _ in range(200):
            if server.now_ms >= t0 + 10 * 60_000:
                break
            await asyncio.sleep(0.01)
        assert server.now_ms >= t0 + 10 * 60_000
        assert server.current_candle("BTC/USDT").open >= 110


async def test_advance_past_the_data_end_is_refused_with_a_clear_error(
    make_config: Callable[..., SandboxConfig],
) -> None:
    async with SandboxServer(make_config()) as server:
        with pytest.raises(DataError, match="end of its data"):
            await server.advance(60)
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{server.http_url}/admin/advance?bars=60") as resp,
        ):
            status = resp.status
    assert status == 409
