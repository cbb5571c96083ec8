"""The Django side's one door to the model layer: the registry of MODEL_DIR, told its catalogue by the database.

The catalogue (RegisteredModel, ModelVersion) says which models and versions exist and which one answers by
default; the artifacts live in MODEL_DIR, a store every replica reads. Each process checks the catalogue for changes
at most every MODEL_CATALOGUE_REFRESH seconds — one small query, on a request, never in the way of the hot path
otherwise — so a model registered through any replica or the command line is served by every worker within seconds,
without a restart. A change made in this process (registration, pin, removal) is seen at once.

If the database cannot be read, the process keeps serving the catalogue it has and tries again later.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import Error
from django.db.models import Count, Max

import ml
from predictions.models import ModelVersion, RegisteredModel

log = logging.getLogger(__name__)


@dataclass
class _Freshness:
    next_check: float = 0.0
    stamp: tuple | None = None


_freshness: dict[int, _Freshness] = {}
_lock = threading.Lock()


def get_registry() -> ml.Registry:
    """The registry of the configured MODEL_DIR, with a catalogue at most MODEL_CATALOGUE_REFRESH seconds old."""
    registry = ml.registry_for(settings.MODEL_DIR)
    state = _freshness.get(id(registry))
    if state is None or time.monotonic() >= state.next_check:
        refresh(registry)
    return registry


def refresh(registry: ml.Registry | None = None, *, force: bool = False) -> None:
    """Re-read the catalogue if it changed (``force``: whatever the stamp says)."""
    registry = registry or ml.registry_for(settings.MODEL_DIR)
    with _lock:
        state = _freshness.setdefault(id(registry), _Freshness())
        state.next_check = time.monotonic() + settings.MODEL_CATALOGUE_REFRESH
        try:
            stamp = _stamp()
            if force or stamp != state.stamp:
                registry.set_catalogue(catalogue_entries())
                state.stamp = stamp
        except Error as exc:
            log.warning("model catalogue not refreshed, the database is unavailable: %s", exc)


def invalidate() -> None:
    """Read the catalogue again on the next request (after a change made by this process)."""
    with _lock:
        for state in _freshness.values():
            state.next_check = 0.0
            state.stamp = None


def _stamp() -> tuple:
    # Every change of a model or of its versions touches RegisteredModel.updated_at; removals change the counts.
    found = RegisteredModel.objects.aggregate(changed=Max("updated_at"), models=Count("id", distinct=True),
                                              versions=Count("versions"))
    return found["changed"], found["models"], found["versions"]


def catalogue_entries() -> list[ml.CatalogueEntry]:
    """What the database says is served: every model with its versions' cards and checksums."""
    entries: dict[str, dict] = {}
    defaults: dict[str, str | None] = {}
    for model in RegisteredModel.objects.order_by("id"):  # registration order: the order pages list them
        entries[model.name] = {}
        defaults[model.name] = str(model.pinned_version) if model.pinned_version else None
    problems = []
    for row in ModelVersion.objects.select_related("model").order_by("model__name", "version"):
        try:
            card = ml.load_card(row.card)
        except ml.CardInvalid as exc:  # a card written by an older mlsite that this one reads differently
            problems.append(f"{row}: {exc}")
            continue
        entries[row.model.name][str(row.version)] = ml.VersionRef(str(row.version), card, row.sha256)
    for problem in problems:
        log.error("catalogue entry not served: %s", problem)
    return [ml.CatalogueEntry(name, defaults[name] if defaults[name] in versions else
                              (max(versions, key=int) if versions else None), versions)
            for name, versions in entries.items()]
