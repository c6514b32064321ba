"""Crash soak: SIGKILL a paper-trading bot again and again; it never trades twice nor loses a fill.

The sandbox exchange runs in its own process (``tradebot sandbox --deterministic
--snapshot``); the bot runs in another (bench/crash_driver.py) on one SQLite file. With
``--symbols N`` the bot trades N markets on the one account, replayed in lock-step
(BTC/USDT, then markets derived from its sample: bench/crash_markets.py). Each life
of the bot ends in SIGKILL: at an armed checkpoint of its cycle (bar closed, decision saved,
intent saved, order sent, fill booked, fill saved), from outside at a random moment of
trading, or in the middle of start-up recovery. The kinds of death are dealt in shuffled
rounds so that every one of them gets kills. On a seeded share of lives the database fails
under the bot: at a fill, a second connection holds SQLite's write lock past the bot's busy
timeout, so saving the fill fails (the bot must keep it, protect the position, and save it at
its next cycle). Now and then a second bot is started on the same database while the first
runs: it must be refused.

The referee (bench/crash_check.py) compares the exchange with the bot after every restart,
and again after the first completed cycle of each life and after the cycle that met a
database failure:

* duplicates: two exchange orders under one client id, or from one decision (bar + role);
* every exchange fill is in the database (none lost);
* every order, open or closed, has the exchange's status and filled amount in the database;
* open orders, each symbol's position quantity (its base balance on the exchange) and the
  cash (the one quote balance) in the database and in the bot equal the exchange's;
* after a completed cycle, each position held on the exchange is covered by its open stops;
* the bot did not have to halt.

Every check runs over every symbol traded.

    .venv/bin/python bench/crash_soak.py --kills 120 --seed 7 --oco --symbols 3

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tradebot.orchestrator.bot_settings import CHECKPOINTS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crash_check import SoakCheck, check_state
from crash_driver import API_KEY, API_SECRET
from crash_markets import MARKETS, write_markets

DRIVER = Path(__file__).resolve().parent / "crash_driver.py"
STOP_PCT = "stop_loss_method: fixed_pct, stop_loss_pct: 0.003"
STOP_ATR = "stop_loss_method: atr, stop_loss_multiplier: 1.0"
TAKE_PROFIT = "take_profit_method: pct, take_profit_pct: 0.003"
KINDS = (*CHECKPOINTS, "external", "recovery")
START_INDEX = 100
"""The bar of the timeline the replay starts at (the bars before it warm the strategy up)."""


def soak_config(symbols: Sequence[str], oco: bool, atr_stops: bool = False) -> str:
    """The bot's config: ``symbols`` on one account, each allowed its position at once.

    A quick, busy strategy: a 3/8 EMA cross on 1m bars with a 0.3 % stop trades every few
    minutes of replay, so each life of the bot sends orders and gets fills to crash
    between. ``oco`` adds a 0.3 % take-profit, sent with the stop as one OCO list.
    ``atr_stops`` puts each stop one ATR(14) under the price bought at instead (the default
    config's method: the entry's ATR is what a restart must find again).
    """
    risk = f"{STOP_ATR if atr_stops else STOP_PCT}, max_open_positions: {len(symbols)}"
    return (
        "exchange: {sandbox: {embedded: false}}\n"
        f"trading: {{symbols: [{', '.join(symbols)}], timeframe: 1m}}\n"
        "strategy: {name: ema_crossover,"
        " params: {fast_period: 3, slow_period: 8, rsi_threshold: 100}}\n"
        f"risk: {{{risk}{', ' + TAKE_PROFIT if oco else ''}}}\n"
    )


@dataclass
class CrashReport:
    """What the soak did and found."""

    kills: Counter[str] = field(default_factory=Counter)
    restarts: int = 0
    checks: int = 0
    """Comparisons of exchange and bot right after a restart."""
    cycle_checks: int = 0
    """Comparisons after a completed cycle (protection included)."""
    in_startup: int = 0
    """Lives that died before reporting their start (no state to check yet)."""
    discrepancies: Counter[str] = field(default_factory=Counter)
    halts: int = 0
    duplicates: int = 0
    lost_fills: int = 0
    mismatches: list[str] = field(default_factory=list)
    status_mismatches: list[str] = field(default_factory=list)
    unprotected: list[str] = field(default_factory=list)
    """Checks after a completed cycle that found a position its stops do not cover."""
    unprotected_at_start: list[str] = field(default_factory=list)
    """The same, right after a restart (before the first cycle): shown, not a failure."""
    db_locks: int = 0
    """Database write failures injected (a lock held past the busy timeout)."""
    saves_failed: int = 0
    """Saves the bot logged as failed ("state not saved"): the injections that bit."""
    cycles_failed: int = 0
    second_bots: int = 0
    second_bots_refused: int = 0
    orders_on_exchange: int = 0
    fills_on_exchange: int = 0
    fills_by_symbol: Counter[str] = field(default_factory=Counter)
    """The exchange's fills of each symbol traded."""
    trades: int = 0
    clock_ms: tuple[int, int] = (0, 0)
    """The replay's clock at the first check and at the last."""
    seconds: float = 0.0

    @property
    def bars(self) -> int:
        """1m bars the replay moved on between the first check and the last."""
        return (self.clock_ms[1] - self.clock_ms[0]) // 60_000

    @property
    def total_kills(self) -> int:
        """SIGKILLs delivered, of every kind."""
        return sum(self.kills.values())

    @property
    def failed(self) -> bool:
        """Any finding that must be zero is not."""
        return bool(
            self.duplicates
            or self.lost_fills
            or self.mismatches
            or self.status_mismatches
            or self.unprotected
            or self.halts
            or self.second_bots_refused < self.second_bots
        )

    def lines(self) -> list[str]:
        """The figures, one per line."""
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.kills.items()))
        found = ", ".join(f"{k} {n}" for k, n in sorted(self.discrepancies.items())) or "none"
        by_symbol = ", ".join(f"{s} {n}" for s, n in self.fills_by_symbol.items()) or "none"
        return [
            f"kills: {self.total_kills} ({kinds})",
            f"restarts: {self.restarts}, checks after restart: {self.checks}"
            f" (lives ended during start-up, before a check: {self.in_startup}),"
            f" checks after a completed cycle: {self.cycle_checks}",
            f"discrepancies found and fixed at restart: {sum(self.discrepancies.values())}"
            f" ({found})",
            f"database write failures injected: {self.db_locks}"
            f" (saves that failed and were kept: {self.saves_failed});"
            f" cycles failed and retried: {self.cycles_failed}",
            f"halts: {self.halts}",
            f"duplicates on the exchange: {self.duplicates} (must be 0)",
            f"fills lost: {self.lost_fills} (must be 0)",
            f"orders whose database status differs from the exchange's:"
            f" {len(self.status_mismatches)} (must be 0)",
            f"other database/bot != exchange: {len(self.mismatches)} (must be 0)",
            f"positions without protection after a cycle: {len(self.unprotected)} (must be 0);"
            f" right after a restart, before the first cycle: {len(self.unprotected_at_start)}",
            f"second bot on the database refused: {self.second_bots_refused} of {self.second_bots}",
            f"exchange orders: {self.orders_on_exchange}, fills: {self.fills_on_exchange}"
            f" ({by_symbol}), closed trades in the database: {self.trades};"
            f" bars replayed: {self.bars}",
            f"wall time: {self.seconds:.1f} s",
        ]

    def findings(self) -> list[str]:
        """The first few findings in full, for the person reading the figures."""
        found = self.status_mismatches + self.mismatches
        return (found + [f"after a cycle: {u}" for u in self.unprotected])[:20]


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


