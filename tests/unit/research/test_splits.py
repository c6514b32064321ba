"""Walk-forward windows and combinatorial purged CV: index sets worked out by hand, and a
leak that purging and the embargo close."""

from __future__ import annotations

import numpy as np
import pytest

from tradebot.research.splits import (
    CombinatorialPurgedKFold,
    Fold,
    WindowKind,
    walk_forward_folds,
)


def test_walk_forward_rolling_windows_slide_and_tests_tile_the_rest() -> None:
    folds = walk_forward_folds(10, train_bars=4, test_bars=2)

    assert folds == [Fold(0, 0, 4, 4, 6), Fold(1, 2, 6, 6, 8), Fold(2, 4, 8, 8, 10)]


def test_walk_forward_anchored_windows_start_at_bar_zero_and_grow() -> None:
    folds = walk_forward_folds(10, 4, 2, WindowKind.ANCHORED)

    assert [(f.train_start, f.train_end) for f in folds] == [(0, 4), (0, 6), (0, 8)]
    assert [f.train_bars for f in folds] == [4, 6, 8]


def test_walk_forward_short_tail_dropped_under_half_a_test_window_kept_above() -> None:
    # 13 bars, tests of 4 after 4: [4,8) [8,12), then 1 bar left (< 2) is dropped
    assert [f.test_end for f in walk_forward_folds(13, 4, 4)] == [8, 12]
    # 15 bars: 3 bars left (>= 2) make a short last fold
    last = walk_forward_folds(15, 4, 4)[-1]
    assert (last.test_start, last.test_end, last.test_bars) == (12, 15, 3)


def test_walk_forward_too_little_data_names_the_windows() -> None:
    with pytest.raises(ValueError, match="100 bars hold no walk-forward fold of 90"):
        walk_forward_folds(100, 90, 30)


def test_cpcv_purges_overlapping_labels_and_embargoes_after_the_test_block() -> None:
    # Arrange: 10 samples in 5 groups of 2, each label reads the next bar, embargo 1 bar
    cv = CombinatorialPurgedKFold(n_groups=5, n_test_groups=1, embargo_bars=1)
    label_end = np.minimum(np.arange(10) + 1, 9)

    # Act
    split = list(cv.split(label_end))[2]  # test group 2: samples 4 and 5

    # Assert: 3 is purged (its label reads bar 4), 6 overlaps the test label ending at 6,
    # 7 is the embargo; the rest trains
    assert split.test_groups == (2,)
    assert split.test.tolist() == [4, 5]
    assert split.train.tolist() == [0, 1, 2, 8, 9]


def test_cpcv_adjacent_test_groups_form_one_block() -> None:
    cv = CombinatorialPurgedKFold(5, 2)
    label_end = np.arange(10)  # point-in-time labels: nothing to purge

    splits = {s.test_groups: s for s in cv.split(label_end)}

    assert cv.n_splits == 10
    assert splits[(1, 2)].test.tolist() == [2, 3, 4, 5]
    assert splits[(1, 2)].train.tolist() == [0, 1, 6, 7, 8, 9]
    assert splits[(0, 4)].train.tolist() == [2, 3, 4, 5, 6, 7]


def test_cpcv_paths_cover_every_group_once_each() -> None:
    cv = CombinatorialPurgedKFold(6, 2)

    paths = cv.paths()

    # C(5, 1) = 5 paths over the C(6, 2) = 15 splits
    assert cv.n_paths == 5
    assert len(paths) == 5
    assert all([g for _, g in path] == list(range(6)) for path in paths)
    split_groups = [s.test_groups for s in cv.split(np.arange(12))]
    assert all(g in split_groups[n] for path in paths for n, g in path)
    assert sorted(pair for path in paths for pair in path) == sorted(
        (n, g) for n, groups in enumerate(split_groups) for g in groups
    )


def test_cpcv_refuses_a_label_that_ends_before_its_sample() -> None:
    with pytest.raises(ValueError, match=r"label_end\[1\] = 0 ends before its sample"):
        list(CombinatorialPurgedKFold(2).split([0, 0, 2, 3]))


def nearest_neighbour_accuracy(cv: CombinatorialPurgedKFold, label_end: np.ndarray) -> float:
    # A 1-nearest-neighbour model on a slowly changing feature (the bar's time): it answers
    # with the label of the training sample closest in time, as any model that memorises
    # its recent past does.
    hits = total = 0
    for split in cv.split(label_end):
        nearest = np.abs(split.test[:, None] - split.train[None, :]).argmin(axis=1)
        hits += int(np.sum(LABELS[split.train[nearest]] == LABELS[split.test]))
        total += len(split.test)
    return hits / total


N_SAMPLES, HORIZON = 2000, 20
_RNG = np.random.default_rng(1)
_PATH = np.concatenate(([0.0], np.cumsum(_RNG.normal(0, 0.01, N_SAMPLES + HORIZON))))
# the label: did the next HORIZON bars of pure noise rise? Neighbours share 19 of 20 returns
LABELS = np.sign(_PATH[np.arange(N_SAMPLES) + HORIZON + 1] - _PATH[np.arange(N_SAMPLES) + 1])


def test_cpcv_leaking_split_scores_high_on_noise_the_purged_one_does_not() -> None:
    # Arrange: the same 100-group layout, once told the labels are point-in-time (a leak)
    # and once their real ends with an embargo of one horizon
    leaking = CombinatorialPurgedKFold(100, 1, embargo_bars=0)
    purged = CombinatorialPurgedKFold(100, 1, embargo_bars=HORIZON)
    instant = np.arange(N_SAMPLES)

    # Act
    leaked = nearest_neighbour_accuracy(leaking, instant)
    honest = nearest_neighbour_accuracy(purged, instant + HORIZON)

    # Assert: the future returns cannot be predicted; only the leak makes them look so
    assert leaked > 0.7
    assert honest < 0.6
