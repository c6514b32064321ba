"""The model registry's table: what was trained, on what, how it scored, and its status.

``tradebot.ml.registry`` writes the artefact file and fills these records; this module only
keeps them, so SQL stays in ``tradebot.state``. At most one model per name is ``promoted``:
promoting a model puts the name's previous promoted model back to ``candidate`` in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tradebot.domain.errors import ConfigError, StateError
from tradebot.state.db import Database
from tradebot.state.tables import ModelRow

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
"""What a JSON column holds."""


class ModelStatus(StrEnum):
    """A model is a candidate until promoted; one promoted model per name is traded."""

    CANDIDATE = "candidate"
    PROMOTED = "promoted"


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One registered model: its recipe, its data, its scores and where its artefact is.

    ``features``, ``label`` and ``params`` are the recipe as JSON (``tradebot.ml.registry``
    reads them back into its specs); ``data_start_ms``/``data_end_ms`` are the open times of
    the first and last candle it was built from and ``data_sha256`` their checksum;
    ``trained_until_ms`` is the open time of the bar at whose close every training label was
    known; ``artefact`` is a file name in the registry's models folder.
    """

    model_id: str
    name: str
    version: int
    kind: str
    features: Mapping[str, JsonValue]
    label: Mapping[str, JsonValue]
    params: Mapping[str, JsonValue]
    data_source: str
    data_start_ms: int
    data_end_ms: int
    data_sha256: str
    trained_until_ms: int
    metrics: Mapping[str, JsonValue]
    artefact: str
    artefact_sha256: str
    status: ModelStatus
    created_ts_ms: int
    promoted_ts_ms: int | None = None


class ModelTable:
    """Read and write ``ml_models`` rows as ``ModelRecord`` values."""

    def __init__(self, database: Database) -> None:
        """Use ``database`` (already migrated)."""
        self._db = database

    def next_version(self, name: str) -> int:
        """One more than the highest version registered under ``name`` (1 for a new name)."""
        with self._db.read_session() as session:
            query = select(func.max(ModelRow.version)).where(ModelRow.name == name)
            highest = session.scalar(query)
        return int(highest or 0) + 1

    def add(self, record: ModelRecord) -> None:
        """Register ``record``.

        Raises:
            StateError: its id, or its name and version, is registered already.
        """
        try:
            with self._db.session() as session:
                session.add(_row(record))
        except IntegrityError as exc:
            msg = f"model {record.model_id} ({record.name} v{record.version}) is registered already"
            raise StateError(msg) from exc

    def get(self, model_id: str) -> ModelRecord | None:
        """The model with ``model_id``, if registered."""
        with self._db.read_session() as session:
            row = session.get(ModelRow, model_id)
            return None if row is None else _record(row)

    def models(self, name: str | None = None) -> list[ModelRecord]:
        """Every registered model (of ``name`` only, when given), oldest first."""
        query = select(ModelRow).order_by(ModelRow.created_ts_ms, ModelRow.name, ModelRow.version)
        if name is not None:
            query = query.where(ModelRow.name == name)
        with self._db.read_session() as session:
            return [_record(row) for row in session.scalars(query)]

    def promoted(self, name: str) -> ModelRecord | None:
        """The promoted model of ``name``, if one is."""
        query = select(ModelRow).where(
            ModelRow.name == name, ModelRow.status == ModelStatus.PROMOTED.value
        )
        with self._db.read_session() as session:
            row = session.scalars(query).first()
            return None if row is None else _record(row)

    def promote(self, model_id: str, ts_ms: int) -> ModelRecord:
        """Make ``model_id`` its name's promoted model; the previous one becomes a candidate.

        Raises:
            ConfigError: no model has that id.
        """
        with self._db.session() as session:
            row = session.get(ModelRow, model_id)
            if row is None:
                msg = f"no model {model_id!r} in the registry: `tradebot ml list` shows the ids"
                raise ConfigError(msg)
            previous = select(ModelRow).where(
                ModelRow.name == row.name,
                ModelRow.status == ModelStatus.PROMOTED.value,
                ModelRow.model_id != model_id,
            )
            for other in session.scalars(previous):
                other.status = ModelStatus.CANDIDATE.value
            if row.status != ModelStatus.PROMOTED.value:
                row.status = ModelStatus.PROMOTED.value
                row.promoted_ts_ms = ts_ms
            return _record(row)


def _row(record: ModelRecord) -> ModelRow:
    return ModelRow(
        model_id=record.model_id,
        name=record.name,
        version=record.version,
        kind=record.kind,
        features=dict(record.features),
        label=dict(record.label),
        params=dict(record.params),
        data_source=record.data_source,
        data_start_ms=record.data_start_ms,
        data_end_ms=record.data_end_ms,
        data_sha256=record.data_sha256,
        trained_until_ms=record.trained_until_ms,
        metrics=dict(record.metrics),
        artefact=record.artefact,
        artefact_sha256=record.artefact_sha256,
        status=record.status.value,
        created_ts_ms=record.created_ts_ms,
        promoted_ts_ms=record.promoted_ts_ms,
    )


def _record(row: ModelRow) -> ModelRecord:
    return ModelRecord(
        model_id=row.model_id,
        name=row.name,
        version=row.version,
        kind=row.kind,
        features=row.features,
        label=row.label,
        params=row.params,
        data_source=row.data_source,
        data_start_ms=row.data_start_ms,
        data_end_ms=row.data_end_ms,
        data_sha256=row.data_sha256,
        trained_until_ms=row.trained_until_ms,
        metrics=row.metrics,
        artefact=row.artefact,
        artefact_sha256=row.artefact_sha256,
        status=ModelStatus(row.status),
        created_ts_ms=row.created_ts_ms,
        promoted_ts_ms=row.promoted_ts_ms,
    )
