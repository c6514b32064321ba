"""Protections in a backtest: each lock blocks the entries it should, and only those, with
its reason (which protection, on what, until when) in the decision record; exits go on.

Every rule is built from a ``risk.protections`` entry through ``build_engine``, as the CLI
builds it, so each config field is shown to change what the bot does.

The bars are flat at 100 except where a test drops one to 97: a position bought at 100 with
a 2 % stop (98) is stopped out in that bar (a ~22 USDT loss on 1,000 USDT).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from factories import ScriptedStrategy, candles_from_rows, make_market
from tradebot.backtest.result import BacktestResult
from tradebot.backtest.runner import Backtester
from tradebot.config import Config
from tradebot.domain.decisions import Decision, SignalAction
from tradebot.domain.portfolio import Portfolio
from tradebot.exchange.simulated import FeeSchedule, SimulatedExchange
from tradebot.orchestrator.assembly import build_engine

A, B = "AAA/USDT", "BBB/USDT"
N = 50
FLAT = (100.0, 100.5, 99.5, 100.0)
DROP = (100.0, 100.5, 97.0, 100.0)


def bars(drops: tuple[int, ...] = ()) -> pd.DataFrame:
    return candles_from_rows(DROP if i in drops else FLAT for i in range(N))


def run(
    protections: list[dict[str, Any]],
    scripts: Mapping[str, tuple[tuple[int, ...], tuple[int, ...]]],
    drops: Mapping[str, tuple[int, ...]],
    *,
    every_bar: bool = False,
    execution: Mapping[str, object] | None = None,
    frames: Mapping[str, pd.DataFrame] | None = None,
) -> BacktestResult:
    """Backtest ``scripts`` (symbol -> (buy bars, sell bars)) under ``protections``."""
    config = Config.model_validate(
        {
            "trading": {"symbols": list(scripts)},
            "execution": dict(execution or {}),
            "risk": {
                "position_sizing_method": "fixed_notional",
                "stop_loss_method": "fixed_pct",
                "stop_loss_pct": 0.02,
                "max_open_positions": 2,
                "protections": protections,
            },
        }
    )
    markets = [make_market(s) for s in scripts]
    strategies = [ScriptedStrategy(*script) for script in scripts.values()]
    engine = build_engine(
        config, markets[0], Portfolio.with_cash(Decimal(10_000)),
        strategy=strategies[0], more_markets=markets[1:],
    )  # fmt: skip
    for symbol, strategy in zip(scripts, strategies, strict=True):
        engine._book_of(symbol).strategy = strategy  # the test's script per symbol
    exchange = SimulatedExchange(markets, {"USDT": Decimal(10_000)}, FeeSchedule())
    frames = {s: bars(drops.get(s, ())) for s in scripts} | dict(frames or {})
    return Backtester(engine, exchange, every_bar=every_bar).run_portfolio(frames)


def decided(result: BacktestResult, symbol: str, action: SignalAction) -> dict[int, Decision]:
    """The decisions on ``symbol``'s signals of ``action``, by bar."""
    start = int(result.ts_ms[0])
    return {
        (d.ts_ms - start) // 3_600_000: d
        for d in result.decisions
        if d.symbol == symbol and d.signal.action is action
    }


def lock_of(decision: Decision) -> tuple[str, str]:
    """The failed check's name and detail of a refused entry."""
    assert decision.action == "rejected", decision.action
    assert decision.verdict is not None
    (check,) = [c for c in decision.verdict.checks if not c.passed]
    return check.name, check.detail


def verdicts(result: BacktestResult, symbol: str) -> dict[int, str]:
    """Each BUY decision of ``symbol`` by bar: ``buy``, ``held`` (a position is open) or
    the refusing check's name."""
    out = {}
    for bar, d in decided(result, symbol, SignalAction.BUY).items():
        out[bar] = d.action[:4] if d.action[:4] in ("buy ", "hold") else lock_of(d)[0]
    return {bar: {"buy ": "buy", "hold": "held"}.get(v, v) for bar, v in out.items()}


# ---------------------------------------------------------------- cooldown
# A buys at 10 and sells at 15 (filled at the open of bar 16: the exit's bar), then asks to
# buy again at 17, 18 and 19; B buys at 17.
COOLDOWN_SCRIPTS = {A: ((10, 17, 18, 19), (15,)), B: ((17,), ())}


