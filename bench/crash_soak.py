"""Crash soak: SIGKILL a paper-trading bot again and again; it never trades twice nor loses a fill.

The sandbox exchange runs in its own process (``tradebot sandbox --deterministic
--snapshot``); the bot runs in another (bench/crash_driver.py) on one SQLite file. Each life
of the bot ends in SIGKILL: at an armed checkpoint (between writing an intent and sending
it, after the send, between a fill and its record, ...), from outside at a random moment of
trading, or in the middle of start-up recovery. After every restart, once the bot has
reconciled, the soak compares the database with the exchange:

* duplicates: two exchange orders under one client id, or from one decision (bar + role);
* open orders, position quantity and cash in the database equal the exchange's;
* every exchange fill is in the database (none lost);
* the bot did not have to halt.

    .venv/bin/python bench/crash_soak.py --kills 60 --seed 7

The short run is tests/scenario/test_crash_recovery.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tradebot.orchestrator.live import CHECKPOINTS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crash_check import SoakCheck, check_state
from crash_driver import API_KEY, API_SECRET

DRIVER = Path(__file__).resolve().parent / "crash_driver.py"
SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "src/tradebot/data/samples/binance_BTC-USDT_1m_2024-12.csv.gz"
)
CONFIG = """\
exchange: {sandbox: {embedded: false}}
trading: {symbol: BTC/USDT, timeframe: 1m}
strategy: {name: ema_crossover, params: {fast_period: 3, slow_period: 8, rsi_threshold: 100}}
risk: {stop_loss_method: fixed_pct, stop_loss_pct: 0.003}
"""
OCO_RISK = "risk: {stop_loss_method: fixed_pct, stop_loss_pct: 0.003, take_profit_method: pct,"
OCO_RISK += " take_profit_pct: 0.003}\n"
# A quick, busy strategy: a 3/8 EMA cross on 1m bars with a 0.3 % stop trades every few
# minutes of replay, so each life of the bot sends orders and gets fills to crash between.
KINDS = (*CHECKPOINTS, "external", "recovery")


@dataclass
class CrashReport:
    """What the soak did and found."""

    kills: Counter[str] = field(default_factory=Counter)
    restarts: int = 0
    checks: int = 0
    in_startup: int = 0
    """Lives that died before reporting their start (no state to check yet)."""
    discrepancies: Counter[str] = field(default_factory=Counter)
    halts: int = 0
    duplicates: int = 0
    lost_fills: int = 0
    mismatches: list[str] = field(default_factory=list)
    orders_on_exchange: int = 0
    fills_on_exchange: int = 0
    trades: int = 0
    seconds: float = 0.0

    @property
    def total_kills(self) -> int:
        """SIGKILLs delivered, of every kind."""
        return sum(self.kills.values())

    def lines(self) -> list[str]:
        """The figures, one per line."""
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.kills.items()))
        found = ", ".join(f"{k} {n}" for k, n in sorted(self.discrepancies.items())) or "none"
        return [
            f"kills: {self.total_kills} ({kinds})",
            f"restarts: {self.restarts}, state checks after restart: {self.checks}"
            f" (lives ended during start-up, before a check: {self.in_startup})",
            f"discrepancies found and fixed at restart: {sum(self.discrepancies.values())}"
            f" ({found})",
            f"halts: {self.halts}",
            f"duplicates on the exchange: {self.duplicates} (must be 0)",
            f"fills lost: {self.lost_fills} (must be 0)",
            f"database != exchange after restart: {len(self.mismatches)} (must be 0)",
            f"exchange orders: {self.orders_on_exchange}, fills: {self.fills_on_exchange},"
            f" closed trades in the database: {self.trades}",
            f"wall time: {self.seconds:.1f} s",
        ]


def eventually(check: Callable[[], Any], what: str, timeout_s: float = 60.0) -> Any:
    """Poll ``check`` until it returns something truthy; raise naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout_s} s")
        time.sleep(0.02)


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CRASH_AT"}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@contextmanager
def sandbox_process(workdir: Path, data: Path) -> Iterator[str]:
    """Run ``tradebot sandbox`` in its own process; yield its URL."""
    log = workdir / "sandbox.log"
    args = ["-c", "from tradebot.cli import main; main()", "sandbox", "--port", "0"]
    args += ["--deterministic", "--snapshot", str(workdir / "sandbox.json")]
    args += ["--data", f"BTC/USDT={data}", "--spread-bps", "0", "--start-index", "100"]
    args += ["--api-key", API_KEY, "--api-secret", API_SECRET, "--weight-limit", "10000000"]
    with log.open("w") as out:
        proc = subprocess.Popen(_python(*args), stdout=out, stderr=subprocess.STDOUT, env=_env())
    try:
        pattern = re.compile(r"sandbox exchange on (http://127\.0\.0\.1:\d+)")
        found = eventually(lambda: pattern.search(log.read_text()), "the sandbox start")
        yield found.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _started(log: Path) -> dict[str, Any] | None:
    for line in log.read_text().splitlines():
        if line.startswith("{") and '"started"' in line:
            return dict(json.loads(line))
    return None


