"""HTML forms generated from a model's ml feature schema — labels, units, ranges, choices and help written once.

The forms only collect text. Validation is the schema's, run by the service layer, so a form, the API and a CSV
upload accept and refuse exactly the same inputs; the form then shows the schema's messages next to its fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from ml import CategoryFeature, FeatureSchema, NumberFeature
from predictions.models import Channel, Status


class FeatureForm(forms.Form):
    """A form with one field per input a client may send (for diamonds: x, y, z and, optionally, volume)."""

    def __init__(self, schema: FeatureSchema, *args, **kwargs) -> None:
        self.schema = schema
        super().__init__(*args, **kwargs)
        derived = {d.target: d for d in schema.derivations}
        for name in schema.accepted_names:
            feature = schema.feature(name)
            field = _field(feature)
            if name in derived:
                sources = ", ".join(derived[name].source_names)
                field.help_text = f"Leave empty to compute it from {sources}. {field.help_text}".strip()
                field.widget.attrs["data-derived-from"] = sources
            self.fields[name] = field

    def features(self) -> dict[str, Any]:
        """The submitted values as the JSON the schema validates (numbers parsed, blanks left out)."""
        return self.schema.parse_text_row({name: self.data.get(name) for name in self.schema.accepted_names})

    def add_schema_errors(self, fields: dict[str, list[str]]) -> None:
        for name, messages in fields.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)
            if target is not None:
                self.fields[target].widget.attrs.update({"aria-invalid": "true",
                                                         "aria-describedby": f"id_{target}_error"})

    def grouped(self) -> tuple[list, list]:
        """(main fields, optional alternatives) — volume goes in its own fieldset below x, y and z."""
        derived = {d.target for d in self.schema.derivations}
        main = [self[name] for name in self.fields if name not in derived]
        alternatives = [self[name] for name in self.fields if name in derived]
        return main, alternatives


def _field(feature) -> forms.Field:
    if isinstance(feature, CategoryFeature):
        return forms.ChoiceField(
            label=feature.label,
            choices=[("", "—")] + [(choice, feature.display(choice)) for choice in feature.choices],
            required=False,
            help_text=feature.help,
        )
    if feature.kind == "boolean":
        # A choice rather than a checkbox: "not given" must stay distinguishable from "false".
        return forms.ChoiceField(label=feature.label, choices=[("", "—"), ("true", "Yes"), ("false", "No")],
                                 required=False, help_text=feature.help)
    assert isinstance(feature, NumberFeature)
    label = f"{feature.label} ({feature.unit})" if feature.unit else feature.label
    attrs = {"inputmode": "numeric" if feature.integer else "decimal", "step": "1" if feature.integer else "any",
             "autocomplete": "off"}
    if feature.maximum is not None:
        attrs["max"] = _plain(feature.maximum)
    if feature.minimum is not None and not feature.exclusive_minimum:
        attrs["min"] = _plain(feature.minimum)
    return forms.CharField(
        label=label,
        required=False,
        max_length=64,
        widget=forms.NumberInput(attrs=attrs),
        help_text=f"{feature.help} Valid: {feature.range_text()}.".strip(),
    )


def _plain(number: float) -> str:
    return f"{number:g}"


def initial_from(schema: FeatureSchema, query: Any) -> dict[str, str]:
    """Prefill: the inputs of an earlier prediction passed in the query string, else the schema's example."""
    given = {name: query[name] for name in schema.accepted_names if query.get(name)}
    if given:
        return given
    return {name: _initial(value) for name, value in schema.example().items()}


def _initial(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _plain(value) if isinstance(value, float) else value


class CsvUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, comma-separated, with a header row of feature names.")


class HistoryFilterForm(forms.Form):
    model = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Status.choices])
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *Channel.choices])
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, model_names: list[str], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "Any model"), *[(name, name) for name in model_names]]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "Must be on or after the start date.")
        return data

    def selector_filters(self) -> dict[str, Any]:
        """Filters for selectors.prediction_list; the end date is inclusive (up to midnight after it)."""
        data = self.cleaned_data
        filters: dict[str, Any] = {key: data.get(key) for key in ("model", "status", "channel") if data.get(key)}
        if data.get("since"):
            filters["created_after"] = _midnight(data["since"])
        if data.get("until"):
            filters["created_before"] = _midnight(data["until"] + dt.timedelta(days=1))
        return filters


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
