"""The downloader against the sandbox over loopback (unmodified ccxt) and the simulated venue.

The sandbox replays the bundled BTC/USDT 1h 2024 sample plus one bar of 2025-01-01, with its
clock on that last bar: the whole of 2024 has closed and 2025-01-01 00:00 is forming. The
sandbox's ``/api/v3/time`` is the wall clock (ccxt signs with it), so there the forming bar
is cut by ``until``; the still-open rule is tested on the simulated venue, whose clock is
the replay's.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.data.download import PageWritten, SeriesPlan, download
from tradebot.data.load import load_candles, sample_path
from tradebot.data.store import CandleStore
from tradebot.domain.market import Candle, Market
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.simulated import SimulatedExchange
from tradebot.exchange.simulated_connector import SimulatedConnector
from tradebot.exchange.simulated_market import CandleHistory
from tradebot.sandbox import SandboxConfig, SandboxServer, run_sandbox_in_thread

SYMBOL = "BTC/USDT"
SAMPLE = "binance_BTC-USDT_1h_2024.csv.gz"
SINCE_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC
UNTIL_MS = 1_735_689_600_000  # 2025-01-01 00:00 UTC
HOUR_MS = 3_600_000
SAMPLE_ROWS = 8_784


class StopAfter:
    """Progress that crashes the download after ``pages`` pages (a stand-in for Ctrl-C)."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.seen: list[PageWritten] = []

    def series_started(self, plan: SeriesPlan) -> None:
        pass

    def page_written(self, page: PageWritten) -> None:
        self.seen.append(page)
        if len(self.seen) >= self.pages:
            raise KeyboardInterrupt


def sample_lines() -> list[str]:
    """The bundled sample's CSV lines, header first, exactly as shipped."""
    raw = sample_path(SAMPLE).read_bytes()
    return gzip.decompress(raw).decode().strip().splitlines()


def write_venue_file(path: Path, drop_hours: range = range(0)) -> Path:
    """The sample without the bars of ``drop_hours`` (a venue halt), plus 2025-01-01 00:00."""
    lines = sample_lines()
    dropped = {SINCE_MS + h * HOUR_MS for h in drop_hours}
    kept = [line for line in lines[1:] if int(line.split(",")[0]) not in dropped]
    last_close = lines[-1].split(",")[4]
    forming = f"{UNTIL_MS},{last_close},{last_close},{last_close},{last_close},1"
    text = "\n".join([lines[0], *kept, forming]) + "\n"
    path.write_bytes(gzip.compress(text.encode()))
    return path


def sandbox_config(data_file: Path) -> SandboxConfig:
    rows = len(gzip.decompress(data_file.read_bytes()).decode().strip().splitlines()) - 1
    return SandboxConfig(port=0, data_files={SYMBOL: data_file}, start_index=rows - 1)


@asynccontextmanager
async def venue(tmp_path: Path, drop_hours: range = range(0)) -> AsyncIterator[CcxtConnector]:
    """A sandbox on the sample (clock on its last bar) and a REST-only connector to it."""
    data_file = write_venue_file(tmp_path / "btc_1h.csv.gz", drop_hours)
    config = sandbox_config(data_file)
    async with SandboxServer(config) as server:
        settings = ConnectSettings(
            venue=Venue.SANDBOX,
            sandbox_url=server.http_url,
            websockets=False,
            runtime_dir=tmp_path,
            retry=RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.5),
        )
        connector = connect(settings, Credentials(config.api_key, config.api_secret))
        try:
            yield connector
        finally:
            await connector.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CandleStore]:
    with CandleStore(tmp_path / "candles.db") as candle_store:
        yield candle_store


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return load_candles(sample_path(SAMPLE), timeframe="1h")


async def test_download_full_year_equals_the_sample_row_for_row(
    tmp_path: Path, store: CandleStore, sample: pd.DataFrame
) -> None:
    # Arrange
    async with venue(tmp_path) as connector:
        # Act
        [result] = await download(connector, store, [SYMBOL], ["1h"], SINCE_MS, UNTIL_MS)

    # Assert: every 2024 bar, values as the file has them; 9 pages of up to 1000
    stored = store.read(SYMBOL, "1h")
    pd.testing.assert_frame_equal(stored, sample)
    assert (result.pages, result.new_rows, result.duplicates) == (9, SAMPLE_ROWS, 0)
    assert result.report is not None
    assert result.report.is_tradeable
    assert result.report.gaps == ()


