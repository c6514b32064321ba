"""Fault settings are probabilities or durations: a value outside its range is refused by name."""

from __future__ import annotations

import aiohttp
import pytest
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.sandbox import SandboxServer
from tradebot.sandbox.config import FaultConfig


@pytest.mark.parametrize(
    ("name", "value"),
    [("error_rate", 1.5), ("timeout_rate", -0.1), ("ambiguous_timeout_rate", float("nan"))],
)
def test_fault_rate_outside_0_1_is_refused_in_the_config(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"fault {name!r} must be a share between 0 and 1"):
        FaultConfig(**{name: value})


def test_negative_or_infinite_fault_duration_is_refused_in_the_config() -> None:
    with pytest.raises(ValueError, match="fault 'hang_s' must be a finite number >= 0"):
        FaultConfig(hang_s=float("inf"))
    with pytest.raises(ValueError, match="fault 'latency_ms' must be a finite number >= 0"):
        FaultConfig(latency_ms=-5)


async def test_admin_faults_refuses_a_rate_above_1_and_keeps_the_old_value(
    sandbox: SandboxServer,
) -> None:
    url = f"{sandbox.http_url}/admin/faults"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"error_rate": 0.2, "timeout_rate": 2}) as resp:
            body = await resp.json()
        async with session.post(url, json={}) as resp:
            current = (await resp.json())["faults"]
    assert resp.status == 200
    assert "fault 'timeout_rate' must be a share between 0 and 1, got 2" in body["error"]
    assert current["timeout_rate"] == 0.0
    assert current["error_rate"] == 0.0  # nothing of a refused change is applied


def test_cli_refuses_a_fault_rate_above_1_naming_it() -> None:
    result = CliRunner().invoke(
        build_app(), ["sandbox", "--port", "0", "--fault-error-rate", "1.5"]
    )
    assert result.exit_code == 2
    assert "fault 'error_rate' must be a share between 0 and 1, got 1.5" in result.output
