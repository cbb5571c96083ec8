"""Lean scoring paths for the model shapes mlsite ships, verified against scikit-learn when a model is loaded.

scikit-learn's predict is built for large batches. Serving scores one row per request, and there the fixed costs
dominate: input validation and estimator dispatch (~70 µs for a logistic regression whose arithmetic takes 2 µs),
and for gradient boosting a Python-level call per tree (~5 µs each, ~0.6 ms for 100 trees). The functions here
compute the same numbers straight from the fitted attributes with a few numpy operations. They are used only after
they reproduced scikit-learn's own output on a few hundred random inputs drawn from the model's feature schema; any
other model shape, or any disagreement, keeps the plain scikit-learn path. Nothing here changes what is stored in
an artifact: the artifact stays the scikit-learn pipeline that was trained and hashed.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from ml.encoding import OrdinalColumns
from ml.schema import CategoryFeature, FeatureSchema

log = logging.getLogger(__name__)

Scorer = Callable[[np.ndarray], np.ndarray]
VERIFY_ROWS = 512
LEAN_ROWS = 16  # above this many rows per call, scikit-learn's own batch code is the faster one
RTOL = 1e-9


def compile_scorer(estimator, schema: FeatureSchema, *, classifier: bool) -> Scorer | None:
    """A function X → predictions (regressors) or class probabilities (classifiers), or None to use sklearn."""
    build = _logistic_regression if classifier else _encoded_log_target_boosting
    try:
        scorer = build(estimator)
        X = _random_inputs(schema, VERIFY_ROWS)
        with warnings.catch_warnings():  # "X does not have valid feature names": a model fitted on a DataFrame
            warnings.simplefilter("ignore", UserWarning)
            expected = estimator.predict_proba(X) if classifier else estimator.predict(X)
        # In chunks a request would send, so that the lean code itself is what gets compared.
        got = np.concatenate([scorer(X[i:i + LEAN_ROWS]) for i in range(0, len(X), LEAN_ROWS)])
    except _Unsupported as reason:
        log.info("no lean scoring path for %s: %s", type(estimator).__name__, reason)
        return None
    except Exception as exc:  # noqa: BLE001 - an estimator that cannot even score here is left to sklearn's errors
        log.warning("lean scoring path not built for %s: %s: %s", type(estimator).__name__, type(exc).__name__, exc)
        return None
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=RTOL, atol=0):
        log.warning("lean scoring path disagrees with scikit-learn (max diff %g); using scikit-learn",
                    float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("nan"))
        return None
    return scorer


class _Unsupported(Exception):
    pass


def _logistic_regression(estimator) -> Scorer:
    if not isinstance(estimator, LogisticRegression) or len(estimator.classes_) < 3:
        raise _Unsupported("not a multinomial LogisticRegression")
    coef = np.ascontiguousarray(estimator.coef_.T)
    intercept = estimator.intercept_.copy()

    def scorer(X: np.ndarray) -> np.ndarray:
        scores = np.asarray(X, dtype=float) @ coef + intercept
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    return scorer


def _encoded_log_target_boosting(estimator) -> Scorer:
    """Pipeline(OrdinalColumns, TransformedTargetRegressor(HistGradientBoostingRegressor, log, exp))."""
    if not (isinstance(estimator, Pipeline) and len(estimator.steps) == 2):
        raise _Unsupported("not a two-step pipeline")
    encode, model = estimator.steps[0][1], estimator.steps[1][1]
    if not isinstance(encode, OrdinalColumns) or not isinstance(model, TransformedTargetRegressor):
        raise _Unsupported("not OrdinalColumns + TransformedTargetRegressor")
    if model.func is not np.log or model.inverse_func is not np.exp:
        raise _Unsupported("target transform is not log/exp")
    boosting = model.regressor_
    if not isinstance(boosting, HistGradientBoostingRegressor) or boosting.loss != "squared_error":
        raise _Unsupported("not a squared-error HistGradientBoostingRegressor")
    trees = _FlatTrees([iteration[0].nodes for iteration in boosting._predictors])
    baseline = float(np.ravel(boosting._baseline_prediction)[0])

    def scorer(X: np.ndarray) -> np.ndarray:
        if len(X) > LEAN_ROWS:
            return estimator.predict(X)
        return np.exp(trees.raw(encode.transform(X), start=baseline))

    return scorer


class _FlatTrees:
    """Every tree's nodes in one set of arrays, walked for one row at a time.

    For one row every split decision is computed at once (one vectorised comparison over all nodes), which turns
    each node into a pointer to its chosen child; then all trees descend together, one gather per depth level.
    This is for the few rows a request carries: for big batches scikit-learn's own multi-threaded loop is faster.
    """

    def __init__(self, node_arrays: list[np.ndarray]) -> None:
        if not node_arrays:
            raise _Unsupported("no trees")
        if any(nodes["is_categorical"].any() for nodes in node_arrays):
            raise _Unsupported("native categorical splits")
        sizes = np.array([len(nodes) for nodes in node_arrays])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        nodes = np.concatenate(node_arrays)
        shift = np.repeat(offsets, sizes)
        leaf = nodes["is_leaf"].astype(bool)
        own = np.arange(len(nodes))
        # A leaf points at itself, so a tree that reached its leaf stays there while deeper trees finish.
        self.left = np.where(leaf, own, nodes["left"].astype(np.intp) + shift)
        self.right = np.where(leaf, own, nodes["right"].astype(np.intp) + shift)
        self.feature = np.where(leaf, 0, nodes["feature_idx"]).astype(np.intp)
        self.threshold = nodes["num_threshold"].astype(float)
        self.missing_left = nodes["missing_go_to_left"].astype(bool)
        self.value = nodes["value"].astype(float)
        self.roots = offsets.astype(np.intp)
        self.depth = int(nodes["depth"].max())

    def raw(self, X: np.ndarray, *, start: float = 0.0) -> np.ndarray:
        out = np.empty(X.shape[0])
        for row, x in enumerate(X):
            data = x[self.feature]
            go_left = data <= self.threshold
            missing = np.isnan(data)
            if missing.any():
                go_left = np.where(missing, self.missing_left, go_left)
            child = np.where(go_left, self.left, self.right)
            index = self.roots
            for _ in range(self.depth):
                index = child[index]
            # Summed one tree at a time in fitting order after the baseline, as scikit-learn does, so the sums
            # agree bit for bit.
            total = 0.0 + start
            for value in self.value[index].tolist():
                total += value
            out[row] = total
        return out


def _random_inputs(schema: FeatureSchema, n: int) -> np.ndarray:
    """Rows spread over each feature's valid range (and every category), in the model's column order. An open
    range is taken as a few orders of magnitude around the feature's example."""
    rng = np.random.default_rng(0)
    columns = []
    for feature in schema.features:
        if isinstance(feature, CategoryFeature):
            columns.append(rng.choice(np.array(feature.choices, dtype=object), size=n))
            continue
        if feature.kind == "boolean":
            columns.append(rng.integers(0, 2, size=n).astype(float))
            continue
        scale = max(abs(float(feature.example or 0)) * 10, 10.0)
        low = feature.minimum if feature.minimum is not None else -scale
        high = feature.maximum if feature.maximum is not None else scale
        if feature.minimum is not None and feature.exclusive_minimum:
            low = np.nextafter(low, np.inf)
        # Log-uniform when the range spans decades, so small realistic values are well represented.
        if low > 0 and high > 100 * low and low > 1e-300:
            column = np.exp(rng.uniform(np.log(low), np.log(high), size=n))
        else:
            column = rng.uniform(low, high, size=n)
        columns.append(np.floor(column) if feature.kind == "integer" else column)
    return np.array(columns, dtype=schema.dtype).T.copy()
