"""A regime-adaptive strategy trades the same in paper trading as in the backtest of the
same bars: paper trading recomputes the detector on a rolling window each bar, the backtest
once over the whole history; both must name the same regime at every bar and so make the
same trades (``tradebot.parity`` compares every field of every trade). ``tradebot report``
on the paper session's database then splits its PnL by the regime of each entry."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.config import load_config
from tradebot.data.load import load_candles, sample_path
from tradebot.parity import paper_vs_backtest, parity_config
from tradebot.strategy.registry import create_regime_detector

BTC_1H = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
EMA = {"strategy": "ema_crossover", "rsi_threshold": 100, "fast_period": 3, "slow_period": 8}
DETECTORS: dict[str, dict[str, object]] = {
    "vol_trend": {
        "detector": "vol_trend",
        "regime.vol_bars": 12,
        "regime.rank_bars": 100,
        "regime.trend_bars": 24,
        "regime.min_bars": 6,
        "regime.settle_bars": 50,
        "high_trend.fast_period": 2,
        "high_range.slow_period": 13,
        "mid_range.fast_period": 5,
    },
    "hmm": {
        "detector": "hmm",
        "regime.train_bars": 200,
        "regime.retrain_every": 24,
        "regime.filter_bars": 50,
        "high.fast_period": 5,
        "high.slow_period": 13,
    },
}


@pytest.mark.parametrize("detector", sorted(DETECTORS))
async def test_paper_vs_backtest_adaptive_strategy_same_trades(
    detector: str, tmp_path: Path
) -> None:
    # Arrange: an EMA cross whose periods switch with the regime
    params = {**EMA, **DETECTORS[detector]}
    overrides = {"strategy.name": "adaptive", "strategy.params": params}
    config = parity_config(load_config(None), overrides)

    # Act
    comparison = await paper_vs_backtest(
        config, BTC_1H, start_index=400, bars=150, database_url=f"sqlite:///{tmp_path / 'p.db'}"
    )

    # Assert
    assert comparison.differences == []
    assert len(comparison.paper_trades) >= 3, "the window must hold trades to mean something"
    assert comparison.paper_equity == comparison.backtest_equity
    # the paper session's report tags each trade with the regime the detector names, over
    # the whole file, at the bar that decided the entry (the bar before its fill)
    trades, output = _paper_report(tmp_path, params)
    detector_params = {k[7:]: v for k, v in params.items() if k.startswith("regime.")}
    detector = create_regime_detector(str(params["detector"]), detector_params)
    candles = load_candles(BTC_1H)
    columns = detector.calculate(candles)
    bar_of = {int(ts): i for i, ts in enumerate(candles["ts_ms"])}
    pnl: dict[str, float] = {}
    for trade in trades:
        code = columns["code"][bar_of[int(trade["entry_ts_ms"])] - 1]
        assert trade["entry_regime"] == detector.labels[int(code)]
        pnl[trade["entry_regime"]] = pnl.get(trade["entry_regime"], 0.0) + float(trade["pnl"])
    assert "PnL by regime at entry" in output
    for regime, total in pnl.items():
        money = re.escape(f"{total:+,.2f}")
        assert re.search(rf"│ {regime}\s+│\s+\d+ │\s+[\d.]+% │\s+{money} │", output), regime


def _paper_report(tmp_path: Path, params: dict[str, object]) -> tuple[list[dict[str, str]], str]:
    config = tmp_path / "adaptive.yaml"
    config.write_text(yaml.safe_dump({"strategy": {"name": "adaptive", "params": params}}))
    db, out = tmp_path / "p.db", tmp_path / "report"
    result = CliRunner().invoke(
        build_app(),
        ["report", "--db", str(db), "--out", str(out), "--config", str(config), "--mode", "paper"],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    with (out / "trades.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f)), result.output
