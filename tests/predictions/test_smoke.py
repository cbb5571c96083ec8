"""A first end-to-end pass over every surface that exists; detailed tests live beside each module's tests."""

from __future__ import annotations

import pytest

from predictions.models import Prediction
from tests.conftest import IRIS_VIRGINICA

pytestmark = pytest.mark.django_db


def test_home_lists_both_models(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Iris species" in response.content and b"Diamond price" in response.content


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_a_prediction_is_answered_and_recorded(api_client):
    response = api_client.post("/api/models/iris/predict", IRIS_VIRGINICA, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    row = Prediction.objects.get(pk=body["id"])
    assert body["prediction"] == 2 and row.outputs["label"] == "virginica"
    assert str(row.request_id) == body["request_id"] == response["X-Request-ID"]
