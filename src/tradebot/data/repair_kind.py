"""What to do with bad candle data, without the repairs' pandas.

Apart from ``repair.py`` so that ``tradebot lookahead-check --help`` lists the choices without
importing pandas.
"""

from __future__ import annotations

from typing import Literal

Repair = Literal["refuse", "drop", "ffill"]
