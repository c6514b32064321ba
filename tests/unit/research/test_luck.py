"""The verdict on a study's best trial, from the daily returns every trial keeps."""

from __future__ import annotations

import numpy as np
from optuna.distributions import IntDistribution
from optuna.trial import FrozenTrial, TrialState, create_trial

from tradebot.research.luck import judge, verdict_lines

DAYS = 365


def trial(number: int, returns: np.ndarray) -> FrozenTrial:
    made = create_trial(
        params={"period": 5 + number},
        distributions={"period": IntDistribution(1, 500)},
        value=float(returns.mean() / returns.std(ddof=1) * np.sqrt(365)),
        user_attrs={"daily_returns": [float(r) for r in returns]},
    )
    made.number = number
    return made


def failed(number: int) -> FrozenTrial:
    made = create_trial(state=TrialState.FAIL)
    made.number = number
    return made


def test_judge_noise_trials_best_is_called_luck_and_failed_trials_count() -> None:
    rng = np.random.default_rng(7)
    trials = [trial(n, rng.normal(0.0, 0.01, DAYS)) for n in range(40)]
    best = max(trials, key=lambda t: t.values[0])

    verdict = judge([*trials, failed(40), failed(41)], best, "sharpe", maximize=True)

    assert verdict.pbo is not None
    assert 0.3 <= verdict.pbo.pbo <= 0.8
    assert verdict.dsr is not None
    assert verdict.dsr.n_trials == 42  # every trial run, the failed ones too
    assert verdict.dsr.dsr < 0.5
    assert verdict.words.startswith("likely luck")
    assert verdict_lines(verdict)[-1] == f"verdict: {verdict.words}"


def test_judge_a_planted_edge_is_unlikely_to_be_luck() -> None:
    rng = np.random.default_rng(11)
    trials = [trial(n, rng.normal(0.0, 0.01, DAYS)) for n in range(30)]
    trials.append(trial(30, rng.normal(0.004, 0.01, DAYS)))  # a Sharpe of ~7.6 a year

    verdict = judge(trials, trials[-1], "sharpe", maximize=True)

    assert verdict.pbo is not None
    assert verdict.pbo.pbo < 0.1
    assert verdict.dsr is not None
    assert verdict.dsr.dsr > 0.95
    assert verdict.words.startswith("unlikely to be luck")


def test_judge_too_short_a_history_says_so() -> None:
    rng = np.random.default_rng(3)
    trials = [trial(n, rng.normal(0.0, 0.01, 5)) for n in range(10)]

    verdict = judge(trials, trials[0], "sharpe", maximize=True)

    assert verdict.pbo is None
    assert verdict.words == "too few trials or days to judge the best trial against luck"
