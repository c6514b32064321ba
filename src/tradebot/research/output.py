"""Write an assessment's folder: the out-of-sample backtest report and the study's tables.

The folder holds ``walkforward.html`` (the verdict, the folds and the statistics' charts:
``walkforward_page.py``), the standard backtest report of the stitched out-of-sample record
(``report.html``, ``trades.csv``, ``fills.csv``, ``decisions.jsonl``, ``metrics.json``), and
``folds.csv`` (each fold's windows, chosen parameters and figures on both sides),
``oos_equity.csv`` (the stitched equity and the fold of each bar; folds count from 1),
``trials.csv`` (the full-period grid) and ``summary.json`` (every statistic, the findings
and the verdict).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tradebot.backtest.report.writer import write_report
from tradebot.research.assessment import Assessment
from tradebot.research.verdict import findings, verdict
from tradebot.research.walkforward_page import render_page


def write_assessment(a: Assessment, folder: Path, title: str) -> Path:
    """Write every file into ``folder`` (created if missing); return the page's path."""
    wf = a.walk_forward
    write_report(wf.out_of_sample, wf.metrics, folder)
    folds = folds_table(a)
    folds.to_csv(folder / "folds.csv", index=False)
    page = folder / "walkforward.html"
    page.write_text(render_page(a, folds, title), encoding="utf-8")
    oos = wf.out_of_sample
    pd.DataFrame({"ts_ms": oos.ts_ms, "equity": oos.equity, "fold": wf.fold_of_bar + 1}).to_csv(
        folder / "oos_equity.csv", index=False
    )
    a.trials.to_csv(folder / "trials.csv", index=False)
    (folder / "summary.json").write_text(json.dumps(summary(a), indent=2), encoding="utf-8")
    return page


def folds_table(a: Assessment) -> pd.DataFrame:
    """One row per fold: windows (bar open times, UTC ms), parameters and figures."""
    ts = a.walk_forward.out_of_sample.ts_ms
    first = 0
    rows = []
    for f in a.walk_forward.folds:
        oos = f.out_of_sample.metrics
        rows.append(
            {
                "fold": f.fold.number + 1,
                "train_bars": f.fold.train_bars,
                "test_start_ts_ms": int(ts[first]),
                "test_bars": f.fold.test_bars,
                "params": json.dumps(f.params),
                "in_sample_return_pct": f.in_sample.total_return_pct,
                "in_sample_sharpe": f.in_sample.sharpe_ratio,
                "out_of_sample_return_pct": oos.total_return_pct,
                "out_of_sample_sharpe": oos.sharpe_ratio,
                "out_of_sample_trades": oos.total_trades,
                "efficiency": f.efficiency,
            }
        )
        first += f.fold.test_bars
    return pd.DataFrame(rows)


def summary(a: Assessment) -> dict[str, object]:
    """Every statistic as plain values, the findings and the verdict."""
    m = a.walk_forward.metrics
    return {
        "folds": len(a.walk_forward.folds),
        "out_of_sample": {
            "bars": m.n_bars,
            "return_pct": m.total_return_pct,
            "sharpe_ratio": m.sharpe_ratio,
            "max_drawdown_pct": m.max_drawdown_pct,
            "trades": m.total_trades,
            "buy_and_hold_return_pct": m.buy_and_hold_return_pct,
        },
        "walk_forward_efficiency": a.walk_forward.efficiency,
        "pbo": a.pbo.pbo if a.pbo else None,
        "pbo_slices": a.pbo.n_slices if a.pbo else None,
        "deflated_sharpe_ratio": a.dsr.dsr,
        "best_sharpe_per_bar": a.dsr.sharpe,
        "expected_max_sharpe_per_bar": a.dsr.benchmark,
        "trials": a.dsr.n_trials,
        "stability_retention": a.stability.retention if a.stability else None,
        "best_params": a.stability.best_params if a.stability else None,
        "random_entry_p_value": a.timing.p_value if a.timing else None,
        "monte_carlo_drawdown_pct": (
            {str(k): v for k, v in a.shuffle.drawdown_percentiles().items()} if a.shuffle else None
        ),
        "bootstrap_return_pct": (
            {str(k): v for k, v in a.bootstrap.return_percentiles().items()}
            if a.bootstrap
            else None
        ),
        "edge": a.has_edge,
        "findings": findings(a),
        "verdict": verdict(a),
    }
