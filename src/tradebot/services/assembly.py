"""Build the services and their bus consumers from the config, as the single process is built.

The strategy and the execution use ``orchestrator.assembly``: the strategy service the
configured strategy of each symbol, the execution service the same engine factory
``tradebot run`` uses with each symbol's strategy replaced by its ``PublishedSignals``
stand-in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from tradebot.config import Config
from tradebot.exchange.port import ExchangeConnector
from tradebot.orchestrator.assembly import build_strategy, engine_factory
from tradebot.orchestrator.bot_settings import BotSettings
from tradebot.orchestrator.live import TradingBot
from tradebot.orchestrator.trade_log import BotObserver
from tradebot.services.bus import (
    BusConsumer,
    EventBus,
    Family,
    Handler,
    MemoryProcessedIds,
    ProcessedIds,
)
from tradebot.services.bus.redis_streams import RedisSettings, RedisStreamsBus
from tradebot.services.execution import ExecutionService
from tradebot.services.market_data import MarketDataService
from tradebot.services.published import PublishedSignals
from tradebot.services.strategy import StrategyService
from tradebot.state import Repository


def market_data_service(
    config: Config,
    connector: ExchangeConnector,
    bus: EventBus,
    venue: str,
    symbols: Sequence[str] | None = None,
) -> MarketDataService:
    """The closed candles of ``symbols`` (default: every traded symbol) on ``venue``, polled
    every ``services.market_data.poll_interval_s`` (woken by the candle stream if
    ``websocket``)."""
    settings = config.services.market_data
    traded = config.trading.all_symbols if symbols is None else tuple(symbols)
    return MarketDataService(
        connector, bus, venue, traded, config.trading.timeframe,
        poll_interval_s=settings.poll_interval_s, stream=settings.websocket,
    )  # fmt: skip


def bus_consumer(
    config: Config,
    bus: EventBus,
    family: Family,
    group: str,
    name: str,
    handler: Handler,
    processed: ProcessedIds | None = None,
) -> BusConsumer:
    """``name`` in ``group`` on ``family``'s stream, taking over what another consumer left
    pending for ``services.bus.claim_idle_s``.

    Processed ids are kept in memory unless ``processed`` is given: the strategy's effect
    (re-publishing under the same id) is idempotent, and the execution's record is the
    bar-decided mark in its database.
    """
    return BusConsumer(
        bus, family, group, name, handler, processed or MemoryProcessedIds(),
        claim_idle_ms=int(config.services.bus.claim_idle_s * 1000),
    )  # fmt: skip


def strategy_service(
    config: Config, bus: EventBus, history: ExchangeConnector, venue: str, window_bars: int
) -> StrategyService:
    """Each traded symbol's configured strategy, deciding on ``window_bars`` candles."""
    symbols = config.trading.all_symbols
    strategies = {s: build_strategy(config, s) for s in symbols}
    return StrategyService(bus, history, venue, config.trading.timeframe, strategies, window_bars)


def execution_service(
    config: Config,
    connector: ExchangeConnector,
    repository: Repository,
    bus: EventBus,
    settings: BotSettings,
    max_signal_age_ms: int,
    observer: BotObserver | None = None,
    clock: Callable[[], float] = time.time,
) -> ExecutionService:
    """The single process's bot, its strategies answered by the strategy service, syncing
    every ``services.execution.sync_interval_s``; ``clock``: seconds since the epoch."""
    published = {s: PublishedSignals(build_strategy(config, s)) for s in settings.symbols}
    factory = engine_factory(config, strategy_for=published.__getitem__)
    bot = TradingBot(factory, connector, repository, settings, observer=observer)
    sync_interval_s = config.services.execution.sync_interval_s
    return ExecutionService(
        bot, published, bus, max_signal_age_ms, clock=clock, sync_interval_s=sync_interval_s
    )


def redis_bus(config: Config) -> RedisStreamsBus:
    """The Redis Streams bus ``services.bus`` names (the password read here, never logged).

    Raises:
        ConfigError: the password file cannot be used.
    """
    bus = config.services.bus
    settings = RedisSettings(
        host=bus.host,
        port=bus.port,
        password=bus.secret(),
        db=bus.db,
        prefix=bus.prefix,
        maxlen=bus.maxlen,
        retry_for_s=bus.retry_for_s,
    )
    return RedisStreamsBus(settings)