@pytest.mark.parametrize("every_bar", [False, True])
def test_cooldown_blocks_the_symbols_entries_for_its_bars_only(every_bar: bool) -> None:
    result = run(
        [{"method": "cooldown", "stop_duration_bars": 3}], COOLDOWN_SCRIPTS, {},
        every_bar=every_bar,
    )  # fmt: skip

    # bars 16, 17, 18 are locked; 19 may enter; B is not touched
    assert verdicts(result, A) == {10: "buy", 17: "cooldown", 18: "cooldown", 19: "buy"}
    assert verdicts(result, B) == {17: "buy"}
    _, detail = lock_of(decided(result, A, SignalAction.BUY)[17])
    assert detail == (
        "cooldown locks AAA/USDT until 2024-01-01 19:00 UTC: cooldown of 3 bars after the "
        "exit at 2024-01-01 16:00 UTC (signal)"
    )
    assert [t.symbol for t in result.trades] == [A]


def test_cooldown_stop_duration_bars_is_acted_on() -> None:
    result = run([{"method": "cooldown", "stop_duration_bars": 2}], COOLDOWN_SCRIPTS, {})

    assert verdicts(result, A) == {10: "buy", 17: "cooldown", 18: "buy", 19: "held"}


def test_no_protections_lock_nothing() -> None:
    result = run([], COOLDOWN_SCRIPTS, {})

    assert verdicts(result, A) == {10: "buy", 17: "buy", 18: "held", 19: "held"}


# ---------------------------------------------------------------- stop-loss guard
# A is stopped out at bars 12 and 22 (bought at 10 and 20) and asks to buy at 24 and 27;
# B asks to buy at 24.
GUARD_SCRIPTS = {A: ((10, 20, 24, 27), ()), B: ((24,), ())}
GUARD_DROPS = {A: (12, 22)}
GUARD = {"method": "stoploss_guard", "trade_limit": 2, "lookback_bars": 15,
         "stop_duration_bars": 5}  # fmt: skip


@pytest.mark.parametrize("every_bar", [False, True])
def test_stoploss_guard_locks_the_symbol_after_its_stop_losses(every_bar: bool) -> None:
    result = run([GUARD], GUARD_SCRIPTS, GUARD_DROPS, every_bar=every_bar)

    assert [t.exit_reason for t in result.trades] == ["stop_loss", "stop_loss"]
    assert verdicts(result, A) == {10: "buy", 20: "buy", 24: "stoploss_guard", 27: "buy"}
    assert verdicts(result, B) == {24: "buy"}  # scope symbol: B's entries are not counted
    _, detail = lock_of(decided(result, A, SignalAction.BUY)[24])
    assert detail == (
        "stoploss_guard locks AAA/USDT until 2024-01-02 03:00 UTC: 2 stop-losses on AAA/USDT "
        "within 15 bars"
    )


def test_stoploss_guard_scope_all_locks_every_symbol() -> None:
    result = run([{**GUARD, "scope": "all"}], GUARD_SCRIPTS, GUARD_DROPS)

    assert verdicts(result, B) == {24: "stoploss_guard"}
    _, detail = lock_of(decided(result, B, SignalAction.BUY)[24])
    assert detail.startswith("stoploss_guard locks all symbols until 2024-01-02 03:00 UTC: 2 ")


@pytest.mark.parametrize(
    ("changed", "verdict_at_24"),
    [
        ({"trade_limit": 3}, "buy"),  # two stops are not three
        # the stop at 12 is 10 bars before the one at 22: within 11 bars (13 to 22), not 10
        ({"lookback_bars": 10}, "buy"),
        ({"lookback_bars": 11}, "stoploss_guard"),
        ({"stop_duration_bars": 2}, "buy"),  # locked for bars 22 and 23
        ({"stop_duration_bars": 3}, "stoploss_guard"),
    ],
)
def test_stoploss_guard_fields_are_acted_on(changed: dict[str, int], verdict_at_24: str) -> None:
    result = run([{**GUARD, **changed}], GUARD_SCRIPTS, GUARD_DROPS)

    assert verdicts(result, A)[24] == verdict_at_24


# ---------------------------------------------------------------- max drawdown
# A's two stop-losses cost ~0.22 % of the 10,000 USDT account each. B is bought at 15 and
# sold at 25, inside the lock (an exit goes on), then asks to buy again at 26.
DD_SCRIPTS = {A: ((10, 20, 24), ()), B: ((15, 26), (25,))}
DRAWDOWN = {"method": "max_drawdown", "max_drawdown_pct": 0.004, "lookback_bars": 20,
            "stop_duration_bars": 5, "trade_limit": 2}  # fmt: skip


