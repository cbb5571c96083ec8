"""The registry: model name → versions, one default each, every artifact loaded and verified once per process.

Defaults are resolved and loaded by ``load_defaults()`` at start-up (the WSGI module calls it), so a refused
artifact is reported before the first request and gunicorn's preload shares the loaded models between workers
copy-on-write. A version asked for explicitly (``?version=N``) is loaded on first use and then cached. A refused
artifact stays refused for the life of the process: it is never retried per request and never replaced by another
version behind the operator's back.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from ml import artifacts
from ml.errors import ArtifactRefused, ModelNotFound, ModelUnavailable, ScoringError
from ml.fastpath import Scorer, compile_scorer
from ml.specs import SPECS, ModelSpec, get_spec

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    spec: ModelSpec
    version: str
    manifest: dict[str, Any]
    estimator: Any
    load_seconds: float = 0.0
    _names: tuple[str, ...] = field(init=False, repr=False)
    _dtype: type = field(init=False, repr=False)
    _lean: Scorer | None = field(init=False, repr=False, default=None)
    _classes: list[int] = field(init=False, repr=False, default_factory=list)
    _labels: list[str] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        self._names = self.spec.schema.names
        self._dtype = object if any(f.kind == "category" for f in self.spec.schema.features) else float
        if os.environ.get("MLSITE_LEAN_SCORING", "1") != "0":  # "0": always scikit-learn's predict (benchmarks)
            self._lean = compile_scorer(self.estimator, self.spec.schema, classifier=self.spec.is_classifier)
        if self.spec.is_classifier and hasattr(self.estimator, "classes_"):
            self._classes = [int(c) for c in self.estimator.classes_]
            self._labels = [self.spec.labels[c] for c in self._classes]

    @property
    def lean(self) -> bool:
        """Whether rows are scored by the verified lean path (ml.fastpath) rather than scikit-learn's predict."""
        return self._lean is not None

    @property
    def name(self) -> str:
        return self.spec.name

    def predict(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Score validated rows in one vectorised call. Each result has ``prediction`` and, for classifiers,
        ``label`` and ``probabilities`` (label → probability)."""
        if not rows:
            return []
        X = np.array([[row[name] for name in self._names] for row in rows], dtype=self._dtype)
        try:
            if self._lean is not None:
                scores = self._lean(X)
            else:
                # Inputs were validated against the schema, so scikit-learn's own finiteness scan is redundant.
                with sklearn.config_context(assume_finite=True):
                    scores = (self.estimator.predict_proba if self.spec.is_classifier else self.estimator.predict)(X)
        except Exception as exc:
            raise ScoringError(f"{self.name} v{self.version} failed to score: {type(exc).__name__}: {exc}") from exc
        if not np.all(np.isfinite(scores)):
            raise ScoringError(f"{self.name} v{self.version} returned a non-finite value.")
        if self.spec.is_classifier:
            return self._classify(scores)
        return [{"prediction": float(value)} for value in scores]

    def _classify(self, probabilities: np.ndarray) -> list[dict[str, Any]]:
        classes, labels = self._classes, self._labels
        results = []
        for row in probabilities:
            best = int(row.argmax())
            results.append({
                "prediction": classes[best],
                "label": labels[best],
                "probabilities": {label: round(float(p), 6) for label, p in zip(labels, row, strict=True)},
            })
        return results


@dataclass(frozen=True)
class ModelStatus:
    name: str
    default_version: str | None
    versions: list[str]
    pinned: bool
    loaded: bool
    error: str | None  # why the default is not served, if it is not


class Registry:
    def __init__(self, model_dir: Path) -> None:
        self.model_dir = Path(model_dir)
        self._loaded: dict[tuple[str, str], LoadedModel] = {}
        self._refused: dict[tuple[str, str], str] = {}
        self._defaults: dict[str, str | None] = {}
        self._lock = threading.Lock()

    # --- resolution -------------------------------------------------------------------------------------------------
    def versions(self, name: str) -> list[str]:
        get_spec(name)
        return artifacts.list_versions(self.model_dir, name)

    def default_version(self, name: str) -> str | None:
        get_spec(name)
        if name not in self._defaults:
            self._defaults[name] = artifacts.default_version(self.model_dir, name)
        return self._defaults[name]

    def get(self, name: str, version: str | None = None) -> LoadedModel:
        """The loaded model; ModelNotFound for an unknown name/version, ModelUnavailable when it cannot be served."""
        spec = get_spec(name)
        if version is None:
            version = self.default_version(name)
            if version is None:
                raise ModelUnavailable(f"{name} has no trained version; run `manage.py train {name}`.")
        else:
            version = str(version)
        key = (name, version)
        model = self._loaded.get(key)
        if model is not None:
            return model
        if key in self._refused:
            raise ModelUnavailable(self._refused[key])
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
            if not version.isdigit() or not (self.model_dir / name / version).is_dir():
                raise ModelNotFound(f"{name} has no version {version[:32]!r}.")
            return self._load(spec, version)

    def _load(self, spec: ModelSpec, version: str) -> LoadedModel:
        key = (spec.name, version)
        started = time.perf_counter()
        try:
            artifact = artifacts.load_verified(self.model_dir, spec, version)
        except ArtifactRefused as exc:
            self._refused[key] = str(exc)
            log.error("refused artifact: %s", exc)
            raise ModelUnavailable(str(exc)) from exc
        model = LoadedModel(spec=spec, version=version, manifest=artifact.manifest, estimator=artifact.estimator,
                            load_seconds=time.perf_counter() - started)
        self._loaded[key] = model
        log.info("loaded %s v%s in %.3fs", spec.name, version, model.load_seconds)
        return model

    # --- start-up and readiness -----------------------------------------------------------------------------------
    def load_defaults(self) -> dict[str, str | None]:
        """Load every model's default version; return name → error message (None when served)."""
        outcome: dict[str, str | None] = {}
        for name in SPECS:
            try:
                self.get(name)
                outcome[name] = None
            except (ModelUnavailable, ModelNotFound) as exc:
                outcome[name] = str(exc)
        return outcome

    def status(self) -> list[ModelStatus]:
        statuses = []
        for name in SPECS:
            default = self.default_version(name)
            error = None
            if default is None:
                error = f"{name} has no trained version; run `manage.py train {name}`."
            elif (name, default) in self._refused:
                error = self._refused[(name, default)]
            statuses.append(ModelStatus(
                name=name,
                default_version=default,
                versions=self.versions(name),
                pinned=artifacts.pinned_version(self.model_dir, name) is not None,
                loaded=default is not None and (name, default) in self._loaded,
                error=error,
            ))
        return statuses

    def loaded_models(self) -> list[LoadedModel]:
        return list(self._loaded.values())


_registries: dict[str, Registry] = {}
_registries_lock = threading.Lock()


def registry_for(model_dir: Path | str) -> Registry:
    """The process-wide registry of ``model_dir`` (one per directory, created on first use)."""
    registry = _registries.get(str(model_dir))  # hot path: one dict lookup, no filesystem call
    if registry is None:
        resolved = Path(model_dir).resolve()
        with _registries_lock:
            registry = _registries.get(str(resolved)) or Registry(resolved)
            _registries[str(resolved)] = _registries[str(model_dir)] = registry
    return registry


def reset_registries() -> None:
    """Forget every loaded model, e.g. after training new versions in a test or changing MODEL_DIR."""
    with _registries_lock:
        _registries.clear()
