"""An ensemble from YAML through the real Backtester into a real SQLite decision log: each
member's signal and the combined decision are in the rows, and the vote (or the weighted
score, or the regime's choice) counted by hand from the candles agrees with every row.

The members (``AboveAverage``) signal a state (above or below their average), so they
agree or disagree at every bar. Each mode's hand count differs from a plain vote's on some
bars: a run that ignored the mode would fail."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from factories import drive, make_candles, make_market
from resources.strategies.above_average import BUY_CONFIDENCE, SELL_CONFIDENCE
from tradebot.backtest.session import run_backtest
from tradebot.cli import build_app
from tradebot.config import parse_config
from tradebot.domain.decisions import Decision
from tradebot.domain.portfolio import Portfolio
from tradebot.exchange.simulated import FeeSchedule, SimulatedExchange
from tradebot.monitoring.explain import explain
from tradebot.orchestrator.assembly import build_engine
from tradebot.state.db import create_database
from tradebot.state.repository import Repository

MEMBER = (
    Path(__file__).parents[1] / "resources" / "strategies" / "above_average.py"
).as_posix() + ":AboveAverage"
PERIODS = (5, 10, 20)
CANDLES = make_candles(240, seed=21, volatility=0.008)
RISK = "risk: {position_sizing_method: fixed_notional, stop_loss_method: none}\n"


def member_lines(
    weights: tuple[float, ...] | None = None,
    when: tuple[str, ...] = (),
    periods: tuple[int, ...] = PERIODS,
) -> str:
    lines = []
    for n, period in enumerate(periods):
        extra = f", weight: {weights[n]}" if weights else ""
        extra += f", when: {when[n]}" if n < len(when) else ""
        lines.append(f"      - {{name: '{MEMBER}', params: {{period: {period}}}{extra}}}\n")
    return "".join(lines)


def backtest_to_sqlite(ensemble_yaml: str, tmp_path: Path) -> list[sqlite3.Row]:
    """Backtest the config on CANDLES, log every decision in SQLite, return the rows."""
    config = parse_config("strategy:\n  ensemble:\n" + ensemble_yaml + RISK)
    market = make_market()
    cash = Decimal(10_000)
    engine = build_engine(config, market, Portfolio.with_cash(cash), record_holds=True)
    exchange = SimulatedExchange([market], {"USDT": cash}, FeeSchedule())
    decisions: list[Decision] = drive(engine, exchange, CANDLES).decisions
    repo = Repository(create_database(tmp_path / "state.db"))
    with repo.transaction() as tx:  # one commit: the rows, not the fsyncs, are tested
        for decision in decisions:
            tx.append_decision(decision)
    with sqlite3.connect(tmp_path / "state.db") as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM decisions ORDER BY ts_ms").fetchall()


def member_actions() -> np.ndarray:
    """By hand: each member's action at each bar (rows: bars, columns: members)."""
    close = CANDLES["close"]
    columns = []
    for period in PERIODS:
        sma = close.rolling(period).mean()
        columns.append(np.where(sma.isna(), "HOLD", np.where(close > sma, "BUY", "SELL")))
    return np.stack(columns, axis=1)


def vote(actions: np.ndarray, k: int) -> list[str]:
    out = []
    for row in actions:
        buys, sells = (row == "BUY").sum() >= k, (row == "SELL").sum() >= k
        out.append("HOLD" if buys == sells else "BUY" if buys else "SELL")  # both: a tie
    return out


def logged(rows: list[sqlite3.Row]) -> tuple[list[str], list[list[tuple[str, str, float]]]]:
    members = [
        [(m["name"], m["action"], m["confidence"]) for m in json.loads(r["signal_metadata"]).get(
            "$members", []
        )]
        for r in rows
    ]  # fmt: skip
    return [r["signal_action"] for r in rows], members


def test_vote_members_and_decision_in_sqlite_agree_with_a_hand_count(tmp_path: Path) -> None:
    rows = backtest_to_sqlite("    mode: vote\n    k: 2\n    members:\n" + member_lines(), tmp_path)

    combined, members = logged(rows)
    by_hand = member_actions()

    assert len(rows) == len(CANDLES)  # one record per bar
    assert [[a for _, a, _ in m] for m in members] == by_hand.tolist()
    assert [n for n, _, _ in members[50]] == ["above_average", "above_average#2", "above_average#3"]
    assert combined == vote(by_hand, k=2)
    assert vote(by_hand, 2) != vote(by_hand, 1)  # k matters on this walk
    # the combined decision was acted on: entries where the vote turns BUY while flat
    actions = [r["action"] for r in rows]
    assert any(a.startswith("buy") for a in actions)
    assert any(a.startswith("sell") for a in actions)
    first_buy = actions.index(next(a for a in actions if a.startswith("buy")))
    assert first_buy == vote(by_hand, 2).index("BUY")


