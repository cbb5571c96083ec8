"""Model cards: what a model is, declared once, in YAML or JSON, and versioned with its artifact.

A card names the model and its task, says what it predicts (target, unit, classes) and declares every input feature:
type (number, integer, category, boolean), label, unit, range, categories with display labels, example, help, and
derived features (an input that may be given as the product of others, like a diamond's volume from x·y·z). Optional
reference statistics for drift can come with it. Everything mlsite shows or checks about a model — validation, the
form, the CSV template, the OpenAPI schema, V2 metadata, feedback — is generated from the card.

``load_card`` checks a card against CARD_SCHEMA (a JSON Schema, published at /api/model-card.schema.json) and then
against the rules JSON Schema cannot state (unique names, examples within their ranges, …), and lists every problem
with its path, never just the first.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import yaml

from ml.errors import InvalidInput, MLError
from ml.schema import BooleanFeature, CategoryFeature, Derivation, Feature, FeatureSchema, NumberFeature

CLASSIFICATION = "classification"
REGRESSION = "regression"
CARD_FORMAT = 1
NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
MAX_CARD_BYTES = 256 * 1024

_SCALAR = {"type": ["string", "integer", "boolean"]}
_CATEGORY = {"oneOf": [
    {"type": "string", "minLength": 1, "maxLength": 200},
    {"type": "object", "required": ["value"], "additionalProperties": False, "properties": {
        "value": {"type": "string", "minLength": 1, "maxLength": 200},
        "label": {"type": "string", "maxLength": 200}}},
]}
_FEATURE = {
    "type": "object",
    "required": ["name", "type"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[^\s<>\"'&]+$"},
        "type": {"enum": ["number", "integer", "category", "boolean"]},
        "label": {"type": "string", "maxLength": 120},
        "unit": {"type": "string", "maxLength": 40},
        "help": {"type": "string", "maxLength": 1000},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "exclusive_minimum": {"type": "boolean"},
        "categories": {"type": "array", "minItems": 1, "maxItems": 1000, "items": _CATEGORY},
        "example": {"type": ["number", "string", "boolean"]},
    },
    "allOf": [
        {"if": {"properties": {"type": {"const": "category"}}}, "then": {"required": ["categories"]},
         "else": {"not": {"required": ["categories"]}}},
    ],
}
CARD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:mlsite:model-card:1",
    "title": "mlsite model card",
    "description": "Declares a model served by mlsite: what it predicts and every input it takes.",
    "type": "object",
    "required": ["name", "task", "features"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": CARD_FORMAT, "description": "Card format version."},
        "name": {"type": "string", "pattern": NAME_PATTERN,
                 "description": "URL name: lower-case letters, digits, '-' and '_'."},
        "title": {"type": "string", "maxLength": 120},
        "description": {"type": "string", "maxLength": 4000},
        "task": {"enum": [CLASSIFICATION, REGRESSION]},
        "target": {"type": "object", "additionalProperties": False, "properties": {
            "name": {"type": "string", "maxLength": 64},
            "unit": {"type": "string", "maxLength": 40},
            "minimum": {"type": "number", "description": "Regression: the smallest true value feedback accepts."},
            "exclusive_minimum": {"type": "boolean", "description": "Regression: the minimum itself is refused."},
            "maximum": {"type": "number", "description": "Regression: the largest true value feedback accepts."},
        }},
        "classes": {
            "type": "array", "minItems": 2, "maxItems": 1000,
            "description": "Classification: the estimator's classes_ in order, each with the label people see.",
            "items": {"oneOf": [_SCALAR, {"type": "object", "required": ["value"], "additionalProperties": False,
                                          "properties": {"value": _SCALAR,
                                                         "label": {"type": "string", "maxLength": 200}}}]},
        },
        "features": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"$ref": "#/$defs/feature"},
                     "description": "The model's input columns, in the order the estimator takes them."},
        "derived": {"type": "array", "items": {"$ref": "#/$defs/derivation"}},
        "reference": {"type": "object", "description": "Drift reference per feature, as mlsite computes it from "
                                                       "a reference sample (kind, edges or bins, fractions)."},
    },
    "$defs": {
        "feature": _FEATURE,
        "derivation": {
            "type": "object", "required": ["feature", "rule", "sources"], "additionalProperties": False,
            "properties": {
                "feature": {"type": "string"},
                "rule": {"const": "product"},
                "sources": {"type": "array", "minItems": 2, "maxItems": 10, "items": {"$ref": "#/$defs/feature"}},
            },
        },
    },
}


class CardInvalid(MLError):
    """A card that does not describe a model mlsite can serve; ``problems`` lists each one with its path."""

    code = "invalid_card"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("The model card is not valid: " + "; ".join(problems[:20])
                         + (f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""))
        self.problems = problems


@dataclass(frozen=True)
class ClassInfo:
    value: Any  # as in the estimator's classes_
    label: str  # as people see it


@dataclass(frozen=True)
class ModelCard:
    name: str
    title: str
    description: str
    task: str
    schema: FeatureSchema
    target: str = ""
    target_unit: str = ""
    target_range: tuple[float | None, float | None] = (None, None)
    target_exclusive_minimum: bool = False
    classes: tuple[ClassInfo, ...] = ()
    reference: dict[str, Any] | None = None
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the card as declared

    @property
    def is_classifier(self) -> bool:
        return self.task == CLASSIFICATION

    @property
    def labels(self) -> tuple[str, ...]:
        """Class labels by class index (the position in the estimator's classes_)."""
        return tuple(c.label for c in self.classes)

    def validate_actual(self, value: Any) -> str | float:
        """A reviewer's true outcome: a class label (or its index) for classifiers, a number in the target's range
        for regressors. InvalidInput otherwise."""
        if self.is_classifier:
            if isinstance(value, str) and value in self.labels:
                return value
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(self.labels):
                return self.labels[value]
            raise InvalidInput("Invalid actual outcome.",
                               fields={"actual": [f"Must be one of: {', '.join(self.labels)}."]})
        low, high = self.target_range
        amount = NumberFeature("actual", f"Actual {self.target or 'value'}", self.target_unit, low, high, None,
                               exclusive_minimum=self.target_exclusive_minimum)
        number, message = amount.check(value)
        if message:
            raise InvalidInput("Invalid actual outcome.", fields={"actual": [message]})
        return number

    def to_dict(self) -> dict[str, Any]:
        """The card as mlsite stores and serves it: what was declared, with every default filled in."""
        return self.source


def load_card(content: str | bytes | dict[str, Any]) -> ModelCard:
    """Parse and check a card (YAML or JSON text, or an already parsed mapping). CardInvalid lists every problem."""
    if isinstance(content, dict):
        data = content
    else:
        if len(content) > MAX_CARD_BYTES:
            raise CardInvalid([f"(card): {len(content):,} bytes is more than a card may be ({MAX_CARD_BYTES:,})."])
        try:
            data = yaml.safe_load(content)  # JSON is YAML too
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            raise CardInvalid([f"(card): not YAML or JSON: {where}{getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(data, dict):
        raise CardInvalid(["(card): must be a mapping of name, task, features, …"])
    validator = jsonschema.Draft202012Validator(CARD_SCHEMA)
    problems = [f"{_path(error.absolute_path)}: {error.message}"
                for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))]
    if problems:
        raise CardInvalid(problems)
    return _build(data)


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(card)"


def _build(data: dict[str, Any]) -> ModelCard:
    problems: list[str] = []
    seen: dict[str, str] = {}

    def feature(spec: dict[str, Any], where: str) -> Feature | None:
        name = spec["name"]
        if name in seen:
            problems.append(f"{where}.name: {name!r} is already declared at {seen[name]}.")
        seen[name] = where
        label = spec.get("label") or name.replace("_", " ").capitalize()
        unit, help_text = spec.get("unit", ""), spec.get("help", "")
        kind = spec["type"]
        if kind == "category":
            values = [c if isinstance(c, str) else c["value"] for c in spec["categories"]]
            labels = [c if isinstance(c, str) else c.get("label") or c["value"] for c in spec["categories"]]
            if len(set(values)) != len(values):
                problems.append(f"{where}.categories: a category is listed twice.")
            example = spec.get("example", values[0])
            if example not in values:
                problems.append(f"{where}.example: {example!r} is not one of its categories.")
            for key in ("minimum", "maximum", "exclusive_minimum"):
                if key in spec:
                    problems.append(f"{where}.{key}: only number and integer features have a range.")
            return CategoryFeature(name, label, tuple(values), example, help_text, unit,
                                   tuple(labels) if labels != values else ())
        if kind == "boolean":
            example = spec.get("example", False)
            if not isinstance(example, bool):
                problems.append(f"{where}.example: must be true or false.")
            return BooleanFeature(name, label, bool(example), help_text, unit)
        low, high = spec.get("minimum"), spec.get("maximum")
        exclusive = bool(spec.get("exclusive_minimum", False))
        if low is not None and high is not None and not low < high:
            problems.append(f"{where}: minimum ({low}) must be below maximum ({high}).")
        example = spec.get("example")
        if example is None:
            example = _default_example(low, high, kind == "integer")
        result = NumberFeature(name, label, unit, low, high, example, help_text, exclusive, kind == "integer")
        if isinstance(example, bool) or not isinstance(example, int | float):
            problems.append(f"{where}.example: must be a number.")
        elif (message := result.check(example)[1]) is not None:
            problems.append(f"{where}.example: {example!r}: {message}")
        return result

    features = [feature(spec, f"features[{i}]") for i, spec in enumerate(data["features"])]
    derivations = []
    for i, spec in enumerate(data.get("derived", [])):
        where = f"derived[{i}]"
        target = next((f for f in features if f is not None and f.name == spec["feature"]), None)
        if target is None:
            problems.append(f"{where}.feature: {spec['feature']!r} is not one of the features.")
        elif target.kind != "number":
            problems.append(f"{where}.feature: a product can only stand for a number feature.")
        sources = [feature(source, f"{where}.sources[{j}]") for j, source in enumerate(spec["sources"])]
        for j, source in enumerate(sources):
            if source is not None and source.kind != "number":
                problems.append(f"{where}.sources[{j}].type: the sources of a product must be numbers.")
        derivations.append(Derivation(spec["feature"], tuple(s for s in sources if s is not None)))

    task = data["task"]
    classes: list[ClassInfo] = []
    if task == CLASSIFICATION:
        if "classes" not in data:
            problems.append("classes: a classification card lists the estimator's classes.")
        for entry in data.get("classes", []):
            value = entry["value"] if isinstance(entry, dict) else entry
            label = entry.get("label") if isinstance(entry, dict) else None
            classes.append(ClassInfo(value, str(label if label is not None else value)))
        if len({c.label for c in classes}) != len(classes):
            problems.append("classes: two classes have the same label.")
        if {"minimum", "maximum"} & set(data.get("target", {})):
            problems.append("target: a range is for regression targets.")
    elif "classes" in data:
        problems.append("classes: only a classification card has classes.")
    target = data.get("target", {})
    low, high = target.get("minimum"), target.get("maximum")
    if low is not None and high is not None and not low < high:
        problems.append(f"target: minimum ({low}) must be below maximum ({high}).")
    reference = data.get("reference")
    if reference is not None:
        names = {f.name for f in features if f is not None}
        for key, entry in reference.items():
            if key not in names:
                problems.append(f"reference.{key}: not a feature of this card.")
            elif not isinstance(entry, dict) or not isinstance(entry.get("fractions"), list):
                problems.append(f"reference.{key}: needs kind, edges or bins, and fractions.")
    if problems:
        raise CardInvalid(problems)
    schema = FeatureSchema(features=tuple(features), derivations=tuple(derivations))
    normalized = {"format": CARD_FORMAT, **data}
    normalized["title"] = data.get("title") or data["name"].replace("_", " ").replace("-", " ").capitalize()
    return ModelCard(
        name=data["name"], title=normalized["title"], description=data.get("description", ""), task=task,
        schema=schema, target=target.get("name", ""), target_unit=target.get("unit", ""), target_range=(low, high),
        target_exclusive_minimum=bool(target.get("exclusive_minimum", False)),
        classes=tuple(classes), reference=reference, source=normalized,
    )


def _default_example(low: float | None, high: float | None, integer: bool) -> float | int:
    if low is not None and high is not None:
        value = (low + high) / 2
    elif low is not None:
        value = low + 1
    elif high is not None:
        value = high - 1 if high > 0 else high
    else:
        value = 0
    return int(math.floor(value)) if integer else value


def card_dict(card: ModelCard) -> dict[str, Any]:
    """The card in JSON-able form (stored with every version and served by the API)."""
    return json.loads(json.dumps(card.source))


__all__ = ["CARD_SCHEMA", "CLASSIFICATION", "NAME_PATTERN", "REGRESSION", "CardInvalid", "ClassInfo", "ModelCard",
           "card_dict", "load_card"]
