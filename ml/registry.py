"""The registry: model name → versions, one default each, every artifact loaded and verified once per process.

What exists is not decided here: the registry is told its catalogue (``set_catalogue``) — by the web layer from its
database, or from the artifacts on disk (``scan``) for tools that have no database. A version is loaded on first use
and then cached; ``load_defaults()`` loads every default up front (the WSGI module calls it, so gunicorn's preload
shares the loaded models between workers copy-on-write). A refused artifact stays refused for the life of the
process unless the catalogue replaces it: it is never retried per request and never replaced by another version
behind the operator's back.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import sklearn.base

from ml import artifacts
from ml.cards import ModelCard
from ml.errors import ArtifactRefused, ModelNotFound, ModelUnavailable, ScoringError
from ml.fastpath import Scorer, compile_scorer

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    card: ModelCard
    version: str
    manifest: dict[str, Any]
    estimator: Any
    load_seconds: float = 0.0
    _names: tuple[str, ...] = field(init=False, repr=False)
    _dtype: type = field(init=False, repr=False)
    _lean: Scorer | None = field(init=False, repr=False, default=None)
    _labels: list[str] = field(init=False, repr=False, default_factory=list)
    _by_name: bool = field(init=False, repr=False, default=False)

    def __post_init__(self) -> None:
        self._names = self.card.schema.names
        self._dtype = self.card.schema.dtype
        problems = estimator_problems(self.card, self.estimator)
        if problems:
            raise ArtifactRefused(f"{self.name} v{self.version}: " + "; ".join(problems))
        if os.environ.get("MLSITE_LEAN_SCORING", "1") != "0":  # "0": always scikit-learn's predict (benchmarks)
            self._lean = compile_scorer(self.estimator, self.card.schema, classifier=self.card.is_classifier)
        self._labels = list(self.card.labels)
        # Fitted on a DataFrame (a ColumnTransformer selecting columns by name, say): scikit-learn's path gets one too.
        self._by_name = getattr(self.estimator, "feature_names_in_", None) is not None

    @property
    def lean(self) -> bool:
        """Whether rows are scored by the verified lean path (ml.fastpath) rather than scikit-learn's predict."""
        return self._lean is not None

    @property
    def name(self) -> str:
        return self.card.name

    def predict(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Score validated rows in one vectorised call. Each result has ``prediction`` and, for classifiers,
        ``label`` and ``probabilities`` (label → probability); a class's ``prediction`` is its index."""
        if not rows:
            return []
        values = [[row[name] for name in self._names] for row in rows]
        try:
            if self._lean is not None:
                scores = self._lean(np.array(values, dtype=self._dtype))
            else:
                X = pd.DataFrame(values, columns=list(self._names)) if self._by_name else np.array(values,
                                                                                                   dtype=self._dtype)
                # Inputs were validated against the schema, so scikit-learn's own finiteness scan is redundant.
                with sklearn.config_context(assume_finite=True):
                    scores = (self.estimator.predict_proba if self.card.is_classifier else self.estimator.predict)(X)
            scores = np.asarray(scores, dtype=float)
        except Exception as exc:
            raise ScoringError(f"{self.name} v{self.version} failed to score: {type(exc).__name__}: {exc}") from exc
        if not np.all(np.isfinite(scores)):
            raise ScoringError(f"{self.name} v{self.version} returned a non-finite value.")
        if self.card.is_classifier:
            return self._classify(scores)
        return [{"prediction": float(value)} for value in np.ravel(scores)]

    def _classify(self, probabilities: np.ndarray) -> list[dict[str, Any]]:
        labels = self._labels
        results = []
        for row in probabilities:
            best = int(row.argmax())
            results.append({
                "prediction": best,
                "label": labels[best],
                "probabilities": {label: round(float(p), 6) for label, p in zip(labels, row, strict=True)},
            })
        return results


def estimator_problems(card: ModelCard, estimator: Any) -> list[str]:
    """What makes ``estimator`` unfit to serve as ``card`` says (empty when it fits)."""
    problems = []
    if not callable(getattr(estimator, "predict", None)):
        return [f"{type(estimator).__name__} has no predict method."]
    classes = getattr(estimator, "classes_", None)
    if card.is_classifier:
        if classes is None or not _is_classifier(estimator) or not callable(getattr(estimator, "predict_proba", None)):
            problems.append(f"the card says classification, but {type(estimator).__name__} is not a classifier "
                            "with predict_proba.")
        else:
            found = [_plain(value) for value in np.asarray(classes).tolist()]
            declared = [_plain(info.value) for info in card.classes]
            if found != declared:
                problems.append(f"the card's classes {declared} are not the estimator's classes_ {found}.")
    elif _is_classifier(estimator):
        problems.append(f"the card says regression, but {type(estimator).__name__} is a classifier.")
    expected = len(card.schema.features)
    count = getattr(estimator, "n_features_in_", None)
    if count is not None and int(count) != expected:
        problems.append(f"the estimator takes {count} features, the card declares {expected}.")
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        found_names = [str(name) for name in names]
        if found_names != list(card.schema.names):
            problems.append(f"the estimator was fitted on columns {found_names}, the card declares "
                            f"{list(card.schema.names)} (same names, same order).")
    return problems


def _is_classifier(estimator: Any) -> bool:
    try:
        return bool(sklearn.base.is_classifier(estimator))
    except Exception:  # noqa: BLE001 - an object scikit-learn cannot tag: judge by what it has
        return getattr(estimator, "classes_", None) is not None and callable(getattr(estimator, "predict_proba", None))


def _plain(value: Any) -> Any:
    """A class value comparable across NumPy and JSON: 1 == np.int64(1), "a" == np.str_("a")."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class VersionRef:
    """What the catalogue says one version is: its card and the sha256 of its model file."""

    version: str
    card: ModelCard
    sha256: str | None = None


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    default: str | None
    versions: dict[str, VersionRef]


@dataclass(frozen=True)
class ModelStatus:
    name: str
    default_version: str | None
    versions: list[str]
    loaded: bool
    error: str | None  # why the default is not served, if it is not


class Registry:
    def __init__(self, model_dir: Path) -> None:
        self.model_dir = Path(model_dir)
        self._catalogue: dict[str, CatalogueEntry] = {}
        self._loaded: dict[tuple[str, str], LoadedModel] = {}
        self._refused: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    # --- the catalogue ------------------------------------------------------------------------------------------
    def set_catalogue(self, entries: Iterable[CatalogueEntry]) -> None:
        """Serve exactly ``entries`` from now on. Loaded models that are still listed with the same file stay
        loaded; the others are forgotten (a removed version stops being served at once)."""
        catalogue = {entry.name: entry for entry in entries}
        with self._lock:
            keep = {(name, version) for name, entry in catalogue.items()
                    for version, ref in entry.versions.items()
                    if (loaded := self._loaded.get((name, version))) is None
                    or ref.sha256 is None or loaded.manifest.get("sha256") == ref.sha256}
            self._loaded = {key: model for key, model in self._loaded.items() if key in keep}
            self._refused = {key: why for key, why in self._refused.items() if key in keep}
            self._catalogue = catalogue

    @classmethod
    def from_directory(cls, model_dir: Path) -> Registry:
        """A registry of whatever MODEL_DIR holds (newest version of each model by default): for tools and tests
        that have no catalogue database."""
        registry = cls(model_dir)
        registry.set_catalogue(cls.scan(model_dir))
        return registry

    @staticmethod
    def scan(model_dir: Path) -> list[CatalogueEntry]:
        """The catalogue the artifacts on disk describe (newest version by default), for tools without a
        database."""
        entries = []
        for name in artifacts.list_models(model_dir):
            versions = {}
            for version in artifacts.list_versions(model_dir, name):
                try:
                    versions[version] = VersionRef(version, artifacts.read_card(model_dir, name, version))
                except Exception as exc:  # noqa: BLE001 - an unreadable version is skipped, with its reason
                    log.warning("skipping %s v%s: %s", name, version, exc)
            if versions:
                entries.append(CatalogueEntry(name, max(versions, key=int), versions))
        return entries

    def names(self) -> list[str]:
        """Model names in the catalogue's order (registration order, for the web layer)."""
        return list(self._catalogue)

    def knows(self, name: str) -> bool:
        return name in self._catalogue

    def entry(self, name: str) -> CatalogueEntry:
        entry = self._catalogue.get(name) if isinstance(name, str) else None
        if entry is None:
            available = ", ".join(self.names()) or "none yet"
            raise ModelNotFound(f"Unknown model {str(name)[:64]!r}; available: {available}.")
        return entry

    def versions(self, name: str) -> list[str]:
        return sorted(self.entry(name).versions, key=int)

    def default_version(self, name: str) -> str | None:
        return self.entry(name).default

    def card(self, name: str, version: str | None = None) -> ModelCard:
        """A version's card (the default's by default), without loading the model."""
        entry = self.entry(name)
        ref = entry.versions.get(str(version if version is not None else entry.default))
        if ref is None:
            if version is None:
                raise ModelUnavailable(f"{name} has no version to serve yet.")
            raise ModelNotFound(f"{name} has no version {str(version)[:32]!r}.")
        return ref.card

    # --- serving --------------------------------------------------------------------------------------------------
    def get(self, name: str, version: str | None = None) -> LoadedModel:
        """The loaded model; ModelNotFound for an unknown name/version, ModelUnavailable when it cannot be served."""
        entry = self.entry(name)
        if version is None:
            version = entry.default
            if version is None:
                raise ModelUnavailable(f"{name} has no version to serve yet.")
        else:
            version = str(version)
        key = (name, version)
        model = self._loaded.get(key)
        if model is not None:
            return model
        if key in self._refused:
            raise ModelUnavailable(self._refused[key])
        ref = entry.versions.get(version)
        if ref is None:
            raise ModelNotFound(f"{name} has no version {version[:32]!r}.")
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
            return self._load(ref, name)

    def _load(self, ref: VersionRef, name: str) -> LoadedModel:
        key = (name, ref.version)
        started = time.perf_counter()
        try:
            artifact = artifacts.load_verified(self.model_dir, name, ref.version, expected_sha256=ref.sha256)
            model = LoadedModel(card=ref.card, version=ref.version, manifest=artifact.manifest,
                                estimator=artifact.estimator, load_seconds=time.perf_counter() - started)
        except (ArtifactRefused, ModelNotFound) as exc:
            self._refused[key] = str(exc)
            log.error("refused artifact: %s", exc)
            raise ModelUnavailable(str(exc)) from exc
        self._loaded[key] = model
        log.info("loaded %s v%s in %.3fs", name, ref.version, model.load_seconds)
        return model

    # --- start-up and readiness -----------------------------------------------------------------------------------
    def load_defaults(self) -> dict[str, str | None]:
        """Load every model's default version; return name → error message (None when served)."""
        outcome: dict[str, str | None] = {}
        for name in self.names():
            try:
                self.get(name)
                outcome[name] = None
            except (ModelUnavailable, ModelNotFound) as exc:
                outcome[name] = str(exc)
        return outcome

    def status(self) -> list[ModelStatus]:
        statuses = []
        for name in self.names():
            entry = self._catalogue[name]
            default = entry.default
            error = None
            if default is None:
                error = f"{name} has no version to serve yet."
            elif (name, default) in self._refused:
                error = self._refused[(name, default)]
            statuses.append(ModelStatus(name=name, default_version=default, versions=self.versions(name),
                                        loaded=default is not None and (name, default) in self._loaded, error=error))
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
    """Forget every registry and what it loaded (tests that change MODEL_DIR or the artifacts under it)."""
    with _registries_lock:
        _registries.clear()
