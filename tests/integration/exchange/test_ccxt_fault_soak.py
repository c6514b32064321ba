"""Short fault soak (the long one is bench/exchange_soak.py): no crash, no ban, no duplicate."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "exchange_soak.py"


@pytest.fixture(scope="module")
def soak() -> ModuleType:
    # the soak driver lives in bench/ (not a package); load it from its file
    spec = importlib.util.spec_from_file_location("exchange_soak", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["exchange_soak"] = module
    spec.loader.exec_module(module)
    return module


async def test_fault_soak_every_call_typed_no_ban_no_duplicate(
    soak: ModuleType, tmp_path: Path
) -> None:
    # Act: 5xx, hangs, lost order responses, websocket drops every 2 s, a maintenance window
    report = await soak.run_soak(4.0, tmp_path, workers=3)

    # Assert
    assert report.untyped_errors == []
    assert report.events["banned"] == 0
    assert report.duplicates == 0
    assert report.outcomes["ok"] > 50
    assert report.events["retry"] > 0
    assert report.orders_sent > 10
    assert report.ws_drops >= 1
    assert report.replaces > 0
    assert report.replaced_left_open == 0  # a bid never stays beside its replacement


async def test_fault_soak_over_venue_weight_limit_sees_429_never_418(
    soak: ModuleType, tmp_path: Path
) -> None:
    # Arrange: the sandbox allows less weight per minute than the bot's budget assumes
    report = await soak.run_soak(3.0, tmp_path, workers=3, weight_limit_1m=150)

    assert report.events["rate_limited"] >= 1
    assert report.events["banned"] == 0
    assert report.outcomes["RateLimited"] >= 1
    assert report.untyped_errors == []
    assert report.duplicates == 0
