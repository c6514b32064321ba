"""Where trials run: this process, a pool of local worker processes, or a Ray cluster.

Each backend gets the candles once (a memory-mapped file the workers open by path, or one
object in Ray's object store) and a ``TrialSpec`` once per worker; a trial then carries
only its number and parameters. Results come back in the order the trials were given, so
the study is told them in trial-number order whatever finished first.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Protocol

from tradebot.backtest.heap import map_large_blocks, release_free_heap
from tradebot.research.candles import open_candles
from tradebot.research.trial import Params, TrialOutcome, TrialRunner, TrialSpec

Batch = Sequence[tuple[int, Params]]


class TrialBackend(Protocol):
    """Runs a batch of trials and returns their outcomes in the batch's order."""

    workers: int

    def run(self, batch: Batch) -> list[TrialOutcome]:
        """Run every ``(number, params)`` of ``batch``."""
        ...

    def close(self) -> None:
        """Stop the workers."""
        ...


class InProcessBackend:
    """One worker: the trials run in this process, on the mapped candles."""

    workers = 1

    def __init__(self, spec: TrialSpec, candles_dir: Path) -> None:
        """Map the candles and build the runner; large blocks are mapped from here on."""
        map_large_blocks()
        self._runner = TrialRunner(spec, open_candles(candles_dir).frame())

    def run(self, batch: Batch) -> list[TrialOutcome]:
        """Run the trials one after the other."""
        return [self._runner.run(number, params) for number, params in batch]

    def close(self) -> None:
        """Nothing to stop."""


# The runner of a pool worker process, set once by its initializer: a process pool hands
# its tasks to module-level functions, so per-process state lives here (one per process).
_WORKER_RUNNER: list[TrialRunner] = []


def _start_worker(spec: TrialSpec, candles_dir: Path) -> None:
    _WORKER_RUNNER.append(TrialRunner(spec, open_candles(candles_dir).frame()))


def _run_in_worker(number: int, params: Params) -> TrialOutcome:
    return _WORKER_RUNNER[0].run(number, params)


def _ready() -> bool:
    return bool(_WORKER_RUNNER)


class ProcessBackend:
    """``workers`` local processes, each mapping the same candle files.

    On Linux the workers are forked after the parent froze its objects out of the garbage
    collector's reach (``gc.freeze``), so the imported code stays shared with the parent
    instead of being copied page by page as the collector touches it, and after the C heap's
    free pages went back to the system (``release_free_heap``). Large blocks are mapped
    (``map_large_blocks``), so a worker gives a trial's columns back as they are freed
    instead of holding its largest trial's high-water mark.
    """

    def __init__(self, spec: TrialSpec, candles_dir: Path, workers: int) -> None:
        """Start the workers now (before any progress display starts its threads).

        The caller has resolved the spec's objectives once already, so a worker cannot
        fail to.
        """
        self.workers = workers
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        gc.collect()
        release_free_heap()
        map_large_blocks()  # the workers inherit it: each holds what its trial holds now
        gc.freeze()
        self._pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(spec, candles_dir)
        )
        for ready in [self._pool.submit(_ready) for _ in range(workers)]:
            ready.result()

    def run(self, batch: Batch) -> list[TrialOutcome]:
        """Hand the trials to the pool (one at a time per free worker) and collect them."""
        futures = [self._pool.submit(_run_in_worker, number, params) for number, params in batch]
        return [f.result() for f in futures]

    def close(self) -> None:
        """Stop the workers."""
        self._pool.shutdown(cancel_futures=True)
        gc.unfreeze()
