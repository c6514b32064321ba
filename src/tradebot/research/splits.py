"""Splitters for time series: walk-forward windows and combinatorial purged cross-validation.

A shuffled k-fold on market data leaks: a label built from the next ``h`` returns shares
returns with the labels of its neighbours, so a model trained on bar ``t - 1`` has seen most
of the answer for bar ``t``. Walk-forward windows never train on the future; purged
cross-validation (López de Prado, *Advances in Financial Machine Learning*, 2018, ch. 7:
purging §7.4.1, embargo §7.4.2, combinatorial purged CV ch. 12) trains on both sides of the
test block but drops every training sample whose label overlaps a test label (the purge)
and the samples right after a test block (the embargo, for serially correlated features).

Everything is in bar indices: sample ``i`` is observed at the close of bar ``i`` and its
label is known at the close of bar ``label_end[i]`` (``i`` for a label of the bar itself,
``i + h`` for a return over the next ``h`` bars).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from math import comb
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from tradebot.research.window_kind import WindowKind

IndexArray: TypeAlias = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Fold:
    """One walk-forward fold: train on bars ``[train_start, train_end)``, test on
    ``[test_start, test_end)``. ``test_start == train_end``: the test follows at once."""

    number: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int

    @property
    def train_bars(self) -> int:
        """Bars in the in-sample window."""
        return self.train_end - self.train_start

    @property
    def test_bars(self) -> int:
        """Bars in the out-of-sample window."""
        return self.test_end - self.test_start


def walk_forward_folds(
    n_bars: int,
    train_bars: int,
    test_bars: int,
    kind: WindowKind = WindowKind.ROLLING,
) -> list[Fold]:
    """Cut ``n_bars`` into consecutive out-of-sample windows, each after its in-sample one.

    The test windows tile ``[train_bars, n_bars)`` without overlap, so stitched together they
    form one out-of-sample history; a last window shorter than half of ``test_bars`` is
    dropped (too short to judge), a longer one is kept short. A rolling window keeps
    ``train_bars`` bars; an anchored one starts at bar 0 and grows (Pardo, *The Evaluation
    and Optimization of Trading Strategies*, 2008, ch. 11).

    Raises:
        ValueError: a window length is not positive, or the data holds no complete fold.
    """
    if train_bars <= 0 or test_bars <= 0:
        msg = f"train_bars and test_bars must be positive, got {train_bars} and {test_bars}"
        raise ValueError(msg)
    if n_bars < train_bars + test_bars:
        msg = (
            f"{n_bars} bars hold no walk-forward fold of {train_bars} in-sample and"
            f" {test_bars} out-of-sample bars: use shorter windows or more data"
        )
        raise ValueError(msg)
    folds: list[Fold] = []
    test_start = train_bars
    while n_bars - test_start >= max(test_bars // 2, 1):
        test_end = min(test_start + test_bars, n_bars)
        train_start = 0 if kind is WindowKind.ANCHORED else test_start - train_bars
        folds.append(Fold(len(folds), train_start, test_start, test_start, test_end))
        test_start = test_end
    return folds


@dataclass(frozen=True, slots=True)
class Split:
    """One split of combinatorial purged CV: the test groups and the indices on each side."""

    test_groups: tuple[int, ...]
    train: IndexArray
    test: IndexArray


class CombinatorialPurgedKFold:
    """Combinatorial purged cross-validation (CPCV, López de Prado 2018, §12.4).

    The samples are cut into ``n_groups`` contiguous groups; every choice of
    ``n_test_groups`` of them is a test set (``C(n_groups, n_test_groups)`` splits) and the
    rest trains, after

    * the **purge**: a training sample whose label interval ``[i, label_end[i]]`` overlaps a
      test block's ``[first test sample, last test label end]`` is dropped (§7.4.1);
    * the **embargo**: the ``embargo_bars`` samples after a test block's last label end are
      dropped too, since features built on overlapping windows still correlate (§7.4.2).

    With ``n_test_groups == 1`` this is the purged k-fold of §7.4.3. Each group is tested
    ``C(n_groups - 1, n_test_groups - 1)`` times, which gives that many complete
    out-of-sample paths (``paths``).
    """

    def __init__(self, n_groups: int, n_test_groups: int = 1, embargo_bars: int = 0) -> None:
        """Check and keep the layout.

        Raises:
            ValueError: fewer than two groups, a test size outside ``[1, n_groups)``, or a
                negative embargo.
        """
        if n_groups < 2:  # one group leaves nothing to train on
            msg = f"n_groups must be at least 2, got {n_groups}"
            raise ValueError(msg)
        if not 1 <= n_test_groups < n_groups:
            msg = f"n_test_groups must be in [1, {n_groups - 1}], got {n_test_groups}"
            raise ValueError(msg)
        if embargo_bars < 0:
            msg = f"embargo_bars must be 0 or more, got {embargo_bars}"
            raise ValueError(msg)
        self.n_groups = n_groups
        self.n_test_groups = n_test_groups
        self.embargo_bars = embargo_bars

    @property
    def n_splits(self) -> int:
        """``C(n_groups, n_test_groups)``."""
        return comb(self.n_groups, self.n_test_groups)

    @property
    def n_paths(self) -> int:
        """Complete out-of-sample paths: ``C(n_groups - 1, n_test_groups - 1)``."""
        return comb(self.n_groups - 1, self.n_test_groups - 1)

    def groups(self, n_samples: int) -> list[IndexArray]:
        """The contiguous groups of sample indices (sizes differ by at most one).

        Raises:
            ValueError: fewer samples than groups.
        """
        if n_samples < self.n_groups:
            msg = f"{n_samples} samples cannot make {self.n_groups} groups"
            raise ValueError(msg)
        return [g.astype(np.int64) for g in np.array_split(np.arange(n_samples), self.n_groups)]

    def split(self, label_end: Sequence[int] | IndexArray) -> Iterator[Split]:
        """Yield every split, in ``itertools.combinations`` order of the test groups.

        ``label_end[i]`` is the last bar sample ``i``'s label reads (at least ``i``).

        Raises:
            ValueError: a label ends before its sample.
        """
        ends = np.asarray(label_end, dtype=np.int64)
        starts = np.arange(len(ends), dtype=np.int64)
        if np.any(ends < starts):
            first = int(np.flatnonzero(ends < starts)[0])
            msg = f"label_end[{first}] = {ends[first]} ends before its sample"
            raise ValueError(msg)
        groups = self.groups(len(ends))
        for chosen in itertools.combinations(range(self.n_groups), self.n_test_groups):
            test = np.concatenate([groups[g] for g in chosen])
            keep = np.ones(len(ends), dtype=bool)
            for first, last in _blocks(chosen, groups):
                block_end = int(ends[first : last + 1].max())
                keep &= (ends < first) | (starts > block_end + self.embargo_bars)
            keep[test] = False
            yield Split(chosen, np.flatnonzero(keep).astype(np.int64), test)

    def paths(self) -> list[list[tuple[int, int]]]:
        """Assign each split's test groups to backtest paths (§12.4, figure 12.1).

        Path ``p`` is a list of ``(split number, group)`` pairs, one per group in order:
        reading each group's predictions from the named split gives one out-of-sample
        history over all the samples.
        """
        seen = [0] * self.n_groups
        paths: list[list[tuple[int, int]]] = [[] for _ in range(self.n_paths)]
        for number, chosen in enumerate(
            itertools.combinations(range(self.n_groups), self.n_test_groups)
        ):
            for g in chosen:
                paths[seen[g]].append((number, g))
                seen[g] += 1
        return [sorted(path, key=lambda pair: pair[1]) for path in paths]


def _blocks(chosen: tuple[int, ...], groups: list[IndexArray]) -> Iterator[tuple[int, int]]:
    # adjacent test groups form one contiguous block: (first sample, last sample)
    run_start = chosen[0]
    for prev, g in itertools.pairwise((*chosen, -1)):
        if g != prev + 1:
            yield int(groups[run_start][0]), int(groups[prev][-1])
            run_start = g