def test_explain_shows_each_member_of_an_ensemble_decision(tmp_path: Path) -> None:
    backtest_to_sqlite("    mode: vote\n    k: 2\n    members:\n" + member_lines(), tmp_path)
    repo = Repository(create_database(tmp_path / "state.db"))
    bar = 100
    when = pd.Timestamp(int(CANDLES["ts_ms"][bar]), unit="ms").strftime("%Y-%m-%dT%H:%M")

    lines = explain(when, repo)

    expected = member_actions()[bar]
    for label, action in zip(
        ("above_average", "above_average#2", "above_average#3"), expected, strict=True
    ):
        assert any(line.strip().startswith(f"member    {label}: {action}") for line in lines), lines


def test_weighted_mode_decides_by_weighted_confidence(tmp_path: Path) -> None:
    weights = (3.0, 1.0, 1.0)
    rows = backtest_to_sqlite(
        "    mode: weighted\n    threshold: 0.3\n    members:\n" + member_lines(weights), tmp_path
    )

    combined, _ = logged(rows)

    def by_hand(threshold: float) -> list[str]:
        out = []
        for row in member_actions():
            pairs = list(zip(weights, row, strict=True))
            buy = sum(w * BUY_CONFIDENCE for w, a in pairs if a == "BUY") / sum(weights)
            sell = sum(w * SELL_CONFIDENCE for w, a in pairs if a == "SELL") / sum(weights)
            out.append(
                "BUY"
                if buy >= threshold and buy > sell
                else "SELL"
                if sell >= threshold and sell > buy
                else "HOLD"
            )
        return out

    assert combined == by_hand(0.3)
    assert by_hand(0.3) != by_hand(0.5)  # the threshold is acted on (0.5 is the default)
    assert by_hand(0.3) != vote(member_actions(), k=2)  # a vote (the mode ignored) would differ


def test_conditional_mode_lets_the_regime_choose_the_member(tmp_path: Path) -> None:
    regime = "    regime: {detector: trend, params: {period: 10, threshold: 0.35}}\n"
    members_yaml = member_lines(when=("trend", "range"), periods=PERIODS[:2])
    rows = backtest_to_sqlite(
        "    mode: conditional\n" + regime + "    members:\n" + members_yaml, tmp_path
    )

    combined, members = logged(rows)

    close = CANDLES["close"].to_numpy()
    actions = member_actions()
    by_hand: list[str] = []
    chosen: list[list[str]] = []
    for i in range(len(close)):
        if i < 10:
            by_hand.append("HOLD")
            chosen.append([])
            continue
        efficiency = abs(close[i] - close[i - 10]) / np.abs(np.diff(close[i - 10 : i + 1])).sum()
        n = 0 if efficiency >= 0.35 else 1
        by_hand.append(str(actions[i, n]))
        chosen.append(["above_average" if n == 0 else "above_average#2"])
    assert combined == by_hand
    assert [[name for name, _, _ in m] for m in members] == chosen
    assert by_hand != vote(actions[:, :2], k=2)  # both members must agree in a 2-vote
    assert {"above_average", "above_average#2"} == {c[0] for c in chosen if c}


@pytest.mark.parametrize("k", [1, 3])
def test_vote_k_is_acted_on(k: int, tmp_path: Path) -> None:
    rows = backtest_to_sqlite(
        f"    mode: vote\n    k: {k}\n    members:\n" + member_lines(), tmp_path
    )

    assert [r["signal_action"] for r in rows] == vote(member_actions(), k)


def test_backtest_report_decisions_list_the_members(tmp_path: Path) -> None:
    config = parse_config(
        "strategy:\n  ensemble:\n    mode: vote\n    k: 2\n    members:\n" + member_lines() + RISK
    )

    run = run_backtest(config, candles=CANDLES, report_dir=tmp_path / "report")

    assert run.report is not None
    lines = (tmp_path / "report" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    first_buy = next(r for r in records if r["action"].startswith("buy"))
    by_hand = member_actions()[vote(member_actions(), 2).index("BUY")]
    assert [m["action"] for m in first_buy["signal"]["members"]] == by_hand.tolist()
    assert first_buy["signal"]["members"][0]["name"] == "above_average"


def test_cli_strategy_option_replaces_a_configured_ensemble(tmp_path: Path) -> None:
    data = tmp_path / "BTCUSDT-1h.csv"
    CANDLES.rename(columns={"ts_ms": "timestamp"}).to_csv(data, index=False)
    config = tmp_path / "ensemble.yaml"
    config.write_text(
        "strategy:\n  ensemble:\n    mode: vote\n    members:\n" + member_lines(), encoding="utf-8"
    )
    common = ["backtest", "-c", str(config), "--data", str(data)]

    replaced = CliRunner().invoke(
        build_app(), [*common, "--strategy", "breakout", "--report-dir", str(tmp_path / "r")]
    )
    params = CliRunner().invoke(build_app(), [*common, "-p", "period=5"])

    assert replaced.exit_code == 0, replaced.output
    runs = [p.name for p in (tmp_path / "r").iterdir() if p.name != "latest"]
    assert [name.split("_")[0] for name in runs] == ["breakout"]
    assert params.exit_code == 2
    assert "params and ensemble are both set" in params.output
