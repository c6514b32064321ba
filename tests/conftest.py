"""Fixtures shared across the suite (factories live in tests/factories.py)."""

from __future__ import annotations

import decimal
import os
from collections.abc import Callable, Iterator

import pandas as pd
import pytest

from factories import random_walk_candles
from redis_server import RedisServer


@pytest.fixture
def make_candles() -> Callable[..., pd.DataFrame]:
    """Seeded random-walk candles at any timeframe (real data lacks the stress cases)."""
    return random_walk_candles


@pytest.fixture(autouse=True)
def default_decimal_context() -> None:
    """Each test starts under Python's default decimal context (ROUND_HALF_EVEN).

    ccxt sets the thread's context to ROUND_HALF_UP whenever it rounds an amount and never
    puts it back. The bot's own calls into ccxt are guarded (exchange/ccxt/decimal_guard.py,
    with its test), but the sandbox's compatibility tests drive unmodified ccxt directly, and
    a later test in the same worker that formats a Decimal would read their rounding.
    """
    decimal.setcontext(decimal.Context())


@pytest.fixture(autouse=True)
def private_rate_budget(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test (and the bots it starts) counts its exchange weight in a folder of its own.

    The shared budget lives in ``$XDG_RUNTIME_DIR/tradebot-<uid>`` per API key, so every test
    talking to a sandbox with the same key would otherwise share one minute's count, across
    the two pytest-xdist workers too: a heavy test could make the next one wait for the
    minute to end. Tests of the sharing itself name their file.
    """
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path_factory.mktemp("runtime")))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server (loopback, password, AOF) for the session; tests use own prefixes."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under ``TRADEBOT_NO_SKIPS=1`` (``.ci/run`` sets it) a skipped test fails.

    The only skips are environmental (no PostgreSQL URL, no Chromium): CI installs both,
    so a skip there would hide a test that was meant to run.
    """
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and os.environ.get("TRADEBOT_NO_SKIPS") == "1"
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped under TRADEBOT_NO_SKIPS=1 (CI): {report.longrepr}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under ``TRADEBOT_EXPECT_COMPILED=1`` (``make test-compiled``) the suite must be testing
    the mypyc-compiled modules of the wheel (hatch_build.py), not the source beside them: a
    wheel that quietly came out pure Python would otherwise pass as compiled."""
    if os.environ.get("TRADEBOT_EXPECT_COMPILED") != "1":
        return
    import importlib
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    hook = tomllib.loads(pyproject.read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    names = [m.removesuffix(".py").replace("/", ".") for m in hook["hooks"]["custom"]["modules"]]
    source = [n for n in names if not str(importlib.import_module(n).__file__).endswith(".so")]
    if source:
        pytest.exit(f"TRADEBOT_EXPECT_COMPILED=1 but these ran from source: {source}", 1)
