"""The lookahead check flags every peeking strategy and passes every honest one.

The peeking strategies (``tests/resources/strategies/peeks.py``) are written the way users
write them; the check of the seeded 600-bar walk below missed every one of them before it
cut through the warm-up and after every signal, asked holding, used fresh instances,
probed reads past the bar and verified ``signal_candidates``. (On other seeds its 40 random
cuts found the next-bar confirmations by luck; ``test_..._every_seed`` holds the check to
finding them on every one.) The honest ones (``honest.py``) look suspicious and must pass:
the old check wrongly flagged the two that keep state on the instance.
"""

from __future__ import annotations

import pandas as pd
import pytest
from strategy_candles import random_walk

from resources.strategies import honest, peeks
from tradebot.strategy.base import Bars, Strategy
from tradebot.strategy.builtin import Breakout, EmaCrossover, RsiMeanReversion
from tradebot.strategy.cuts import AFTER_SIGNAL, WARMUP
from tradebot.strategy.findings import CANDIDATES, FULL_HISTORY, INDICATOR, READ, SIGNAL
from tradebot.strategy.lookahead import LookaheadReport, check_lookahead

SEED = 3  # a walk on which the old check found none of the peeks below


@pytest.fixture(scope="module")
def walk() -> pd.DataFrame:
    """600 seeded 1h bars: enough crosses for every rule, quick to recompute 100 times."""
    return random_walk(SEED, 600)


def _kinds(report: LookaheadReport) -> set[tuple[str, str]]:
    return {(f.kind, f.revealed_by) for f in report.findings}


PEEKING: list[tuple[type[Strategy], str, str]] = [
    # (strategy, the kind of finding that must name it, the cut that must reveal it)
    (peeks.HeldNextBar, READ, FULL_HISTORY),
    (peeks.HeldNextBarUnguarded, READ, FULL_HISTORY),
    (peeks.FitOnceThreshold, INDICATOR, WARMUP),
    (peeks.BackfilledWarmup, INDICATOR, WARMUP),
    (peeks.ConfirmedCross, INDICATOR, AFTER_SIGNAL),
    (peeks.ConfirmedCrossInSignal, READ, FULL_HISTORY),
    (peeks.CandidatesNextBar, CANDIDATES, FULL_HISTORY),
    (peeks.CandidatesBusyHistory, CANDIDATES, FULL_HISTORY),
    (peeks.StashedNextClose, SIGNAL, AFTER_SIGNAL),
    (peeks.FitOnceModel, INDICATOR, WARMUP),
    (peeks.EnsembleWithPeeker, READ, FULL_HISTORY),
    (peeks.DayHigh, INDICATOR, WARMUP),
]


@pytest.mark.parametrize(("strategy", "kind", "revealed_by"), PEEKING, ids=lambda p: str(p))
def test_check_lookahead_flags_peeking_strategy(
    strategy: type[Strategy], kind: str, revealed_by: str, walk: pd.DataFrame
) -> None:
    report = check_lookahead(strategy, walk)
    assert report.has_lookahead
    assert (kind, revealed_by) in _kinds(report)


HONEST: list[type[Strategy]] = [
    honest.EwmTrend,
    honest.RollingMinPeriods,
    honest.PreviousBar,
    honest.ExpandingZScore,
    honest.CausalHigherTimeframe,
    honest.AnchoredVwap,
    honest.Cooldown,
    honest.TimedExit,
    honest.FilteredCandidates,
    honest.WalkForwardModel,
    honest.ForwardFilled,
    honest.HonestEnsemble,
    honest.LongEwm,
]


@pytest.mark.parametrize("strategy", HONEST, ids=lambda s: s.__name__)
def test_check_lookahead_passes_honest_strategy(
    strategy: type[Strategy], walk: pd.DataFrame
) -> None:
    report = check_lookahead(strategy, walk)
    assert report.findings == ()


@pytest.mark.parametrize("seed", [1, 2, 4, 5, 7])
@pytest.mark.parametrize("strategy", [peeks.ConfirmedCross, peeks.StashedNextClose])
def test_check_lookahead_finds_next_bar_confirmation_on_every_seed(
    strategy: type[Strategy], seed: int
) -> None:
    report = check_lookahead(strategy, random_walk(seed, 400))
    signals = [f for f in report.findings if f.kind == SIGNAL and f.position == "flat"]
    assert signals, "a next-bar confirmation must be found by the cut after its signal"
    first = signals[0]
    assert first.revealed_by == AFTER_SIGNAL
    assert first.cut == first.first_bar + 1
    assert (first.full_value, first.truncated_value) == ("BUY", "HOLD")


def test_check_lookahead_fresh_instance_even_when_given_a_used_one(walk: pd.DataFrame) -> None:
    # A strategy already fitted on the whole history (as after a backtest) is copied pristine
    # at the start of the check; the copies fit on each truncated history afresh.
    used = peeks.FitOnceThreshold()
    used.calculate_indicators(walk)
    fresh = peeks.FitOnceThreshold()
    assert check_lookahead(fresh, walk).has_lookahead
    assert fresh.threshold is None  # the check never touched the instance it was given


def test_check_lookahead_read_names_the_column_bar_and_position(walk: pd.DataFrame) -> None:
    report = check_lookahead(peeks.HeldNextBar, walk)
    reads = [f for f in report.findings if f.kind == READ]
    assert {f.position for f in reads} == {
        "holding since 1 bar",
        "holding since 5 bars",
        "holding since 20 bars",
    }
    first = min(reads, key=lambda f: f.first_bar)
    assert first.column == "close"
    assert first.full_value == f"read bar {first.first_bar + 1}"


def test_check_lookahead_candidates_finding_names_the_skipped_bar(walk: pd.DataFrame) -> None:
    report = check_lookahead(peeks.CandidatesNextBar, walk)
    found = next(f for f in report.findings if f.kind == CANDIDATES and f.position == "flat")
    strategy = peeks.CandidatesNextBar()
    bars = Bars.from_frame(strategy.calculate_indicators(walk))
    assert found.first_bar not in set(strategy.signal_candidates(bars).tolist())
    assert strategy.cross(bars, found.first_bar) != 0
    assert found.full_value in ("BUY", "SELL")


@pytest.mark.parametrize(
    "strategy",
    [EmaCrossover(), RsiMeanReversion(trend_period=50), Breakout()],
    ids=lambda s: s.name,
)
def test_check_lookahead_builtin_passes_every_check(
    strategy: Strategy, btc_3000: pd.DataFrame
) -> None:
    report = check_lookahead(strategy, btc_3000)
    assert report.findings == ()
    assert set(report.cut_reasons.values()) == {WARMUP, AFTER_SIGNAL, "random"}
    assert not report.stateful


def test_check_lookahead_every_bar_finds_a_peek_that_only_removes_signals(
    walk: pd.DataFrame,
) -> None:
    # The planned cuts cannot know where a vetoed signal would have been; cutting after
    # every bar asks every bar with its own future removed.
    report = check_lookahead(peeks.StashedVeto, walk.iloc[:300], every_bar=True)
    vetoed = next(f for f in report.findings if f.kind == SIGNAL and f.position == "flat")
    assert (vetoed.full_value, vetoed.truncated_value) == ("HOLD", "BUY")
    assert vetoed.cut == vetoed.first_bar + 1
    assert len(report.cuts) == 299
