"""Reads: the model catalogue (the registry, told by the database) and the prediction history (the database)."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

import ml
from ml import ModelNotFound
from predictions.domain.serving import get_registry
from predictions.models import Prediction, PredictionBatch, RegisteredModel


# --- models -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelVersionInfo:
    version: str
    algorithm: str
    created_at: str
    metrics: dict[str, Any]
    rows_train: int | None
    size_bytes: int | None
    is_default: bool
    error: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    card: ml.ModelCard  # the default version's
    default_version: str | None
    pinned: bool
    served: bool
    error: str | None
    versions: list[ModelVersionInfo]

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def default(self) -> ModelVersionInfo | None:
        return next((v for v in self.versions if v.is_default), None)


def model_names() -> list[str]:
    """The names of the models served, from the catalogue."""
    return get_registry().names()


def model_cards() -> list[ml.ModelCard]:
    """The card of every model's default version (models without a servable version are left out)."""
    registry = get_registry()
    cards = []
    for name in registry.names():
        with contextlib.suppress(ml.ModelUnavailable, ModelNotFound):
            cards.append(registry.card(name))
    return cards


def card_for(name: str, version: str | None = None) -> ml.ModelCard | None:
    """The card of a model version that answered something (the model's current one if that version was removed),
    or None when the model is not served any more."""
    registry = get_registry()
    for wanted in ((version or None), None):
        try:
            return registry.card(name, wanted)
        except (ml.ModelUnavailable, ModelNotFound):
            continue
    return None


def model_list() -> list[ModelInfo]:
    pinned = set(RegisteredModel.objects.filter(pinned_version__isnull=False).values_list("name", flat=True))
    infos = []
    for name in get_registry().names():
        with contextlib.suppress(ml.ModelUnavailable, ModelNotFound):  # a model without a servable version
            infos.append(model_get(name=name, pinned=name in pinned))
    return infos


def model_get(*, name: str, pinned: bool | None = None) -> ModelInfo:
    """Everything known about one model, from the catalogue and its manifests; ModelNotFound for an unknown name."""
    registry = get_registry()
    card = registry.card(name)
    with contextlib.suppress(ml.ModelUnavailable, ModelNotFound):  # the status below carries the reason
        registry.get(name)  # loaded once per process; makes "served" below a verified fact
    status = next(s for s in registry.status() if s.name == name)
    if pinned is None:
        pinned = RegisteredModel.objects.filter(name=name, pinned_version__isnull=False).exists()
    versions = [_version_info(registry, name, version, status.default_version) for version in reversed(status.versions)]
    return ModelInfo(card=card, default_version=status.default_version, pinned=pinned,
                     served=status.loaded and status.error is None, error=status.error, versions=versions)


def _version_info(registry: ml.Registry, name: str, version: str, default: str | None) -> ModelVersionInfo:
    try:
        manifest = ml.read_manifest(registry.model_dir, name, version)
    except (ml.ArtifactRefused, ModelNotFound) as exc:
        return ModelVersionInfo(version=version, algorithm="", created_at="", metrics={}, rows_train=None,
                                size_bytes=None, is_default=version == default, error=str(exc))
    return ModelVersionInfo(
        version=version,
        algorithm=str(manifest.get("algorithm", "")),
        created_at=str(manifest.get("created_at", "")),
        metrics={k: v for k, v in (manifest.get("metrics") or {}).items() if not isinstance(v, list)},
        rows_train=(manifest.get("data") or {}).get("rows_train"),
        size_bytes=manifest.get("size_bytes"),
        is_default=version == default,
    )


# --- history --------------------------------------------------------------------------------------------------------
def prediction_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Prediction]:
    """History newest first. Filters: model, version, status, channel, created_after, created_before, reviewed."""
    filters = filters or {}
    qs = Prediction.objects.all()
    if filters.get("model"):
        qs = qs.filter(model_name=filters["model"])
    if filters.get("version"):
        qs = qs.filter(model_version=filters["version"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("channel"):
        qs = qs.filter(channel=filters["channel"])
    if isinstance(filters.get("created_after"), datetime):
        qs = qs.filter(created_at__gte=filters["created_after"])
    if isinstance(filters.get("created_before"), datetime):
        qs = qs.filter(created_at__lt=filters["created_before"])
    if filters.get("reviewed") is not None:
        qs = qs.filter(reviewed_at__isnull=not filters["reviewed"])
    return qs.order_by("-created_at", "-id")


def prediction_get(*, pk: int) -> Prediction | None:
    return Prediction.objects.filter(pk=pk).first()


def prediction_get_by_request_id(*, request_id: uuid.UUID | str) -> Prediction | None:
    try:
        key = uuid.UUID(str(request_id))
    except ValueError:
        return None
    return Prediction.objects.select_related("batch").filter(request_id=key).first()


def batch_get_by_request_id(*, request_id: uuid.UUID | str) -> PredictionBatch | None:
    try:
        key = uuid.UUID(str(request_id))
    except ValueError:
        return None
    return PredictionBatch.objects.filter(request_id=key).first()


@dataclass(frozen=True)
class HistoryCursor:
    """Position after the last row of a history page: (created_at, id), written "<iso time>_<id>" in links."""

    created_at: datetime
    pk: int

    @classmethod
    def of(cls, row: Prediction) -> HistoryCursor:
        return cls(row.created_at, row.pk)

    @classmethod
    def parse(cls, text: str | None) -> HistoryCursor | None:
        if not text or "_" not in text:
            return None
        stamp, _, pk = text.rpartition("_")
        try:
            created_at = datetime.fromisoformat(stamp)
            number = int(pk)
        except ValueError:
            return None
        if created_at.tzinfo is None:
            return None
        return cls(created_at, number)

    def __str__(self) -> str:
        return f"{self.created_at.isoformat()}_{self.pk}"


def prediction_page(*, filters: dict[str, Any], after: HistoryCursor | None, size: int) -> QuerySet[Prediction]:
    """One page of prediction_list by keyset: rows strictly older than ``after`` in (created_at, id) order. Served
    by the prediction_newest / prediction_model_newest indexes at any depth, with no OFFSET and no COUNT."""
    qs = prediction_list(filters=filters)
    if after is not None:
        qs = qs.filter(Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, pk__lt=after.pk))
    return qs.select_related("user")[:size]


def batch_rows(*, batch: PredictionBatch) -> QuerySet[Prediction]:
    """A batch's rows in file order (ids are drawn in input order when the batch is inserted)."""
    return Prediction.objects.filter(batch=batch).order_by("id")


def batch_problem_rows(*, batch: PredictionBatch, limit: int) -> list[tuple[int, Prediction]]:
    """The first ``limit`` rows of a batch that were not scored, each with its 1-based position in the file."""
    problems = list(batch_rows(batch=batch).exclude(status="ok").only("id", "status", "error")[:limit])
    if not problems:
        return []
    # Ids grow in file order but need not be consecutive (other writers draw from the same sequence).
    ids = batch_rows(batch=batch).values_list("id", flat=True)
    positions = {pk: index for index, pk in enumerate(ids.iterator(chunk_size=10_000), start=1)}
    return [(positions[row.pk], row) for row in problems]
