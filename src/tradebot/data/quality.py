"""Candle quality checks: what is wrong with a candle frame, row by row, vectorised.

``check_candles`` never changes data; it returns a ``QualityReport``. Findings are errors
(the data must not be traded as is: gaps, duplicates, unsorted rows, NaNs, OHLC
inconsistencies, non-positive prices, negative volume, misaligned timestamps) or warnings
(worth a look but real markets produce them: zero-volume bars, outliers).

Outliers ("bad ticks") are judged against a robust scale, not the standard deviation that a
single bad tick inflates. Per block of ``OUTLIER_WINDOW`` bars the scale is the median absolute
deviation (MAD) of one-bar log returns, floored by the block's mean absolute deviation so a
market that mostly prints flat bars does not make every move an outlier. A close-to-close
return, or a wick (``log(high / max(open, close))``, ``log(min(open, close) / low)``), beyond
``OUTLIER_MADS`` (15) of those MADs is flagged: about 10 robust sigmas, which one-minute BTC
reaches a handful of times a year. Blocks rather than a true rolling window keep a 2M-row
check near one second.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np
import pandas as pd

from tradebot.data.frame import (
    PRICE_COLUMNS,
    VALUE_COLUMNS,
    FloatArray,
    IntArray,
    fmt_ts,
    infer_timeframe,
    row_list,
    timeframe_offset_ms,
    utc,
)
from tradebot.domain.errors import DataError
from tradebot.domain.market import timeframe_to_ms

OUTLIER_WINDOW = 1440
OUTLIER_MADS = 15.0
NO_CANDLES = "no candles (a header only, or nothing in the range)"


class Severity(StrEnum):
    """Errors make data untradeable; warnings are reported only."""

    ERROR = "error"
    WARNING = "warning"


class Issue(StrEnum):
    """Kinds of finding, in report order."""

    DUPLICATE = "duplicate timestamps"
    NON_MONOTONIC = "non-monotonic timestamps"
    MISALIGNED = "timestamps not aligned to the timeframe"
    NAN = "NaN values"
    NON_POSITIVE = "non-positive prices"
    NEGATIVE_VOLUME = "negative volume"
    OHLC = "OHLC inconsistent (high < max(open, close), low > min(open, close) or high < low)"
    ZERO_VOLUME = "zero-volume bars"
    RETURN_OUTLIER = f"return outliers (> {OUTLIER_MADS:g} MADs of 1-bar log returns)"
    WICK_OUTLIER = f"wick outliers (> {OUTLIER_MADS:g} MADs of 1-bar log returns)"


_SEVERITY = {
    Issue.ZERO_VOLUME: Severity.WARNING,
    Issue.RETURN_OUTLIER: Severity.WARNING,
    Issue.WICK_OUTLIER: Severity.WARNING,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """Rows (positions in the checked frame) with one kind of problem."""

    issue: Issue
    rows: tuple[int, ...]
    ts_ms: tuple[int, ...]

    @property
    def severity(self) -> Severity:
        """Error or warning, by kind."""
        return _SEVERITY.get(self.issue, Severity.ERROR)

    @property
    def times(self) -> tuple[datetime, ...]:
        """The rows' open times as aware UTC datetimes."""
        return tuple(utc(t) for t in self.ts_ms)

    @property
    def count(self) -> int:
        """Number of rows affected."""
        return len(self.rows)

    def describe(self, limit: int = 5) -> str:
        """One line: count, first rows and their UTC times."""
        times = ", ".join(fmt_ts(t) for t in self.ts_ms[:limit])
        return f"{self.count:,} {self.issue.value}: rows {row_list(self.rows, limit)} ({times})"


@dataclass(frozen=True, slots=True)
class Gap:
    """Missing candles: ``start_ms``..``end_ms`` are the open times of the first and last."""

    start_ms: int
    end_ms: int
    missing: int
    row: int

    def describe(self) -> str:
        """One line naming the missing range and the row after it."""
        return (
            f"{self.missing:,} missing candle(s) {fmt_ts(self.start_ms)} → {fmt_ts(self.end_ms)}"
            f" (before row {self.row:,})"
        )