@dataclass
class Life:
    """One run of the bot process, from spawn to SIGKILL."""

    proc: subprocess.Popen[str]
    log: Path

    def kill(self) -> tuple[bool, bool]:
        """SIGKILL it if still alive: (died of SIGKILL, killed by us rather than itself)."""
        by_us = self.proc.poll() is None
        if by_us:
            self.proc.send_signal(signal.SIGKILL)
        code = self.proc.wait(timeout=30)
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        return code == -signal.SIGKILL, by_us

    def go(self) -> None:
        """Let it trade (it waits after start-up so the soak can check its state)."""
        stdin: IO[str] | None = self.proc.stdin
        if stdin is not None:
            with contextlib.suppress(BrokenPipeError):  # it died meanwhile: the soak goes on
                stdin.write("go\n")
                stdin.flush()

    def wait_dead(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for it to die by itself."""
        deadline = time.monotonic() + timeout_s
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)


def spawn(workdir: Path, url: str, n: int, crash_at: str | None) -> Life:
    """Start the bot process on the soak's database."""
    log = workdir / f"life-{n:03d}.log"
    args = [str(DRIVER), "--url", url, "--db", str(workdir / "bot.db")]
    args += ["--config", str(workdir / "config.yaml"), "--runtime-dir", str(workdir / "rt")]
    env = _env(CRASH_AT=crash_at) if crash_at else _env()
    with log.open("w") as out:
        proc = subprocess.Popen(
            _python(*args), stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
            env=env, text=True,
        )  # fmt: skip
    return Life(proc, log)


def _record(report: CrashReport, started: dict[str, Any], check: SoakCheck) -> None:
    report.checks += 1
    report.discrepancies.update(started["kinds"])
    report.halts += int(started["halted"])
    report.duplicates = check.duplicates
    report.lost_fills = max(report.lost_fills, len(check.lost_fills))
    report.mismatches += check.mismatches
    report.orders_on_exchange, report.fills_on_exchange = check.orders, check.fills
    report.trades = check.trades


def one_life(workdir: Path, url: str, n: int, kind: str, rng: random.Random) -> CrashReport:
    """Spawn, check after restart, trade, SIGKILL; the report of this life alone."""
    report = CrashReport()
    crash_at = f"{kind}:{rng.randint(1, 3)}" if kind in CHECKPOINTS else None
    life = spawn(workdir, url, n, crash_at)
    try:
        if kind == "recovery":
            life.wait_dead(rng.uniform(0.3, 3.0))  # somewhere in imports, start or recovery
        else:
            started = eventually(
                lambda: _started(life.log) or life.proc.poll() is not None, "start"
            )
            if isinstance(started, dict):
                check = asyncio.run(check_state(url, workdir / "bot.db", started))
                _record(report, started, check)
                if kind != "final":
                    life.go()
                    life.wait_dead(rng.uniform(0.05, 1.5) if kind == "external" else 20.0)
    finally:
        report.in_startup = int(report.checks == 0)
        killed, by_us = life.kill()
        if killed:
            # an armed checkpoint the bot did not reach in time counts as an outside kill
            report.kills["external" if by_us and kind in CHECKPOINTS else kind] += 1
    if not killed and life.proc.returncode != 0:
        tail = "\n".join(life.log.read_text().splitlines()[-15:])
        raise RuntimeError(f"the bot failed by itself (exit {life.proc.returncode}):\n{tail}")
    return report


def merge(total: CrashReport, part: CrashReport) -> None:
    """Add one life's figures to the running totals."""
    total.kills.update(part.kills)
    total.checks += part.checks
    total.in_startup += part.in_startup
    total.discrepancies.update(part.discrepancies)
    total.halts += part.halts
    total.mismatches += part.mismatches
    if part.checks:
        total.duplicates, total.lost_fills = part.duplicates, part.lost_fills
        total.orders_on_exchange, total.fills_on_exchange = (
            part.orders_on_exchange,
            part.fills_on_exchange,
        )
        total.trades = part.trades


def run_soak(
    kills: int,
    seed: int,
    workdir: Path,
    data: Path = SAMPLE,
    plan: Sequence[str] = (),
    oco: bool = False,
) -> CrashReport:
    """Kill the bot ``kills`` times, then check once more after a last restart.

    Each life's kind of death is drawn with ``seed`` from ``KINDS``, or taken in turn from
    ``plan`` when given (a short test that must cover every checkpoint). ``oco`` protects
    each position with a stop and a take-profit as one OCO list instead of a stop alone.
    """
    started_at = time.monotonic()
    rng = random.Random(seed)
    config = CONFIG.replace(CONFIG.splitlines()[-1] + "\n", OCO_RISK) if oco else CONFIG
    (workdir / "config.yaml").write_text(config, encoding="utf-8")
    report = CrashReport()
    with sandbox_process(workdir, data) as url:
        n = 0
        while report.total_kills < kills:
            kind = plan[n % len(plan)] if plan else rng.choice(KINDS)
            merge(report, one_life(workdir, url, n, kind, rng))
            n += 1
        final = one_life(workdir, url, n, "final", rng)  # check after the last restart
        final.kills.clear()
        merge(report, final)
        report.restarts = n
    report.seconds = time.monotonic() - started_at
    return report


def main() -> None:
    """Run the soak and print its figures; exit 1 on any duplicate, lost fill or mismatch."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep the logs and database in this folder")
    parser.add_argument("--oco", action="store_true", help="stop and take-profit as OCO lists")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crash-soak-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        report = run_soak(args.kills, args.seed, workdir, oco=args.oco)
    for line in report.lines():
        print(line)
    for mismatch in report.mismatches[:20]:
        print(f"  {mismatch}")
    failed = report.duplicates or report.lost_fills or report.mismatches or report.halts
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
