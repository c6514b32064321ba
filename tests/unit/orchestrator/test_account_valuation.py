"""An entry's decision and its risk checks value the whole account at the close: the cash and
every holding, each market at its own close of that bar (the valuation is kept between
decisions and re-read only after a booking, so these pin what it must still equal)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from factories import ScriptedStrategy, bought_at, make_candles, make_engine, make_market
from tradebot.domain.decisions import Decision
from tradebot.domain.events import BarClosed, PositionReconciled
from tradebot.domain.orders import Fill
from tradebot.orchestrator.engine import TradingEngine
from tradebot.risk.controller import RiskLimits
from tradebot.strategy.base import Bars


def test_entry_values_every_holding_at_its_close_after_each_booking() -> None:
    # Arrange / Act: ETH bought, half of it gone at bar 6; BTC's entries at bars 5 and 8
    # are refused both times (one open position at most), each decision valuing the account
    engine, eth_bars, fill, decided = _btc_entries_around_eth_reconciled_to(Decimal("0.5"))

    # Assert: each entry's record and risk checks hold ETH at ETH's close of that bar
    assert sorted(decided) == [5, 8]
    for i, decision in decided.items():
        eth_qty = fill.qty / 2 if i == 8 else fill.qty
        eth_close = float(eth_bars["close"][i])
        cash = engine.portfolio.cash
        assert decision.equity == float(cash) + float(eth_qty) * eth_close
        equity = cash + eth_qty * Decimal(repr(eth_close))
        assert decision.verdict is not None
        checks = {c.name: c.detail for c in decision.verdict.checks}
        pnl = equity - engine.day_start_equity
        assert checks["max_daily_loss"].startswith(f"daily PnL {pnl:.2f}; loss limit 500")
        assert checks["max_open_positions"] == "2 open positions > 1"


def test_a_holding_reconciled_to_nothing_leaves_the_valuation_and_the_position_count() -> None:
    # Arrange / Act: ETH bought, then none of it held at bar 6 (one booking since the last
    # valuation: the booked market is read alone, and it became nothing)
    engine, eth_bars, fill, decided = _btc_entries_around_eth_reconciled_to(Decimal(0))

    # Assert: at bar 5 ETH is held (BTC's would be a second position); at bar 8 the account
    # is its cash alone, and BTC's entry would be the one open position
    assert sorted(decided) == [5, 8]
    cash = engine.portfolio.cash
    before, after = decided[5], decided[8]
    assert before.equity == float(cash) + float(fill.qty) * float(eth_bars["close"][5])
    assert after.equity == float(cash)
    opened = {
        i: {c.name: c.detail for c in d.verdict.checks}["max_open_positions"]
        for i, d in decided.items()
        if d.verdict is not None
    }
    assert opened == {5: "2 open positions > 1", 8: "1 open positions <= 1"}


def _btc_entries_around_eth_reconciled_to(
    share: Decimal,
) -> tuple[TradingEngine, Bars, Fill, dict[int, Decision]]:
    """ETH buys at its bar 2 (filled at bar 3) and the venue holds ``share`` of it from bar
    6; BTC asks to enter at bars 5 and 8 (one open position at most). BTC's checked
    decisions by bar."""
    eth = make_market("ETH/USDT")
    engine, _ = make_engine(ScriptedStrategy([5, 8]), more=[(eth, ScriptedStrategy([2]))])
    btc_bars = engine.prepare(make_candles(10, seed=1, start=40_000.0))
    eth_bars = engine.prepare(make_candles(10, seed=2, start=2_000.0), symbol="ETH/USDT")
    fill = bought_at(engine, eth_bars, "ETH/USDT", 2, "2000")
    decided = {}
    for i in range(9):
        if i == 6:  # the venue's word: the next entry must see it
            held = fill.qty * share
            engine.handle(PositionReconciled("ETH/USDT", held, int(eth_bars.ts_ms[6])))
        step = engine.handle(BarClosed("BTC/USDT", int(btc_bars.ts_ms[i]), i))
        if step.decision is not None and step.decision.verdict is not None:
            decided[i] = step.decision
    return engine, eth_bars, fill, decided


def test_each_entry_finds_the_other_market_last_close_across_its_gaps_and_end() -> None:
    # Arrange: ETH's data misses bars 8-10 and 17 and ends at bar 24 of BTC's 30; ETH buys at
    # its bar 2 (filled at bar 3); BTC asks to enter at every bar from 4 on (refused: one open
    # position at most), so each of its decisions values ETH at ETH's last close by then
    eth = make_market("ETH/USDT")
    entries = list(range(4, 30))
    engine, _ = make_engine(ScriptedStrategy(entries), more=[(eth, ScriptedStrategy([2]))])
    btc_bars = engine.prepare(make_candles(30, seed=1, start=40_000.0))
    eth_frame = make_candles(25, seed=2, start=2_000.0).drop(index=[8, 9, 10, 17])
    eth_bars = engine.prepare(eth_frame.reset_index(drop=True), symbol="ETH/USDT")
    fill = bought_at(engine, eth_bars, "ETH/USDT", 2, "2000")

    # Act
    decided = _btc_decisions(engine, btc_bars)

    # Assert: ETH at its close of the last bar opened at or before BTC's bar, every time
    assert sorted(decided) == entries
    for i, (decision, day_start) in decided.items():
        last = int((eth_bars.ts_ms <= btc_bars.ts_ms[i]).sum()) - 1
        _assert_valued(decision, day_start, engine, fill.qty, float(eth_bars["close"][last]), i)


def test_each_entry_finds_the_other_market_close_on_a_run_that_starts_late_and_ends_early() -> None:
    # Arrange: ETH's bars are a run without gaps from BTC's bar 3 to its bar 24 (of 30); ETH
    # buys at its bar 2 (filled at its bar 3); BTC asks to enter at every bar from 7 on
    # (refused: one open position at most), so each of its decisions values ETH at ETH's bar
    # of that time, then at its last close once its data has ended
    eth = make_market("ETH/USDT")
    entries = list(range(7, 30))
    engine, _ = make_engine(ScriptedStrategy(entries), more=[(eth, ScriptedStrategy([2]))])
    btc_frame = make_candles(30, seed=1, start=40_000.0)
    btc_bars = engine.prepare(btc_frame)
    eth_frame = make_candles(22, seed=2, start=2_000.0)
    eth_frame["ts_ms"] = btc_frame["ts_ms"].iloc[3:25].to_numpy()
    eth_bars = engine.prepare(eth_frame, symbol="ETH/USDT")
    fill = bought_at(engine, eth_bars, "ETH/USDT", 2, "2000")

    # Act
    decided = _btc_decisions(engine, btc_bars)

    # Assert: ETH's bar i - 3 while it has one, its last (21) after
    assert sorted(decided) == entries
    for i, (decision, day_start) in decided.items():
        eth_close = float(eth_bars["close"][min(i - 3, 21)])
        _assert_valued(decision, day_start, engine, fill.qty, eth_close, i)


def test_entries_at_one_close_value_the_account_alike_until_a_market_bars_are_replaced() -> None:
    # Arrange: ETH buys at its bar 2 (filled at bar 3); BTC and SOL both ask to enter at bar
    # 5 (refused: one open position at most, so nothing is booked between them)
    eth, sol = make_market("ETH/USDT"), make_market("SOL/USDT")
    engine, _ = make_engine(
        ScriptedStrategy([5]), more=[(eth, ScriptedStrategy([2])), (sol, ScriptedStrategy([5]))]
    )
    btc_bars = engine.prepare(make_candles(8, seed=1, start=40_000.0))
    eth_frame = make_candles(8, seed=2, start=2_000.0)
    eth_bars = engine.prepare(eth_frame, symbol="ETH/USDT")
    sol_bars = engine.prepare(make_candles(8, seed=3, start=100.0), symbol="SOL/USDT")
    fill = bought_at(engine, eth_bars, "ETH/USDT", 2, "2000")
    ts = int(btc_bars.ts_ms[5])

    # Act: both decide at bar 5; then ETH's bars are replaced with other closes (a live
    # window fetched again) and BTC decides bar 5 once more
    btc = engine.handle(BarClosed("BTC/USDT", ts, 5)).decision
    sol = engine.handle(BarClosed("SOL/USDT", int(sol_bars.ts_ms[5]), 5)).decision
    eth_frame["close"] = eth_frame["close"] * 1.1
    moved = engine.prepare(eth_frame, symbol="ETH/USDT")
    again = engine.handle(BarClosed("BTC/USDT", ts, 5)).decision

    # Assert: the same account for BTC and SOL, ETH at its close; ETH's new close after
    day_start = engine.day_start_equity
    for decision in (btc, sol):
        assert decision is not None
        _assert_valued(decision, day_start, engine, fill.qty, float(eth_bars["close"][5]), 5)
    assert again is not None
    _assert_valued(again, day_start, engine, fill.qty, float(moved["close"][5]), 5)


def _btc_decisions(engine: TradingEngine, btc_bars: Bars) -> dict[int, tuple[Decision, Decimal]]:
    """BTC/USDT's bars closed one by one: each entry's decision (checked by the risk
    controller) and the day's starting equity then, by bar."""
    decided = {}
    for i in range(btc_bars.n_bars):
        step = engine.handle(BarClosed("BTC/USDT", int(btc_bars.ts_ms[i]), i))
        if step.decision is not None and step.decision.verdict is not None:
            decided[i] = (step.decision, engine.day_start_equity)
    return decided


