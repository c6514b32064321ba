"""What ``tradebot ml`` prints: scores, calibration and the registry, as rich tables.

Kept apart from ``ml.py`` so the command module stays about wiring. A registered model's
metrics come back from the database as JSON, an evaluation as values; both print through the
same tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from rich.console import RenderableType
from rich.table import Table

from tradebot.data.frame import fmt_ts
from tradebot.ml.training import Evaluation
from tradebot.state.model_registry import JsonValue, ModelRecord

CalibrationRow = tuple[float, float, int, float | None, float | None]


def evaluation_lines(result: Evaluation) -> list[RenderableType]:
    """The scores of a walk-forward evaluation and its calibration table."""
    bins = [(b.low, b.high, b.count, b.mean_predicted, b.fraction_up) for b in result.calibration]
    return [
        f"{result.folds} folds, {result.train_rows} training rows over all folds,"
        f" {result.test_rows} test rows;"
        f" up share train {result.up_share_train:.3f}, test {result.up_share_test:.3f}",
        f"accuracy {result.accuracy:.3f}  AUC {result.auc:.3f}  Brier {result.brier:.4f}"
        f"  log loss {result.log_loss:.4f}",
        calibration_table(bins),
    ]


def trained_lines(record: ModelRecord, models_dir: Path) -> list[RenderableType]:
    """What ``ml train`` registered: the model, its data, its scores and what to do next."""
    m = record.metrics
    return [
        f"registered {record.model_id} ({record.status}): {record.kind} on {record.data_source},"
        f" {fmt_ts(record.data_start_ms)} to {fmt_ts(record.data_end_ms)}"
        f" (data sha256 {record.data_sha256[:16]}…)",
        f"trained until {fmt_ts(record.trained_until_ms)} on {m.get('train_rows')} rows,"
        f" up share {_number(m.get('train_up_share'))}",
        scores_table(m),
        calibration_table(_calibration(m.get("calibration"))),
        f"file {models_dir / record.artefact} (sha256 {record.artefact_sha256[:16]}…)",
        f"trade it: `tradebot ml promote {record.model_id}`, then strategy `ml` with"
        f" model_name: {record.name}",
    ]


def scores_table(metrics: Mapping[str, JsonValue]) -> Table:
    """A registered model's out-of-sample scores (walk-forward, purged)."""
    table = Table(title="out of sample (walk-forward, purged)")
    names = ("folds", "test rows", "accuracy", "AUC", "Brier", "log loss", "up share train/test")
    for column in names:
        table.add_column(column, justify="right")
    table.add_row(
        str(metrics.get("folds")),
        str(metrics.get("test_rows")),
        _number(metrics.get("accuracy")),
        _number(metrics.get("auc")),
        _number(metrics.get("brier"), 4),
        _number(metrics.get("log_loss"), 4),
        f"{_number(metrics.get('up_share_train'))} / {_number(metrics.get('up_share_test'))}",
    )
    return table


def calibration_table(bins: Iterable[CalibrationRow]) -> Table:
    """Predicted probability against how often the label was up, bin by bin."""
    table = Table(title="calibration")
    for column in ("predicted", "count", "mean predicted", "share up"):
        table.add_column(column, justify="right")
    for low, high, count, mean, share in bins:
        table.add_row(f"{low:.1f}-{high:.1f}", str(count), _number(mean), _number(share))
    return table


def models_table(models: Sequence[ModelRecord]) -> Table:
    """The registry, one model a row, oldest first; scores are out of sample."""
    table = Table(title="model registry")
    for column in ("model", "status", "kind", "data", "trained until"):
        table.add_column(column, no_wrap=column in ("model", "status"))
    for column in ("rows", "up share", "accuracy", "AUC", "log loss"):
        table.add_column(column, justify="right")
    for r in models:
        m = r.metrics
        table.add_row(
            r.model_id,
            r.status.value,
            r.kind,
            f"{fmt_ts(r.data_start_ms)[:10]} to {fmt_ts(r.data_end_ms)[:10]}",
            fmt_ts(r.trained_until_ms),
            str(m.get("train_rows")),
            _number(m.get("train_up_share")),
            _number(m.get("accuracy")),
            _number(m.get("auc")),
            _number(m.get("log_loss"), 4),
        )
    return table


def _calibration(value: JsonValue) -> list[CalibrationRow]:
    rows: list[CalibrationRow] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            low, high, count = item.get("low"), item.get("high"), item.get("count")
            mean, share = item.get("mean_predicted"), item.get("fraction_up")
            if isinstance(low, float) and isinstance(high, float) and isinstance(count, int):
                rows.append((low, high, count, _float(mean), _float(share)))
    return rows


def _float(value: JsonValue) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _number(value: JsonValue, digits: int = 3) -> str:
    number = _float(value)
    return "-" if number is None or number != number else f"{number:.{digits}f}"
