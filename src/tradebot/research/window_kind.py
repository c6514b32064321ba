"""How a walk-forward's in-sample window moves, without the splitters' numpy.

Apart from ``splits.py`` so that ``tradebot walk-forward --help`` lists the kinds without
importing numpy.
"""

from __future__ import annotations

from enum import StrEnum


class WindowKind(StrEnum):
    """How the in-sample window moves from one walk-forward fold to the next."""

    ROLLING = "rolling"  # a fixed-length window that slides forward
    ANCHORED = "anchored"  # starts at bar 0 and grows
