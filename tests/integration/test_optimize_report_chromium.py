"""The optimisation report opened in headless Chromium, offline: plotly draws every chart."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tradebot.config import load_config, with_overrides
from tradebot.research.optimize import StudyPlan
from tradebot.research.report import write_optimize_report
from tradebot.research.session import OptimizeRequest, run_optimization

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (.ci/run installs it)"),
]


def test_optimize_report_draws_history_importance_coordinates_and_pbo(tmp_path: Path) -> None:
    config = with_overrides(load_config(None), {"backtest.end": "2024-04-01"}, "test")
    run = run_optimization(
        OptimizeRequest(
            config, StudyPlan(name="page", n_trials=16), storage=str(tmp_path / "s.journal")
        )
    )
    page = write_optimize_report(run, tmp_path / "reports").html

    dom = subprocess.run(
        [
            shutil.which("chromium") or str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout

    assert run.verdict is not None
    assert run.verdict.pbo is not None  # so the page has its logits chart
    # history, importance, parallel coordinates and the PBO logits: four drawn plots
    assert dom.count('class="plot-container plotly"') == 4
    assert "Is the best trial luck?" in dom
