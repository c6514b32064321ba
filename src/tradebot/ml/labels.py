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

from tradebot.strategy.base import FloatArray, IndexArray


@dataclass(frozen=True, slots=True)
class LabelSpec:
    """Up (1) or down (0) after ``horizon_bars`` bars.

    Up means the log return from the close of bar ``i`` to the close of bar
    ``i + horizon_bars`` exceeds ``threshold``.
    """

    horizon_bars: int = 12
    threshold: float = 0.0

    def __post_init__(self) -> None:
        """Reject a horizon below one bar.

        Raises:
            ValueError: ``horizon_bars`` < 1.
        """
        if self.horizon_bars < 1:
            msg = f"horizon_bars must be at least 1, got {self.horizon_bars}"
            raise ValueError(msg)

    def values(self, close: npt.ArrayLike) -> FloatArray:
        """1.0 (up) or 0.0 (down) per bar; NaN where the horizon runs past the last bar."""
        log_close = np.log(np.asarray(close, dtype=np.float64))
        h = self.horizon_bars
        out = np.full(len(log_close), np.nan)
        if len(log_close) > h:
            out[:-h] = (log_close[h:] - log_close[:-h] > self.threshold).astype(np.float64)
        return out

    def label_end(self, n_bars: int) -> IndexArray:
        """The bar at whose close each bar's label is known."""
        return np.arange(n_bars, dtype=np.int64) + self.horizon_bars
