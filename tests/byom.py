"""A third model, as its owner would bring it: trained here from a data set scikit-learn ships, saved with skops,
described by a model card written the way the README shows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
import yaml
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


@dataclass(frozen=True)
class Brought:
    card: Path
    model: Path
    reference: Path
    frame: pd.DataFrame  # the inputs it was trained on
    labels: list[str]

    def example(self, row: int = 0) -> dict:
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in self.frame.iloc[row].to_dict().items()}


def wine(directory: Path, *, name: str = "wine") -> Brought:
    """A wine cultivar classifier: a pipeline fitted on a DataFrame (so it knows its column names)."""
    data = load_wine(as_frame=True)
    X, y = data.data, data.target
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=0)).fit(X, y)
    labels = [str(label) for label in data.target_names]
    features = []
    for column in X.columns:
        values = X[column]
        features.append({"name": column, "type": "number", "label": column.replace("_", " ").capitalize(),
                         "minimum": 0, "maximum": round(float(values.max()) * 2, 3), "exclusive_minimum": False,
                         "example": round(float(values.iloc[0]), 3), "help": f"{column} of the wine."})
    card = {"name": name, "title": "Wine cultivar", "description": "Which of three cultivars a wine comes from.",
            "task": "classification", "target": {"name": "cultivar"},
            "classes": [{"value": i, "label": label} for i, label in enumerate(labels)], "features": features}
    return _save(directory, name, card, model, X, y, labels)


def clinic(directory: Path, *, name: str = "clinic") -> Brought:
    """A regressor over integer, boolean and category inputs, fitted on a DataFrame with a ColumnTransformer that
    picks columns by name — the shape most people's pipelines have."""
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({
        "age": rng.integers(18, 90, n),
        "smoker": rng.integers(0, 2, n).astype(bool),
        "region": rng.choice(["north", "south", "east"], n),
        "bmi": rng.uniform(16, 40, n).round(1),
    })
    y = 100 + X["age"] * 3 + X["smoker"] * 80 + X["bmi"] * 2 + (X["region"] == "south") * 25 + rng.normal(0, 5, n)
    encode = make_column_transformer((OneHotEncoder(categories=[["north", "south", "east"]]), ["region"]),
                                     remainder="passthrough")
    from sklearn.linear_model import Ridge

    model = make_pipeline(encode, Ridge()).fit(X, y)
    card = {"name": name, "title": "Visit cost", "task": "regression",
            "target": {"name": "cost", "unit": "EUR", "minimum": 0},
            "features": [
                {"name": "age", "type": "integer", "unit": "years", "minimum": 0, "maximum": 120, "example": 40},
                {"name": "smoker", "type": "boolean", "example": False},
                {"name": "region", "type": "category", "example": "north",
                 "categories": [{"value": "north", "label": "North"}, {"value": "south", "label": "South"},
                                {"value": "east", "label": "East"}]},
                {"name": "bmi", "type": "number", "label": "BMI", "minimum": 10, "maximum": 60, "example": 24.5},
            ]}
    return _save(directory, name, card, model, X, y, [])


def _save(directory: Path, name: str, card: dict, model, X: pd.DataFrame, y, labels: list[str]) -> Brought:
    directory.mkdir(parents=True, exist_ok=True)
    paths = Brought(card=directory / f"{name}.yaml", model=directory / f"{name}.skops",
                    reference=directory / f"{name}-sample.csv", frame=X, labels=labels)
    paths.card.write_text(yaml.safe_dump(card, sort_keys=False))
    sio.dump(model, paths.model)
    X.assign(**{card["target"]["name"]: y}).head(120).to_csv(paths.reference, index=False)
    return paths
