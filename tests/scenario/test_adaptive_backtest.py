"""AdaptiveStrategy from YAML through the real Backtester into a real SQLite decision log:
at every bar the parameter set of the regime counted by hand from the candles decides, and
the row records the regime, the detector's confidence and the regime's start."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from factories import drive, make_candles, make_market
from tradebot.cli import build_app
from tradebot.config import parse_config
from tradebot.domain.errors import ConfigError
from tradebot.domain.portfolio import Portfolio
from tradebot.exchange.simulated import FeeSchedule, SimulatedExchange
from tradebot.orchestrator.assembly import build_engine, build_strategy
from tradebot.state.db import create_database
from tradebot.state.repository import Repository
from tradebot.strategy.lookahead import check_lookahead
from tradebot.strategy.registry import create_strategy

MEMBER = (
    Path(__file__).parents[1] / "resources" / "strategies" / "above_average.py"
).as_posix() + ":AboveAverage"
CANDLES = make_candles(240, seed=21, volatility=0.008)
ADAPTIVE = f"""
strategy:
  name: adaptive
  params:
    strategy: '{MEMBER}'
    detector: trend
    regime.period: 10
    regime.threshold: 0.35
    trend.period: 5
    range.period: 20
risk: {{position_sizing_method: fixed_notional, stop_loss_method: none}}
"""


def _logged_rows(tmp_path: Path) -> list[sqlite3.Row]:
    config = parse_config(ADAPTIVE)
    market = make_market()
    cash = Decimal(10_000)
    engine = build_engine(config, market, Portfolio.with_cash(cash), record_holds=True)
    exchange = SimulatedExchange([market], {"USDT": cash}, FeeSchedule())
    repo = Repository(create_database(tmp_path / "state.db"))
    with repo.transaction() as tx:
        for decision in drive(engine, exchange, CANDLES).decisions:
            tx.append_decision(decision)
    with sqlite3.connect(tmp_path / "state.db") as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM decisions ORDER BY ts_ms").fetchall()


def test_adaptive_trades_each_regime_with_its_own_parameters(tmp_path: Path) -> None:
    # Act
    rows = _logged_rows(tmp_path)

    # Assert: by hand, the efficiency ratio over 10 bars names the regime from bar 10 (trend
    # at 0.35), and the close against the SMA of that regime's period (5 or 20) the action
    close = CANDLES["close"].to_numpy()
    ts = CANDLES["ts_ms"].to_numpy()
    regime: dict[int, str] = {}
    since: dict[int, int] = {}
    for i in range(10, len(close)):
        efficiency = abs(close[i] - close[i - 10]) / np.abs(np.diff(close[i - 10 : i + 1])).sum()
        regime[i] = "trend" if efficiency >= 0.35 else "range"
        same = i > 10 and regime[i - 1] == regime[i]
        since[i] = since[i - 1] if same else int(ts[i])
    assert len(rows) == len(close)
    for i in range(19, len(close)):  # from the warm-up of the 20-bar average
        period = 5 if regime[i] == "trend" else 20
        sma = close[i + 1 - period : i + 1].mean()
        metadata = json.loads(rows[i]["signal_metadata"])
        assert rows[i]["signal_action"] == ("BUY" if close[i] > sma else "SELL"), i
        assert metadata["regime"] == regime[i], i
        assert metadata["regime_since"] == since[i], i
        assert metadata["regime_confidence"] == 1.0
        assert metadata["$members"][0]["name"] == regime[i]
    decided = [regime[i] for i in range(19, len(close))]
    assert min(decided.count("trend"), decided.count("range")) >= 30  # both sets decide


def test_adaptive_config_names_each_regime_set_and_builds_the_same_strategy() -> None:
    strategy = build_strategy(parse_config(ADAPTIVE), "BTC/USDT")
    config = dict(strategy.get_config())
    partial = create_strategy("adaptive", {"strategy": MEMBER, "detector": "trend", "period": 7,
                                           "trend.period": 5})  # fmt: skip

    assert (config["trend.period"], config["range.period"]) == (5, 20)
    assert config["regime.period"] == 10
    assert create_strategy("adaptive", config).get_config() == config  # a round trip
    # range has no set of its own: it trades the base member, built with the plain params
    assert [m.name for m in partial.members] == ["trend", "base"]
    assert partial.get_config()["period"] == 7


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"detector": "trend", "bull.period": 5}, "bull: not a regime of detector trend"),
        ({"detector": "trend", "trend.nope": 5}, "trend parameters: .*has no parameter nope"),
        ({"detector": "markov"}, "unknown regime detector 'markov'"),
        ({"strategy": "adaptive"}, "must be a single strategy"),
    ],
)
def test_adaptive_refuses_what_it_cannot_build(params: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_strategy("adaptive", {"strategy": MEMBER, **params})


def test_lookahead_check_finds_nothing_in_an_adaptive_strategy() -> None:
    # (the hmm detector's labels are held to the same by tests/unit/ml/test_regime_hmm.py)
    regime = {"regime.rank_bars": 60, "regime.settle_bars": 40, "regime.trend_bars": 12}
    candles = make_candles(400, seed=3, volatility=0.01)
    strategy = create_strategy(
        "adaptive", {"detector": "vol_trend", "rsi_threshold": 100, "fast_period": 3,
                     "slow_period": 8, "low_range.fast_period": 5, **regime}
    )  # fmt: skip

    report = check_lookahead(strategy, candles, n_cuts=5, signal_bars=30)

    assert report.findings == ()


def test_report_splits_pnl_by_the_regime_each_trade_was_opened_in(tmp_path: Path) -> None:
    # Arrange: the adaptive config, backtested from the command line
    data = tmp_path / "BTCUSDT-1h.csv"
    CANDLES.rename(columns={"ts_ms": "timestamp"}).to_csv(data, index=False)
    config = tmp_path / "adaptive.yaml"
    config.write_text(ADAPTIVE, encoding="utf-8")

    # Act
    out = CliRunner().invoke(
        build_app(),
        ["backtest", "-c", str(config), "--data", str(data), "--report-dir", str(tmp_path / "r")],
        terminal_width=200,
    )

    # Assert: each trade is tagged with the regime counted by hand at the bar that decided
    # its entry (the bar before its fill), and the tables sum the trades of each regime
    assert out.exit_code == 0, out.output
    with (tmp_path / "r" / "latest" / "trades.csv").open(encoding="utf-8") as f:
        trades = list(csv.DictReader(f))
    close = CANDLES["close"].to_numpy()
    bar_of = {int(ts): i for i, ts in enumerate(CANDLES["ts_ms"])}
    pnl: dict[str, float] = {}
    for trade in trades:
        i = bar_of[int(trade["entry_ts_ms"])] - 1
        efficiency = abs(close[i] - close[i - 10]) / np.abs(np.diff(close[i - 10 : i + 1])).sum()
        assert trade["entry_regime"] == ("trend" if efficiency >= 0.35 else "range")
        pnl[trade["entry_regime"]] = pnl.get(trade["entry_regime"], 0.0) + float(trade["pnl"])
    assert set(pnl) == {"trend", "range"}, "trades opened in both regimes"
    html = (tmp_path / "r" / "latest" / "report.html").read_text(encoding="utf-8")
    table = re.search(r'<table id="by-regime".*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert table is not None
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", table[1])]
    assert {r[0]: float(r[3].replace(",", "")) for r in rows} == pytest.approx(pnl, abs=0.006)
    assert "PnL by regime at entry" in out.output
    for regime, total in pnl.items():
        money = re.escape(f"{total:+,.2f}")
        assert re.search(rf"│ {regime}\s+│\s+\d+ │\s+[\d.]+% │\s+{money} │", out.output), regime
