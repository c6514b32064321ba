"""tradebot: one engine for backtest, paper and live crypto trading."""
