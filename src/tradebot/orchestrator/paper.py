"""Paper trading against the embedded sandbox exchange: the bot's real I/O path, offline.

The bot talks to the sandbox through ``CcxtConnector`` and unmodified ccxt over loopback,
exactly as it would to Binance. In replay mode the sandbox clock moves one bar at a time and
the bot runs its cycle after each, so a month of candles paper-trades in seconds and the
result can be held against a backtest of the same bars.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tradebot.config import Config
from tradebot.config.allocation import DEFAULT_VOLATILITY_WINDOW
from tradebot.domain.errors import ConfigError
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.ratelimit import RateBudget
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.venues import VenueAccount, VenueRouter
from tradebot.orchestrator.assembly import build_strategy, engine_factory
from tradebot.orchestrator.bot_settings import BotSettings
from tradebot.orchestrator.continuity import DowntimePolicy
from tradebot.orchestrator.live import TradingBot
from tradebot.sandbox import SandboxConfig, SandboxServer
from tradebot.state.db import create_database
from tradebot.state.repository import Repository
from tradebot.strategy.indicators import ema_convergence_bars

ProgressCallback = Callable[[int, int], None]
# A replay runs many bars per real second, so the request budget of both sides is lifted
# together (real trading keeps Binance's limits; see exchange/ccxt/ratelimit.py).
_REPLAY_WEIGHT = 10_000_000


@dataclass(frozen=True, slots=True)
class PaperSetup:
    """Where the paper session's market data, account and state come from."""

    data_files: Mapping[str, Path]
    """The candle file the sandbox replays for each symbol (all in lock-step)."""
    start_index: int = 400
    database_url: str = "sqlite:///:memory:"
    starting_cash: Decimal = Decimal(10_000)
    spread_bps: Decimal = Decimal(0)
    level_notional: Decimal = Decimal(10_000_000)
    api_key: str = "paper-key"
    api_secret: str = "paper-secret"  # noqa: S105 (the local sandbox's own credential)


@dataclass(slots=True)
class PaperSession:
    """A running sandbox (one a venue) and the bot trading it."""

    server: SandboxServer
    bot: TradingBot
    more_servers: tuple[SandboxServer, ...] = ()
    """The other venues' sandboxes (several venues), moved in lock-step with ``server``."""

    def server_of(self, symbol: str) -> SandboxServer:
        """The sandbox trading ``symbol``."""
        for server in self.more_servers:
            if symbol in server.config.data_files:
                return server
        return self.server

    async def replay(self, bars: int, progress: ProgressCallback | None = None) -> int:
        """Advance the sandboxes ``bars`` bars, running the bot's cycle after each."""
        done = 0
        for done in range(1, bars + 1):
            for server in (self.server, *self.more_servers):
                await server.advance(1)
            await self.bot.poll()
            if progress is not None:
                progress(done, bars)
        return done


@asynccontextmanager
async def paper_session(config: Config, setup: PaperSetup) -> AsyncIterator[PaperSession]:
    """Start a deterministic sandbox on a free port for each venue and a bot trading them.

    Each venue's sandbox replays its symbols' files and holds its own cash (one venue:
    ``setup.starting_cash``; several: each venue's ``starting_cash``, as the backtest).

    Raises:
        ConfigError: a symbol of ``trading.symbols`` has no data file.
    """
    symbols = config.trading.all_symbols
    missing = [s for s in symbols if s not in setup.data_files]
    if missing:
        raise ConfigError(f"no candle file for {', '.join(missing)} (trading.symbols)")
    venues = config.venues
    async with contextlib.AsyncExitStack() as stack:
        accounts: list[VenueAccount] = []
        servers: list[SandboxServer] = []
        for venue in venues:
            cash = setup.starting_cash if len(venues) == 1 else Decimal(venue.starting_cash)
            sandbox = _sandbox(config, setup, venue.symbols, cash)
            server = await stack.enter_async_context(SandboxServer(sandbox))
            servers.append(server)
            accounts.append(VenueAccount(venue.id, _connector(server, setup), venue.symbols))
        connector = accounts[0].connector if len(accounts) == 1 else VenueRouter(accounts)
        venue_of = {s: v.id for v in venues for s in v.symbols}
        repo = Repository(create_database(setup.database_url), venues=venue_of)
        window = max(config_window(config), 50)
        bot = TradingBot(
            engine_factory(config),
            connector,
            repo,
            BotSettings(
                tuple(symbols),
                config.trading.timeframe,
                window_bars=window,
                on_exchange_down=DowntimePolicy(config.downtime.on_exchange_down),
                max_signal_age_bars=config.trading.max_signal_age_bars,
            ),
        )
        try:
            await bot.start()
            yield PaperSession(servers[0], bot, tuple(servers[1:]))
        finally:
            await bot.close()