@dataclass(frozen=True, slots=True)
class QualityReport:
    """What ``check_candles`` found; ``is_tradeable`` is False when any error was found."""

    timeframe: str
    rows: int
    first_ts_ms: int | None
    last_ts_ms: int | None
    gaps: tuple[Gap, ...] = ()
    findings: tuple[Finding, ...] = field(default=())

    @property
    def missing_candles(self) -> int:
        """Sum of the gap sizes."""
        return sum(g.missing for g in self.gaps)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings that make the data untradeable."""
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings reported for a look only."""
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def is_tradeable(self) -> bool:
        """True when there are candles, no gaps and no error findings.

        No candles is not tradeable: a header-only file backtests nothing.
        """
        return self.rows > 0 and not self.gaps and not self.errors

    def finding(self, issue: Issue) -> Finding | None:
        """The finding of one kind, if any."""
        return next((f for f in self.findings if f.issue is issue), None)

    def problems(self, limit: int = 5) -> list[str]:
        """Lines describing gaps and errors (what makes the data untradeable)."""
        lines = [NO_CANDLES] if self.rows == 0 else []
        lines += [f.describe(limit) for f in self.errors]
        if self.gaps:
            lines.append(f"{len(self.gaps):,} gap(s), {self.missing_candles:,} missing candles:")
            lines += ["  " + g.describe() for g in self.gaps[:limit]]
            if len(self.gaps) > limit:
                lines.append(f"  … (+{len(self.gaps) - limit:,} more gaps)")
        return lines

    def to_text(self, limit: int = 5) -> str:
        """A plain-text report for logs and error messages."""
        span = (
            f"{fmt_ts(self.first_ts_ms)} → {fmt_ts(self.last_ts_ms)}"
            if self.first_ts_ms is not None and self.last_ts_ms is not None
            else "no rows"
        )
        verdict = "tradeable" if self.is_tradeable else "NOT tradeable"
        lines = [f"{self.rows:,} {self.timeframe} candles, {span}: {verdict}"]
        lines += ["ERROR " + line for line in self.problems(limit)]
        lines += ["WARNING " + f.describe(limit) for f in self.warnings]
        return "\n".join(lines)


def check_candles(frame: pd.DataFrame, timeframe: str | None = None) -> QualityReport:
    """Check a candle frame; ``timeframe`` is inferred from the timestamps when None.

    Raises:
        DataError: the timeframe cannot be inferred (fewer than two distinct timestamps).
    """
    ts = frame["ts_ms"].to_numpy(np.int64)
    tf = timeframe or infer_timeframe(ts)
    if tf is None:
        if ts.size < 2:
            return QualityReport(timeframe or "?", int(ts.size), _first(ts), _last(ts))
        raise DataError("cannot infer the timeframe from the timestamps; pass timeframe=")
    masks = _row_masks(frame, ts, tf)
    findings = [
        Finding(issue, tuple(rows.tolist()), tuple(ts[rows].tolist()))
        for issue, mask in masks.items()
        if (rows := np.flatnonzero(mask)).size
    ]
    return QualityReport(
        timeframe=tf,
        rows=int(ts.size),
        first_ts_ms=int(ts.min()) if ts.size else None,
        last_ts_ms=int(ts.max()) if ts.size else None,
        gaps=find_gaps(ts, tf),
        findings=tuple(findings),
    )


def bad_row_mask(frame: pd.DataFrame, timeframe: str, *, duplicates: bool = True) -> np.ndarray:
    """Rows a "drop" repair removes: every error finding (outliers and zero volume stay)."""
    ts = frame["ts_ms"].to_numpy(np.int64)
    masks = _row_masks(frame, ts, timeframe, outliers=False)
    if not duplicates:
        del masks[Issue.DUPLICATE]
    bad = np.zeros(ts.size, dtype=bool)
    for issue, mask in masks.items():
        if _SEVERITY.get(issue, Severity.ERROR) is Severity.ERROR:
            bad |= mask
    return bad