def _assert_valued(
    decision: Decision,
    day_start: Decimal,
    engine: TradingEngine,
    eth_qty: Decimal,
    eth_close: float,
    bar: int,
) -> None:
    """The decision's equity and its daily-loss check hold the cash and ``eth_qty`` ETH at
    ``eth_close``."""
    cash = engine.portfolio.cash
    assert decision.equity == float(cash) + float(eth_qty) * eth_close, bar
    pnl = cash + eth_qty * Decimal(repr(eth_close)) - day_start
    assert decision.verdict is not None
    checks = {c.name: c.detail for c in decision.verdict.checks}
    assert checks["max_daily_loss"].startswith(f"daily PnL {pnl:.2f}; loss limit"), bar


def test_an_entry_whose_exposure_lands_on_its_limit_is_checked_with_decimals() -> None:
    # Arrange: ETH held; BTC's entry at bar 5 buys a fixed 1,000 USDT. The exposure after
    # it is ETH at its close plus BTC's notional, exactly; the limit set at that sum and a
    # hair (1e-15) under it: the same float, so the sum in floats cannot tell them apart
    free = RiskLimits(max_open_positions=2, max_portfolio_exposure=Decimal(10**6))
    decision, eth_value, btc_bars, _ = _btc_entry_beside_eth(free)
    qty = Decimal(decision.action.removeprefix("buy "))
    after = eth_value + qty * Decimal(repr(float(btc_bars["close"][5])))

    # Act
    at_limit, *_ = _btc_entry_beside_eth(replace(free, max_portfolio_exposure=after))
    under = after - Decimal("1e-15")
    assert float(under) == float(after)
    over_limit, *_ = _btc_entry_beside_eth(replace(free, max_portfolio_exposure=under))

    # Assert: the verdicts and texts the Decimals give
    assert _check(at_limit, "max_portfolio_exposure") == (
        True,
        f"exposure {after:.2f} <= limit {after}",
    )
    assert at_limit.action == f"buy {qty}"
    assert _check(over_limit, "max_portfolio_exposure") == (
        False,
        f"exposure {after:.2f} > limit {under}",
    )
    assert over_limit.action == "rejected"


