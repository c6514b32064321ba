"""Parameter stability on small trial tables worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from tradebot.research.stability import parameter_stability


def grid_table(spike: float | None = None) -> pd.DataFrame:
    # fast 1..5 × slow 10, 20, 30; a smooth hill peaking at (3, 20) with value 1.0
    rows = [
        {"fast": f, "slow": s, "sharpe": 1.0 - 0.1 * abs(f - 3) - 0.02 * abs(s - 20)}
        for f in range(1, 6)
        for s in (10, 20, 30)
    ]
    if spike is not None:
        rows.append({"fast": 5, "slow": 30, "sharpe": spike})
    return pd.DataFrame(rows)


def test_stability_on_a_plateau_keeps_most_of_the_best_value() -> None:
    # Act: radius 0.25 of fast's range (4) is 1 step; of slow's (20) 5, stretched to the
    # adjacent values tried, 10 and 30
    result = parameter_stability(grid_table(), ["fast", "slow"], "sharpe")

    # Assert: neighbours fast 2..4 × slow 10..30: 0.7 0.9 0.7 | 0.8 0.8 | 0.7 0.9 0.7
    assert result.best_params == {"fast": 3, "slow": 20}
    assert result.best_value == pytest.approx(1.0)
    assert result.n_neighbours == 8
    assert result.neighbour_median == pytest.approx(0.75)
    assert result.retention == pytest.approx(0.75)
    fast, slow = result.profiles
    assert (fast.below_mean, fast.above_mean) == (pytest.approx(2.3 / 3), pytest.approx(2.3 / 3))
    assert (slow.below_mean, slow.n_below, slow.n_above) == (pytest.approx(2.2 / 3), 3, 3)


def test_stability_radius_reaches_past_the_adjacent_values_on_dense_trials() -> None:
    # Arrange: 101 trials of one parameter 0.00..1.00, objective peaking at 0.5
    table = pd.DataFrame({"x": [i / 100 for i in range(101)]})
    table["value"] = 1.0 - (table["x"] - 0.5).abs()

    # Act: radius 0.1 of the range: x in [0.4, 0.6]
    result = parameter_stability(table, ["x"], "value", radius=0.1)

    # Assert: 20 neighbours from 0.9 down to 0.9 at the edges, median 0.945
    assert result.n_neighbours == 20
    assert result.neighbour_min == pytest.approx(0.9)
    assert result.neighbour_median == pytest.approx(0.945)


def test_stability_of_a_lone_spike_is_low() -> None:
    # Arrange: one trial at (5, 30) scores 3.0 (a lucky outlier); the trial it replaced
    # in the grid stays, so (5, 30) has a twin worth 0.6
    table = grid_table(spike=3.0)

    # Act: radius 0.5: fast ±2, slow ±10
    result = parameter_stability(table, ["fast", "slow"], "sharpe", radius=0.5)

    # Assert: neighbours are fast 3..5 × slow 20..30 (the twin included): 1.0 0.8 | 0.9
    # 0.7 | 0.8 0.6 → median 0.8
    assert result.best_value == 3.0
    assert result.n_neighbours == 6
    assert result.neighbour_median == pytest.approx(0.8)
    assert result.retention == pytest.approx(0.8 / 3.0)
    assert result.neighbour_min == pytest.approx(0.6)


def test_stability_leaves_out_trials_without_an_objective_and_matches_categories() -> None:
    table = pd.DataFrame(
        {
            "period": [10, 11, 12, 11],
            "kind": ["a", "a", "a", "b"],
            "sharpe": [0.5, 1.0, None, 0.9],
        }
    )

    result = parameter_stability(table, ["period", "kind"], "sharpe", radius=1.0)

    assert result.n_trials == 3
    assert result.best_params == {"period": 11, "kind": "a"}
    assert result.n_neighbours == 1  # period 10 of kind a; kind b is another category


def test_stability_names_a_missing_column() -> None:
    with pytest.raises(ValueError, match="no column slow2"):
        parameter_stability(grid_table(), ["fast", "slow2"], "sharpe")
