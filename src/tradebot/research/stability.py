"""Parameter stability: does the objective hold up around the best point, or is it a spike?

A best point on a plateau (its neighbours score nearly as well) is more likely a real
effect than an isolated peak, which is what fitting noise produces (Pardo, *The Evaluation
and Optimization of Trading Strategies*, 2008, ch. 10, "the profile of the optimisation";
López de Prado, AFML 2018, §11.5). This reads any table of trials — a grid, or an Optuna
study's ``trials_dataframe`` — one row per trial, one column per parameter and one for the
objective (higher is better).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradebot.domain.decisions import MetadataValue


@dataclass(frozen=True, slots=True)
class ParameterProfile:
    """The neighbours' mean objective with one parameter below and above the best's value."""

    name: str
    best: MetadataValue
    below_mean: float | None
    above_mean: float | None
    n_below: int
    n_above: int


@dataclass(frozen=True, slots=True)
class Stability:
    """How the objective changes within ``radius`` of the best trial.

    Neighbours are the other trials whose every numeric parameter lies within ``radius`` of
    the best's, as a fraction of that parameter's range over the table, or no further than
    the next value tried on either side (so a grid's adjacent points always count), and
    whose other parameters are equal to the best's. ``retention`` is the neighbours' median over the
    best value (for a positive best): near 1 is a plateau, near 0 or below a lone spike.
    """

    best_params: dict[str, MetadataValue]
    best_value: float
    radius: float
    n_trials: int
    n_neighbours: int
    neighbour_median: float | None
    neighbour_min: float | None
    retention: float | None
    profiles: tuple[ParameterProfile, ...]


def parameter_stability(
    trials: pd.DataFrame, params: Sequence[str], objective: str, radius: float = 0.25
) -> Stability:
    """Measure the objective around the best trial of ``trials``.

    Rows whose objective is missing (a failed or pruned trial) are left out.

    Raises:
        ValueError: a named column is missing, no trial has an objective, or ``radius`` is
            not positive.
    """
    missing = [c for c in (*params, objective) if c not in trials.columns]
    if missing:
        msg = f"the trials table has no column {', '.join(missing)}"
        raise ValueError(msg)
    if radius <= 0:
        msg = f"radius must be positive, got {radius}"
        raise ValueError(msg)
    table = trials.dropna(subset=[objective]).reset_index(drop=True)
    if table.empty:
        msg = "no trial has an objective value"
        raise ValueError(msg)
    values = table[objective].to_numpy(dtype=np.float64)
    best = int(np.argmax(values))
    near = _neighbours(table, params, best, radius)
    scores = values[near]
    median = float(np.median(scores)) if scores.size else None
    best_value = float(values[best])
    return Stability(
        best_params={p: _plain(table.at[best, p]) for p in params},
        best_value=best_value,
        radius=radius,
        n_trials=len(table),
        n_neighbours=int(near.sum()),
        neighbour_median=median,
        neighbour_min=float(scores.min()) if scores.size else None,
        retention=median / best_value if median is not None and best_value > 0 else None,
        profiles=tuple(_profile(table, p, best, near, values) for p in params),
    )


def _neighbours(
    table: pd.DataFrame, params: Sequence[str], best: int, radius: float
) -> np.ndarray[tuple[int], np.dtype[np.bool_]]:
    near = np.ones(len(table), dtype=bool)
    for p in params:
        column = table[p]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            x = column.to_numpy(dtype=np.float64)
            near &= _window(x, x[best], radius)
        else:
            near &= (column == column.iloc[best]).to_numpy()
    near[best] = False
    return near


def _window(
    x: np.ndarray[tuple[int], np.dtype[np.float64]], centre: float, radius: float
) -> np.ndarray[tuple[int], np.dtype[np.bool_]]:
    # within radius × range of the centre, stretched to reach the adjacent values tried
    values = np.unique(x[~np.isnan(x)])
    reach = radius * float(values[-1] - values[0])
    below, above = values[values < centre], values[values > centre]
    low = min(centre - reach, float(below[-1])) if below.size else centre - reach
    high = max(centre + reach, float(above[0])) if above.size else centre + reach
    return (x >= low - 1e-12) & (x <= high + 1e-12)


def _profile(
    table: pd.DataFrame,
    name: str,
    best: int,
    near: np.ndarray[tuple[int], np.dtype[np.bool_]],
    values: np.ndarray[tuple[int], np.dtype[np.float64]],
) -> ParameterProfile:
    column = table[name]
    centre = _plain(column.iloc[best])
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return ParameterProfile(name, centre, None, None, 0, 0)
    x = column.to_numpy(dtype=np.float64)
    below, above = near & (x < x[best]), near & (x > x[best])
    return ParameterProfile(
        name,
        centre,
        float(values[below].mean()) if below.any() else None,
        float(values[above].mean()) if above.any() else None,
        int(below.sum()),
        int(above.sum()),
    )


def _plain(value: object) -> MetadataValue:
    # numpy scalars from the table become plain Python values for reports
    if isinstance(value, np.generic):
        item = value.item()
        return item if isinstance(item, bool | int | float | str) else str(item)
    return value if isinstance(value, bool | int | float | str) or value is None else str(value)
