from __future__ import annotations

import json
import shutil

import pytest

import ml
from tests.conftest import IRIS_VIRGINICA


@pytest.fixture
def model_dir(tmp_path, trained_model_dir):
    """A private copy of the trained models that a test may tamper with."""
    target = tmp_path / "models"
    shutil.copytree(trained_model_dir, target)
    return target


def test_iris_predicts_virginica_for_the_original_example(trained_model_dir):
    [result] = ml.Registry.from_directory(trained_model_dir).get("iris").predict([IRIS_VIRGINICA])
    assert result["prediction"] == 2
    assert result["label"] == "virginica"
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert max(result["probabilities"], key=result["probabilities"].get) == "virginica"


def test_many_rows_are_scored_in_order(trained_model_dir):
    schema = ml.get_recipe("diamonds").card.schema
    small = schema.validate(schema.example() | {"x": 4.0, "y": 4.0, "z": 2.5})
    large = schema.validate(schema.example() | {"x": 8.0, "y": 8.0, "z": 5.0, "carat": 2.0})
    model = ml.Registry.from_directory(trained_model_dir).get("diamonds")
    cheap, dear = model.predict([small, large])
    assert cheap["prediction"] < dear["prediction"]
    assert model.predict([small])[0]["prediction"] == pytest.approx(cheap["prediction"])


def test_models_load_once_per_process(trained_model_dir):
    registry = ml.Registry.from_directory(trained_model_dir)
    assert registry.get("iris") is registry.get("iris") is registry.get("iris", "1")


def test_unknown_models_and_versions_are_not_found(trained_model_dir):
    registry = ml.Registry.from_directory(trained_model_dir)
    with pytest.raises(ml.ModelNotFound):
        registry.get("titanic")
    with pytest.raises(ml.ModelNotFound):
        registry.get("iris", "99")
    with pytest.raises(ml.ModelNotFound):
        registry.get("iris", "../iris/1")


def test_the_catalogue_decides_what_is_served(model_dir):
    ml.train("iris", model_dir)
    registry = ml.Registry.from_directory(model_dir)
    assert registry.default_version("iris") == "2"  # the newest, when nothing else is said
    entry = next(e for e in ml.Registry.scan(model_dir) if e.name == "iris")
    registry.set_catalogue([ml.CatalogueEntry("iris", "1", entry.versions)])
    assert registry.get("iris").version == "1" and registry.names() == ["iris"]
    with pytest.raises(ml.ModelNotFound):
        registry.get("diamonds")  # on disk, but not in the catalogue: not served
    registry.set_catalogue([ml.CatalogueEntry("iris", "2", {"2": entry.versions["2"]})])
    with pytest.raises(ml.ModelNotFound):
        registry.get("iris", "1")  # a version the catalogue dropped stops being served at once


def test_a_tampered_model_file_is_refused(model_dir):
    path = model_dir / "iris" / "1" / "model.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    registry = ml.Registry.from_directory(model_dir)
    with pytest.raises(ml.ModelUnavailable, match="sha256"):
        registry.get("iris")
    assert registry.load_defaults()["iris"] and "sha256" in registry.load_defaults()["iris"]
    assert registry.load_defaults()["diamonds"] is None


def test_a_tampered_manifest_is_refused(model_dir):
    path = model_dir / "iris" / "1" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["sha256"] = "0" * 64
    path.write_text(json.dumps(manifest))
    with pytest.raises(ml.ModelUnavailable, match="sha256"):
        ml.Registry.from_directory(model_dir).get("iris")


def test_a_manifest_that_is_not_json_is_refused(model_dir):
    (model_dir / "iris" / "1" / "manifest.json").write_text("{not json")
    with pytest.raises(ml.ModelUnavailable, match="unreadable"):
        ml.Registry.from_directory(model_dir).get("iris")


def test_an_artifact_from_another_sklearn_version_is_refused(model_dir):
    path = model_dir / "diamonds" / "1" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["versions"]["sklearn"] = "1.2.2"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ml.ModelUnavailable, match="scikit-learn 1.2.2"):
        ml.Registry.from_directory(model_dir).get("diamonds")


def test_a_model_file_that_disagrees_with_the_catalogue_is_refused(model_dir):
    entries = ml.Registry.scan(model_dir)
    iris = next(e for e in entries if e.name == "iris")
    registry = ml.Registry(model_dir)
    registry.set_catalogue([ml.CatalogueEntry("iris", "1", {"1": ml.VersionRef("1", iris.versions["1"].card,
                                                                                "0" * 64)})])
    with pytest.raises(ml.ModelUnavailable, match="the catalogue says"):
        registry.get("iris")


def test_a_card_that_does_not_fit_the_estimator_is_refused(model_dir):
    card = ml.get_recipe("diamonds").card
    registry = ml.Registry(model_dir)  # the diamonds regressor, served under the iris card
    registry.set_catalogue([ml.CatalogueEntry("iris", "1", {"1": ml.VersionRef("1", ml.get_recipe("iris").card)})])
    (model_dir / "iris" / "1" / "model.skops").write_bytes((model_dir / "diamonds" / "1" / "model.skops").read_bytes())
    manifest = json.loads((model_dir / "iris" / "1" / "manifest.json").read_text())
    manifest["sha256"] = json.loads((model_dir / "diamonds" / "1" / "manifest.json").read_text())["sha256"]
    (model_dir / "iris" / "1" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ml.ModelUnavailable, match="the card says classification"):
        registry.get("iris")
    assert card.task == "regression"


def test_a_refused_artifact_is_not_retried_or_replaced(model_dir):
    ml.train("iris", model_dir)  # v2, then break it: v1 must not be served in its place
    (model_dir / "iris" / "2" / "model.skops").write_bytes(b"garbage")
    registry = ml.Registry.from_directory(model_dir)
    with pytest.raises(ml.ModelUnavailable):
        registry.get("iris")
    (model_dir / "iris" / "2" / "model.skops").unlink()
    with pytest.raises(ml.ModelUnavailable, match="sha256"):
        registry.get("iris")  # the first verdict stands for the life of the process
    assert registry.get("iris", "1").version == "1"  # an explicit, intact version is still available


def test_a_missing_model_dir_means_no_model_is_served(tmp_path):
    registry = ml.Registry.from_directory(tmp_path / "absent")
    assert registry.load_defaults() == {} and registry.names() == []
    with pytest.raises(ml.ModelNotFound, match="available: none yet"):
        registry.get("iris")
