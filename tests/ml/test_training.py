from __future__ import annotations

import json

import pytest
import sklearn

import ml
from ml import artifacts


def test_versions_increment_and_the_manifest_is_complete(tmp_path):
    first = ml.train("iris", tmp_path)
    second = ml.train("iris", tmp_path)
    assert (first.version, second.version) == ("1", "2")
    assert artifacts.list_versions(tmp_path, "iris") == ["1", "2"]
    manifest = json.loads((tmp_path / "iris" / "2" / "manifest.json").read_text())
    for key in artifacts.REQUIRED_KEYS + ("reference", "target_reference", "size_bytes"):
        assert key in manifest, key
    assert manifest["versions"]["sklearn"] == sklearn.__version__
    assert set(manifest["versions"]) >= {"python", "sklearn", "numpy"}
    assert manifest["data"]["rows_train"] + manifest["data"]["rows_test"] == 150
    assert manifest["data"]["split_seed"] == 41
    assert len(manifest["sha256"]) == 64


def test_training_is_reproducible(tmp_path):
    a = ml.train("diamonds", tmp_path / "a", max_rows=4000)
    b = ml.train("diamonds", tmp_path / "b", max_rows=4000)
    assert a.manifest["metrics"] == b.manifest["metrics"]
    # The skops files differ byte for byte (they name their arrays by object id); the models do not.
    schema = ml.get_recipe("diamonds").card.schema
    rows = [schema.validate(schema.example() | {"carat": c / 10}) for c in range(1, 40)]
    first, second = (ml.Registry.from_directory(tmp_path / d).get("diamonds").predict(rows) for d in ("a", "b"))
    assert first == second


def test_the_iris_model_reports_its_accuracy(trained_model_dir):
    manifest = artifacts.read_manifest(trained_model_dir, "iris", "1")
    assert manifest["metrics"]["accuracy"] >= 0.9
    assert manifest["algorithm"] == "logistic_regression"


def test_the_default_diamonds_model_meets_the_bar(trained_model_dir):
    manifest = artifacts.read_manifest(trained_model_dir, "diamonds", "1")
    assert manifest["algorithm"] == "hist_gradient_boosting"
    assert manifest["metrics"]["r2"] >= 0.980
    assert manifest["size_bytes"] <= 5_000_000
    assert manifest["data"]["rows_raw"] == 53_940
    assert 53_800 < manifest["data"]["rows_clean"] < 53_940
    assert manifest["data"]["cleaning_dropped"]["zero x, y or z"] == 20
    assert manifest["data"]["rows_test"] == pytest.approx(0.3 * manifest["data"]["rows_clean"], abs=1)


def test_the_random_forest_of_the_original_app_is_still_trainable(tmp_path):
    result = ml.train("diamonds", tmp_path, algorithm="random_forest", max_rows=2000,
                      params={"model__n_estimators": 10})
    assert result.manifest["algorithm"] == "random_forest"
    model = ml.Registry.from_directory(tmp_path).get("diamonds")
    assert model.estimator.named_steps["model"].n_jobs == -1
    schema = ml.get_recipe("diamonds").card.schema
    assert model.predict([schema.validate(schema.example())])


def test_an_unknown_algorithm_is_refused(tmp_path):
    with pytest.raises(ml.ModelNotFound, match="no algorithm 'xgboost'"):
        ml.train("diamonds", tmp_path, algorithm="xgboost")
