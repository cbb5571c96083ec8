from __future__ import annotations

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.pipeline import Pipeline

import ml
from ml.encoding import OrdinalColumns
from ml.fastpath import LEAN_ROWS, _random_inputs, compile_scorer


@pytest.mark.parametrize("name", ["iris", "diamonds"])
def test_the_shipped_models_score_on_the_lean_path_with_sklearns_exact_numbers(name, trained_model_dir):
    model = ml.Registry.from_directory(trained_model_dir).get(name)
    assert model.lean
    spec = model.card
    X = _random_inputs(spec.schema, 300)
    reference = model.estimator.predict_proba if spec.is_classifier else model.estimator.predict
    scorer = compile_scorer(model.estimator, spec.schema, classifier=spec.is_classifier)
    for i in range(0, 300, 7):
        assert np.array_equal(scorer(X[i:i + 7]), reference(X[i:i + 7]))


def test_big_batches_go_through_sklearn_and_agree(trained_model_dir):
    model = ml.Registry.from_directory(trained_model_dir).get("diamonds")
    rows = [model.card.schema.validate(model.card.schema.example() | {"carat": c}) for c in np.linspace(0.2, 3, 50)]
    assert len(rows) > LEAN_ROWS
    batch = [r["prediction"] for r in model.predict(rows)]
    one_by_one = [model.predict([row])[0]["prediction"] for row in rows]
    assert batch == pytest.approx(one_by_one, rel=1e-12)


def test_other_model_shapes_keep_the_sklearn_path(tmp_path):
    spec = ml.get_recipe("diamonds").card
    result = ml.train("diamonds", tmp_path, algorithm="random_forest", max_rows=500,
                      params={"model__n_estimators": 3})
    model = ml.Registry.from_directory(tmp_path).get("diamonds", result.version)
    assert not model.lean
    assert model.predict([spec.schema.validate(spec.schema.example())])[0]["prediction"] > 0


def test_native_categorical_splits_are_not_compiled():
    spec = ml.get_recipe("diamonds").card
    _DIAMOND_CATEGORIES = {i: f.choices for i, f in enumerate(spec.schema.features) if f.kind == "category"}
    X = _random_inputs(spec.schema, 400)
    y = np.exp(np.random.default_rng(1).normal(7, 1, 400))
    pipeline = Pipeline([("encode", OrdinalColumns(_DIAMOND_CATEGORIES)), ("model", TransformedTargetRegressor(
        regressor=HistGradientBoostingRegressor(max_iter=5, categorical_features=[1, 2, 3]),
        func=np.log, inverse_func=np.exp))]).fit(X, y)
    assert compile_scorer(pipeline, spec.schema, classifier=False) is None
    plain = Pipeline([("encode", OrdinalColumns(_DIAMOND_CATEGORIES)), ("model", RandomForestRegressor(2))]).fit(X, y)
    assert compile_scorer(plain, spec.schema, classifier=False) is None