@contextmanager
def sandbox_process(workdir: Path, files: Mapping[str, Path]) -> Iterator[str]:
    """Run ``tradebot sandbox`` in its own process, replaying ``files`` (symbol: candle file)
    in lock-step; yield its URL."""
    log = workdir / "sandbox.log"
    args = ["-c", "from tradebot.cli import main; main()", "sandbox", "--port", "0"]
    args += ["--deterministic", "--snapshot", str(workdir / "sandbox.json")]
    for symbol, path in files.items():
        args += ["--data", f"{symbol}={path}"]
    args += ["--spread-bps", "0", "--start-index", str(START_INDEX)]
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


def _events(log: Path) -> list[dict[str, Any]]:
    # The driver's JSON lines, in order (a line cut short by SIGKILL is not one).
    events = []
    for line in log.read_text().splitlines():
        if line.startswith("{") and line.endswith("}"):
            with contextlib.suppress(json.JSONDecodeError):
                events.append(dict(json.loads(line)))
    return events


@dataclass
class Life:
    """One run of the bot process, from spawn to SIGKILL."""

    proc: subprocess.Popen[str]
    log: Path
    read: int = 0
    """How many of its JSON lines the soak has taken."""

    def next_event(self, *names: str) -> dict[str, Any] | None:
        """Its next JSON line not yet taken, if it is one of ``names`` (others are skipped)."""
        events = _events(self.log)
        while self.read < len(events):
            event = events[self.read]
            self.read += 1
            if event["event"] in names:
                return event
        return None

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
        """Let it trade on (it waits after start-up and after some cycles to be checked)."""
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


