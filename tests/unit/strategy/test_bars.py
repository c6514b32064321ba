"""A bar's row (the indicators a decision records) reads the columns: same values, no copy."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from tradebot.strategy.base import Bars


def _bars() -> Bars:
    ts = np.arange(4, dtype=np.int64) * 60_000
    return Bars(
        ts, {"close": np.array([1.0, 2.0, 3.0, 4.0]), "ema": np.array([np.nan, 1.5, 2.5, 3.5])}
    )


def test_row_is_every_column_at_the_bar() -> None:
    # Act
    row = _bars().row(2)

    # Assert
    assert dict(row) == {"close": 3.0, "ema": 2.5}
    assert row == {"close": 3.0, "ema": 2.5}
    assert row.get("volume") is None
    assert json.dumps(dict(row.items())) == '{"close": 3.0, "ema": 2.5}'


def test_row_of_a_view_is_bounded_by_the_bar_being_decided() -> None:
    # Arrange
    view = _bars().upto(1)

    # Act / Assert
    assert dict(view.row(-1)) == {"close": 2.0, "ema": 1.5}
    assert view.row(0)["close"] == 1.0
    assert np.isnan(view.row(0)["ema"])
    with pytest.raises(IndexError, match=r"outside bars 0\.\.1"):
        view.row(2)


def test_row_pickles_as_a_plain_dict_without_the_columns() -> None:
    # Act
    copied = pickle.loads(pickle.dumps(_bars().row(3)))

    # Assert
    assert type(copied) is dict
    assert copied == {"close": 4.0, "ema": 3.5}
