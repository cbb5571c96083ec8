from __future__ import annotations

import math

import pytest

import ml
from tests.conftest import DIAMOND, IRIS_VIRGINICA

IRIS = ml.get_recipe("iris").card.schema
DIAMONDS = ml.get_recipe("diamonds").card.schema


def errors_of(schema, payload) -> dict[str, list[str]]:
    with pytest.raises(ml.InvalidInput) as caught:
        schema.validate(payload)
    return caught.value.fields


def test_it_accepts_a_valid_iris_input():
    assert IRIS.validate(IRIS_VIRGINICA) == IRIS_VIRGINICA


@pytest.mark.parametrize("value", [0, -1.5, 15.01, 1e308 * 10, math.nan, float("inf")])
def test_it_rejects_out_of_range_or_non_finite_numbers(value):
    fields = errors_of(IRIS, IRIS_VIRGINICA | {"sepal_length": value})
    assert list(fields) == ["sepal_length"]


@pytest.mark.parametrize("value", ["5.1", True, None, [5.1], {"v": 5.1}])  # null is not "omitted"
def test_it_rejects_values_that_are_not_json_numbers(value):
    fields = errors_of(IRIS, IRIS_VIRGINICA | {"petal_width": value})
    assert "petal_width" in fields


def test_it_rejects_integers_too_large_for_a_float():
    fields = errors_of(IRIS, IRIS_VIRGINICA | {"petal_width": 10**400})
    assert fields["petal_width"] == ["Must be > 0 and ≤ 15 cm."]


def test_it_names_unknown_and_missing_fields():
    fields = errors_of(IRIS, {"sepal_lenght": 5.0, "sepal_width": 3.0, "petal_length": 1.0, "petal_width": 0.2})
    assert "Unknown field" in fields["sepal_lenght"][0]
    assert fields["sepal_length"] == ["This field is required."]


@pytest.mark.parametrize("payload", [[], "x", 5, None, [IRIS_VIRGINICA]])
def test_it_rejects_payloads_that_are_not_objects(payload):
    assert "non_field_errors" in errors_of(IRIS, payload)


def test_it_rejects_unknown_categories():
    fields = errors_of(DIAMONDS, DIAMOND | {"cut": "Superb"})
    assert fields["cut"][0].startswith("Unknown cut 'Superb'; must be one of: Fair, Good, Very Good, Premium, Ideal")


def test_it_computes_volume_from_x_y_z():
    clean = DIAMONDS.validate(DIAMOND)
    assert clean["volume"] == pytest.approx(5.7 * 5.72 * 3.53)
    assert (clean["x"], clean["y"], clean["z"]) == (5.7, 5.72, 3.53)


def test_it_accepts_volume_instead_of_x_y_z():
    payload = {k: v for k, v in DIAMOND.items() if k not in "xyz"} | {"volume": 60.063}
    assert DIAMONDS.validate(payload)["volume"] == 60.063


def test_it_refuses_volume_and_x_y_z_together():
    fields = errors_of(DIAMONDS, DIAMOND | {"volume": 100.0})
    assert "not both" in fields["volume"][0]


def test_it_asks_for_the_missing_dimension():
    payload = {k: v for k, v in DIAMOND.items() if k != "z"}
    assert "z" in errors_of(DIAMONDS, payload)


def test_it_rejects_a_derived_value_out_of_range():
    side = ml.NumberFeature("side", "Side", "mm", 0.0, 10.0, 1.0)
    area = ml.NumberFeature("area", "Area", "mm²", 0.0, 50.0, 1.0)
    schema = ml.FeatureSchema(features=(area,), derivations=(ml.Derivation("area", (side, side.__class__(
        "other", "Other", "mm", 0.0, 10.0, 1.0))),))
    assert schema.validate({"side": 5.0, "other": 10.0}) == {"side": 5.0, "other": 10.0, "area": 50.0}
    fields = errors_of(schema, {"side": 6.0, "other": 10.0})
    assert fields["area"] == ["side × other = 60: must be > 0 and ≤ 50 mm²."]


def test_every_diamond_size_in_range_gives_a_volume_in_range():
    biggest = {k: v for k, v in DIAMOND.items()} | {"x": 20.0, "y": 20.0, "z": 20.0}
    smallest = biggest | {"x": 0.1, "y": 0.1, "z": 0.1}
    assert DIAMONDS.validate(biggest)["volume"] == 8000.0
    assert DIAMONDS.validate(smallest)["volume"] == pytest.approx(0.001)


def test_parse_text_row_converts_form_and_csv_text():
    parsed = DIAMONDS.parse_text_row({"carat": " 0.7 ", "cut": "Ideal", "depth": "abc", "x": ""})
    assert parsed == {"carat": 0.7, "cut": "Ideal", "depth": "abc"}
    assert "depth" in errors_of(DIAMONDS, parsed | {"color": "G", "clarity": "VS2", "table": 57.0, "volume": 99.0})


def test_json_schema_matches_validation():
    iris = IRIS.json_schema()
    assert iris["required"] == list(IRIS.names) and iris["additionalProperties"] is False
    with_volume, with_dimensions = DIAMONDS.json_schema()["oneOf"]
    assert with_volume["required"] == ["carat", "cut", "color", "clarity", "depth", "table", "volume"]
    assert with_dimensions["required"] == ["carat", "cut", "color", "clarity", "depth", "table", "x", "y", "z"]
    assert with_volume["properties"]["cut"]["enum"] == list(DIAMONDS.feature("cut").choices)
    assert with_volume["properties"]["carat"]["exclusiveMinimum"] is True
    assert with_dimensions["additionalProperties"] is False


def test_the_example_is_valid():
    for recipe in ml.RECIPES.values():
        recipe.card.schema.validate(recipe.card.schema.example())
        recipe.card.schema.validate(recipe.card.schema.example(derived=False))


def test_null_is_not_the_same_as_omitting_a_field():
    fields = errors_of(DIAMONDS, DIAMOND | {"volume": None})
    assert "volume" in fields
