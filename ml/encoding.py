"""A lean ordinal encoder that lives inside the pipelines, so clients send labels ("Ideal") and never codes.

scikit-learn's ColumnTransformer + OrdinalEncoder cost about 0.5 ms per call on a single row — more than the
gradient-boosted trees themselves — because of per-call validation and DataFrame plumbing. Serving scores one row
at a time, so this transformer does a dictionary lookup per categorical cell and nothing else. The categories are
ordered worst → best, which keeps the codes meaningful to trees and equal to the legacy endpoint's ordinal codes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class OrdinalColumns(TransformerMixin, BaseEstimator):
    """Map the categorical columns of a 2-D array to integer codes and return a float array.

    ``categories`` maps a column index to its ordered labels; all other columns must already be numeric.
    """

    def __init__(self, categories: dict[int, Sequence[str]] | None = None) -> None:
        self.categories = categories

    def fit(self, X, y=None):
        self.lookup_ = {column: {label: float(code) for code, label in enumerate(labels)}
                        for column, labels in (self.categories or {}).items()}
        self.n_features_in_ = np.shape(X)[1]
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=object)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected a 2-D array with {self.n_features_in_} columns, got shape {X.shape}")
        out = np.empty(X.shape, dtype=float)
        for column in range(X.shape[1]):
            lookup = self.lookup_.get(column)
            if lookup is None:
                out[:, column] = X[:, column].astype(float)
            else:
                try:
                    out[:, column] = [lookup[value] for value in X[:, column]]
                except KeyError as exc:
                    raise ValueError(f"unknown category {exc.args[0]!r} in column {column}") from None
        return out