def find_gaps(ts_ms: IntArray, timeframe: str) -> tuple[Gap, ...]:
    """Missing candles between the distinct, sorted timestamps."""
    step = timeframe_to_ms(timeframe)
    if ts_ms.size < 2:
        return ()
    order = np.argsort(ts_ms, kind="stable")
    ts_sorted = ts_ms[order]
    diffs = np.diff(ts_sorted)
    at = np.flatnonzero(diffs > step)
    return tuple(
        Gap(
            start_ms=int(ts_sorted[i] + step),
            end_ms=int(ts_sorted[i + 1] - step),
            missing=int(diffs[i] // step - 1 + (diffs[i] % step > 0)),
            row=int(order[i + 1]),
        )
        for i in at
    )


def _first(ts: IntArray) -> int | None:
    return int(ts[0]) if ts.size else None


def _last(ts: IntArray) -> int | None:
    return int(ts[-1]) if ts.size else None


def _row_masks(
    frame: pd.DataFrame, ts: IntArray, timeframe: str, *, outliers: bool = True
) -> dict[Issue, np.ndarray]:
    # One boolean mask per kind of finding, all over the frame's row positions.
    o, h, lo, c, v = (frame[name].to_numpy(np.float64) for name in VALUE_COLUMNS)
    step = timeframe_to_ms(timeframe)
    nonmono = np.zeros(ts.size, dtype=bool)
    nonmono[1:] = ts[1:] < ts[:-1]
    with np.errstate(invalid="ignore"):
        masks = {
            Issue.DUPLICATE: pd.Series(ts).duplicated().to_numpy(),
            Issue.NON_MONOTONIC: nonmono,
            Issue.MISALIGNED: (ts - timeframe_offset_ms(timeframe)) % step != 0,
            Issue.NAN: np.isnan(frame[list(VALUE_COLUMNS)].to_numpy(np.float64)).any(axis=1),
            Issue.NON_POSITIVE: (frame[list(PRICE_COLUMNS)].to_numpy(np.float64) <= 0).any(axis=1),
            Issue.NEGATIVE_VOLUME: v < 0,
            Issue.OHLC: (h < np.fmax(o, c)) | (lo > np.fmin(o, c)) | (h < lo),
            Issue.ZERO_VOLUME: v == 0,
        }
    if outliers:
        masks[Issue.RETURN_OUTLIER], masks[Issue.WICK_OUTLIER] = _outliers(o, h, lo, c)
    return masks


def _outliers(
    o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray
) -> tuple[np.ndarray, np.ndarray]:
    # Robust per-block scale of 1-bar log returns; see the module docstring.
    n = c.size
    with np.errstate(invalid="ignore", divide="ignore"):
        logc = np.log(np.where(c > 0, c, np.nan))
        ret = np.empty(n)
        ret[:1] = 0.0
        ret[1:] = np.diff(logc)
        body_hi = np.log(np.fmax(o, c))
        body_lo = np.log(np.fmin(o, c))
        wick = np.fmax(np.log(h) - body_hi, body_lo - np.log(lo))
    scale = _block_scale(ret)
    limit = OUTLIER_MADS * scale
    ret_dev = np.abs(ret - np.nanmedian(ret)) if n else ret
    with np.errstate(invalid="ignore"):
        return ret_dev > limit, wick > limit


def _block_scale(ret: FloatArray) -> FloatArray:
    # Per-row MAD of the block the row is in (floored), NaN-safe.
    n = ret.size
    if n == 0:
        return ret
    blocks = -(-n // OUTLIER_WINDOW)
    padded = np.full(blocks * OUTLIER_WINDOW, np.nan)
    padded[:n] = ret
    grid = padded.reshape(blocks, OUTLIER_WINDOW)
    if n % OUTLIER_WINDOW and blocks > 1:
        # a short last block borrows the end of the one before so its scale is not noise
        grid[-1] = padded[n - OUTLIER_WINDOW : n]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        # all-NaN blocks (a frame of NaNs) are legitimate input; their scale becomes inf
        warnings.simplefilter("ignore", RuntimeWarning)
        dev = np.abs(grid - np.nanmedian(grid, axis=1, keepdims=True))
        scale = np.fmax(np.nanmedian(dev, axis=1), np.nanmean(dev, axis=1))
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, np.inf)
    return np.repeat(scale, OUTLIER_WINDOW)[:n]


def timeframe_mismatch(frame: pd.DataFrame, timeframe: str) -> str | None:
    """Why ``frame`` is not ``timeframe`` data at all, if its timestamps say another timeframe.

    No repair applies then: dropping the "misaligned" rows of 5m candles declared 1h keeps one
    5-minute candle per hour and calls it an hour; filling 1h candles declared 5m invents
    eleven flat candles an hour. A finer timeframe is resampled instead.
    """
    found = infer_timeframe(frame["ts_ms"].to_numpy(np.int64))
    if found is None:
        return None
    found_ms, declared_ms = timeframe_to_ms(found), timeframe_to_ms(timeframe)
    if found_ms == declared_ms:
        return None
    if found_ms < declared_ms and declared_ms % found_ms == 0:
        advice = (
            f"resample them to {timeframe} (tradebot backtest --timeframe {timeframe} "
            f"resamples a {found} file causally; in code tradebot.data.resample.resample)"
        )
    else:
        advice = f"use them as {found} candles (--timeframe {found})"
    return (
        f"the timestamps are {found} apart, not {timeframe}: these are {found} candles. "
        f"Declare timeframe {found}, or {advice}. No repair applies: dropping or filling rows "
        "would turn them into different candles"
    )


def refuse_message(report: QualityReport, source: str) -> str:
    """The DataError text for untradeable data: which rows, and the repair options."""
    lines = [f"{source}: {report.rows:,} {report.timeframe} candles are not tradeable:"]
    lines += ["  " + line for line in report.problems()]
    lines.append(
        "Choose a repair explicitly: repair='drop' removes duplicate, NaN, misaligned and "
        "inconsistent rows (gaps stay); repair='ffill' does that and fills gaps with flat "
        "zero-volume candles (CLI: --repair drop|ffill; config: backtest.data_repair). Or fix "
        "the source data."
    )
    return "\n".join(lines)


__all__ = [
    "OUTLIER_MADS",
    "OUTLIER_WINDOW",
    "Finding",
    "Gap",
    "Issue",
    "QualityReport",
    "Severity",
    "bad_row_mask",
    "check_candles",
    "find_gaps",
    "refuse_message",
    "timeframe_mismatch",
]
