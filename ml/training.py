"""Train a model on its data set, evaluate it on a held-out split and write the next artifact version."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.model_selection import train_test_split

from ml import artifacts
from ml.drift import reference_distribution
from ml.errors import ModelNotFound
from ml.specs import ModelSpec, get_spec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    name: str
    version: str
    path: Path
    manifest: dict[str, Any]


def train(
    name: str,
    model_dir: Path,
    *,
    algorithm: str | None = None,
    seed: int = 42,
    max_rows: int | None = None,
    params: dict[str, Any] | None = None,
) -> TrainResult:
    """Fit ``name`` and save it as a new version under ``model_dir``.

    ``max_rows`` and ``params`` (estimator ``set_params`` overrides) let tests train small models quickly; the
    manifest records both, so a small model can never be mistaken for the real one.
    """
    spec = get_spec(name)
    algorithm = algorithm or spec.default_algorithm
    if algorithm not in spec.algorithms:
        raise ModelNotFound(f"{name} has no algorithm {algorithm!r}; choose one of: {', '.join(spec.algorithms)}.")
    data = spec.load_data()
    X, y = data.X, data.y
    if max_rows is not None and max_rows < len(X):
        X = X.sample(n=max_rows, random_state=seed)
        y = y.loc[X.index]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=spec.test_size, random_state=spec.split_seed
    )
    estimator = spec.algorithms[algorithm](seed)
    if params:
        estimator.set_params(**params)
    started = time.perf_counter()
    estimator.fit(_matrix(spec, X_train), y_train.to_numpy())
    fit_seconds = time.perf_counter() - started
    predicted = estimator.predict(_matrix(spec, X_test))
    manifest = {
        "algorithm": algorithm,
        "task": spec.task,
        "target": spec.target,
        "target_unit": spec.target_unit,
        "labels": list(spec.labels),
        "schema": spec.schema.describe(),
        "metrics": evaluate(spec, y_test.to_numpy(), predicted),
        "training": {"seed": seed, "fit_seconds": round(fit_seconds, 3), "max_rows": max_rows,
                     "params": {k: repr(v) for k, v in (params or {}).items()}},
        "data": {
            "sha256": data.sha256,
            "rows_raw": data.rows_raw,
            "rows_clean": data.rows_clean,
            "rows_used": len(X),
            "rows_train": len(X_train),
            "rows_test": len(X_test),
            "cleaning_dropped": data.cleaning,
            "test_size": spec.test_size,
            "split_seed": spec.split_seed,
        },
        "reference": reference_distribution(spec.schema, X_train),
        "target_reference": _target_reference(spec, y_train.to_numpy()),
    }
    version, path = artifacts.write_version(model_dir, spec, estimator, manifest)
    log.info("trained %s v%s (%s) in %.1fs: %s", name, version, algorithm, fit_seconds, manifest["metrics"])
    return TrainResult(name=name, version=version, path=path, manifest=artifacts.read_manifest(model_dir, name,
                                                                                                version))


def _matrix(spec: ModelSpec, X) -> np.ndarray:
    dtype = object if any(f.kind == "category" for f in spec.schema.features) else float
    return X[list(spec.schema.names)].to_numpy(dtype=dtype)


def evaluate(spec: ModelSpec, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    if spec.is_classifier:
        return {
            "accuracy": round(float(skm.accuracy_score(y_true, y_pred)), 4),
            "f1_macro": round(float(skm.f1_score(y_true, y_pred, average="macro")), 4),
            "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=range(len(spec.labels))).tolist(),
        }
    return {
        "r2": round(float(skm.r2_score(y_true, y_pred)), 4),
        "mae": round(float(skm.mean_absolute_error(y_true, y_pred)), 2),
        "rmse": round(float(np.sqrt(skm.mean_squared_error(y_true, y_pred))), 2),
        "mape": round(float(skm.mean_absolute_percentage_error(y_true, y_pred)), 4),
    }


def _target_reference(spec: ModelSpec, y: np.ndarray) -> dict[str, Any]:
    if spec.is_classifier:
        counts = np.bincount(y.astype(int), minlength=len(spec.labels))
        return {"kind": "class", "fractions": (counts / counts.sum()).tolist()}
    return {"kind": "number", "quantiles": {str(q): float(np.quantile(y, q)) for q in (0.05, 0.25, 0.5, 0.75, 0.95)},
            "mean": float(y.mean())}
