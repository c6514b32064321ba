"""Trials on Ray: a local runtime or a cluster (``ray.init(address=...)``).

The candle arrays are put into Ray's object store once; each worker actor receives the one
reference and reads the arrays zero-copy from the store's shared memory. Ray is an optional
extra (``pip install 'tradebot[ray]'``); only this module imports it.
"""

from __future__ import annotations

from pathlib import Path

import ray
from ray.util import ActorPool

from tradebot.research.backends import Batch
from tradebot.research.candles import CandleArrays, open_candles
from tradebot.research.trial import Params, TrialOutcome, TrialRunner, TrialSpec


class _Worker:
    # One Ray actor: a runner over the arrays of the object store (read-only, not copied).
    def __init__(self, spec: TrialSpec, arrays: CandleArrays) -> None:
        self._runner = TrialRunner(spec, arrays.frame())

    def run(self, number: int, params: Params) -> TrialOutcome:
        return self._runner.run(number, params)


class RayBackend:
    """``workers`` Ray actors sharing one copy of the candles in the object store."""

    def __init__(
        self, spec: TrialSpec, candles_dir: Path, workers: int, address: str | None = None
    ) -> None:
        """Connect to ``address`` (None: start a local runtime of ``workers`` CPUs), place
        the candles in the object store once and start the actors."""
        self.workers = workers
        self._started_here = not ray.is_initialized()
        if self._started_here:
            ray.init(
                address=address,
                num_cpus=workers if address is None else None,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        mapped = open_candles(candles_dir)
        arrays_ref = ray.put(CandleArrays(mapped.ts_ms[:], mapped.ohlcv[:]))
        actor = ray.remote(num_cpus=1)(_Worker)
        self._pool = ActorPool([actor.remote(spec, arrays_ref) for _ in range(workers)])

    def run(self, batch: Batch) -> list[TrialOutcome]:
        """Run the trials on the actors; outcomes come back in the batch's order."""
        outcomes: list[TrialOutcome] = list(
            self._pool.map(lambda a, trial: a.run.remote(*trial), list(batch))
        )
        return outcomes

    def close(self) -> None:
        """Shut down the runtime this backend started (a cluster it joined stays up)."""
        if self._started_here:
            ray.shutdown()
