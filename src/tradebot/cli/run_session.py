"""What ``tradebot run``, ``stop``, ``resume`` and ``status`` do; ``run.py`` declares them.

``run`` builds the exchange connection (an embedded sandbox for paper mode when the config
says so), the database and the ``TradingBot``, then trades until SIGINT/SIGTERM, or with
``--replay`` advances the deterministic sandbox bar by bar as fast as it can and prints a
summary. ``stop`` and ``status`` talk to the bot only through its database, so they work
while it runs in another process (or when it is not running at all).

Kept apart from the declarations: a command's ``--help`` imports its module, and this one
imports the exchange, the sandbox, the engine and the database (3.5 s before ``run --help``
answered).
"""

from __future__ import annotations

import asyncio
import errno
import getpass
import signal
import tempfile
from decimal import Decimal
from functools import partial
from pathlib import Path

import typer
from rich.console import Console

from tradebot.cli.paper_session import (
    Fixes,
    Session,
    data_files,
    resume_command,
    run_command,
    sandbox_server,
    tell_account,
)
from tradebot.cli.run_tables import status_table, summary_table
from tradebot.cli.serving import embedded_dashboard
from tradebot.cli.setup import configure, log_as_configured, open_repository
from tradebot.cli.venues import embedded_sandbox, live_credentials
from tradebot.cli.watch import session_metrics, watched
from tradebot.config import Config
from tradebot.domain.errors import ConfigError, TradebotError
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import (
    ConnectSettings,
    Venue,
    connect,
    connect_venues,
    settings_from_config,
)
from tradebot.exchange.ccxt.market_source import market_data_source
from tradebot.exchange.ccxt.ratelimit import RateBudget
from tradebot.exchange.port import ExchangeConnector
from tradebot.orchestrator.assembly import engine_factory
from tradebot.orchestrator.bot_settings import BotSettings
from tradebot.orchestrator.collector import startup_frozen
from tradebot.orchestrator.continuity import DowntimePolicy
from tradebot.orchestrator.controls import ControlAction, Operator, apply_control
from tradebot.orchestrator.halt import halt_message
from tradebot.orchestrator.live import TradingBot
from tradebot.orchestrator.paper import PaperSession, config_window
from tradebot.orchestrator.paper_account import PaperAccount, open_paper_account
from tradebot.orchestrator.rebuild import refuse_blind_start
from tradebot.orchestrator.recording import TradeSource, record_trades
from tradebot.orchestrator.trade_log import BotObserver
from tradebot.sandbox import SandboxConfig
from tradebot.sandbox.mirror import MirrorConfig
from tradebot.state import (
    KillSwitchLevel,
    acquire_instance_lock,
    inspect_database,
)

# A replay runs many bars per real second, so both sides' request budgets are lifted
# together (live trading keeps the venue's limits).
_REPLAY_WEIGHT = 10_000_000
_SANDBOX_KEY, _SANDBOX_SECRET = "paper-key", "paper-secret"  # the embedded sandbox's own


def start_run(
    context: typer.Context,
    mode: str | None,
    config_path: Path | None,
    db: Path | None,
    bars: int | None,
    replay: bool,
    data: list[Path] | None,
    speed: float,
    real_money: bool,
    record: bool,
    fresh: bool,
) -> None:
    """``tradebot run`` with its options (``run.run`` says what each means)."""
    console = Console()
    try:
        config = configure(config_path, mode, db)
        log_as_configured(context, config)
        if config.exchange.mode == "backtest":
            raise ConfigError("exchange.mode is backtest: run `tradebot backtest`, or --mode paper")
        data = data or []
        _check_market_data(config, data, replay or bars is not None)
        if record:
            _check_recording(config, replay or bars is not None)
        live = config.exchange.mode == "live"
        embedded = not live and embedded_sandbox(config)
        if fresh and not embedded:
            raise ConfigError(
                "--fresh starts a new account of the embedded paper sandbox; a live or an "
                "external exchange keeps its own account: point --db at a new file instead"
            )
        credentials = live_credentials(config, real_money) if live else None
        again = run_command(config_path, config, data, bars, replay, speed) + " --fresh"
        fixes = Fixes(resume_command(config_path, config), again if embedded else None)
        with acquire_instance_lock(config.database.sqlalchemy_url):  # one bot per database
            account = None
            if embedded:
                account = open_paper_account(config, fresh=fresh, fresh_command=again)
                tell_account(account, config, console)
            if credentials is not None:
                trades = _live_connector(config, credentials, True) if record else None
                keys = partial(live_credentials, config, real_money)
                connector = connect_venues(config, keys, websockets=True)
                asyncio.run(_trade(config, connector, console, trades, fixes))
            elif replay or bars is not None:
                asyncio.run(_replay(config, data, bars, console, Session(account, fixes)))
            else:
                session = Session(account, fixes)
                asyncio.run(_paper(config, data, speed, console, session, record=record))
    except TradebotError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        console.print(  # the embedded sandbox could not bind its port
            f"[red]error:[/red] the embedded sandbox cannot listen: {exc.strerror} "
            f"({exc}). Set exchange.sandbox.port to a free port or stop what uses it."
        )
        raise typer.Exit(2) from None


