"""A real ``tradebot run --mode paper`` process for the tests that need one (signals, exits)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

NO_KEYS = {"BINANCE_API_KEY": "", "BINANCE_API_SECRET": "", "COLUMNS": "200"}
"""No real keys reach a test's bot, and rich tables are wide enough to read back."""


def eventually(check: Callable[[], bool], what: Callable[[], str], timeout_s: float = 30.0) -> None:
    """Wait until ``check()`` holds; fail with ``what()`` (e.g. the process output) if not."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not met within {timeout_s} s: {what()}")
        time.sleep(0.05)


@dataclass(frozen=True)
class BotProcess:
    """A running bot: its process, its output file and its database."""

    proc: subprocess.Popen[bytes]
    log: Path
    db: Path

    def output(self) -> str:
        """Everything the process printed so far."""
        return self.log.read_text()

    def terminate(self, timeout_s: float = 30.0) -> int:
        """SIGTERM, as a service manager would, and the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout_s)


@contextmanager
def paper_bot_process(
    tmp_path: Path, *flags: str, config_yaml: str = "", sandbox_yaml: str = ""
) -> Iterator[BotProcess]:
    """``tradebot run --mode paper --speed 3600`` with its embedded sandbox on a free port.

    ``config_yaml`` adds top-level sections to the config, ``sandbox_yaml`` keys (indented
    four spaces) to ``exchange.sandbox``. Yields once the bot says it is trading; kills the
    process if the test left it running.
    """
    config = tmp_path / "config.yaml"
    config.write_text(
        "exchange:\n  sandbox:\n    port: 0\n"
        + sandbox_yaml
        + "trading:\n  cycle_interval_s: 1\n"
        + config_yaml,
        encoding="utf-8",
    )
    db, log = tmp_path / "bot.db", tmp_path / "out.txt"
    command = [sys.executable, "-c", "from tradebot.cli import main; main()"]
    args = ["run", "--mode", "paper", "--config", str(config), "--db", str(db), "--speed", "3600"]
    env = {**os.environ, **NO_KEYS, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, *args, *flags], stdout=out, stderr=subprocess.STDOUT, env=env
        )
        bot = BotProcess(proc, log, db)
        try:
            eventually(lambda: "Ctrl-C stops" in bot.output(), bot.output)
            yield bot
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
