"""CandleStore: candles and ticks in SQLite or PostgreSQL, with Parquet/CSV import and export.

The warm store of the design: the tables ``candles`` (primary key symbol, timeframe, ts_ms;
on SQLite a WITHOUT ROWID table, so a date-range read is one clustered index scan) and
``ticks`` (public trades; primary key symbol, trade_id, so re-recording a stream is
idempotent). This is the one data module that imports SQLAlchemy (an import-linter rule).
Old history can be archived to a Parquet cold tier (``tradebot.data.cold``).

Bulk reads and writes go through the DBAPI cursor of the SQLAlchemy engine with the
statement SQLAlchemy compiled for its dialect: building SQLAlchemy ``Row`` objects for a year
of 1m candles costs seconds, the raw cursor a fraction of one. Cold history belongs in
Parquet files (``export_parquet``), which ``load_candles`` reads faster still.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from tradebot.data.cold import ColdStore
from tradebot.data.frame import CANDLE_COLUMNS, VALUE_COLUMNS, candles_from_arrays
from tradebot.data.load import load_candles, write_candle_file
from tradebot.data.quality import find_gaps
from tradebot.data.repair_kind import Repair
from tradebot.domain.errors import DataError
from tradebot.domain.market import timeframe_to_ms

metadata = MetaData()
candles_table = Table(
    "candles",
    metadata,
    Column("symbol", String(40), primary_key=True),
    Column("timeframe", String(8), primary_key=True),
    Column("ts_ms", BigInteger, primary_key=True, autoincrement=False),
    *(Column(name, Float(53), nullable=False) for name in VALUE_COLUMNS),
    sqlite_with_rowid=False,
)
ticks_table = Table(
    "ticks",
    metadata,
    Column("symbol", String(40), primary_key=True),
    Column("trade_id", String(64), primary_key=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column("price", Float(53), nullable=False),
    Column("qty", Float(53), nullable=False),
    Column("side", String(4), nullable=False),
    Index("ix_ticks_symbol_ts_ms", "symbol", "ts_ms"),
)


@dataclass(frozen=True, slots=True)
class Tick:
    """One public trade from the exchange's trade stream."""

    symbol: str
    ts_ms: int
    trade_id: str
    price: float
    qty: float
    side: Literal["buy", "sell"]


@dataclass(frozen=True, slots=True)
class StoredRange:
    """What the store holds for one (symbol, timeframe)."""

    symbol: str
    timeframe: str
    first_ts_ms: int
    last_ts_ms: int
    rows: int
    gaps: int
    missing: int


def _create_tables(engine: Engine, attempts: int = 5) -> None:
    """Create the store's tables unless they exist, when another process may be doing so.

    ``create_all`` checks, then creates: a bot recording trades and a ``tradebot data``
    command opening one new file at once both see no table, and the second to create one
    fails with "table ... already exists". Checking again after such a failure finds the
    other's table (a PostgreSQL creator may still hold its transaction: wait a moment);
    an error that persists is raised.
    """
    for attempt in range(attempts):
        try:
            metadata.create_all(engine)
            return
        except DBAPIError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def engine_url(path_or_url: str | Path) -> str:
    """A SQLAlchemy URL: a URL is kept, anything else is a SQLite file path."""
    text = str(path_or_url)
    return text if "://" in text else f"sqlite:///{Path(text).expanduser()}"