def stop_bot(flatten: bool, entries: bool, config_path: Path | None, db: Path | None) -> None:
    """``tradebot stop``: halt the bot, or stop its entries, or flatten."""
    if flatten and entries:
        typer.echo("error: --entries stops only entries; --flatten closes everything: pick one")
        raise typer.Exit(2)
    action = ControlAction.STOP
    if flatten or entries:
        action = ControlAction.FLATTEN if flatten else ControlAction.STOP_ENTRIES
    typer.echo(_control(config_path, db, action, "tradebot stop"))


def resume_bot(config_path: Path | None, db: Path | None) -> None:
    """``tradebot resume``: the kill switch back to ACTIVE."""
    typer.echo(_control(config_path, db, ControlAction.RESUME, "tradebot resume"))


def _control(config_path: Path | None, db: Path | None, action: ControlAction, why: str) -> str:
    # The same controls as the dashboard's, audited under the shell user's name.
    try:
        repo = open_repository(configure(config_path, None, db), create=False)
    except TradebotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    who = Operator(getpass.getuser(), "operator", "cli")
    return apply_control(repo, action, who, why).message


def show_status(config_path: Path | None, db: Path | None) -> None:
    """``tradebot status``: the kill switch, last bar, open orders, position, snapshot."""
    console = Console()
    try:
        config = configure(config_path, None, db)
        repo = open_repository(config, create=False)
    except TradebotError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(status_table(repo, config))


def _live_connector(config: Config, credentials: Credentials, ws: bool = False) -> CcxtConnector:
    return connect(settings_from_config(config, websockets=ws), credentials)


async def _bot(
    config: Config,
    connector: ExchangeConnector,
    observer: BotObserver | None = None,
    *,
    streams: bool = False,
) -> TradingBot:
    # Called with the instance lock held. A damaged database, or an empty one on an account
    # that has this bot's history, is refused before anything is written to it. ``streams``:
    # a real-time bot follows its candles on the connector's websocket (a replay moves the
    # clock itself and asks REST right after each move).
    build, symbols = engine_factory(config), config.trading.all_symbols
    try:
        saved = inspect_database(config.database.sqlalchemy_url)
        await refuse_blind_start(build, connector, symbols, saved)
    except BaseException:
        await connector.close()
        raise
    settings = bot_settings(config, streams=streams)
    return TradingBot(build, connector, open_repository(config), settings, observer=observer)


def bot_settings(config: Config, *, streams: bool = False) -> BotSettings:
    """The shell's settings from the config (``tradebot run`` and the execution service)."""
    return BotSettings(
        tuple(config.trading.all_symbols),
        config.trading.timeframe,
        window_bars=max(config_window(config), 50),
        poll_interval_s=float(config.trading.cycle_interval_s),
        health_check_interval_s=float(config.downtime.health_check_interval_s),
        on_exchange_down=DowntimePolicy(config.downtime.on_exchange_down),
        max_signal_age_bars=config.trading.max_signal_age_bars,
        stream_candles=streams,
    )