def _sandbox(
    config: Config, setup: PaperSetup, symbols: Sequence[str], cash: Decimal
) -> SandboxConfig:
    return SandboxConfig(
        port=0,
        api_key=setup.api_key,
        api_secret=setup.api_secret,
        data_files={s: setup.data_files[s] for s in symbols},
        balances={config.trading.quote_currency: cash},
        maker_fee_rate=Decimal(repr(config.backtest.maker_fee_rate)),
        taker_fee_rate=Decimal(repr(config.backtest.fee_rate)),
        spread_bps=setup.spread_bps,
        level_notional=setup.level_notional,
        deterministic=True,
        start_index=setup.start_index,
        weight_limit_1m=_REPLAY_WEIGHT,
    )


def _connector(server: SandboxServer, setup: PaperSetup) -> CcxtConnector:
    settings = ConnectSettings(
        venue=Venue.SANDBOX,
        sandbox_url=server.http_url,
        sandbox_ws_url=server.ws_url,
        websockets=False,
        retry=RetryPolicy(),
        budget=RateBudget(weight_per_window=_REPLAY_WEIGHT, orders_per_window=_REPLAY_WEIGHT),
    )
    return connect(settings, Credentials(setup.api_key, setup.api_secret))


_ATR_STOPS = frozenset({"atr", "trailing_atr"})
MAX_WINDOW_BARS = 1000
"""Candles one request fetches at startup (Binance's kline limit): the longest window kept."""


def config_window(config: Config) -> int:
    """Candles the bot keeps: what live decisions need to equal a backtest's.

    The longest of: each symbol's strategy's ``live_window_bars``, the returns the
    correlation limit measures (``risk.correlation_window``, when it is on), those
    inverse-volatility allocation measures (``risk.allocation.volatility_window``) and the
    bars Wilder's ATR needs to forget its start (when stops or sizing read it), plus
    two; a backtest reads them
    from the whole history, so a shorter live window would decide otherwise.

    Raises:
        ConfigError: more is needed than a window holds; trading on a shorter one would
            give other indicator values, hence other trades, than its backtest.
    """
    needs: dict[str, int] = {}
    for symbol in config.trading.all_symbols:
        strategy = build_strategy(config, symbol)
        needs[f"strategy {strategy.name} (live_window_bars)"] = strategy.live_window_bars
    risk = config.risk
    if risk.stop_loss_method in _ATR_STOPS or risk.position_sizing_method == "volatility_target":
        convergence = ema_convergence_bars(risk.atr_period, wilder_smoothing=True)
        needs["risk.atr_period"] = risk.atr_period + convergence
    if risk.max_correlated_exposure is not None:
        needs["risk.correlation_window"] = risk.correlation_window + 1
    if risk.allocation.method == "inverse_volatility":
        window = risk.allocation.volatility_window or DEFAULT_VOLATILITY_WINDOW
        needs["risk.allocation.volatility_window"] = window + 1
    what, bars = max(needs.items(), key=lambda item: item[1])
    if bars + 2 > MAX_WINDOW_BARS:
        msg = (
            f"{what} needs {bars} candles, but a live window holds at most "
            f"{MAX_WINDOW_BARS - 2}: live decisions would not be its backtest's. Use shorter "
            "periods or a longer timeframe (`tradebot lookahead-check` says how many bars a "
            "strategy needs)"
        )
        raise ConfigError(msg)
    return bars + 2