class CandleStore:
    """Candles and ticks in one SQL database (a SQLite file or a PostgreSQL URL).

    With a cold directory (by default ``<db stem>_cold/`` beside a SQLite file; none for a
    URL unless given) ``archive`` moves old candles to Parquet and ``read``/``ranges`` see
    both tiers as one. ``end_ms`` bounds are exclusive: ``start_ms <= ts_ms < end_ms``.
    """

    def __init__(self, path_or_url: str | Path, cold_dir: str | Path | None = None) -> None:
        self.url = engine_url(path_or_url)
        if cold_dir is None and "://" not in str(path_or_url):
            db = Path(path_or_url).expanduser()
            cold_dir = db.with_name(f"{db.stem}_cold")
        self.cold = None if cold_dir is None else ColdStore(Path(cold_dir))
        self._engine = create_engine(self.url)
        if self._engine.dialect.name == "sqlite":
            event.listen(self._engine, "connect", _sqlite_pragmas)
        _create_tables(self._engine)

    @property
    def safe_url(self) -> str:
        """The database URL with any password masked, for messages."""
        return self._engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the connection pool."""
        self._engine.dispose()

    def __enter__(self) -> CandleStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, symbol: str, timeframe: str, frame: pd.DataFrame) -> int:
        """Upsert candles (a row with an existing key replaces it); returns rows written."""
        timeframe_to_ms(timeframe)
        cols = [frame[c].to_numpy(np.float64).tolist() for c in VALUE_COLUMNS]
        ts = frame["ts_ms"].to_numpy(np.int64).tolist()
        rows = [(symbol, timeframe, t, *v) for t, *v in zip(ts, *cols, strict=True)]
        keys = ["symbol", "timeframe", "ts_ms"]
        self._upsert(candles_table, keys, list(CANDLE_COLUMNS[1:]), rows)
        return len(rows)

    def read(
        self, symbol: str, timeframe: str, start_ms: int | None = None, end_ms: int | None = None
    ) -> pd.DataFrame:
        """Candles of ``[start_ms, end_ms)`` from both tiers, sorted (maybe empty).

        Where both tiers hold a bar the SQL row wins: it was written later.
        """
        warm = self._read_warm(symbol, timeframe, start_ms, end_ms)
        cold = None if self.cold is None else self.cold.read(symbol, timeframe, start_ms, end_ms)
        if cold is None or cold.empty:
            return warm
        if warm.empty:
            return cold
        both = pd.concat([cold, warm], ignore_index=True)
        if warm["ts_ms"].iloc[0] > cold["ts_ms"].iloc[-1]:
            return both
        both = both.drop_duplicates("ts_ms", keep="last").sort_values("ts_ms", kind="stable")
        return both.reset_index(drop=True)

    def archive(self, symbol: str, timeframe: str, before_ms: int) -> int:
        """Move candles older than ``before_ms`` from SQL to the cold Parquet file.

        Raises:
            DataError: the store has no cold directory.
        """
        if self.cold is None:
            raise DataError("this store has no cold directory; open it with cold_dir=PATH")
        frame = self._read_warm(symbol, timeframe, None, before_ms)
        if frame.empty:
            return 0
        self.cold.merge(symbol, timeframe, frame)
        c = candles_table.c
        stmt = candles_table.delete().where(
            c.symbol == symbol, c.timeframe == timeframe, c.ts_ms < before_ms
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)
        return len(frame)

    def _read_warm(
        self, symbol: str, timeframe: str, start_ms: int | None, end_ms: int | None
    ) -> pd.DataFrame:
        c = candles_table.c
        stmt = select(c.ts_ms, *(c[name] for name in VALUE_COLUMNS)).where(
            c.symbol == symbol, c.timeframe == timeframe
        )
        if start_ms is not None:
            stmt = stmt.where(c.ts_ms >= start_ms)
        if end_ms is not None:
            stmt = stmt.where(c.ts_ms < end_ms)
        with self._cursor(stmt.order_by(c.ts_ms)) as cursor:
            rows = cursor.fetchall()
        flat = np.fromiter(itertools.chain.from_iterable(rows), np.float64, count=len(rows) * 6)
        grid = flat.reshape(-1, 6)
        return candles_from_arrays(grid[:, 0].astype(np.int64), *grid[:, 1:].T)

    def delete(self, symbol: str, timeframe: str) -> int:
        """Remove every candle of (symbol, timeframe), both tiers; returns rows removed."""
        c = candles_table.c
        stmt = candles_table.delete().where(c.symbol == symbol, c.timeframe == timeframe)
        with self._engine.begin() as conn:
            removed = int(conn.execute(stmt).rowcount)
        return removed + (0 if self.cold is None else self.cold.delete(symbol, timeframe))

    def ranges(self) -> list[StoredRange]:
        """Every (symbol, timeframe) stored, with its first and last bar, rows and gaps."""
        c = candles_table.c
        stmt = (
            select(c.symbol, c.timeframe, func.min(c.ts_ms), func.max(c.ts_ms), func.count())
            .group_by(c.symbol, c.timeframe)
            .order_by(c.symbol, c.timeframe)
        )
        with self._engine.connect() as conn:
            groups = conn.execute(stmt).all()
        cold = self.cold
        cold_series = set() if cold is None else set(cold.series())
        warm = [
            StoredRange(sym, tf, int(first), int(last), int(n), *self._gaps(sym, tf))
            for sym, tf, first, last, n in groups
            if (sym, tf) not in cold_series
        ]
        tiered = [self._tiered_range(cold, sym, tf) for sym, tf in cold_series if cold]
        return sorted([*warm, *tiered], key=lambda r: (r.symbol, r.timeframe))

    def _tiered_range(self, cold: ColdStore, symbol: str, timeframe: str) -> StoredRange:
        # both tiers' timestamps, merged in numpy (cold files are read by column)
        c = candles_table.c
        stmt = select(c.ts_ms).where(c.symbol == symbol, c.timeframe == timeframe)
        with self._cursor(stmt) as cursor:
            warm = np.fromiter((row[0] for row in cursor.fetchall()), np.int64)
        ts = np.union1d(cold.timestamps(symbol, timeframe), warm)
        gaps = find_gaps(ts, timeframe)
        missing = sum(g.missing for g in gaps)
        return StoredRange(symbol, timeframe, int(ts[0]), int(ts[-1]), ts.size, len(gaps), missing)

    def _gaps(self, symbol: str, timeframe: str) -> tuple[int, int]:
        # gap count and missing candles, by a window function over the clustered key
        c = candles_table.c
        step = timeframe_to_ms(timeframe)
        diffs = (
            select((c.ts_ms - func.lag(c.ts_ms).over(order_by=c.ts_ms)).label("d"))
            .where(c.symbol == symbol, c.timeframe == timeframe)
            .subquery()
        )
        stmt = select(func.count(), func.coalesce(func.sum(diffs.c.d), 0)).where(diffs.c.d > step)
        with self._engine.connect() as conn:
            gaps, span = conn.execute(stmt).one()
        return int(gaps), int(span) // step - int(gaps)

    def write_ticks(self, ticks: Iterable[Tick]) -> int:
        """Record public trades (a trade id seen before is overwritten, not doubled)."""
        rows = [(t.symbol, t.trade_id, t.ts_ms, t.price, t.qty, t.side) for t in ticks]
        keys = ["symbol", "trade_id"]
        self._upsert(ticks_table, keys, ["ts_ms", "price", "qty", "side"], rows)
        return len(rows)

    def read_ticks(
        self, symbol: str, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[Tick]:
        """Trades of ``[start_ms, end_ms)``, oldest first (ties by trade id)."""
        c = ticks_table.c
        stmt = select(c.symbol, c.ts_ms, c.trade_id, c.price, c.qty, c.side)
        stmt = stmt.where(c.symbol == symbol)
        if start_ms is not None:
            stmt = stmt.where(c.ts_ms >= start_ms)
        if end_ms is not None:
            stmt = stmt.where(c.ts_ms < end_ms)
        with self._engine.connect() as conn:
            rows = conn.execute(stmt.order_by(c.ts_ms, c.trade_id)).all()
        return [Tick(r[0], int(r[1]), r[2], float(r[3]), float(r[4]), r[5]) for r in rows]

    def import_file(
        self,
        path: str | Path,
        symbol: str,
        timeframe: str,
        repair: Repair = "refuse",
    ) -> int:
        """Check a CSV(.gz) or Parquet candle file and upsert it; returns rows written.

        Raises:
            DataError: the file is unreadable, or bad and ``repair`` is ``"refuse"``.
        """
        return self.write(symbol, timeframe, load_candles(path, repair=repair, timeframe=timeframe))

    def export_file(
        self,
        symbol: str,
        timeframe: str,
        path: str | Path,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> int:
        """Write stored candles to CSV(.gz) or Parquet (by suffix); returns rows written.

        Raises:
            DataError: nothing is stored for that symbol, timeframe and range.
        """
        frame = self.read(symbol, timeframe, start_ms, end_ms)
        if frame.empty:
            raise DataError(
                f"no {symbol} {timeframe} candles stored in that range; "
                "see `tradebot data list` for what is stored"
            )
        return write_candle_file(frame, path)

    def export_parquet(
        self,
        symbol: str,
        timeframe: str,
        path: str | Path,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> int:
        """Write stored candles to a Parquet file for cold storage; returns rows written."""
        if not str(path).endswith(".parquet"):
            raise DataError(f"{path}: a Parquet export needs the .parquet suffix")
        return self.export_file(symbol, timeframe, path, start_ms, end_ms)

    def _compile(self, stmt: ClauseElement) -> SQLCompiler:
        compiled = stmt.compile(dialect=self._engine.dialect)
        if not isinstance(compiled, SQLCompiler):  # DDL compiles differently; never passed here
            raise TypeError(f"not a SQL statement: {stmt}")
        return compiled

    @contextmanager
    def _cursor(self, stmt: ClauseElement) -> Iterator[Any]:
        # the DBAPI cursor, executing what SQLAlchemy compiled for this dialect
        compiled = self._compile(stmt)
        params: Sequence[object] | dict[str, object] = (
            [compiled.params[name] for name in compiled.positiontup]
            if compiled.positiontup is not None
            else compiled.params
        )
        raw = self._engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(str(compiled), params)
            yield cursor
        finally:
            raw.close()

    def _upsert(
        self, table: Table, keys: list[str], values: list[str], rows: Sequence[tuple[object, ...]]
    ) -> None:
        if not rows:
            return
        dialect = sqlite if self._engine.dialect.name == "sqlite" else postgresql
        stmt = dialect.insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={name: stmt.excluded[name] for name in values}
        )
        compiled = self._compile(stmt)
        order = [*keys, *values]
        if compiled.positiontup is not None:
            index = [order.index(name) for name in compiled.positiontup]
            params: list[Any] = [tuple(row[i] for i in index) for row in rows]
        else:
            params = [dict(zip(order, row, strict=True)) for row in rows]
        raw = self._engine.raw_connection()
        try:
            raw.cursor().executemany(str(compiled), params)
            raw.commit()
        finally:
            raw.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    # WAL lets a backtest read while the recorder writes; NORMAL sync is safe under WAL
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
