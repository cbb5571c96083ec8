"""One predict rate per client, whatever the channel: the REST API, both legacy endpoints, V2, MLflow, the HTML form
and the CSV upload all count against PREDICT_THROTTLE_RATE, answer 429 with Retry-After in their own error shape, and
do not record the refused call."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from predictions.models import Prediction, PredictionBatch
from tests.conftest import IRIS_VIRGINICA

pytestmark = pytest.mark.django_db

IRIS_ROW = list(IRIS_VIRGINICA.values())
V2_BODY = {"inputs": [{"name": name, "shape": [1], "datatype": "FP64", "data": [value]}
                      for name, value in IRIS_VIRGINICA.items()]}


def api(client, **extra):
    return client.post("/api/models/iris/predict", IRIS_VIRGINICA, content_type="application/json", **extra)


def legacy_iris(client, **extra):
    return client.post("/predict", json.dumps(IRIS_ROW), content_type="application/json", **extra)


def legacy_diamonds(client, **extra):
    return client.get("/api/predict?carat=0.37&cut=3&color=0&clarity=2&depth=59.2&table=61.0&volume=60.063",
                      **extra)


def v2(client, **extra):
    return client.post("/v2/models/iris/infer", json.dumps(V2_BODY), content_type="application/json", **extra)


def mlflow(client, **extra):
    return client.post("/mlflow/iris/invocations", json.dumps({"dataframe_records": [IRIS_VIRGINICA]}),
                       content_type="application/json", **extra)


def form(client, **extra):
    return client.post("/models/iris/", {k: str(v) for k, v in IRIS_VIRGINICA.items()}, **extra)


def upload(client, **extra):
    csv = ",".join(IRIS_VIRGINICA) + "\n" + ",".join(str(v) for v in IRIS_ROW) + "\n"
    return client.post("/models/iris/batch/", {"file": SimpleUploadedFile("rows.csv", csv.encode(), "text/csv")},
                       **extra)


def recorded() -> tuple[int, int]:
    return Prediction.objects.count(), PredictionBatch.objects.count()


def shape_of(response) -> str:
    if response["Content-Type"].startswith("text/html"):
        return "html"
    body = response.json()
    if isinstance(body.get("error"), dict):
        return body["error"]["code"]  # the API's shape, used by the legacy endpoints too
    return body.get("error_code") or "v2:" + type(body.get("error")).__name__


CHANNELS = {
    "api": (api, "throttled"),
    "legacy iris": (legacy_iris, "throttled"),
    "legacy diamonds": (legacy_diamonds, "throttled"),
    "v2": (v2, "v2:str"),
    "mlflow": (mlflow, "REQUEST_LIMIT_EXCEEDED"),
    "form": (form, "html"),
    "csv upload": (upload, "html"),
}


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_answers_429_with_retry_after_over_the_rate(client, settings, channel):
    call, shape = CHANNELS[channel]
    settings.PREDICT_THROTTLE_RATE = "2/minute"
    for _ in range(2):
        response = call(client)
        assert response.status_code < 400, response.content[:500]
    before = recorded()
    response = call(client)
    assert response.status_code == 429, response.content[:500]
    assert 1 <= int(response["Retry-After"]) <= 60
    assert shape_of(response) == shape
    if shape == "html":
        assert b"Too many predictions" in response.content
    assert recorded() == before  # the refused call left no row


def test_the_rate_is_shared_across_channels(client, settings):
    settings.PREDICT_THROTTLE_RATE = "3/minute"
    assert [call(client).status_code < 400 for call in (api, legacy_iris, v2)] == [True, True, True]
    assert mlflow(client).status_code == 429  # the fourth predict call of this client, on a fourth channel
    assert form(client).status_code == 429


def test_each_client_has_its_own_count(client, settings):
    settings.PREDICT_THROTTLE_RATE = "1/minute"
    assert v2(client, REMOTE_ADDR="10.0.0.1").status_code == 200
    assert v2(client, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert v2(client, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_off_means_off(client, settings):
    settings.PREDICT_THROTTLE_RATE = None
    assert all(legacy_iris(client).status_code == 200 for _ in range(30))
