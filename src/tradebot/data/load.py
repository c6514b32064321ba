"""Read candle files (normalized CSV, CSV.gz, Parquet) fast, and find the bundled samples.

The normalized format is the one of ``../shared/data`` and of the bundled samples: a header
``timestamp,open,high,low,close,volume`` (``ts_ms`` is accepted for ``timestamp``), open
time in UTC epoch ms, one row per candle. CSV is parsed by pyarrow's multi-threaded reader
with explicit column types; for a gzip file the single-threaded gunzip dominates (about
0.8 s for 2M rows), so Parquet is the fast path for cold storage: it reads only the row
groups of the requested date range.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tradebot.data.frame import (
    CANDLE_COLUMNS,
    VALUE_COLUMNS,
    conform,
    slice_ms,
    timeframe_from_name,
)
from tradebot.data.repair import enforce
from tradebot.data.repair_kind import Repair
from tradebot.domain.errors import DataError

_SAMPLES_PACKAGE = "tradebot.data.samples"
_PANDAS_TYPES = {
    "timestamp": "int64",
    "ts_ms": "int64",
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "float64",
}
_CSV_TYPES = {
    "timestamp": pa.int64(),
    "ts_ms": pa.int64(),
    "open": pa.float64(),
    "high": pa.float64(),
    "low": pa.float64(),
    "close": pa.float64(),
    "volume": pa.float64(),
}
CANDLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def load_candles(
    path: str | Path | Traversable,
    start_ms: int | None = None,
    end_ms: int | None = None,
    repair: Repair = "refuse",
    timeframe: str | None = None,
) -> pd.DataFrame:
    """Load candles with ``start_ms <= ts_ms < end_ms`` from a CSV(.gz) or Parquet file.

    Returns the canonical candle frame (see ``tradebot.data.frame``): a RangeIndex and the
    columns ``ts_ms`` (int64) and ``open, high, low, close, volume`` (float64), sorted.
    The timeframe comes from ``timeframe``, else the file name (``..._1m.csv.gz``), else
    the timestamps. The slice is checked; ``repair`` says what to do with bad data.

    Raises:
        DataError: the file is missing or malformed, or the data is bad and ``repair`` is
            ``"refuse"`` (the message names the rows and the repair options).
    """
    frame = read_candle_file(path, start_ms, end_ms)
    tf = timeframe or timeframe_from_name(_name(path))
    return enforce(frame, tf, repair, source=str(path))


def read_candle_file(
    path: str | Path | Traversable, start_ms: int | None = None, end_ms: int | None = None
) -> pd.DataFrame:
    """Read a candle file as is (no checks, no sorting), keeping ``[start_ms, end_ms)``.

    Raises:
        DataError: the file does not exist, its format is unknown or a column is bad.
    """
    name = _name(path)
    if not name.endswith(CANDLE_SUFFIXES):
        kinds = ", ".join(CANDLE_SUFFIXES)
        raise DataError(f"{path}: unknown candle file type; use one of {kinds}")
    try:
        if isinstance(path, Traversable) and not isinstance(path, Path):
            with path.open("rb") as stream:
                frame = _read_frame(stream, name, start_ms, end_ms)
        else:
            frame = _read_frame(str(path), name, start_ms, end_ms)
    except FileNotFoundError as exc:
        raise DataError(f"{path}: file not found") from exc
    except ValueError as exc:
        raise DataError(
            f"{path}: {_bad_cell(path, name) or f'cannot read candles ({exc})'}"
        ) from exc
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: cannot read candles ({exc})") from exc
    return slice_ms(conform(frame, str(path)), start_ms, end_ms)


def _bad_cell(path: str | Path | Traversable, name: str) -> str | None:
    # The typed read failed on a cell; read the CSV again as text to say which one. Row
    # numbers are data rows from 0 (as in quality reports); the line counts the header.
    if name.endswith(".parquet"):
        return None
    compression: Literal["gzip"] | None = "gzip" if name.endswith(".gz") else None
    if isinstance(path, Traversable) and not isinstance(path, Path):
        with path.open("rb") as stream:
            text = pd.read_csv(stream, dtype=str, compression=compression, keep_default_na=False)
    else:
        text = pd.read_csv(str(path), dtype=str, compression=compression, keep_default_na=False)
    for column in text.columns:
        if column not in _PANDAS_TYPES:
            continue
        cells = text[column].str.strip()
        numbers = pd.to_numeric(cells, errors="coerce")
        bad = numbers.isna() & (cells != "" if column not in ("timestamp", "ts_ms") else True)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            value = cells.iloc[row]
            what = "is empty" if value == "" else f"{value!r} is not a number"
            return f"row {row:,} (line {row + 2:,}), column {column}: {what}; fix or remove the row"
    return None


def _read_frame(
    source: str | IO[bytes], name: str, start_ms: int | None, end_ms: int | None
) -> pd.DataFrame:
    # pandas' C parser streams a gzip file: for the 2M-row shared file it peaks at half
    # the memory of pyarrow's reader and is as fast, so CSV goes through it.
    if name.endswith(".parquet"):
        frame: pd.DataFrame = _read_table(source, name, start_ms, end_ms).to_pandas()
        return frame
    if name.endswith(".gz"):
        return pd.read_csv(source, dtype=_PANDAS_TYPES, engine="c", compression="gzip")
    return pd.read_csv(source, dtype=_PANDAS_TYPES, engine="c")


def _read_table(
    source: str | IO[bytes], name: str, start_ms: int | None, end_ms: int | None
) -> pa.Table:
    if name.endswith(".parquet"):
        return _filter(pq.read_table(source), start_ms, end_ms)
    if name.endswith(".gz") and not isinstance(source, str):
        # a path is gunzipped by pyarrow itself (by extension); a stream must say so
        source = pa.CompressedInputStream(pa.PythonFile(source, mode="r"), "gzip")
    table = pacsv.read_csv(
        source,
        read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 22),
        convert_options=pacsv.ConvertOptions(column_types=_CSV_TYPES),
    )
    return _filter(table, start_ms, end_ms)


def _filter(table: pa.Table, start_ms: int | None, end_ms: int | None) -> pa.Table:
    # filter in arrow, before the pandas conversion, so a year of a 4-year file costs a year
    ts_name = "ts_ms" if "ts_ms" in table.column_names else "timestamp"
    if ts_name not in table.column_names or (start_ms is None and end_ms is None):
        return table
    ts = table.column(ts_name)
    mask = None
    if start_ms is not None:
        mask = pc.greater_equal(ts, start_ms)
    if end_ms is not None:
        upper = pc.less(ts, end_ms)
        mask = upper if mask is None else pc.and_(mask, upper)
    return table.filter(mask)


def _name(path: str | Path | Traversable) -> str:
    return path.name if isinstance(path, Path | Traversable) else Path(path).name


def list_samples() -> list[str]:
    """Names of the real candle files bundled with the package (see its samples README)."""
    root = resources.files(_SAMPLES_PACKAGE)
    return sorted(p.name for p in root.iterdir() if p.name.endswith(CANDLE_SUFFIXES))


def sample_path(name: str) -> Traversable:
    """The bundled sample file ``name`` (pass it to ``load_candles``).

    Raises:
        DataError: no sample has that name (the message lists the ones that exist).
    """
    entry = resources.files(_SAMPLES_PACKAGE).joinpath(name)
    if not entry.is_file():
        raise DataError(f"no bundled sample {name!r}; choose one of: {', '.join(list_samples())}")
    return entry


def write_candle_file(frame: pd.DataFrame, path: str | Path) -> int:
    """Write a candle frame as normalized CSV(.gz) or Parquet, chosen by the file suffix.

    CSV keeps the shared header (``timestamp``); Parquet keeps ``ts_ms`` and is written in
    row groups of 65,536 so that a date-range read skips what it does not need.

    Raises:
        DataError: the suffix is not one of ``.csv``, ``.csv.gz``, ``.parquet``.
    """
    target = Path(path)
    if not target.name.endswith(CANDLE_SUFFIXES):
        kinds = ", ".join(CANDLE_SUFFIXES)
        raise DataError(f"{target}: unknown candle file type; use one of {kinds}")
    table = pa.Table.from_pandas(frame[list(CANDLE_COLUMNS)], preserve_index=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.name.endswith(".parquet"):
        pq.write_table(table, target, row_group_size=65_536, compression="zstd")
    else:
        # pyarrow quotes header names; the shared format has a bare header line
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        with pa.output_stream(target, compression="detect") as sink:
            sink.write(("timestamp," + ",".join(VALUE_COLUMNS) + "\n").encode())
            pacsv.write_csv(table, sink, options)
    return int(table.num_rows)
