"""Run a sandbox on its own event loop in a daemon thread, for sync callers (tests, demo)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tradebot.sandbox.config import SandboxConfig
from tradebot.sandbox.server import SandboxServer

_START_TIMEOUT_S = 30.0


@contextmanager
def run_sandbox_in_thread(config: SandboxConfig) -> Iterator[SandboxServer]:
    """Yield a started sandbox served from a background thread; stop it on exit.

    Call ``advance_sync`` to move its clock from the caller's thread.
    """
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: dict[str, SandboxServer | BaseException] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            server = SandboxServer(config)
            loop.run_until_complete(server.start())
            box["server"] = server
        except BaseException as e:  # handed to the caller's thread below
            box["error"] = e
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=serve, name="tradebot-sandbox", daemon=True)
    thread.start()
    if not started.wait(_START_TIMEOUT_S):
        raise TimeoutError(f"the sandbox did not start within {_START_TIMEOUT_S} s")
    error = box.get("error")
    if isinstance(error, BaseException):
        raise error
    server = box["server"]
    assert isinstance(server, SandboxServer)
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_START_TIMEOUT_S)
