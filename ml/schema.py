"""Feature schemas: the one definition of a model's inputs.

Validation, HTML forms, CSV templates, the OpenAPI document and the docs are all generated from these objects, so a
feature's name, unit, range and choices are written exactly once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ml.errors import InvalidInput

# An error answer names at most this many unknown fields and counts the rest: a body of 200,000 unknown keys must
# not get an answer ten times its size.
UNKNOWN_FIELDS_SHOWN = 5


@dataclass(frozen=True)
class NumberFeature:
    name: str
    label: str
    unit: str
    minimum: float
    maximum: float
    example: float
    help: str = ""
    exclusive_minimum: bool = True

    kind = "number"

    def range_text(self) -> str:
        low = f"> {_fmt(self.minimum)}" if self.exclusive_minimum else f"≥ {_fmt(self.minimum)}"
        return f"{low} and ≤ {_fmt(self.maximum)} {self.unit}".strip()

    def check(self, value: Any) -> tuple[float | None, str | None]:
        """Return (value, None) for an acceptable JSON number, else (None, message)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, "Must be a number."
        try:
            number = float(value)
        except OverflowError:
            return None, f"Must be {self.range_text()}."
        if not math.isfinite(number):
            return None, "Must be a finite number."
        too_low = number <= self.minimum if self.exclusive_minimum else number < self.minimum
        if too_low or number > self.maximum:
            return None, f"Must be {self.range_text()}."
        return number, None

    def parse_text(self, text: str) -> Any:
        """Turn text from a form, a CSV cell or a query string into the JSON value validation expects."""
        try:
            number = float(text.strip())
        except ValueError:
            return text
        return number

    def json_schema(self) -> dict:
        schema: dict[str, Any] = {
            "type": "number",
            "description": f"{self.help} ({self.range_text()})".strip(),
            "maximum": self.maximum,
            "example": self.example,
        }
        # OpenAPI 3.0 dialect: exclusiveMinimum is a flag on minimum.
        schema["minimum"] = self.minimum
        if self.exclusive_minimum:
            schema["exclusiveMinimum"] = True
        return schema

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "type": "number",
            "unit": self.unit,
            "minimum": self.minimum,
            "exclusive_minimum": self.exclusive_minimum,
            "maximum": self.maximum,
            "example": self.example,
            "help": self.help,
        }


@dataclass(frozen=True)
class CategoryFeature:
    name: str
    label: str
    choices: tuple[str, ...]  # ordered worst → best, as the legacy ordinal codes are
    example: str
    help: str = ""
    unit: str = ""

    kind = "category"

    def range_text(self) -> str:
        return "one of " + ", ".join(self.choices)

    def check(self, value: Any) -> tuple[str | None, str | None]:
        if not isinstance(value, str):
            return None, f"Must be one of: {', '.join(self.choices)}."
        if value not in self.choices:
            shown = value if len(value) <= 40 else value[:40] + "…"
            return None, f"Unknown {self.label.lower()} {shown!r}; must be one of: {', '.join(self.choices)}."
        return value, None

    def parse_text(self, text: str) -> Any:
        return text.strip()

    def json_schema(self) -> dict:
        return {"type": "string", "enum": list(self.choices), "description": self.help, "example": self.example}

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "type": "category",
            "choices": list(self.choices),
            "example": self.example,
            "help": self.help,
        }


Feature = NumberFeature | CategoryFeature


@dataclass(frozen=True)
class Derivation:
    """A model input that may instead be given as a product of other measurements (diamond volume = x·y·z)."""

    target: str
    sources: tuple[NumberFeature, ...]

    @cached_property
    def source_names(self) -> tuple[str, ...]:
        return tuple(source.name for source in self.sources)


