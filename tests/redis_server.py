"""A real Debian ``redis-server`` on loopback for the bus tests (``.ci/run`` installs it).

Started as production should run it: bound to 127.0.0.1, a password (``requirepass``, in a
0600 config file rather than on the command line), the append-only file on with
``appendfsync everysec``. A test can SIGKILL it and start it again on the same port and
directory, which is how the restart checks measure what survives.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from ports import free_port
from tradebot.services.bus.redis_streams import RedisSettings

BINARY = shutil.which("redis-server")


@dataclass
class RedisServer:
    """One redis-server process and the directory it persists to."""

    directory: Path
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or restart) on the same port and directory; return once it answers."""
        if BINARY is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        config = self.directory / "redis.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\nrequirepass {self.password}\n"
            f'dir {self.directory}\nappendonly yes\nappendfsync everysec\nsave ""\n'
            f"logfile {self.directory / 'redis.log'}\n",
            encoding="utf-8",
        )
        config.chmod(0o600)
        self.proc = subprocess.Popen([BINARY, str(config)])
        self._wait_ready()

    def wait_written(self, timeout_s: float = 10.0) -> None:
        """Return once every write Redis acknowledged is in its append-only file.

        With ``appendfsync everysec`` Redis writes the file before it replies, except while
        a slow disk holds an fsync: then it may hold writes back for up to 2 s
        (docs/distributed.md, the loss window). A test that claims "nothing acknowledged is
        lost to a process kill" kills after this, not inside that window.
        """
        deadline = time.monotonic() + timeout_s
        with self.client() as client:
            while int(client.info("persistence")["aof_buffer_length"]) > 0:
                assert time.monotonic() < deadline, "Redis held its AOF writes back too long"
                time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to flush or say goodbye."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), if still running."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def settings(self, prefix: str, **overrides: object) -> RedisSettings:
        """Bus settings for this server, under a test's own stream prefix."""
        fields: dict[str, object] = {"port": self.port, "password": self.password, "prefix": prefix}
        return RedisSettings(**{**fields, **overrides})  # type: ignore[arg-type]

    def client(self) -> redis.Redis:
        """A plain synchronous client (for a test's own checks)."""
        return redis.Redis(port=self.port, password=self.password, decode_responses=True)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        with self.client() as client:
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:  # not listening yet, or loading the AOF
                    if time.monotonic() > deadline:
                        log = (self.directory / "redis.log").read_text(errors="replace")
                        raise AssertionError(f"redis-server did not start:\n{log}") from None
                    time.sleep(0.02)