async def test_download_second_run_fetches_nothing_new(
    tmp_path: Path, store: CandleStore, sample: pd.DataFrame
) -> None:
    async with venue(tmp_path) as connector:
        await download(connector, store, [SYMBOL], ["1h"], SINCE_MS, UNTIL_MS)

        [again] = await download(connector, store, [SYMBOL], ["1h"], SINCE_MS, UNTIL_MS)

    assert again.resumed_ms == sample["ts_ms"].iloc[-1]
    assert (again.pages, again.new_rows) == (1, 0)
    assert len(store.read(SYMBOL, "1h")) == SAMPLE_ROWS


async def test_download_interrupted_after_three_pages_resumes_where_it_stopped(
    tmp_path: Path, store: CandleStore, sample: pd.DataFrame
) -> None:
    # Arrange: a download killed once its third page is written
    async with venue(tmp_path) as connector:
        crash = StopAfter(pages=3)
        with pytest.raises(KeyboardInterrupt):
            await download(connector, store, [SYMBOL], ["1h"], SINCE_MS, UNTIL_MS, progress=crash)
        kept = store.read(SYMBOL, "1h")

        # Act: run it again
        [resumed] = await download(connector, store, [SYMBOL], ["1h"], SINCE_MS, UNTIL_MS)

    # Assert: the three pages survived (999 candles each: a page's newest candle waits for
    # the next page to prove it closed); the rerun fetched only the rest
    assert len(kept) == 2_997
    assert resumed.resumed_ms == kept["ts_ms"].iloc[-1]
    assert resumed.new_rows == SAMPLE_ROWS - 2_997
    assert resumed.pages == 6
    pd.testing.assert_frame_equal(store.read(SYMBOL, "1h"), sample)


async def test_download_store_starting_after_since_fetches_the_head_too(
    tmp_path: Path, store: CandleStore, sample: pd.DataFrame
) -> None:
    # Arrange: the store already holds the last 3,784 hours (imported earlier)
    store.write(SYMBOL, "1h", sample.iloc[5_000:])
    async with venue(tmp_path) as connector:
        # Act
        [result] = await download(connector, store, [SYMBOL], ["1h"], SINCE_MS, UNTIL_MS)

    # Assert: six pages of 999 for the head, one to confirm the tail, the year complete
    assert (result.new_rows, result.pages) == (5_000, 7)
    pd.testing.assert_frame_equal(store.read(SYMBOL, "1h"), sample)


async def test_download_venue_halt_is_reported_as_the_one_gap(
    tmp_path: Path, store: CandleStore
) -> None:
    # Arrange: the venue has no bars for 12 hours from 2024-03-24 00:00 (hour 1992 of 2024)
    halt = range(1992, 2004)
    async with venue(tmp_path, drop_hours=halt) as connector:
        # Act
        [result] = await download(connector, store, [SYMBOL], ["1h"], SINCE_MS, UNTIL_MS)

    # Assert
    assert result.report is not None
    [gap] = result.report.gaps
    assert (gap.start_ms, gap.missing) == (SINCE_MS + 1992 * HOUR_MS, 12)
    assert "12 missing candle(s) 2024-03-24 00:00 UTC → 2024-03-24 11:00 UTC" in result.describe()
    assert len(store.read(SYMBOL, "1h")) == SAMPLE_ROWS - 12


async def test_download_drops_the_candle_still_forming_on_the_venue_clock(
    tmp_path: Path, store: CandleStore
) -> None:
    # Arrange: a simulated venue 2,500 bars into a 1m history; bar 2,500 has just opened
    candles = [Candle(SINCE_MS + i * 60_000, 100.0, 101.0, 99.0, 100.5, 2.0) for i in range(3000)]
    market = Market(
        SYMBOL, "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"), Decimal(5)
    )
    history = CandleHistory({SYMBOL: candles}, "1m", start_ms=candles[2500].ts_ms)
    sim = SimulatedConnector(SimulatedExchange([market], {"USDT": Decimal(1000)}), history)

    # Act
    [result] = await download(sim, store, [SYMBOL], ["1m"], SINCE_MS)
    await sim.advance(10)
    [later] = await download(sim, store, [SYMBOL], ["1m"], None)

    # Assert: the forming bar was never stored; the next run picks up the bars closed since
    assert (result.new_rows, result.still_open, result.pages) == (2500, 1, 3)
    assert later.new_rows == 10
    stored = store.read(SYMBOL, "1m")
    assert stored["ts_ms"].tolist() == [c.ts_ms for c in candles[:2510]]
    assert stored["volume"].eq(2.0).all()