# ----------------------------------------------------------------------------- paper
def _check_recording(config: Config, replaying: bool) -> None:
    if len(config.trading.all_symbols) > 1:
        raise ConfigError(
            "--record-trades records the public trades of one market; trading.symbols "
            f"lists {len(config.trading.all_symbols)}. Record each market with its own "
            "`tradebot record`, or drop --record-trades"
        )
    if replaying:
        raise ConfigError(
            "--record-trades cannot record a replay: --bars/--replay runs the sandbox bar "
            "by bar at full speed, with no live trade stream to store. Drop --bars and "
            "--replay to record while paper trading, or drop --record-trades"
        )


def _check_market_data(config: Config, data: list[Path], replay: bool) -> None:
    live_prices = [v.id for v in config.venues[1:] if v.connection.sandbox.market_data != "replay"]
    if live_prices:  # several venues: each an external sandbox
        raise ConfigError(
            f"exchange.venues.{live_prices[0]}.sandbox.market_data is not replay: only the "
            "embedded sandbox acts on it, and several venues trade sandboxes of their own"
        )
    sandbox = config.venues[0].connection.sandbox
    if config.exchange.mode != "paper" or sandbox.market_data == "replay":
        return
    setting = f"exchange.sandbox.market_data is {sandbox.market_data} (live prices)"
    if not sandbox.embedded:
        raise ConfigError(
            f"{setting}, which only the embedded sandbox acts on (embedded: false): set "
            "embedded: true, or start the other one with `tradebot sandbox --market-data "
            f"{sandbox.market_data}`"
        )
    if replay or data:
        raise ConfigError(
            f"{setting}: --bars, --replay and --data replay a candle file; drop them, or set "
            "exchange.sandbox.market_data: replay"
        )


def _mirror(config: Config) -> MirrorConfig | None:
    # Paper trading on live prices: the embedded sandbox follows the exchange's public candles.
    sandbox = config.exchange.sandbox
    if sandbox.market_data == "replay":
        return None
    url = sandbox.market_data_url
    source = market_data_source(sandbox.market_data, url, timeout_s=config.exchange.timeout_s)
    label = f"exchange.sandbox.market_data: {sandbox.market_data}"
    return MirrorConfig(
        source,
        tuple(config.trading.all_symbols),
        config.trading.timeframe,
        label if url is None else f"{label} (market_data_url {url})",
        poll_s=sandbox.market_data_poll_s,
    )


def _sandbox_config(
    config: Config, data: dict[str, Path], account: PaperAccount | None, *, deterministic: bool
) -> SandboxConfig:
    return SandboxConfig(
        host=config.exchange.sandbox.host,
        port=config.exchange.sandbox.port,
        api_key=_SANDBOX_KEY,
        api_secret=_SANDBOX_SECRET,
        data_files=data,
        balances={config.trading.quote_currency: config.trading.starting_cash},
        maker_fee_rate=Decimal(repr(config.backtest.maker_fee_rate)),
        taker_fee_rate=Decimal(repr(config.backtest.fee_rate)),
        spread_bps=Decimal(0),
        level_notional=Decimal(10_000_000),
        deterministic=deterministic,
        start_index=max(config_window(config), 50),
        weight_limit_1m=_REPLAY_WEIGHT if deterministic else 6000,
        snapshot_path=None if account is None else account.path,
        mirror=None if deterministic else _mirror(config),  # last: it opens a connection
    )


def _sandbox_connector(url: str, runtime: Path, *, replay: bool, ws: bool = False) -> CcxtConnector:
    # An embedded sandbox is an exchange of its own: its request budget is not shared with
    # other sandboxes or bots on this host (``runtime`` is private to this run).
    budget = RateBudget()
    if replay:
        budget = RateBudget(weight_per_window=_REPLAY_WEIGHT, orders_per_window=_REPLAY_WEIGHT)
    settings = ConnectSettings(
        venue=Venue.SANDBOX,
        sandbox_url=url,
        websockets=ws,
        budget=budget,
        runtime_dir=runtime,
    )
    return connect(settings, Credentials(_SANDBOX_KEY, _SANDBOX_SECRET))


