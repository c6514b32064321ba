"""The HMM's forward filter never changes a past row; hmmlearn's predict does."""

from __future__ import annotations

import numpy as np
import pytest

from tradebot.ml.hmm import fit_gaussian_hmm, forward_filter


def _calm_then_wild(seed: int = 0) -> np.ndarray:
    # absolute returns in %: 300 calm bars (sd 0.5%), 300 wild (sd 2%), 300 calm again
    rng = np.random.default_rng(seed)
    sd = np.concatenate([np.full(300, 0.5), np.full(300, 2.0), np.full(300, 0.5)])
    return np.abs(rng.normal(0.0, 1.0, 900) * sd)[:, None]


def test_forward_filter_appending_rows_never_changes_a_past_row() -> None:
    # Arrange: a model fitted on the first 600 rows only (past data)
    x = _calm_then_wild()
    model = fit_gaussian_hmm(x[:600], seed=1)

    # Act
    full = forward_filter(model, x)

    # Assert
    for k in (1, 250, 310, 899):
        np.testing.assert_array_equal(forward_filter(model, x[:k]), full[:k])
    np.testing.assert_allclose(full.sum(axis=1), 1.0)


def test_hmmlearn_predict_reads_the_future_and_the_filter_does_not() -> None:
    x = _calm_then_wild()
    model = fit_gaussian_hmm(x[:600], seed=1)
    wild = int(np.argmax([np.diag(c)[0] for c in model.covars_]))

    filtered = forward_filter(model, x)
    smoothed = model.predict_proba(x)

    # At the last bar there is no future: hmmlearn's forward-backward equals the filter
    np.testing.assert_allclose(filtered[-1], smoothed[-1], atol=1e-9)
    # Before it, hmmlearn's answer for a bar reads the bars after it (measured: up to 0.55)
    assert np.abs(filtered - smoothed).max() > 0.3
    moved = max(np.abs(model.predict_proba(x[:k]) - smoothed[:k]).max() for k in range(296, 330))
    assert moved > 0.1, "appending bars moved hmmlearn's past probabilities"
    # The filter still tells the stretches apart (measured: 84% and 96%)
    state = filtered.argmax(axis=1)
    assert (state[310:600] == wild).mean() > 0.75
    assert (state[:290] != wild).mean() > 0.9


def test_hmmlearn_viterbi_predict_differs_from_the_filter_and_rewrites_the_past() -> None:
    # Arrange: the same model and rows as above
    x = _calm_then_wild()
    model = fit_gaussian_hmm(x[:600], seed=1)

    # Act
    filtered = forward_filter(model, x).argmax(axis=1)
    viterbi = model.predict(x)
    viterbi_prefixes = {k: model.predict(x[:k]) for k in range(296, 330)}

    # Assert: measured: 50 of 900 bars differ; a prefix ending near the change to the wild
    # stretch has a bar rewritten once more bars arrive; the filter's argmax never moves
    assert (filtered != viterbi).sum() >= 20
    assert any((v != viterbi[:k]).any() for k, v in viterbi_prefixes.items())
    for k in viterbi_prefixes:
        np.testing.assert_array_equal(forward_filter(model, x[:k]).argmax(axis=1), filtered[:k])


def test_fit_gaussian_hmm_nan_rows_raise() -> None:
    with pytest.raises(ValueError, match="NaN"):
        fit_gaussian_hmm(np.array([[np.nan]] * 50))
