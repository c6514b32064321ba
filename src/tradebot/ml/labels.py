"""Labels as declarations: what a model predicts, and how many bars ahead it reads.

A label at bar ``i`` reads the closes of bars ``i+1..i+horizon_bars``: it is known only at
the close of bar ``label_end[i] = i + horizon_bars``. Training purges every row whose label
ends after the bar a model is fitted at, so no model learns from an answer that was not yet
known (``training.train_rows``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from tradebot.strategy.base import FloatArray, IndexArray


@dataclass(frozen=True, slots=True)
class LabelSpec:
    """Up (1) or down (0) after ``horizon_bars`` bars, or at the first barrier touched.

    Up means the log return from the close of bar ``i`` to the close of bar
    ``i + horizon_bars`` exceeds ``threshold``. With ``barrier`` set this is the triple
    barrier of López de Prado (2018, §3.4): the label is 1 if a close within the horizon
    first reaches a log return of ``+barrier``, 0 if it first reaches ``-barrier``, and the
    return at the horizon decides when neither is reached. ``label_end`` stays
    ``i + horizon_bars`` either way: the purge assumes the latest a label can resolve.
    """

    horizon_bars: int = 12
    threshold: float = 0.0
    barrier: float | None = None

    def __post_init__(self) -> None:
        """Reject a horizon below one bar.

        Raises:
            ValueError: ``horizon_bars`` < 1.
        """
        if self.horizon_bars < 1:
            msg = f"horizon_bars must be at least 1, got {self.horizon_bars}"
            raise ValueError(msg)
        if self.barrier is not None and not self.barrier > 0:
            msg = f"barrier must be above 0 (a log return), got {self.barrier}"
            raise ValueError(msg)

    def values(self, close: npt.ArrayLike) -> FloatArray:
        """1.0 (up) or 0.0 (down) per bar; NaN where the horizon runs past the last bar."""
        log_close = np.log(np.asarray(close, dtype=np.float64))
        h = self.horizon_bars
        out = np.full(len(log_close), np.nan)
        if len(log_close) <= h:
            return out
        out[:-h] = (log_close[h:] - log_close[:-h] > self.threshold).astype(np.float64)
        if self.barrier is not None:
            # row i: log returns to the closes of bars i+1..i+h
            path = sliding_window_view(log_close[1:], h)[: len(log_close) - h]
            path = path - log_close[: len(path), None]
            up, down = path >= self.barrier, path <= -self.barrier
            first_up = np.where(up.any(axis=1), up.argmax(axis=1), h)
            first_down = np.where(down.any(axis=1), down.argmax(axis=1), h)
            touched = (first_up < h) | (first_down < h)
            out[: len(path)][touched] = (first_up < first_down)[touched].astype(np.float64)
        return out

    def label_end(self, n_bars: int) -> IndexArray:
        """The bar at whose close each bar's label is known."""
        return np.arange(n_bars, dtype=np.int64) + self.horizon_bars
