"""Persistence semantics against a real PostgreSQL that really goes away.

The outage is real, not mocked: every backend of the test database is terminated with pg_terminate_backend and new
connections are sent to a port where nothing listens, so psycopg gets "connection refused" exactly as it would
during a database restart or network cut.
"""

from __future__ import annotations

import socket
import uuid
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from prometheus_client import REGISTRY

from predictions.models import Prediction, PredictionBatch
from tests.conftest import DIAMOND, IRIS_VIRGINICA

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def terminate_backends() -> int:
    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], password=s["PASSWORD"] or None,
                         dbname=s["NAME"], autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def database_down():
    """The server kills our session and refuses new ones until the block ends."""
    original = connection.settings_dict["PORT"]
    connection.ensure_connection()  # a live session for the server to kill
    assert terminate_backends() >= 1
    connection.settings_dict["PORT"] = closed_port()
    try:
        yield
    finally:
        connection.settings_dict["PORT"] = original


def predict(client, payload=IRIS_VIRGINICA, model="iris"):
    request_id = str(uuid.uuid4())
    response = client.post(f"/api/models/{model}/predict", payload, format="json", HTTP_X_REQUEST_ID=request_id)
    return request_id, response


def recorded(request_ids) -> set[str]:
    return {str(r) for r in Prediction.objects.filter(request_id__in=request_ids).values_list("request_id",
                                                                                               flat=True)}


def test_strict_mode_answers_503_and_never_a_prediction_without_its_row(api_client):
    ok_before, response = predict(api_client)
    assert response.status_code == 201
    refused = []
    with database_down():
        for _ in range(3):
            request_id, response = predict(api_client)
            assert response.status_code == 503, response.content
            assert response["Retry-After"].isdigit()
            body = response.json()
            assert body["error"]["code"] == "history_unavailable" and "prediction" not in body
            assert body["request_id"] == request_id == response["X-Request-ID"]
            refused.append(request_id)
    ok_after, response = predict(api_client)
    assert response.status_code == 201, "the service must recover by itself once the database is back"
    assert recorded([ok_before, ok_after, *refused]) == {ok_before, ok_after}


def test_strict_mode_refuses_a_batch_as_a_whole(api_client):
    with database_down():
        request_id, response = predict(api_client, [DIAMOND, DIAMOND], model="diamonds")
        assert response.status_code == 503
    assert not PredictionBatch.objects.exists() and not Prediction.objects.exists()
    _, response = predict(api_client, [DIAMOND, DIAMOND], model="diamonds")
    assert response.status_code == 201 and Prediction.objects.count() == 2


def test_strict_mode_does_not_answer_rejections_it_cannot_record(api_client):
    with database_down():
        _, response = predict(api_client, {"sepal_length": -1})
        assert response.status_code == 503
    _, response = predict(api_client, {"sepal_length": -1})
    assert response.status_code == 400
    assert Prediction.objects.get().status == "rejected"


def test_the_legacy_endpoint_follows_strict_mode_too(client):
    with database_down():
        response = client.post("/predict", "[5.9, 3.0, 5.1, 1.8]", content_type="application/json")
        assert response.status_code == 503 and response.content != b"2"
    response = client.post("/predict", "[5.9, 3.0, 5.1, 1.8]", content_type="application/json")
    assert response.status_code == 200 and response.content == b"2"


def test_best_effort_mode_answers_and_counts_the_lost_row(api_client, settings):
    settings.PREDICTION_LOG_MODE = "best_effort"
    lost = {"model": "iris", "channel": "api"}
    before = REGISTRY.get_sample_value("mlsite_history_lost_records_total", lost) or 0
    with database_down():
        request_id, response = predict(api_client)
    assert response.status_code == 201
    body = response.json()
    assert body["prediction"] == 2 and body["id"] is None
    assert REGISTRY.get_sample_value("mlsite_history_lost_records_total", lost) == before + 1
    assert recorded([request_id]) == set()
    kept, response = predict(api_client)
    assert response.status_code == 201 and recorded([kept]) == {kept}


def test_a_connection_the_server_dropped_is_replaced_without_failing_the_prediction(api_client):
    ok, response = predict(api_client)
    assert response.status_code == 201
    connection.ensure_connection()
    assert terminate_backends() >= 1  # e.g. a database restart or an idle-connection reaper
    again, response = predict(api_client)
    assert response.status_code == 201, response.content
    assert recorded([ok, again]) == {ok, again}


def test_other_pages_answer_503_not_500_while_the_database_is_down(staff_client):
    with database_down():
        response = staff_client.get("/admin/auth/user/")
        assert response.status_code == 503 and response["Retry-After"].isdigit()
        assert b"not reachable" in response.content
        api = staff_client.get("/api/predictions/")
        assert api.status_code == 503 and api.json()["error"]["code"] in ("history_unavailable",
                                                                          "database_unavailable")
    assert staff_client.get("/admin/").status_code == 200
