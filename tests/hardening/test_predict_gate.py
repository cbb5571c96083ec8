"""The same gate on every predict channel: the REST API, both legacy endpoints, V2, MLflow, the HTML form and the CSV
upload all count against one PREDICT_THROTTLE_RATE per client (429 + Retry-After in their own error shape) and all
obey PREDICT_ALLOW_ANONYMOUS=0 (401, or 403 for the pages); a refused call is not recorded."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

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


# --- PREDICT_ALLOW_ANONYMOUS=0 ---------------------------------------------------------------------------------------
JSON_CHANNELS = {name: call for name, (call, shape) in CHANNELS.items() if shape != "html"}


@pytest.mark.parametrize("channel", CHANNELS)
def test_with_anonymous_predictions_off_every_channel_refuses_an_anonymous_client(client, settings, channel):
    call, shape = CHANNELS[channel]
    settings.PREDICT_ALLOW_ANONYMOUS = False
    before = recorded()
    response = call(client)
    if shape == "html":
        assert response.status_code == 403 and b"Log in to predict" in response.content
        assert b'href="/admin/login/?next=/models/iris/' in response.content
    else:
        assert response.status_code == 401, response.content[:300]
        assert response["WWW-Authenticate"] == "Token"
    assert recorded() == before


@pytest.mark.parametrize("channel", JSON_CHANNELS)
def test_with_anonymous_predictions_off_a_token_opens_every_json_channel(client, settings, django_user_model,
                                                                        channel):
    settings.PREDICT_ALLOW_ANONYMOUS = False
    user = django_user_model.objects.create_user("client", password="x-Unused-1")
    key = Token.objects.create(user=user).key
    assert JSON_CHANNELS[channel](client, HTTP_AUTHORIZATION=f"Token {key}").status_code < 400
    bad = JSON_CHANNELS[channel](client, HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert bad.status_code == 401  # a token that names no token is refused, not treated as anonymous


@pytest.mark.parametrize("channel", ["form", "csv upload"])
def test_with_anonymous_predictions_off_a_signed_in_user_may_use_the_pages(client, settings, django_user_model,
                                                                          channel):
    settings.PREDICT_ALLOW_ANONYMOUS = False
    client.force_login(django_user_model.objects.create_user("person", password="x-Unused-1"))
    response = CHANNELS[channel][0](client)
    assert response.status_code == 302, response.content[:300]  # to the result page


def test_a_session_cookie_does_not_open_the_csrf_exempt_endpoints(client, settings, django_user_model):
    """Legacy, V2 and MLflow take no CSRF token, so a cookie a third-party page could make a browser send must not
    count as signing in there."""
    settings.PREDICT_ALLOW_ANONYMOUS = False
    client.force_login(django_user_model.objects.create_user("person", password="x-Unused-1", is_staff=True))
    for call in (legacy_iris, legacy_diamonds, v2, mlflow):
        assert call(client).status_code == 401
