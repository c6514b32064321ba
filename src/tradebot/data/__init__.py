"""DATA PIPELINE: candle files, quality checks, repairs, resampling, the store and the cache.

Modules (import from them directly; this package re-exports nothing, so that importing a
light module never pulls in SQLAlchemy):

* ``frame``: the canonical candle frame (RangeIndex; ``ts_ms`` int64, OHLCV float64).
* ``load``: ``load_candles``, ``read_candle_file``, ``write_candle_file``, ``sample_path``,
  ``list_samples``.
* ``quality``: ``check_candles`` -> ``QualityReport``.  ``repair``: ``repair``, ``enforce``.
* ``resample``: ``resample``, ``align_higher_timeframe``, ``cross_check``.
* ``store``: ``CandleStore`` (SQLite/PostgreSQL, the only SQLAlchemy user) over ``cold``
  (Parquet history).  ``cache``: ``MarketDataManager``, ``AsyncMarketDataManager``,
  ``FrameFetcher``, ``connector_fetcher``.
* ``download``: ``download`` pages a venue's candles into the store, resuming.
* ``recorder``: ``TradeRecorder`` writes streamed trades to the store in batches.
"""
