"""Read an MLflow model directory (as ``mlflow.sklearn.save_model`` writes it) without MLflow: the MLmodel file, the
sklearn flavor's model file, the signature (→ the card's features) and the input example (→ the features' examples).

Only the sklearn flavor is read. Its model file is skops when MLflow saved it so (the default of MLflow 3) and is
then loaded like any upload; a pickle or cloudpickle file is returned as is, for the caller to refuse unless the
operator vouches for it (``--trust-pickle``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ml.cards import NAME_PATTERN
from ml.errors import MLError

MAX_MODEL_BYTES = 2 * 1024 * 1024 * 1024
_TYPES = {"double": "number", "float": "number", "long": "integer", "integer": "integer", "boolean": "boolean",
          "string": "category"}


class MlflowUnreadable(MLError):
    code = "mlflow_unreadable"


@dataclass(frozen=True)
class MlflowModel:
    card: dict[str, Any]  # a card without classes (read them from the estimator) and with the examples found
    model_bytes: bytes
    serialization: str  # "skops", "pickle" or "cloudpickle"
    mlflow_version: str


def read_mlflow_model(path: Path, *, name: str | None = None) -> MlflowModel:
    path = Path(path)
    mlmodel = path / "MLmodel"
    if not mlmodel.is_file():
        raise MlflowUnreadable(f"{path} is not an MLflow model directory (no MLmodel file).")
    try:
        meta = yaml.safe_load(mlmodel.read_text())
    except yaml.YAMLError as exc:
        raise MlflowUnreadable(f"{mlmodel}: not YAML ({exc}).") from None
    flavor = ((meta or {}).get("flavors") or {}).get("sklearn")
    if not isinstance(flavor, dict):
        flavors = ", ".join((meta or {}).get("flavors") or {}) or "none"
        raise MlflowUnreadable(f"{path}: no sklearn flavor (flavors: {flavors}); mlsite serves scikit-learn models.")
    model_file = path / str(flavor.get("pickled_model", ""))
    if not model_file.is_file() or path.resolve() not in model_file.resolve().parents:
        raise MlflowUnreadable(f"{path}: the sklearn flavor's model file {flavor.get('pickled_model')!r} is missing.")
    if model_file.stat().st_size > MAX_MODEL_BYTES:
        raise MlflowUnreadable(f"{model_file}: larger than {MAX_MODEL_BYTES:,} bytes.")
    serialization = str(flavor.get("serialization_format") or "pickle")
    signature = (meta.get("signature") or {}).get("inputs")
    if not signature:
        raise MlflowUnreadable(f"{path}: the model has no input signature; save it with signature=... (mlflow's "
                               "infer_signature) so that mlsite knows its features.")
    try:
        columns = json.loads(signature) if isinstance(signature, str) else signature
    except ValueError as exc:
        raise MlflowUnreadable(f"{mlmodel}: the input signature is not JSON ({exc}).") from None
    if not all(isinstance(c, dict) and "name" in c for c in columns):
        raise MlflowUnreadable(f"{mlmodel}: mlsite reads column-based signatures (named columns), not tensors.")
    examples = _input_example(path, meta)
    features = []
    for column in columns:
        kind = _TYPES.get(str(column.get("type")))
        if kind is None:
            raise MlflowUnreadable(f"{mlmodel}: column {column['name']!r} has type {column.get('type')!r}, which "
                                   "mlsite cannot take from a form or CSV.")
        feature: dict[str, Any] = {"name": str(column["name"]), "type": kind}
        example = examples.get(feature["name"])
        # A signature says "string" but not which strings: a category column needs its categories from --card
        # (the card check then says which column lacks them).
        if example is not None:
            feature["example"] = example if kind != "integer" else int(example)
        features.append(feature)
    model_name = name or (meta.get("model_id") or path.name)
    model_name = re.sub(r"[^a-z0-9_-]", "-", str(model_name).lower()).strip("-_") or "mlflow-model"
    if not re.match(NAME_PATTERN, model_name):
        model_name = f"m-{model_name}"[:63]
    card = {"name": model_name, "title": model_name.replace("-", " ").replace("_", " ").capitalize(),
            "description": f"Imported from an MLflow {meta.get('mlflow_version', '')} model directory.".replace(
                "  ", " "),
            "features": features}
    return MlflowModel(card=card, model_bytes=model_file.read_bytes(), serialization=serialization,
                       mlflow_version=str(meta.get("mlflow_version", "")))


def _input_example(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """The first row of the saved input example, by column (pandas split or records orientation)."""
    info = meta.get("saved_input_example_info") or {}
    example_file = path / str(info.get("artifact_path", "input_example.json"))
    if not example_file.is_file():
        return {}
    try:
        data = json.loads(example_file.read_text())
    except ValueError:
        return {}
    if isinstance(data, dict) and isinstance(data.get("columns"), list) and isinstance(data.get("data"), list) \
            and data["data"] and isinstance(data["data"][0], list):
        return dict(zip(data["columns"], data["data"][0], strict=False))
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0]
    if isinstance(data, dict) and isinstance(data.get("dataframe_split"), dict):
        return _input_example_split(data["dataframe_split"])
    return {}


def _input_example_split(split: dict[str, Any]) -> dict[str, Any]:
    rows = split.get("data") or []
    return dict(zip(split.get("columns") or [], rows[0], strict=False)) if rows else {}


def complete_card(card: dict[str, Any], estimator: Any) -> dict[str, Any]:
    """The card with what only the estimator knows: the task and, for a classifier, its classes in order."""
    import numpy as np
    import sklearn.base

    completed = dict(card)
    if sklearn.base.is_classifier(estimator) and getattr(estimator, "classes_", None) is not None:
        completed.setdefault("task", "classification")
        values = [value.item() if isinstance(value, np.generic) else value
                  for value in np.asarray(estimator.classes_).tolist()]
        completed.setdefault("classes", [{"value": v, "label": str(v)} for v in values])
    else:
        completed.setdefault("task", "regression")
    return completed


def merge_card(card: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` (a partial card) on top of ``card``: top-level keys replace, features merge by name."""
    merged = {**card, **{k: v for k, v in overrides.items() if k != "features"}}
    if "features" in overrides:
        given = {f.get("name"): f for f in overrides["features"] if isinstance(f, dict)}
        merged["features"] = [{**feature, **given.get(feature["name"], {})} for feature in card["features"]]
    return merged