def test_an_entry_whose_daily_loss_lands_on_its_limit_is_checked_with_decimals() -> None:
    # Arrange: ETH held below its cost, so the day's PnL at BTC's entry is a small loss,
    # exactly the account at the close less the day's start; the loss limit set at it (the
    # limit is reached: a loss must stay under it) and a hair (1e-17) over it, the same float
    free = RiskLimits(max_open_positions=2, max_portfolio_exposure=Decimal(10**6))
    _, _, _, pnl = _btc_entry_beside_eth(free)
    assert pnl < 0
    over = -pnl + Decimal("1e-17")
    assert float(over) == float(-pnl)

    # Act
    reached, *_ = _btc_entry_beside_eth(replace(free, max_daily_loss=-pnl))
    kept, *_ = _btc_entry_beside_eth(replace(free, max_daily_loss=over))

    # Assert: the verdicts and texts the Decimals give
    assert _check(reached, "max_daily_loss") == (
        False,
        f"daily PnL {pnl:.2f}; loss limit {-pnl} reached",
    )
    assert reached.action == "rejected"
    assert _check(kept, "max_daily_loss") == (True, f"daily PnL {pnl:.2f}; loss limit {over}")
    assert kept.action.startswith("buy ")


def _check(decision: Decision, name: str) -> tuple[bool, str]:
    """The verdict and text of ``decision``'s check ``name``."""
    assert decision.verdict is not None
    check = next(c for c in decision.verdict.checks if c.name == name)
    return check.passed, check.detail


def _btc_entry_beside_eth(limits: RiskLimits) -> tuple[Decision, Decimal, Bars, Decimal]:
    """ETH bought at its bar 2 (filled at bar 3); BTC's entry decision at bar 5 under
    ``limits``, ETH's value at its close of bar 5, BTC's bars and the day's PnL then."""
    eth = make_market("ETH/USDT")
    engine, _ = make_engine(
        ScriptedStrategy([5]), limits=limits, more=[(eth, ScriptedStrategy([2]))]
    )
    btc_bars = engine.prepare(make_candles(10, seed=1, start=40_000.0))
    eth_bars = engine.prepare(make_candles(10, seed=2, start=2_000.0), symbol="ETH/USDT")
    fill = bought_at(engine, eth_bars, "ETH/USDT", 2, "2000")
    for i in range(5):
        engine.handle(BarClosed("BTC/USDT", int(btc_bars.ts_ms[i]), i))
    decision = engine.handle(BarClosed("BTC/USDT", int(btc_bars.ts_ms[5]), 5)).decision
    assert decision is not None
    eth_value = fill.qty * Decimal(repr(float(eth_bars["close"][5])))
    pnl = engine.portfolio.cash + eth_value - engine.day_start_equity
    return decision, eth_value, btc_bars, pnl
