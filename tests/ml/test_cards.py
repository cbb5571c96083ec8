"""Model cards: the shipped ones read back to the schemas the models were built with; a bad card is refused with
every problem and its path."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

import ml
from ml.recipes import CARDS_DIR

MINIMAL = {"name": "tiny", "task": "regression", "features": [{"name": "x", "type": "number"}]}


def problems(card) -> list[str]:
    with pytest.raises(ml.CardInvalid) as caught:
        ml.load_card(card)
    return caught.value.problems


def test_the_shipped_cards_satisfy_the_published_schema():
    for path in CARDS_DIR.glob("*.yaml"):
        jsonschema.Draft202012Validator(ml.CARD_SCHEMA).validate(yaml.safe_load(path.read_text()))
        card = ml.load_card(path.read_text())
        assert card.schema.validate(card.schema.example())


def test_a_minimal_card_gets_sensible_defaults():
    card = ml.load_card(MINIMAL)
    assert (card.title, card.schema.feature("x").label, card.schema.example()) == ("Tiny", "X", {"x": 0})
    assert ml.load_card(yaml.safe_dump(MINIMAL)).to_dict() == card.to_dict()  # YAML and mappings alike


def test_every_problem_is_listed_with_its_path():
    found = problems({"name": "Bad Name", "task": "classification", "features": [
        {"name": "cut", "type": "category"},
        {"name": "x", "type": "number", "minimum": 5, "maximum": 1},
        {"name": "y", "type": "vector"},
    ], "colour": "red"})
    assert "(card): Additional properties are not allowed ('colour' was unexpected)" in found
    assert any(p.startswith("name: 'Bad Name' does not match") for p in found)
    assert "features[0]: 'categories' is a required property" in found
    assert any(p.startswith("features[2].type: 'vector' is not one of") for p in found)


def test_rules_json_schema_cannot_state_are_checked_too():
    found = problems({"name": "m", "task": "classification", "features": [
        {"name": "a", "type": "number", "minimum": 0, "maximum": 1, "example": 3},
        {"name": "a", "type": "category", "categories": ["p", "q"], "example": "r"},
        {"name": "b", "type": "integer", "example": 1.5},
    ], "derived": [{"feature": "missing", "rule": "product",
                    "sources": [{"name": "s1", "type": "number"}, {"name": "s2", "type": "boolean"}]}]})
    assert "features[0].example: 3: Must be ≥ 0 and ≤ 1." in found
    assert "features[1].name: 'a' is already declared at features[0]." in found
    assert "features[1].example: 'r' is not one of its categories." in found
    assert "features[2].example: 1.5: Must be a whole number." in found
    assert "derived[0].feature: 'missing' is not one of the features." in found
    assert "derived[0].sources[1].type: the sources of a product must be numbers." in found
    assert "classes: a classification card lists the estimator's classes." in found


def test_yaml_that_does_not_parse_says_where():
    [problem] = problems("name: tiny\nfeatures: [\n  - oops")
    assert problem.startswith("(card): not YAML or JSON: line")


def test_feedback_follows_the_card():
    card = ml.load_card(MINIMAL | {"target": {"name": "cost", "minimum": 0, "exclusive_minimum": True}})
    assert card.validate_actual(12.5) == 12.5
    for bad in (0, -1, "x", True):
        with pytest.raises(ml.InvalidInput):
            card.validate_actual(bad)