@dataclass(frozen=True)
class Site:
    """Where the soak runs: its folder (database, config, logs), the sandbox, the markets."""

    workdir: Path
    url: str
    symbols: tuple[str, ...]

    @property
    def db(self) -> Path:
        """The bot's SQLite file."""
        return self.workdir / "bot.db"

    def check(self, reported: dict[str, Any], saved: bool = True) -> SoakCheck:
        """The referee's comparison of exchange, database and what the bot ``reported``."""
        return asyncio.run(check_state(self.url, self.db, self.symbols, reported, saved))


def spawn(site: Site, n: int, crash_at: str | None, lock_at: str | None = None) -> Life:
    """Start the bot process on the soak's database."""
    workdir = site.workdir
    log = workdir / f"life-{n:03d}.log"
    args = [str(DRIVER), "--url", site.url, "--db", str(site.db)]
    args += ["--config", str(workdir / "config.yaml"), "--runtime-dir", str(workdir / "rt")]
    armed = {"CRASH_AT": crash_at, "DB_LOCK_AT": lock_at}
    env = _env(**{k: v for k, v in armed.items() if v})
    with log.open("w") as out:
        proc = subprocess.Popen(
            _python(*args), stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
            env=env, text=True,
        )  # fmt: skip
    return Life(proc, log)


def second_bot_refused(site: Site, holder_pid: int) -> bool:
    """Start ``tradebot run`` on the database a live bot holds: it must be refused, naming
    the holder. (If it were not, it would trade a short replay on its own embedded
    sandbox, and the next checks would see its rows.)"""
    config = site.workdir / "second.yaml"
    config.write_text("exchange:\n  sandbox:\n    port: 0\n", encoding="utf-8")
    args = ["-c", "from tradebot.cli import main; main()", "run", "--mode", "paper"]
    args += ["--replay", "--bars", "2", "-c", str(config), "--db", str(site.db)]
    done = subprocess.run(
        _python(*args), capture_output=True, text=True, env=_env(), timeout=120, check=False
    )
    said = " ".join((done.stdout + done.stderr).split())
    return done.returncode == 2 and f"in use by another tradebot (PID {holder_pid} " in said


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CRASH_AT", "DB_LOCK_AT")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _record(report: CrashReport, seen: dict[str, Any], check: SoakCheck) -> None:
    report.halts += int(seen["halted"])
    report.duplicates = check.duplicates
    report.lost_fills = max(report.lost_fills, len(check.lost_fills))
    report.mismatches += check.mismatches
    report.status_mismatches += check.status_mismatches
    if seen["event"] == "cycle":
        report.unprotected += check.unprotected
    else:  # right after start, before the first cycle has had its chance to protect it
        report.unprotected_at_start += check.unprotected
    report.orders_on_exchange, report.fills_by_symbol = check.orders, check.fills
    report.fills_on_exchange = check.fills.total()
    report.trades = check.trades
    report.clock_ms = (report.clock_ms[0] or check.clock_ms, check.clock_ms)


@dataclass(frozen=True)
class Plan:
    """How one life is to end, and what happens to it meanwhile."""

    kind: str
    lock: bool = False
    """Inject database write failures at its fills."""
    second_bot: bool = False
    """Start a second bot on the database while this one runs."""


