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
from ml.cards import ModelCard
from ml.drift import reference_distribution
from ml.errors import ModelNotFound
from ml.recipes import get_recipe

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
    at_least: int = 1,
) -> TrainResult:
    """Fit ``name`` (a model with a training recipe: iris, diamonds) and save it as a new version under
    ``model_dir``, with its card.

    ``max_rows`` and ``params`` (estimator ``set_params`` overrides) let tests train small models quickly; the
    manifest records both, so a small model can never be mistaken for the real one. ``at_least``: the smallest
    version number to use (one more than any the catalogue knows).
    """
    recipe = get_recipe(name)
    card = recipe.card
    algorithm = algorithm or recipe.default_algorithm
    if algorithm not in recipe.algorithms:
        raise ModelNotFound(f"{name} has no algorithm {algorithm!r}; choose one of: {', '.join(recipe.algorithms)}.")
    data = recipe.load_data()
    X, y = data.X, data.y
    if max_rows is not None and max_rows < len(X):
        X = X.sample(n=max_rows, random_state=seed)
        y = y.loc[X.index]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=recipe.test_size, random_state=recipe.split_seed
    )
    estimator = recipe.algorithms[algorithm](card, seed)
    if params:
        estimator.set_params(**params)
    started = time.perf_counter()
    estimator.fit(matrix(card, X_train), y_train.to_numpy())
    fit_seconds = time.perf_counter() - started
    predicted = estimator.predict(matrix(card, X_test))
    manifest = {
        "algorithm": algorithm,
        "estimator": type(estimator).__name__,
        "source": "trained",
        "metrics": evaluate(card, y_test.to_numpy(), predicted),
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
            "test_size": recipe.test_size,
            "split_seed": recipe.split_seed,
        },
        **references(card, X_train, y_train.to_numpy()),
    }
    version, path = artifacts.write_version(model_dir, card, artifacts.serialize(estimator), manifest,
                                            at_least=at_least)
    log.info("trained %s v%s (%s) in %.1fs: %s", name, version, algorithm, fit_seconds, manifest["metrics"])
    return TrainResult(name=name, version=version, path=path, manifest=artifacts.read_manifest(model_dir, name,
                                                                                                version))


def matrix(card: ModelCard, X) -> np.ndarray:
    """The estimator's input matrix from a frame with the card's feature columns."""
    return X[list(card.schema.names)].to_numpy(dtype=card.schema.dtype)


def evaluate(card: ModelCard, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    if card.is_classifier:
        values = [info.value for info in card.classes]
        return {
            "accuracy": round(float(skm.accuracy_score(y_true, y_pred)), 4),
            "f1_macro": round(float(skm.f1_score(y_true, y_pred, average="macro")), 4),
            "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=values).tolist(),
        }
    return {
        "r2": round(float(skm.r2_score(y_true, y_pred)), 4),
        "mae": round(float(skm.mean_absolute_error(y_true, y_pred)), 2),
        "rmse": round(float(np.sqrt(skm.mean_squared_error(y_true, y_pred))), 2),
        "mape": round(float(skm.mean_absolute_percentage_error(y_true, y_pred)), 4),
    }


def references(card: ModelCard, X, y: np.ndarray | None = None) -> dict[str, Any]:
    """The drift references of a sample: each feature's distribution and, given the true targets, theirs."""
    found = {"reference": reference_distribution(card.schema, X)}
    if y is not None and len(y):
        found["target_reference"] = target_reference(card, np.asarray(y))
    return found


def target_reference(card: ModelCard, y: np.ndarray) -> dict[str, Any]:
    if card.is_classifier:
        index = {info.value: i for i, info in enumerate(card.classes)}
        counts = np.zeros(len(card.classes))
        for value in y.tolist():
            if value in index:
                counts[index[value]] += 1
        return {"kind": "class", "fractions": (counts / max(counts.sum(), 1)).tolist()}
    y = y.astype(float)
    return {"kind": "number", "quantiles": {str(q): float(np.quantile(y, q)) for q in (0.05, 0.25, 0.5, 0.75, 0.95)},
            "mean": float(y.mean())}
