"""Property tests: whatever JSON arrives, validation gives clean features or field errors — never an exception —
and clean features always score to a finite answer."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ml
from predictions.domain import services
from predictions.domain.errors import InvalidInput
from predictions.models import Channel, Prediction

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def feature_values(feature):
    if isinstance(feature, ml.CategoryFeature):
        return st.sampled_from(feature.choices) | st.text(max_size=12) | JSON
    inside = st.floats(min_value=feature.minimum, max_value=feature.maximum, allow_nan=False)
    return inside | st.floats() | st.integers() | JSON


def payloads(schema: ml.FeatureSchema):
    """Objects that look like real inputs: every accepted key, some dropped, some junk added."""
    fields = {name: feature_values(schema.feature(name)) for name in schema.accepted_names}
    return st.fixed_dictionaries({}, optional=fields) | st.dictionaries(st.text(max_size=10), JSON, max_size=5) | JSON


@pytest.mark.parametrize("name", list(ml.RECIPES))
def test_validation_never_raises_anything_but_invalid_input(name, trained_model_dir):
    spec = ml.get_recipe(name).card
    model = ml.registry_for(trained_model_dir).get(name)

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payloads(spec.schema))
    def check(payload):
        try:
            clean = spec.schema.validate(payload)
        except InvalidInput as exc:
            assert exc.fields and all(isinstance(m, str) for ms in exc.fields.values() for m in ms)
            return
        assert set(spec.schema.names) <= set(clean)
        [result] = model.predict([clean])
        assert math.isfinite(result["prediction"])

    check()


@pytest.mark.django_db
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(payload=payloads(ml.get_recipe("diamonds").card.schema))
def test_the_service_answers_or_refuses_and_always_records(payload):
    before = Prediction.objects.count()
    try:
        row = services.prediction_create(model_name="diamonds", inputs=payload,
                                         origin=services.Origin(channel=Channel.API))
        assert row.status == "ok" and row.outputs["prediction"] > 0
    except InvalidInput:
        assert Prediction.objects.latest("id").status == "rejected"
    assert Prediction.objects.count() == before + 1


def valid_inputs(schema: ml.FeatureSchema):
    def value(feature):
        if isinstance(feature, ml.CategoryFeature):
            return st.sampled_from(feature.choices)
        low = math.nextafter(feature.minimum, math.inf) if feature.exclusive_minimum else feature.minimum
        return st.floats(min_value=low, max_value=feature.maximum, allow_nan=False)

    base = {f.name: value(f) for f in schema.features if schema.derivation_for(f.name) is None}
    variants = [st.fixed_dictionaries(base | {f.name: value(f)}) for f in schema.features
                if schema.derivation_for(f.name)]
    variants += [st.fixed_dictionaries(base | {s.name: value(s) for s in d.sources}) for d in schema.derivations]
    return st.one_of(variants) if variants else st.fixed_dictionaries(base)


@pytest.mark.parametrize("name", list(ml.RECIPES))
def test_every_input_in_range_is_accepted_and_scores_finite(name, trained_model_dir):
    spec = ml.get_recipe(name).card
    model = ml.registry_for(trained_model_dir).get(name)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(valid_inputs(spec.schema))
    def check(payload):
        [result] = model.predict([spec.schema.validate(payload)])
        assert math.isfinite(result["prediction"])
        if spec.is_classifier:
            assert math.isclose(sum(result["probabilities"].values()), 1.0, abs_tol=1e-5)
        else:
            assert result["prediction"] > 0

    check()