@dataclass(frozen=True)
class FeatureSchema:
    features: tuple[Feature, ...]  # the model's input columns, in order
    derivations: tuple[Derivation, ...] = ()
    _by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {feature.name: feature for feature in self.features}
        for derivation in self.derivations:
            by_name.update({source.name: source for source in derivation.sources})
        object.__setattr__(self, "_by_name", by_name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features)

    @property
    def accepted_names(self) -> tuple[str, ...]:
        """Every field a client may send, in a natural order for forms and CSV headers."""
        return tuple(self._by_name)

    def feature(self, name: str) -> Feature:
        return self._by_name[name]

    def derivation_for(self, name: str) -> Derivation | None:
        return next((d for d in self.derivations if d.target == name), None)

    def example(self, *, derived: bool = True) -> dict[str, Any]:
        """An example input; with ``derived`` the derivable inputs are given through their sources (x, y, z)."""
        example: dict[str, Any] = {}
        for feature in self.features:
            derivation = self.derivation_for(feature.name)
            if derived and derivation is not None:
                example.update({source.name: source.example for source in derivation.sources})
            else:
                example[feature.name] = feature.example
        return example

    def validate(self, raw: Any) -> dict[str, Any]:
        """Check one JSON object of features; return the model's inputs (plus given sources) or raise InvalidInput.

        Accepts any JSON value: a non-object, unknown fields, missing fields, wrong types, non-finite or
        out-of-range numbers and unknown categories each become a field-level message, never an exception.
        """
        if not isinstance(raw, Mapping):
            raise InvalidInput("Expected a JSON object of features.", fields={"non_field_errors": [
                f"Expected an object with the fields: {', '.join(self.names)}."
            ]})
        errors: dict[str, list[str]] = {}
        clean: dict[str, Any] = {}
        unknown = [key for key in raw if not isinstance(key, str) or key not in self._by_name]
        for key in unknown[:UNKNOWN_FIELDS_SHOWN]:
            errors.setdefault(str(key)[:40], []).append(f"Unknown field; expected: {', '.join(self.accepted_names)}.")
        if len(unknown) > UNKNOWN_FIELDS_SHOWN:
            errors.setdefault("non_field_errors", []).append(
                f"{len(unknown):,} unknown fields in all; the first {UNKNOWN_FIELDS_SHOWN} are listed.")
        for feature in self.features:
            derivation = self.derivation_for(feature.name)
            if derivation is not None:
                self._derive(raw, feature, derivation, clean, errors)
                continue
            if feature.name not in raw:
                errors.setdefault(feature.name, []).append("This field is required.")
                continue
            value, message = feature.check(raw[feature.name])
            if message:
                errors.setdefault(feature.name, []).append(message)
            else:
                clean[feature.name] = value
        if errors:
            raise InvalidInput(_summary(errors), fields=errors)
        return clean

    def _derive(self, raw: Mapping, feature: Feature, derivation: Derivation, clean: dict, errors: dict) -> None:
        # A key that is present counts as given, even as null: null is then reported as "must be a number".
        given_sources = [name for name in derivation.source_names if name in raw]
        has_target = feature.name in raw
        if has_target and given_sources:
            errors.setdefault(feature.name, []).append(
                f"Give either {feature.name} or {', '.join(derivation.source_names)}, not both."
            )
            return
        if has_target:
            value, message = feature.check(raw[feature.name])
            if message:
                errors.setdefault(feature.name, []).append(message)
            else:
                clean[feature.name] = value
            return
        if not given_sources:
            errors.setdefault(feature.name, []).append(
                f"This field is required (or give all of {', '.join(derivation.source_names)})."
            )
            return
        values = []
        for source in derivation.sources:
            if source.name not in raw:
                errors.setdefault(source.name, []).append(
                    f"This field is required with {', '.join(given_sources)} (or give {feature.name})."
                )
                continue
            value, message = source.check(raw[source.name])
            if message:
                errors.setdefault(source.name, []).append(message)
            else:
                values.append(value)
                clean[source.name] = value
        if len(values) == len(derivation.sources):
            product = math.prod(values)
            value, message = feature.check(product)
            if message:
                errors.setdefault(feature.name, []).append(f"{' × '.join(derivation.source_names)} = "
                                                           f"{_fmt(product)}: {message[0].lower()}{message[1:]}")
            else:
                clean[feature.name] = round(value, 6)

    def parse_text_row(self, row: Mapping[str, str | None]) -> dict[str, Any]:
        """Convert text values (form fields, CSV cells, query strings) into JSON values; blanks become missing."""
        parsed: dict[str, Any] = {}
        for key, text in row.items():
            if text is None or (isinstance(text, str) and text.strip() == ""):
                continue
            feature = self._by_name.get(key)
            parsed[key] = feature.parse_text(text) if feature is not None and isinstance(text, str) else text
        return parsed

    def json_schema(self) -> dict:
        """JSON Schema (OpenAPI 3.0 dialect) of one input object.

        A derivable input (volume) makes the schema a oneOf of explicit variants — one with the input itself, one
        with its sources — rather than one object with "not" clauses, which documentation renderers and test-data
        generators handle poorly.
        """
        variants: list[list[Feature]] = [[]]
        for feature in self.features:
            derivation = self.derivation_for(feature.name)
            options = [[feature], list(derivation.sources)] if derivation else [[feature]]
            variants = [variant + option for variant in variants for option in options]
        schemas = [
            {
                "type": "object",
                "properties": {f.name: f.json_schema() for f in variant},
                "required": [f.name for f in variant],
                "additionalProperties": False,
            }
            for variant in variants
        ]
        return schemas[0] if len(schemas) == 1 else {"oneOf": schemas}

    def describe(self) -> dict:
        """Plain-data description stored in manifests and served by /api/models/<name>/."""
        return {
            "features": [feature.describe() for feature in self.features],
            "derivations": [
                {"target": d.target, "sources": [s.describe() for s in d.sources], "rule": "product"}
                for d in self.derivations
            ],
        }


def _fmt(number: float) -> str:
    return f"{number:g}"


def _summary(errors: dict[str, list[str]]) -> str:
    names = sorted(errors)
    shown = ", ".join(names[:UNKNOWN_FIELDS_SHOWN + 2])
    more = f" and {len(names) - UNKNOWN_FIELDS_SHOWN - 2} more" if len(names) > UNKNOWN_FIELDS_SHOWN + 2 else ""
    return f"Invalid input: check {shown}{more}."
