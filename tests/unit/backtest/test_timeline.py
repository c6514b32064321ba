"""A basket's market on the basket's timeline: laid in slices when its bars are a run of the
timeline's times, found time by time otherwise; both must give the same leg."""

from __future__ import annotations

import numpy as np
import pytest

from factories import HOUR_MS, make_candles
from tradebot.backtest.result import Leg, union_of_times
from tradebot.backtest.timeline import held_on, run_offset
from tradebot.strategy.base import Bars


def _legs_equal(a: Leg, b: Leg) -> bool:
    return all(
        np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
        for x, y in zip(
            (a.close, a.high, a.low, a.value, a.exposed),
            (b.close, b.high, b.low, b.value, b.exposed),
            strict=True,
        )
    )


@pytest.mark.parametrize(
    ("visits", "label"),
    [
        ([], "never visited"),
        ([0, 3, 3, 9, 21], "at its first and last bar, twice at one"),
        ([5, 6, 7], "a few in the middle"),
    ],
)
def test_held_on_a_run_that_starts_late_and_ends_early_lays_the_leg_search_finds(
    visits: list[int], label: str
) -> None:
    # Arrange: the other market's 40 bars make the timeline; this one's 22 are a run of it
    # from its time 5 to 26, with what each visit left held
    timeline = union_of_times([make_candles(40, seed=1)["ts_ms"].to_numpy()])
    frame = make_candles(22, seed=2, start=2_000.0)
    frame["ts_ms"] = timeline[5:27]
    bars = Bars.of(frame)
    rng = np.random.default_rng(3)
    at = np.asarray(visits, np.int64)
    qty = rng.uniform(0.0, 2.0, len(visits))
    exposed = rng.uniform(size=len(visits)) > 0.3
    offset = run_offset(bars.ts_ms, timeline)

    # Act
    laid = held_on(bars, at, qty, exposed, timeline, offset)
    searched = held_on(bars, at, qty, exposed, timeline, None)

    # Assert: the same values at every time, NaN where the market has no price or bar
    assert offset == 5, label
    assert _legs_equal(laid, searched), label
    assert np.isnan(laid.close[:5]).all()
    assert laid.close[-1] == bars["close"][-1]
    assert np.isnan(laid.high[27:]).all()
    assert (laid.value[:5] == 0).all()


def test_held_on_bars_with_a_gap_are_not_a_run() -> None:
    timeline = np.arange(10, dtype=np.int64) * HOUR_MS
    assert run_offset(np.delete(timeline[2:8], 3), timeline) is None
    assert run_offset(timeline[2:8], timeline) == 2