def one_life(site: Site, n: int, plan: Plan, rng: random.Random) -> CrashReport:
    """Spawn, check after restart, trade (checking after some cycles), SIGKILL; the report of
    this life alone."""
    report, kind = CrashReport(), plan.kind
    crash_at = f"{kind}:{rng.randint(1, 3)}" if kind in CHECKPOINTS else None
    lock_at = f"fill_booked:{rng.randint(1, 2)}" if plan.lock else None
    life = spawn(site, n, crash_at, lock_at)
    try:
        if kind == "recovery":
            life.wait_dead(rng.uniform(0.3, 3.0))  # somewhere in imports, start or recovery
        else:
            started = eventually(
                lambda: life.next_event("started") or life.proc.poll() is not None, "start"
            )
            if isinstance(started, dict):
                check = site.check(started)
                report.checks += 1
                report.discrepancies.update(started["kinds"])
                _record(report, started, check)
                if plan.second_bot:
                    report.second_bots += 1
                    report.second_bots_refused += second_bot_refused(site, life.proc.pid)
                life.go()
                trade(life, report, site, kind, rng)
    finally:
        report.in_startup = int(report.checks == 0)
        killed, by_us = life.kill()
        if killed and kind != "final":
            # an armed checkpoint the bot did not reach in time counts as an outside kill
            report.kills["external" if by_us and kind in CHECKPOINTS else kind] += 1
        text = life.log.read_text()
        report.saves_failed += text.count("state not saved")
        report.db_locks += sum(1 for e in _events(life.log) if e["event"] == "db_locked")
        report.cycles_failed += sum(1 for e in _events(life.log) if e["event"] == "cycle_failed")
    if not killed and life.proc.returncode != 0:
        tail = "\n".join(text.splitlines()[-15:])
        raise RuntimeError(f"the bot failed by itself (exit {life.proc.returncode}):\n{tail}")
    if any(e["event"] == "end_of_data" for e in _events(life.log)):
        raise RuntimeError(f"the replay ran out of bars in life {n}: fewer kills, or more data")
    return report


def trade(life: Life, report: CrashReport, site: Site, kind: str, rng: random.Random) -> None:
    """Let the life trade until its death is due, checking it whenever it pauses after a
    cycle; a ``final`` life ends after its first checked cycle once every market has
    filled an order (within a minute)."""
    budget = rng.uniform(0.05, 1.5) if kind == "external" else 20.0
    deadline = time.monotonic() + (60.0 if kind == "final" else budget)
    while life.proc.poll() is None and time.monotonic() < deadline:
        event = life.next_event("cycle", "db_locked")
        if event is None:
            time.sleep(0.02)
        elif event["event"] == "db_locked":
            deadline += event["hold_s"]  # the lock stalls the bot; its death is not due yet
        else:
            paused = time.monotonic()
            saved = event["unsaved"] == 0
            check = site.check(event, saved=saved)
            report.cycle_checks += 1
            _record(report, event, check)
            if kind == "final" and saved and all(check.fills[s] for s in site.symbols):
                return  # every market has traded (a loaded machine replays fewer bars a life)
            life.go()
            deadline += time.monotonic() - paused  # checking is not trading time


def merge(total: CrashReport, part: CrashReport) -> None:
    """Add one life's figures to the running totals."""
    total.kills.update(part.kills)
    total.checks += part.checks
    total.cycle_checks += part.cycle_checks
    total.in_startup += part.in_startup
    total.discrepancies.update(part.discrepancies)
    total.halts += part.halts
    total.mismatches += part.mismatches
    total.status_mismatches += part.status_mismatches
    total.unprotected += part.unprotected
    total.unprotected_at_start += part.unprotected_at_start
    total.db_locks += part.db_locks
    total.saves_failed += part.saves_failed
    total.cycles_failed += part.cycles_failed
    total.second_bots += part.second_bots
    total.second_bots_refused += part.second_bots_refused
    total.lost_fills = max(total.lost_fills, part.lost_fills)
    if part.checks or part.cycle_checks:
        total.duplicates = part.duplicates
        total.orders_on_exchange, total.fills_on_exchange = (
            part.orders_on_exchange,
            part.fills_on_exchange,
        )
        total.fills_by_symbol = part.fills_by_symbol
        total.trades = part.trades
        total.clock_ms = (total.clock_ms[0] or part.clock_ms[0], part.clock_ms[1])


def plans(
    kinds: Sequence[str], rng: random.Random | None, lock_rate: float, second_bot_every: int
) -> Iterator[Plan]:
    """Lives without end, in rounds of ``kinds``.

    With ``rng`` each round is shuffled (every kind gets its share) and a ``lock_rate``
    share of the lives that wait for a checkpoint meet database failures. Without, the
    rounds keep their order and a kind written ``<kind>+lock`` meets them (a short test
    that must cover everything). Every ``second_bot_every``-th life that starts gets a
    second bot tried on its database.
    """
    n = 0
    while True:
        round_ = list(kinds)
        if rng is not None:
            rng.shuffle(round_)
        for spec in round_:
            kind, _, extra = spec.partition("+")
            lock = extra == "lock"
            if rng is not None:
                lock = kind in CHECKPOINTS and rng.random() < lock_rate
            second = kind != "recovery" and second_bot_every > 0 and n % second_bot_every == 0
            n += kind != "recovery"
            yield Plan(kind, lock, second)


