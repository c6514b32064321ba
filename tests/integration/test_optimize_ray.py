"""``--backend ray`` on a local Ray runtime: the candles go once into the object store, two
actors run the trials, and the study finds what one local worker finds."""

from __future__ import annotations

from pathlib import Path

from tradebot.config import load_config, with_overrides
from tradebot.research.optimize import StudyPlan
from tradebot.research.session import OptimizeRequest, run_optimization


def test_optimize_on_local_ray_finds_what_one_local_worker_finds(tmp_path: Path) -> None:
    config = with_overrides(load_config(None), {"backtest.end": "2024-03-01"}, "test")

    def request(name: str, backend: str, workers: int) -> OptimizeRequest:
        return OptimizeRequest(
            config,
            StudyPlan(name=name, n_trials=8),
            workers=workers,
            backend=backend,  # type: ignore[arg-type]
            storage=str(tmp_path / "studies.journal"),
        )

    local = run_optimization(request("local", "local", 1))
    on_ray = run_optimization(request("ray", "ray", 2))

    assert on_ray.ran == 8
    assert [(t.params, t.values) for t in on_ray.study.trials] == [
        (t.params, t.values) for t in local.study.trials
    ]
    assert [t.params for t in on_ray.best] == [t.params for t in local.best]