@pytest.mark.parametrize("every_bar", [False, True])
def test_max_drawdown_locks_all_symbols_and_exits_go_on(every_bar: bool) -> None:
    result = run([DRAWDOWN], DD_SCRIPTS, GUARD_DROPS, every_bar=every_bar)

    assert verdicts(result, A) == {10: "buy", 20: "buy", 24: "max_drawdown"}
    assert verdicts(result, B) == {15: "buy", 26: "max_drawdown"}
    sold = decided(result, B, SignalAction.SELL)[25]
    assert sold.action.startswith("sell")
    assert [(t.symbol, t.exit_reason) for t in result.trades] == [
        (A, "stop_loss"), (A, "stop_loss"), (B, "signal"),
    ]  # fmt: skip
    _, detail = lock_of(decided(result, A, SignalAction.BUY)[24])
    assert detail == (
        "max_drawdown locks all symbols until 2024-01-02 03:00 UTC: drawdown 0.44% of "
        "realised equity over 2 trades within 20 bars >= 0.40%"
    )
    # B's exit at 25 (fees: a small loss) deepens the drawdown and locks on
    _, detail = lock_of(decided(result, B, SignalAction.BUY)[26])
    assert detail.startswith("max_drawdown locks all symbols until 2024-01-02 07:00 UTC: ")


@pytest.mark.parametrize(
    "changed",
    [
        {"max_drawdown_pct": 0.005},  # 0.44 % is not 0.5 %
        {"lookback_bars": 9},  # one trade in the window: below trade_limit 2
        {"trade_limit": 3},
        {"stop_duration_bars": 2},  # locked for bars 22 and 23 only
    ],
)
def test_max_drawdown_fields_are_acted_on(changed: dict[str, float]) -> None:
    result = run([{**DRAWDOWN, **changed}], DD_SCRIPTS, GUARD_DROPS)

    assert verdicts(result, A)[24] == "buy"


def test_max_drawdown_window_starts_from_the_realised_equity_before_it() -> None:
    # trade_limit 1 over 9 bars sees only the second stop: 0.22 % from the equity after the
    # first, so the 0.4 % limit is not reached; 0.002 is
    loose = run([{**DRAWDOWN, "lookback_bars": 9, "trade_limit": 1}], DD_SCRIPTS, GUARD_DROPS)
    tight = run(
        [{**DRAWDOWN, "lookback_bars": 9, "trade_limit": 1, "max_drawdown_pct": 0.002}],
        DD_SCRIPTS, GUARD_DROPS,
    )  # fmt: skip

    assert verdicts(loose, A)[24] == "buy"
    assert verdicts(tight, A)[24] == "max_drawdown"


# ---------------------------------------------------------------- a resting limit entry
# Limit entries 1 % under the close (99), repriced after two bars. A's fill at 11 and 21
# (low 98.5) and are stopped at 12 and 22; B's limit entry at 21 never fills (B's lows stay
# at 99.5) and times out at bar 22, the bar A's second stop locks all symbols.
REPRICE = {"order_type": "limit", "limit_offset_bps": 100, "limit_timeout_s": 7200,
           "on_limit_timeout": "reprice"}  # fmt: skip
A_DIPS = candles_from_rows(
    DROP if i in (12, 22) else (100.0, 100.5, 98.5, 100.0) if i in (11, 21) else FLAT
    for i in range(N)
)


@pytest.mark.parametrize("locked", [False, True])
def test_a_limit_entry_timing_out_on_a_locked_symbol_is_cancelled_not_repriced(
    locked: bool,
) -> None:
    protections = [{**GUARD, "scope": "all"}] if locked else []

    result = run(
        protections, {A: ((10, 20), ()), B: ((21,), ())}, {},
        execution=REPRICE, frames={A: A_DIPS},
    )  # fmt: skip

    assert [t.exit_reason for t in result.trades] == ["stop_loss", "stop_loss"]
    aged = [d for d in result.decisions if d.symbol == B and "entry" in d.action]
    assert (aged[0].ts_ms - int(result.ts_ms[0])) // 3_600_000 == 22
    if not locked:
        assert {d.action for d in aged} == {"reprice entry"}  # at every bar, never filled
        return
    assert [d.action for d in aged] == ["cancel entry"]
    _, detail = lock_of(replace(aged[0], action="rejected"))
    assert detail.startswith("stoploss_guard locks all symbols until 2024-01-02 03:00 UTC")
