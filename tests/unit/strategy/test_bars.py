"""A bar's row (the indicators a decision records) reads the columns: same values, no copy."""

from __future__ import annotations

import copy
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


def test_at_reads_a_column_as_python_floats_up_to_the_bar_being_decided() -> None:
    # Arrange: a view at bar 2, moved on to bar 3 (the engine's one view object)
    bars = _bars()
    view = bars.upto(2)

    # Act / Assert
    assert [view.at("close", k) for k in (0, 1, 2, -1, -3)] == [1.0, 2.0, 3.0, 3.0, 1.0]
    assert type(view.at("close", 2)) is float
    assert np.isnan(view.at("ema", 0))
    with pytest.raises(IndexError, match=r"bar 3 is outside bars 0\.\.2"):
        view.at("close", 3)
    with pytest.raises(IndexError, match=r"bar -4 is outside bars 0\.\.2"):
        view.at("close", -4)
    with pytest.raises(KeyError):
        view.at("volume", 0)
    assert bars.upto(3).at("close", -1) == 4.0
    assert bars.at("ema", -1) == 3.5


def test_at_reads_a_strided_or_integer_column_without_a_copy_kept() -> None:
    # Arrange: a column that is a strided view of a wider array, and one of ints
    wide = np.arange(8, dtype=np.float64)
    bars = Bars(np.arange(4, dtype=np.int64), {"odd": wide[1::2], "n": np.arange(4)})

    # Act / Assert
    view = bars.upto(3)
    assert [view.at("odd", k) for k in range(4)] == [1.0, 3.0, 5.0, 7.0]
    assert view.at("n", 2) == 2.0
    assert type(view.at("n", 2)) is float


def test_bars_read_with_at_still_pickle_and_copy() -> None:
    # Arrange: a view that has read a column (it keeps a memoryview of it)
    bars = _bars()
    assert bars.upto(2).at("close", -1) == 3.0

    # Act
    copies = [pickle.loads(pickle.dumps(bars)), copy.deepcopy(bars)]

    # Assert: the same bars, and a view of each reads as the original's
    for twin in copies:
        assert twin.upto(2).at("close", -1) == 3.0
        assert list(twin["ema"][1:]) == [1.5, 2.5, 3.5]
