"""A hidden-Markov regime model fitted with hmmlearn, but read forward only.

hmmlearn's ``predict`` (Viterbi) and ``predict_proba`` (forward-backward) read the whole
sequence: the state they give bar ``t`` depends on bars after ``t`` (hmmlearn issues 355,
496, 540), so a regime "detected" with them in a backtest sees the future. ``forward_filter``
runs the forward recursion alone, ``P(state_t | x_0..x_t)``: appending bars never changes a
past row. The fit itself must use past bars only, as any model's (``training.train_rows``).
"""

from __future__ import annotations

import numpy as np
from hmmlearn.hmm import GaussianHMM
from threadpoolctl import threadpool_limits

from tradebot.strategy.base import FloatArray


def fit_gaussian_hmm(x: FloatArray, n_states: int = 2, seed: int = 0) -> GaussianHMM:
    """A Gaussian HMM with diagonal covariances fitted to the rows of ``x`` (bars × features).

    Raises:
        ValueError: ``x`` holds a NaN, or fewer rows than ten per state.
    """
    if not np.isfinite(x).all():
        msg = "fit_gaussian_hmm: x holds NaN or infinite values (drop the warm-up rows)"
        raise ValueError(msg)
    if len(x) < 10 * n_states:
        need = 10 * n_states
        msg = f"fit_gaussian_hmm: {len(x)} rows are too few for {n_states} states (need {need})"
        raise ValueError(msg)
    model = GaussianHMM(n_components=n_states, covariance_type="diag", random_state=seed)
    # One thread: the k-means start is as fast on a few thousand rows, a fit is then a pure
    # function of its rows, and OpenMP threads spinning on a busy machine cost 10x the CPU.
    with threadpool_limits(limits=1):
        model.fit(x)
    return model


def forward_filter(model: GaussianHMM, x: FloatArray) -> FloatArray:
    """``P(state | rows 0..t)`` for each row ``t`` of ``x``: the forward pass only, normalised
    at every step (no backward pass, no Viterbi), so row ``t`` reads rows ``0..t`` alone."""
    log_emission = _log_emission(model, x)
    out = np.empty_like(log_emission)
    with np.errstate(divide="ignore"):  # a start probability of 0 is a log of -inf
        log_start = np.log(np.asarray(model.startprob_, dtype=np.float64))
        log_trans = np.log(np.asarray(model.transmat_, dtype=np.float64))
    log_alpha = log_start + log_emission[0]
    for t in range(len(x)):
        if t > 0:
            prior = np.logaddexp.reduce(log_alpha[:, None] + log_trans, axis=0)
            log_alpha = prior + log_emission[t]
        log_alpha = log_alpha - np.logaddexp.reduce(log_alpha)
        out[t] = np.exp(log_alpha)
    return out


def _log_emission(model: GaussianHMM, x: FloatArray) -> FloatArray:
    # log N(x_t; mean_k, diag(var_k)) for every row t and state k
    means = np.asarray(model.means_, dtype=np.float64)
    variances = np.asarray([np.diag(c) for c in model.covars_], dtype=np.float64)
    diff = x[:, None, :] - means[None, :, :]
    per_feature = -0.5 * (np.log(2 * np.pi * variances)[None] + diff**2 / variances[None])
    result: FloatArray = per_feature.sum(axis=2)
    return result
