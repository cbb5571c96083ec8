"""Input drift: reference distributions captured at training time and the population stability index (PSI).

PSI = Σ (actual% − expected%) · ln(actual% / expected%) over bins. Usual reading: < 0.1 stable, 0.1–0.25 moderate
shift, > 0.25 significant shift. Numeric features are binned at the training deciles, categorical ones by category.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml.schema import CategoryFeature, FeatureSchema

PSI_MODERATE = 0.1
PSI_SIGNIFICANT = 0.25
_EPSILON = 1e-4  # floor for empty bins, so one empty bin does not make the index infinite


def reference_distribution(schema: FeatureSchema, X: pd.DataFrame) -> dict[str, dict[str, Any]]:
    reference: dict[str, dict[str, Any]] = {}
    for feature in schema.features:
        column = X[feature.name]
        if isinstance(feature, CategoryFeature) or feature.kind == "boolean":
            bins = list(feature.choices) if isinstance(feature, CategoryFeature) else [False, True]
            counts = column.value_counts()
            reference[feature.name] = {
                "kind": "category",
                "bins": bins,
                "fractions": [float(counts.get(choice, 0)) / len(column) for choice in bins],
            }
        else:
            values = column.to_numpy(dtype=float)
            edges = sorted(set(np.quantile(values, np.linspace(0.1, 0.9, 9)).round(6).tolist()))
            counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
            reference[feature.name] = {
                "kind": "number",
                "edges": edges,  # bin i holds edges[i-1] <= v < edges[i]; the outer bins are open
                "fractions": (counts / counts.sum()).tolist(),
                "mean": float(values.mean()),
                "std": float(values.std()),
                "min": float(values.min()),
                "max": float(values.max()),
            }
    return reference


def bin_counts(reference: dict[str, Any], values: Iterable[Any]) -> list[int]:
    """Count ``values`` into the reference's bins (values outside known categories are ignored)."""
    if reference["kind"] == "category":
        index = {label: i for i, label in enumerate(reference["bins"])}
        counts = [0] * len(index)
        for value in values:
            if value in index:
                counts[index[value]] += 1
        return counts
    edges = reference["edges"]
    numbers = np.asarray([float(v) for v in values], dtype=float)
    return np.bincount(np.searchsorted(edges, numbers, side="right"), minlength=len(edges) + 1).tolist()


def psi(expected_fractions: Sequence[float], actual_counts: Sequence[int]) -> float | None:
    """PSI of observed counts against expected fractions; None when there is nothing observed."""
    total = sum(actual_counts)
    if total == 0:
        return None
    value = 0.0
    for expected, count in zip(expected_fractions, actual_counts, strict=True):
        e = max(expected, _EPSILON)
        a = max(count / total, _EPSILON)
        value += (a - e) * math.log(a / e)
    return value


def psi_level(value: float | None) -> str:
    if value is None:
        return "no data"
    if value >= PSI_SIGNIFICANT:
        return "significant"
    if value >= PSI_MODERATE:
        return "moderate"
    return "stable"
