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
    """A number (or, with ``integer``, a whole number), within an optional range."""

    name: str
    label: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    example: float | None = None
    help: str = ""
    exclusive_minimum: bool = True
    integer: bool = False

    @property
    def kind(self) -> str:
        return "integer" if self.integer else "number"

    def range_text(self) -> str:
        what = "a whole number" if self.integer else "a number"
        low = high = ""
        if self.minimum is not None:
            low = f"> {_fmt(self.minimum)}" if self.exclusive_minimum else f"≥ {_fmt(self.minimum)}"
        if self.maximum is not None:
            high = f"≤ {_fmt(self.maximum)}"
        bounds = " and ".join(part for part in (low, high) if part)
        if not bounds:
            return f"{what} {self.unit}".strip() if self.unit else what
        text = f"{bounds} {self.unit}".strip()
        return text if not self.integer else f"{what} {text}"

    def check(self, value: Any) -> tuple[float | int | None, str | None]:
        """Return (value, None) for an acceptable JSON number, else (None, message)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, "Must be a whole number." if self.integer else "Must be a number."
        try:
            number = float(value)
        except OverflowError:
            return None, f"Must be {self.range_text()}."
        if not math.isfinite(number):
            return None, "Must be a finite number."
        if self.integer and not number.is_integer():
            return None, "Must be a whole number."
        too_low = self.minimum is not None and (
            number <= self.minimum if self.exclusive_minimum else number < self.minimum)
        too_high = self.maximum is not None and number > self.maximum
        if too_low or too_high:
            return None, f"Must be {self.range_text()}."
        return (int(number) if self.integer else number), None

    def parse_text(self, text: str) -> Any:
        """Turn text from a form, a CSV cell or a query string into the JSON value validation expects."""
        try:
            number = float(text.strip())
        except ValueError:
            return text
        return number

    def json_schema(self) -> dict:
        schema: dict[str, Any] = {
            "type": "integer" if self.integer else "number",
            "description": f"{self.help} ({self.range_text()})".strip(),
        }
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.example is not None:
            schema["example"] = self.example
        if self.minimum is not None:  # OpenAPI 3.0 dialect: exclusiveMinimum is a flag on minimum
            schema["minimum"] = self.minimum
            if self.exclusive_minimum:
                schema["exclusiveMinimum"] = True
        return schema

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.kind,
            "unit": self.unit,
            "minimum": self.minimum,
            "exclusive_minimum": self.exclusive_minimum,
            "maximum": self.maximum,
            "example": self.example,
            "help": self.help,
        }


@dataclass(frozen=True)
class CategoryFeature:
    """One of a fixed list of values, in the order the model's encoding expects (worst → best for ordinal ones)."""

    name: str
    label: str
    choices: tuple[str, ...]
    example: str
    help: str = ""
    unit: str = ""
    labels: tuple[str, ...] = ()  # how each choice is shown to people; the choice itself when empty

    kind = "category"

    def display(self, value: str) -> str:
        if self.labels and value in self.choices:
            return self.labels[self.choices.index(value)]
        return value

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
        described = {
            "name": self.name,
            "label": self.label,
            "type": "category",
            "choices": list(self.choices),
            "example": self.example,
            "help": self.help,
        }
        if self.labels:
            described["choice_labels"] = list(self.labels)
        return described


_TRUE_WORDS = frozenset({"true", "1", "yes", "on", "y", "t"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off", "n", "f"})


@dataclass(frozen=True)
class BooleanFeature:
    """true or false (JSON booleans; forms and CSV cells say true/false, yes/no, 1/0)."""

    name: str
    label: str
    example: bool = False
    help: str = ""
    unit: str = ""

    kind = "boolean"

    def range_text(self) -> str:
        return "true or false"

    def check(self, value: Any) -> tuple[bool | None, str | None]:
        if not isinstance(value, bool):
            return None, "Must be true or false."
        return value, None

    def parse_text(self, text: str) -> Any:
        word = text.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        return text

    def json_schema(self) -> dict:
        return {"type": "boolean", "description": self.help, "example": self.example}

    def describe(self) -> dict:
        return {"name": self.name, "label": self.label, "type": "boolean", "example": self.example,
                "help": self.help}


Feature = NumberFeature | CategoryFeature | BooleanFeature


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
    def dtype(self) -> type:
        """The numpy dtype of the model's input matrix: object when a column holds category labels."""
        return object if any(f.kind == "category" for f in self.features) else float

    @property
    def accepted_names(self) -> tuple[str, ...]:
        """Every field a client may send, in a natural order for forms and CSV headers."""
        return tuple(self._by_name)

    def feature(self, name: str) -> Feature:
        return self._by_name[name]

    def get(self, name: str) -> Feature | None:
        return self._by_name.get(name)

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