def _progress_line(n: int, life: Plan, report: CrashReport) -> str:
    lock = " +db lock" if life.lock else ""
    mismatches = len(report.status_mismatches) + len(report.mismatches)
    return (
        f"life {n} ({life.kind}{lock}): {report.total_kills} kills; {report.duplicates}"
        f" duplicates, {report.lost_fills} lost fills, {mismatches} mismatches,"
        f" {len(report.unprotected)} unprotected after a cycle"
    )


def run_soak(
    kills: int,
    seed: int,
    workdir: Path,
    symbols: int = 1,
    late_bars: int | None = None,
    plan: Sequence[str] = (),
    oco: bool = False,
    atr_stops: bool = False,
    lock_rate: float = 0.2,
    second_bot_every: int = 25,
    progress: Callable[[str], None] | None = None,
) -> CrashReport:
    """Kill the bot ``kills`` times, then restart it once more and check after a cycle.

    The bot trades the first ``symbols`` markets of ``crash_markets.MARKETS`` on one
    account (their files written into ``workdir``); with ``late_bars`` the last of them
    has no data until that many bars into the replay (a new listing). Each life's kind of
    death comes from shuffled rounds of ``KINDS`` drawn with ``seed``, or from rounds of
    ``plan`` when given (see ``plans``). ``oco`` protects each position
    with a stop and a take-profit as one OCO list instead of a stop alone; ``atr_stops``
    sets the stops by the ATR instead of 0.3 % under the entry. ``lock_rate`` is
    the share of checkpoint lives that meet database write failures; ``second_bot_every``
    how often a second bot tries the database. ``progress`` is told about each life.
    """
    started_at = time.monotonic()
    rng = random.Random(seed)
    late_from = 0 if late_bars is None else START_INDEX + late_bars
    files = write_markets(workdir, symbols, late_from)
    config = soak_config(tuple(files), oco, atr_stops)
    (workdir / "config.yaml").write_text(config, encoding="utf-8")
    report = CrashReport()
    shuffled = None if plan else random.Random(seed + 1)
    lives = plans(plan or KINDS, shuffled, lock_rate, second_bot_every)
    with sandbox_process(workdir, files) as url:
        site, n = Site(workdir, url, tuple(files)), 0
        while report.total_kills < kills:
            life = next(lives)
            merge(report, one_life(site, n, life, rng))
            if progress is not None:
                progress(_progress_line(n, life, report))
            n += 1
        merge(report, one_life(site, n, Plan("final"), rng))
        report.restarts = n
    report.seconds = time.monotonic() - started_at
    return report


def main() -> None:
    """Run the soak and print its figures; exit 1 on any finding that must be zero."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep the logs and database in this folder")
    parser.add_argument("--oco", action="store_true", help="stop and take-profit as OCO lists")
    parser.add_argument(
        "--atr-stops", action="store_true", help="stops one ATR(14) under the entry, not 0.3 %%"
    )
    parser.add_argument(
        "--symbols", type=int, default=1, choices=range(1, len(MARKETS) + 1), metavar="N",
        help="markets traded on the one account: BTC/USDT, then ETH, SOL, BNB derived from it",
    )  # fmt: skip
    parser.add_argument(
        "--late-bars", type=int, default=None, metavar="N",
        help="the last market's data starts N bars into the replay (a new listing)",
    )  # fmt: skip
    parser.add_argument(
        "--db-failures", type=float, default=0.2, metavar="SHARE",
        help="share of checkpoint lives whose fills meet a database write failure",
    )  # fmt: skip
    parser.add_argument(
        "--second-bot-every", type=int, default=25, metavar="N",
        help="start a second bot on the database every N-th life (0: never)",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crash-soak-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        report = run_soak(
            args.kills, args.seed, workdir, symbols=args.symbols, late_bars=args.late_bars,
            oco=args.oco, atr_stops=args.atr_stops,
            lock_rate=args.db_failures, second_bot_every=args.second_bot_every,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )  # fmt: skip
    for line in report.lines():
        print(line)
    for finding in report.findings():
        print(f"  {finding}")
    sys.exit(1 if report.failed else 0)


if __name__ == "__main__":
    main()
