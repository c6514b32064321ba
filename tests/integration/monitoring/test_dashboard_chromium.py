"""The dashboard in real headless Chromium (Debian's, driven by Selenium and chromium-driver).

A paper bot trades the bundled sample through ccxt and the sandbox; the dashboard serves its
database over a real socket. A person logs in, watches the positions and trades follow the
bot (pushed by the event stream, no reload), presses "Stop entries", confirms, and the kill
switch changes in the database. The screenshot is kept in reports/test-artefacts/ (or
$TRADEBOT_TEST_ARTEFACTS) for a person to look at.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard_parts import PASSWORDS, users
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tradebot.config import load_config, with_overrides
from tradebot.config.monitoring import DashboardConfig
from tradebot.data.load import sample_path
from tradebot.monitoring.dashboard import DashboardParts, DashboardServer, LogBuffer, create_app
from tradebot.orchestrator.paper import PaperSession, PaperSetup, paper_session
from tradebot.state import Database, KillSwitchLevel, Repository
from tradebot.state.outbox import AlertOutbox

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SAMPLE = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
ARTEFACTS = Path(
    os.environ.get(
        "TRADEBOT_TEST_ARTEFACTS", Path(__file__).parents[3] / "reports" / "test-artefacts"
    )
)
WAIT_S = 30

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and DRIVER.exists()),
        reason="needs Debian chromium and chromium-driver (.ci/run installs them)",
    ),
]


def open_browser(profile: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync",
        "--window-size=1400,3100", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(DRIVER)), options=options)


def wait(browser: WebDriver, what: str, check: Callable[[WebDriver], object]) -> None:
    WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(check, f"page never showed {what}")


def rows(browser: WebDriver, table: str) -> list[str]:
    # read in one script: the page replaces a table's rows whenever the bot writes
    script = f"return [...document.querySelectorAll('#{table} tbody tr')].map(r => r.innerText)"
    found: list[str] = browser.execute_script(script)
    return [text.replace("\t", " ") for text in found if text.strip() != "none"]


def log_in(browser: WebDriver, url: str) -> None:
    browser.get(url)
    wait(browser, "the login form", lambda b: b.find_element(By.ID, "login-name").is_displayed())
    browser.find_element(By.ID, "login-name").send_keys("olga")
    browser.find_element(By.ID, "login-password").send_keys(PASSWORDS["olga"])
    browser.find_element(By.ID, "login-submit").click()
    wait(browser, "the user", lambda b: b.find_element(By.ID, "who").text == "olga (operator)")
    wait(browser, "the live stream", lambda b: b.find_element(By.ID, "stream-state").text == "live")


def position_text(repo: Repository) -> str:
    # the first two cells of the positions table: symbol and quantity
    [held] = repo.positions(open_only=True)
    return f"{held.position.symbol} {held.position.qty}"


async def trade_once_more(session: PaperSession) -> None:
    before = len(session.bot.repo.trades())
    for _ in range(300):
        await session.replay(1)
        if len(session.bot.repo.trades()) > before:
            return
    raise AssertionError("no new trade within 300 bars")


async def hold_a_position(session: PaperSession) -> None:
    for _ in range(300):
        if not session.bot.engine.view.is_flat("BTC/USDT"):
            return
        await session.replay(1)
    raise AssertionError("no position within 300 bars")


async def eventually(check: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"not within {timeout_s} s"
        await asyncio.sleep(0.05)


async def test_dashboard_in_chromium_follows_the_bot_and_stops_entries(tmp_path: Path) -> None:
    # Arrange: a paper bot with one trade behind it, its dashboard, a browser
    db = tmp_path / "bot.db"
    params = {"fast_period": 3, "slow_period": 8, "rsi_threshold": 100}
    config = with_overrides(load_config(None), {"strategy.params": params}, "test")
    setup = PaperSetup(data_files={"BTC/USDT": SAMPLE}, database_url=f"sqlite:///{db}")
    async with paper_session(config, setup) as session:
        await trade_once_more(session)
        database = Database(db)  # the dashboard's own connection
        repo = Repository(database)
        settings = DashboardConfig(users=users(), poll_interval_s=0.2)
        parts = DashboardParts(repo, AlertOutbox(database), settings, LogBuffer(), 3600)
        app = create_app(parts)
        async with DashboardServer(app, "127.0.0.1", 0) as server:
            browser = await asyncio.to_thread(open_browser, tmp_path / "profile")
            try:
                await asyncio.to_thread(log_in, browser, server.url)
                shown = await asyncio.to_thread(rows, browser, "trades")
                assert len(shown) == len(repo.trades()) == 1

                # Act 1: the bot trades on, then holds; the page follows without a reload
                await trade_once_more(session)
                trades = len(repo.trades())
                await asyncio.to_thread(
                    wait, browser, f"{trades} trades", lambda b: len(rows(b, "trades")) == trades
                )
                await hold_a_position(session)
                held = position_text(repo)
                await asyncio.to_thread(
                    wait,
                    browser,
                    held,
                    lambda b: any(r.startswith(held + " ") for r in rows(b, "positions")),
                )
                positions = await asyncio.to_thread(rows, browser, "positions")

                # Act 2: stop entries, then confirm
                await asyncio.to_thread(browser.find_element(By.ID, "btn-stop_entries").click)
                await asyncio.to_thread(
                    wait,
                    browser,
                    "the confirmation",
                    lambda b: b.find_element(By.ID, "confirm-dialog").is_displayed(),
                )
                prompt = browser.find_element(By.ID, "confirm-prompt").text
                asked_only = repo.kill_switch()
                await asyncio.to_thread(browser.find_element(By.ID, "confirm-yes").click)
                await eventually(lambda: repo.kill_switch() is KillSwitchLevel.REDUCING)
                await asyncio.to_thread(
                    wait,
                    browser,
                    "REDUCING",
                    lambda b: b.find_element(By.ID, "kill-switch").text == "REDUCING",
                )
                png = tmp_path / "dashboard.png"
                await asyncio.to_thread(browser.save_screenshot, str(png))
                errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
            finally:
                await asyncio.to_thread(browser.quit)

    # Assert
    assert [" ".join(p.split(" ")[:2]) for p in positions] == [held]
    assert "opens no new positions" in prompt
    assert asked_only is KillSwitchLevel.ACTIVE  # asking changes nothing; confirming does
    [audit] = repo.control_actions()
    assert (audit.actor, audit.channel, audit.action, audit.outcome) == (
        "olga",
        "dashboard",
        "stop_entries",
        "done",
    )
    assert errors == []
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    await asyncio.to_thread(keep, png)


def keep(png: Path) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, ARTEFACTS / "dashboard.png")