def test_download_cli_reports_resumes_and_fails_on_unknown_symbol(tmp_path: Path) -> None:
    # Arrange
    config = sandbox_config(write_venue_file(tmp_path / "btc_1h.csv.gz"))
    db = tmp_path / "cli.db"
    args = ["download", "--symbols", SYMBOL, "--timeframes", "1h", "--since", "2024-12-01"]
    args += ["--until", "2025-01-01", "--db", str(db)]
    runner = CliRunner(env={"XDG_RUNTIME_DIR": str(tmp_path), "COLUMNS": "200"})
    with run_sandbox_in_thread(config) as sandbox:
        # Act
        first = runner.invoke(build_app(), [*args, "--url", sandbox.http_url])
        second = runner.invoke(build_app(), [*args, "--url", sandbox.http_url])
        unknown = [*args, "--url", sandbox.http_url, "--symbols", "XRP/USDT,BTC/USDT"]
        third = runner.invoke(build_app(), unknown)

    # Assert
    assert first.exit_code == 0, first.output
    assert "BTC/USDT 1h: 744 new candle(s), 1 page(s)" in first.output
    assert "744 1h candles, 2024-12-01 00:00 UTC → 2024-12-31 23:00 UTC: tradeable" in first.output
    assert second.exit_code == 0, second.output
    assert "0 new candle(s)" in second.output
    assert third.exit_code == 1
    assert "XRP/USDT 1h: 0 new candle(s), 0 page(s)\n  FAILED:" in third.output
    assert "BTC/USDT 1h: 0 new candle(s), 1 page(s)" in third.output
    with CandleStore(db) as store:
        assert len(store.read(SYMBOL, "1h")) == 744


# ------------------------------------------------------------------ issue 11 item 5
async def test_download_never_stores_the_candle_forming_on_the_sandbox(
    tmp_path: Path, store: CandleStore, sample: pd.DataFrame
) -> None:
    # Arrange: the sandbox's replay clock is in bar 2,000 of the year (its /time is the wall
    # clock, so only the venue's own candles can tell that bar is still forming)
    data_file = write_venue_file(tmp_path / "btc_1h.csv.gz")
    config = SandboxConfig(port=0, data_files={SYMBOL: data_file}, start_index=2_000)
    async with SandboxServer(config) as server:
        settings = ConnectSettings(
            venue=Venue.SANDBOX, sandbox_url=server.http_url, websockets=False, runtime_dir=tmp_path
        )
        connector = connect(settings, Credentials(config.api_key, config.api_secret))
        try:
            # Act: no --until, as the README runs it
            [result] = await download(connector, store, [SYMBOL], ["1h"], SINCE_MS)
        finally:
            await connector.close()

    # Assert: bars 0..1,999 are stored exactly as the file has them; the forming one is not
    stored = store.read(SYMBOL, "1h")
    pd.testing.assert_frame_equal(stored, sample.iloc[:2_000].reset_index(drop=True))
    assert result.still_open == 1


def test_download_cli_default_store_is_its_own_file_not_the_bot_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: a fresh working folder, as a clone is
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRADEBOT_CANDLES", raising=False)
    config = sandbox_config(write_venue_file(tmp_path / "btc_1h.csv.gz"))
    args = ["download", "--symbols", SYMBOL, "--timeframes", "1h", "--since", "2024-12-01"]
    runner = CliRunner(env={"XDG_RUNTIME_DIR": str(tmp_path), "COLUMNS": "200"})
    with run_sandbox_in_thread(config) as sandbox:
        # Act
        result = runner.invoke(build_app(), [*args, "--url", sandbox.http_url])

    # Assert: the candles are in data/candles.db; the bot's state database is untouched
    assert result.exit_code == 0, result.output
    assert "BTC/USDT 1h: 744 new candle(s)" in result.output
    assert not (tmp_path / "data" / "tradebot.db").exists()
    with CandleStore(tmp_path / "data" / "candles.db") as store:
        assert len(store.read(SYMBOL, "1h")) == 744
