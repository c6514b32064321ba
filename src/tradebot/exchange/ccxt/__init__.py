"""The CCXT adapter: the only code in tradebot that imports ccxt.

Public API: ``CcxtConnector``, ``connect``/``ConnectSettings``/``Venue`` (the factory),
``Credentials`` with ``from_env``/``from_file``, ``ConnectorMetrics``, ``RateBudget`` and
``SharedRateLimiter``, ``RetryPolicy``, ``StreamSettings`` and ``MarketTrade``.
"""
