"""``walkforward.html`` opened in headless Chromium, offline: plotly draws every chart."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factories import regime_candles
from tradebot.cli import build_app

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (.ci/run installs it)"),
]


def test_walkforward_page_in_chromium_draws_every_chart_offline(tmp_path: Path) -> None:
    # Arrange: a walk-forward on 3,000 bars with a planted edge, two searched parameters
    data = tmp_path / "BTCUSDT-1h.csv"
    frame = regime_candles(3000, seed=1, drift=0.002)
    frame.rename(columns={"ts_ms": "timestamp"}).to_csv(data, index=False)
    args = ["walk-forward", "--data", str(data), "--train", "1000", "--test", "500",
            "--search", "grid", "--grid", "fast_period=5,12", "--grid", "slow_period=26,60",
            "--runs", "100", "--report-dir", str(tmp_path / "reports")]  # fmt: skip
    ran = CliRunner().invoke(build_app(), args, env={"COLUMNS": "250"})
    assert ran.exit_code == 0, ran.output
    page = (tmp_path / "reports" / "latest" / "walkforward.html").resolve()

    # Act
    run = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    # Assert: what plotly.js drew, not the words inside its inline script
    assert run.returncode == 0, run.stderr[-2000:]
    drawn = re.sub(r"<script.*?</script>", "", run.stdout, flags=re.DOTALL)
    # equity by fold, the grid's heatmap, the PBO logits, the random entries, two Monte Carlo
    assert drawn.count('class="plot-container plotly"') == 6
    assert "heatmaplayer" in drawn
    assert "Out-of-sample equity (windows chained)" in drawn
    assert drawn.count("<tr><td>") == 4  # one row per fold
