"""Debian's ``prometheus`` scrapes a running ``tradebot run --mode paper`` over 127.0.0.1.

The bot serves /metrics on a port it picks (``monitoring.metrics_port: 0``) and prints it;
Prometheus runs with a temporary config and data folder, loads the shipped alert rules, and
the test reads the bot's numbers back through Prometheus's HTTP API.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ports import free_port
from processes import BotProcess, eventually, paper_bot_process
from tradebot.state import Repository, create_database

RULES = Path(__file__).resolve().parents[3] / "deploy" / "prometheus" / "tradebot-alerts.yml"
METRICS_ON = re.compile(r"Prometheus metrics on http://([\d.]+:\d+)/metrics")


@contextmanager
def prometheus(tmp_path: Path, target: str) -> Iterator[str]:
    """Prometheus scraping ``target`` every second; yields its API base URL."""
    executable = shutil.which("prometheus")
    assert executable, "Debian's prometheus is needed: apt-get install prometheus (.ci/run does)"
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files: ['{RULES}']\n"
        "scrape_configs:\n  - job_name: tradebot\n"
        f"    static_configs:\n      - targets: ['{target}']\n",
        encoding="utf-8",
    )
    address = f"127.0.0.1:{free_port()}"
    log = (tmp_path / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [executable, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address={address}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield f"http://{address}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _get(url: str) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return dict(json.loads(resp.read()))
    except OSError:
        return None  # not listening yet


def _query(api: str, expression: str) -> list[dict[str, object]]:
    answer = _get(f"{api}/api/v1/query?query={urllib.parse.quote(expression)}")
    return [] if answer is None else list(answer["data"]["result"])  # type: ignore[index]


def test_prometheus_scrapes_a_paper_bot_and_reads_its_equity_back(tmp_path: Path) -> None:
    # Arrange: a paper bot serving /metrics on a port of its choosing
    with paper_bot_process(tmp_path, config_yaml="monitoring:\n  metrics_port: 0\n") as bot:
        found = METRICS_ON.search(bot.output())
        assert found, bot.output()
        # Act: Prometheus scrapes it
        with prometheus(tmp_path, found.group(1)) as api:
            log = tmp_path / "prometheus.log"

            def scraped() -> bool:
                return bool(_query(api, "tradebot_equity")) and bool(
                    _query(api, "tradebot_cycles_total > 0")
                )

            eventually(scraped, lambda: _why(log, bot), timeout_s=60)
            equity = float(_query(api, "tradebot_equity")[0]["value"][1])  # type: ignore[index]
            up = _query(api, 'up{job="tradebot"}')
            rules = _get(f"{api}/api/v1/rules")
        # Assert
        assert bot.terminate() == 0
    saved = Repository(create_database(f"sqlite:///{bot.db}")).snapshots()
    assert equity in {float(s.equity) for s in saved}
    assert up[0]["value"][1] == "1"  # type: ignore[index]
    assert rules is not None
    loaded = [r for g in rules["data"]["groups"] for r in g["rules"]]  # type: ignore[index]
    assert len(loaded) == RULES.read_text(encoding="utf-8").count("- alert:")
    assert all(r["health"] == "ok" for r in loaded)


def _why(log: Path, bot: BotProcess) -> str:
    return f"prometheus log:\n{log.read_text()[-2000:]}\nbot output:\n{bot.output()[-2000:]}"
