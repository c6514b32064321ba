"""Ensembles: a vote counted by hand, weights that change the outcome, a regime that chooses
the member, members that see only bars up to the one decided, and the lookahead check
passing honest members and naming a peeking one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from strategy_candles import random_walk

from factories import ScriptedStrategy, make_candles
from resources.strategies import peeks
from tradebot.domain.decisions import SignalAction
from tradebot.strategy.base import Bars
from tradebot.strategy.builtin import Breakout, EmaCrossover, RsiMeanReversion
from tradebot.strategy.ensemble import Ensemble, EnsembleMode, Member
from tradebot.strategy.findings import READ
from tradebot.strategy.horizon import ask_signal
from tradebot.strategy.lookahead import check_lookahead
from tradebot.strategy.regime import TrendRegime, VolatilityRegime

CANDLES = make_candles(120, seed=5)
BUY, SELL, HOLD = SignalAction.BUY, SignalAction.SELL, SignalAction.HOLD


def actions(strategy: Ensemble, candles: pd.DataFrame = CANDLES) -> list[SignalAction]:
    bars = Bars.from_frame(strategy.calculate_indicators(candles))
    return [ask_signal(strategy, bars, i, None).action for i in range(bars.n_bars)]


def three() -> list[Member]:
    return [
        Member(ScriptedStrategy(buy_bars=[10, 20, 30], sell_bars=[50, 60])),
        Member(ScriptedStrategy(buy_bars=[20, 30], sell_bars=[60, 70])),
        Member(ScriptedStrategy(buy_bars=[30, 40], sell_bars=[60])),
    ]


def test_vote_two_of_three_signals_where_two_members_agree() -> None:
    ensemble = Ensemble(three(), EnsembleMode.VOTE, k=2)
    bars = Bars.from_frame(ensemble.calculate_indicators(CANDLES))

    got = actions(ensemble)
    at_20 = ask_signal(ensemble, bars, 20, None)

    # by hand: BUY votes 10:1 20:2 30:3 40:1; SELL votes 50:1 60:3 70:1
    assert [i for i, a in enumerate(got) if a is BUY] == [20, 30]
    assert [i for i, a in enumerate(got) if a is SELL] == [60]
    assert [(m.name, m.action) for m in at_20.members] == [
        ("scripted", BUY), ("scripted#2", BUY), ("scripted#3", HOLD),
    ]  # fmt: skip
    assert at_20.confidence == pytest.approx(2 / 3)
    assert at_20.reason == "2 of 3 say BUY (k=2): scripted, scripted#2"


def test_vote_k_defaults_to_majority_and_k1_is_any_member() -> None:
    assert Ensemble(three()).k == 2
    got = actions(Ensemble(three(), k=1))
    assert [i for i, a in enumerate(got) if a is BUY] == [10, 20, 30, 40]


def test_weighted_heavy_member_alone_decides_light_pair_does_not() -> None:
    members = [
        Member(ScriptedStrategy(buy_bars=[10]), weight=3.0),
        Member(ScriptedStrategy(buy_bars=[20]), weight=1.0),
        Member(ScriptedStrategy(buy_bars=[20]), weight=1.0),
    ]

    got = actions(Ensemble(members, EnsembleMode.WEIGHTED, threshold=0.5))

    # scores (confidence 1): bar 10: 3/5 = 0.6 >= 0.5; bar 20: 2/5 = 0.4 < 0.5. A vote of
    # the same members (k=2 majority) would buy at 20 and not at 10.
    assert [i for i, a in enumerate(got) if a is BUY] == [10]
    assert [i for i, a in enumerate(actions(Ensemble(members))) if a is BUY] == [20]


def test_conditional_member_chosen_by_the_trend_regime_at_each_bar() -> None:
    trend_member = ScriptedStrategy(buy_bars=range(120))  # BUY everywhere
    range_member = ScriptedStrategy(sell_bars=range(120))  # SELL everywhere
    detector = TrendRegime(period=10, threshold=0.3)
    ensemble = Ensemble(
        [Member(trend_member, when="trend"), Member(range_member, when="range")],
        EnsembleMode.CONDITIONAL,
        regime=detector,
    )

    got = actions(ensemble)

    close = CANDLES["close"].to_numpy()
    expected = []
    for i in range(len(close)):
        if i < 10:
            expected.append(HOLD)
            continue
        path = np.abs(np.diff(close[i - 10 : i + 1])).sum()
        efficiency = abs(close[i] - close[i - 10]) / path
        expected.append(BUY if efficiency >= 0.3 else SELL)
    assert got == expected
    assert {BUY, SELL} <= set(got)  # both regimes happen on this walk


def test_conditional_records_regime_and_the_one_member_asked() -> None:
    ensemble = Ensemble(
        [
            Member(ScriptedStrategy(buy_bars=range(120)), when="trend"),
            Member(ScriptedStrategy(sell_bars=range(120)), when="range"),
        ],
        EnsembleMode.CONDITIONAL,
        regime=TrendRegime(period=10),
    )
    bars = Bars.from_frame(ensemble.calculate_indicators(CANDLES))

    signal = ask_signal(ensemble, bars, 50, None)

    assert signal.metadata["regime"] in ("trend", "range")
    (member,) = signal.members
    assert member.name == ("scripted" if signal.metadata["regime"] == "trend" else "scripted#2")
    assert "regime.efficiency" in bars
    # the start of the regime: the first bar of its run, counted by hand
    labels = [ensemble.regime.label(bars.select({"efficiency": "regime.efficiency"}), i)
              for i in range(51)]  # fmt: skip
    start = 50
    while labels[start - 1] == labels[50]:
        start -= 1
    assert signal.metadata["regime_since"] == bars.ts_ms[start]
    assert signal.metadata["regime_confidence"] == 1.0  # TrendRegime names a label only


def test_members_columns_are_kept_apart_and_warmup_is_the_largest() -> None:
    ensemble = Ensemble([Member(EmaCrossover(5, 40)), Member(EmaCrossover(3, 8))])

    frame = ensemble.calculate_indicators(CANDLES)

    assert {"ema_crossover.ema_slow", "ema_crossover#2.ema_slow"} <= set(frame.columns)
    assert ensemble.warmup_bars == 40
    assert ensemble.live_window_bars == EmaCrossover(5, 40).live_window_bars


def test_candidates_are_the_union_of_the_members() -> None:
    ensemble = Ensemble(three())
    bars = Bars.from_frame(ensemble.calculate_indicators(CANDLES))

    candidates = ensemble.signal_candidates(bars)

    assert candidates is not None
    assert candidates.tolist() == [10, 20, 30, 40, 50, 60, 70]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 4}, r"k must be in \[1, 3\]"),
        ({"threshold": 1.5}, r"threshold must be in \(0, 1\]"),
        ({"mode": EnsembleMode.CONDITIONAL}, "needs a regime detector"),
    ],
)
def test_invalid_ensemble_is_refused_with_the_reason(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Ensemble(three(), **kwargs)  # type: ignore[arg-type]


def test_conditional_member_regime_must_be_a_detector_label() -> None:
    members = [Member(ScriptedStrategy(), when="trend"), Member(ScriptedStrategy(), when="up")]
    with pytest.raises(ValueError, match="when must be one of trend, range"):
        Ensemble(members, EnsembleMode.CONDITIONAL, regime=TrendRegime())


@pytest.fixture(scope="module")
def walk() -> pd.DataFrame:
    return random_walk(3, 400)


def test_lookahead_check_passes_an_ensemble_of_the_builtins(walk: pd.DataFrame) -> None:
    members = [Member(EmaCrossover()), Member(RsiMeanReversion()), Member(Breakout())]
    ensemble = Ensemble(members, k=2)

    assert check_lookahead(ensemble, walk, n_cuts=5, signal_bars=30).findings == ()


def test_lookahead_check_names_a_peeking_member(walk: pd.DataFrame) -> None:
    ensemble = Ensemble([Member(EmaCrossover()), Member(peeks.HeldNextBar())], k=1)

    report = check_lookahead(ensemble, walk, n_cuts=5, signal_bars=30)

    assert report.has_lookahead
    assert any(f.kind == READ and f.column == "close" for f in report.findings)


def test_volatility_regime_labels_high_when_short_volatility_exceeds_long() -> None:
    ensemble = Ensemble(
        [
            Member(ScriptedStrategy(buy_bars=range(120)), when="high"),
            Member(ScriptedStrategy(sell_bars=range(120)), when="low"),
        ],
        EnsembleMode.CONDITIONAL,
        regime=VolatilityRegime(period=5, long_period=20, threshold=1.0),
    )

    got = actions(ensemble)

    returns = np.log(CANDLES["close"]).diff()
    short, long = returns.rolling(5).std(), returns.rolling(20).std()
    expected = [
        HOLD if np.isnan(s) or np.isnan(v) else BUY if s > v else SELL
        for s, v in zip(short, long, strict=True)
    ]
    assert got == expected
    assert {BUY, SELL} <= set(got)


def test_lookahead_check_passes_a_conditional_ensemble_on_volatility(walk: pd.DataFrame) -> None:
    ensemble = Ensemble(
        [Member(Breakout(), when="high"), Member(RsiMeanReversion(), when="low")],
        EnsembleMode.CONDITIONAL,
        regime=VolatilityRegime(period=10, long_period=50),
    )

    assert check_lookahead(ensemble, walk, n_cuts=5, signal_bars=30).findings == ()