async def _paper(
    config: Config,
    data: list[Path],
    speed: float,
    console: Console,
    session: Session,
    *,
    record: bool,
) -> None:
    fixes = session.fixes
    if not embedded_sandbox(config):
        trades = connect(settings_from_config(config, websockets=True)) if record else None
        connector = connect_venues(config, websockets=True)
        await _trade(config, connector, console, trades, fixes)
        return
    live = config.exchange.sandbox.market_data != "replay"
    files = {} if live else data_files(config, data)
    sandbox = _sandbox_config(config, files, session.account, deterministic=False)
    sandbox.speed = speed
    with tempfile.TemporaryDirectory(prefix="tradebot-paper-") as runtime:
        async with sandbox_server(sandbox, fixes) as server:
            prices = "replayed" if sandbox.mirror is None else sandbox.mirror.label
            console.print(f"embedded sandbox exchange on {server.http_url}; prices: {prices}")
            connector = _sandbox_connector(server.http_url, Path(runtime), replay=False, ws=True)
            trades = None
            if record and live:  # the exchange's own trades, not the sandbox's prints
                source = config.exchange.sandbox
                trades = market_data_source(
                    source.market_data, source.market_data_url, websockets=True
                )
            elif record:
                trades = _sandbox_connector(server.http_url, Path(runtime), replay=False, ws=True)
            await _trade(config, connector, console, trades, fixes)


async def _replay(
    config: Config, data: list[Path], bars: int | None, console: Console, session: Session
) -> None:
    # A paper session at full speed: monitored, measured and served as one in real time.
    if not embedded_sandbox(config):
        raise ConfigError(
            "--replay needs the embedded sandbox (exchange.sandbox.embedded: true): "
            "only it lets the bot move the clock"
        )
    files = data_files(config, data)
    sandbox = _sandbox_config(config, files, session.account, deterministic=True)
    served = embedded_dashboard(config)  # binds its port now
    with tempfile.TemporaryDirectory(prefix="tradebot-replay-") as runtime:
        async with sandbox_server(sandbox, session.fixes) as server:
            connector = _sandbox_connector(server.http_url, Path(runtime), replay=True)
            collector = session_metrics(config, connector)
            bot = await _bot(config, connector, collector)
            collector.stats = bot.stats
            try:
                async with watched(config, connector, collector, served, console):
                    await bot.start()
                    with startup_frozen():  # no full collection walks start-up's objects
                        session.fixes.check(bot.repo)  # a halted bot would replay nothing
                        done = await _advance(PaperSession(server, bot), bars, console)
            finally:
                await bot.close()
    console.print(summary_table(bot, done))
    session.fixes.check(bot.repo)


async def _advance(session: PaperSession, bars: int | None, console: Console) -> int:
    # Without --bars the replay runs to the end of the data.
    done = 0
    limit = bars if bars is not None else 10**9
    while done < limit:
        try:
            await session.server.advance(1)
        except TradebotError:
            console.print("end of the sandbox data")
            break
        await session.bot.poll()
        done += 1
        if session.bot.repo.kill_switch() is KillSwitchLevel.HALTED:
            break  # the caller says why
    return done


async def _trade(
    config: Config,
    connector: ExchangeConnector,
    console: Console,
    trades: TradeSource | None,
    fixes: Fixes,
) -> None:
    """Trade until a signal stops the bot; with ``trades`` record public trades meanwhile."""
    served = embedded_dashboard(config)  # binds its port now
    collector = session_metrics(config, connector, trades)
    bot = await _bot(config, connector, collector, streams=True)
    collector.stats = bot.stats
    symbol, database = config.trading.symbol, config.database.sqlalchemy_url
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, bot.stop)
    try:
        async with watched(config, connector, collector, served, console):
            recovery = await bot.start()
            with startup_frozen():  # no full collection walks start-up's objects
                fixes.check(bot.repo)  # halted from the start: nothing to wait for
                found = len(recovery.reconciliation.discrepancies)
                console.print(
                    f"trading {', '.join(config.trading.all_symbols)} "
                    f"{config.trading.timeframe} ({config.exchange.mode}); "
                    f"reconciliation: {found} discrepancies; Ctrl-C stops"
                )
                async with record_trades(trades, symbol, database) as recording:
                    await bot.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await bot.close()
    console.print(
        f"stopped after {bot.stats.cycles} cycles; state saved, protective stops left in place"
    )
    halted = halt_message(bot.repo, fixes.resume, fixes.fresh)
    if halted is not None:  # an operator's stop while it ran: it waited for a resume
        console.print(f"[yellow]note:[/yellow] {halted}", highlight=False)
    if recording is not None:
        console.print(f"recorded {recording.stats.written} public trades of {symbol}")
