from __future__ import annotations

import json
import uuid

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from predictions.management.commands.access import reviewers_group
from predictions.models import Prediction, Status
from tests.conftest import DIAMOND, IRIS_VIRGINICA

pytestmark = pytest.mark.django_db

SINGLE_KEYS = {"id", "request_id", "model", "prediction", "label", "probabilities", "latency_ms", "created_at"}


def post(client, path, body, content_type="application/json", **headers):
    data = body if isinstance(body, bytes) else json.dumps(body)  # bytes: sent as is (malformed on purpose)
    return client.generic("POST", path, data, content_type=content_type, **headers)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


# --- models -----------------------------------------------------------------------------------------------------
def test_it_lists_the_models(api_client):
    body = api_client.get("/api/models/").json()
    assert [m["name"] for m in body] == ["iris", "diamonds"]
    assert all(m["served"] and m["default_version"] == "1" for m in body)
    assert body[1]["metrics"]["r2"] >= 0.98


def test_it_describes_one_model_with_its_feature_schema(api_client):
    body = api_client.get("/api/models/diamonds/").json()
    assert body["versions"][0]["version"] == "1" and body["versions"][0]["default"] is True
    assert body["input_schema"]["oneOf"][0]["properties"]["cut"]["enum"][-1] == "Ideal"
    assert [f["name"] for f in body["features"]["features"]][:2] == ["carat", "cut"]
    assert body["example"]["x"] == 5.7


def test_an_unknown_model_is_404(api_client):
    assert_error(api_client.get("/api/models/titanic/"), 404, "not_found")


# --- predict -------------------------------------------------------------------------------------------------------
def test_a_single_prediction_has_the_documented_shape(api_client):
    response = post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == SINGLE_KEYS
    assert body["model"] == {"name": "iris", "version": "1"}
    assert (body["prediction"], body["label"]) == (2, "virginica")
    row = Prediction.objects.get(pk=body["id"])
    assert row.channel == "api" and str(row.request_id) == body["request_id"]


def test_a_regression_answer_has_no_label(api_client):
    body = post(api_client, "/api/models/diamonds/predict", DIAMOND).json()
    assert isinstance(body["prediction"], float) and 300 < body["prediction"] < 20_000
    assert "label" not in body and "probabilities" not in body


def test_a_valid_incoming_request_id_is_kept_and_a_bad_one_replaced(api_client):
    mine = str(uuid.uuid4())
    response = post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA, HTTP_X_REQUEST_ID=mine)
    assert response["X-Request-ID"] == mine == response.json()["request_id"]
    response = post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA, HTTP_X_REQUEST_ID="'; drop table")
    assert uuid.UUID(response["X-Request-ID"]) and response["X-Request-ID"] != "'; drop table"
    assert Prediction.objects.filter(request_id=mine).exists()


def test_a_retry_with_the_same_request_id_gets_the_recorded_answer_again(api_client):
    mine = str(uuid.uuid4())
    first = post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA, HTTP_X_REQUEST_ID=mine)
    again = post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA, HTTP_X_REQUEST_ID=mine)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Prediction.objects.count() == 1


def test_a_reused_request_id_with_another_input_is_a_conflict(api_client):
    mine = str(uuid.uuid4())
    post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA, HTTP_X_REQUEST_ID=mine)
    other = IRIS_VIRGINICA | {"sepal_length": 6.0}
    assert_error(post(api_client, "/api/models/iris/predict", other, HTTP_X_REQUEST_ID=mine), 409,
                 "duplicate_request_id")
    assert_error(post(api_client, "/api/models/diamonds/predict", DIAMOND, HTTP_X_REQUEST_ID=mine), 409,
                 "duplicate_request_id")
    assert Prediction.objects.count() == 1


def test_every_response_carries_a_request_id(client):
    for path in ("/", "/healthz", "/api/models/", "/nowhere", "/api/schema/"):
        assert uuid.UUID(client.get(path)["X-Request-ID"])


def test_an_array_is_scored_as_a_batch(api_client):
    response = post(api_client, "/api/models/diamonds/predict", [DIAMOND, DIAMOND | {"carat": 1.5}])
    assert response.status_code == 201
    body = response.json()
    assert (body["count"], body["ok"], body["rejected"]) == (2, 2, 0)
    small, large = body["predictions"]
    assert small["status"] == "ok" and small["index"] == 0 and large["index"] == 1
    assert 0 < small["prediction"] < large["prediction"]
    assert Prediction.objects.filter(batch_id=body["batch_id"], status="ok").count() == 2


def test_one_invalid_row_refuses_the_whole_batch_and_every_row_is_recorded(api_client):
    response = post(api_client, "/api/models/diamonds/predict", [DIAMOND, DIAMOND | {"color": "Z"}, "junk"])
    body = assert_error(response, 400, "invalid")
    assert set(body["error"]["fields"]) == {"1.color", "2.non_field_errors"}
    assert "2 of 3 rows are invalid" in body["error"]["message"]
    rows = list(Prediction.objects.order_by("pk"))
    assert [r.status for r in rows] == ["rejected"] * 3
    assert rows[0].error["code"] == "batch_rejected" and rows[0].outputs is None
    assert rows[0].batch.rows_rejected == 3


def test_a_version_can_be_chosen_and_an_unknown_one_is_404(api_client):
    assert post(api_client, "/api/models/iris/predict?version=1", IRIS_VIRGINICA).status_code == 201
    for version in ("99", "abc", "../1"):
        assert_error(post(api_client, f"/api/models/iris/predict?version={version}", IRIS_VIRGINICA), 404,
                     "not_found")
    assert Prediction.objects.filter(status=Status.REJECTED).count() == 3


def test_an_unknown_model_is_404_and_recorded(api_client):
    assert_error(post(api_client, "/api/models/titanic/predict", {}), 404, "not_found")
    assert Prediction.objects.get().model_name == "titanic"


@pytest.mark.parametrize("body", [
    IRIS_VIRGINICA | {"sepal_length": "5.9"},
    IRIS_VIRGINICA | {"sepal_length": None},
    IRIS_VIRGINICA | {"sepal_length": True},
    IRIS_VIRGINICA | {"sepal_length": [1, [2, {"a": 3}]]},
    IRIS_VIRGINICA | {"extra": 1},
    {},
    [],
    "iris",
    42,
    None,
])
def test_wrong_shapes_and_types_are_400_field_by_field_and_recorded(api_client, body):
    response = post(api_client, "/api/models/iris/predict", body)
    assert_error(response, 400, "invalid")
    assert Prediction.objects.filter(status=Status.REJECTED).count() >= 1


@pytest.mark.parametrize("raw", ['{"sepal_length": NaN}', '{"sepal_length": Infinity}', '{"a": -Infinity}',
                                 '{"sepal_length": 5.9', "\xff\xfe", "[" * 100_000 + "]" * 100_000])
def test_malformed_json_is_400_and_recorded(api_client, raw):
    response = post(api_client, "/api/models/iris/predict", raw.encode("latin-1"))
    assert_error(response, 400, "parse_error")
    assert Prediction.objects.get().status == Status.REJECTED


@pytest.mark.parametrize("value", ["1e400", "-1e400", "1" + "0" * 400, "1e-400"])
def test_numbers_json_cannot_represent_as_finite_floats_in_range_are_400(api_client, value):
    raw = json.dumps(IRIS_VIRGINICA).replace("5.9", value)
    body = assert_error(post(api_client, "/api/models/iris/predict", raw.encode()), 400, "invalid")
    assert "sepal_length" in body["error"]["fields"]


def test_a_body_over_the_limit_is_413_and_recorded(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    assert_error(post(api_client, "/api/models/iris/predict", [IRIS_VIRGINICA] * 40), 413, "payload_too_large")
    assert Prediction.objects.get().status == Status.REJECTED


def test_too_many_rows_is_413(api_client, settings):
    settings.PREDICT_MAX_BATCH_ROWS = 5
    assert_error(post(api_client, "/api/models/iris/predict", [IRIS_VIRGINICA] * 6), 413, "too_many_rows")


def test_other_media_types_are_415_and_recorded(api_client):
    assert_error(post(api_client, "/api/models/iris/predict", b"sepal_length=5", "application/x-www-form-urlencoded"),
                 415, "unsupported_media_type")
    assert_error(post(api_client, "/api/models/iris/predict", b"5.9,3,5.1,1.8", "text/csv"), 415,
                 "unsupported_media_type")
    assert Prediction.objects.count() == 2


def test_get_on_predict_is_405(api_client):
    assert_error(api_client.get("/api/models/iris/predict"), 405, "method_not_allowed")


def test_predictions_are_throttled_with_retry_after(api_client, settings):
    settings.PREDICT_THROTTLE_RATE = "3/minute"
    codes = [post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    response = post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA)
    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60


def test_anonymous_predictions_can_be_switched_off(api_client, settings, staff_user):
    settings.PREDICT_ALLOW_ANONYMOUS = False
    assert_error(post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA), 401, "not_authenticated")
    token = Token.objects.create(user=staff_user)
    response = post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 201
    assert Prediction.objects.get(pk=response.json()["id"]).user == staff_user


# --- history and feedback ------------------------------------------------------------------------------------------
@pytest.fixture
def token_client(django_user_model):
    """A service account in the reviewers group (history and feedback), calling with its API token."""
    service = django_user_model.objects.create_user("service-account")
    service.groups.add(reviewers_group())
    call_command("drf_create_token", "service-account")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=service).key}")
    return client


def make_history(api_client) -> list[dict]:
    rows = [post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA).json() for _ in range(3)]
    post(api_client, "/api/models/iris/predict", {"sepal_length": -1})
    rows.append(post(api_client, "/api/models/diamonds/predict", DIAMOND).json())
    return rows


def test_history_needs_staff_or_the_view_permission(api_client, django_user_model, staff_client, token_client):
    assert_error(api_client.get("/api/predictions/"), 401, "not_authenticated")
    assert api_client.get("/api/predictions/")["WWW-Authenticate"] == "Token"
    visitor = APIClient()
    visitor.force_login(django_user_model.objects.create_user("visitor"))
    assert_error(visitor.get("/api/predictions/"), 403, "permission_denied")
    assert staff_client.get("/api/predictions/").status_code == 200
    assert token_client.get("/api/predictions/").status_code == 200


def test_a_revoked_token_is_refused(token_client, django_user_model):
    assert token_client.get("/api/predictions/").status_code == 200
    call_command("drf_create_token", "service-account", reset_token=True)
    assert_error(token_client.get("/api/predictions/"), 401, "authentication_failed")


def test_history_lists_newest_first_with_filters_and_cursor_pages(api_client, token_client):
    made = make_history(api_client)
    body = token_client.get("/api/predictions/?page_size=2").json()
    assert [r["id"] for r in body["results"]] == [made[-1]["id"], made[-1]["id"] - 1]
    second = token_client.get(body["next"]).json()
    assert len(second["results"]) == 2 and second["results"][0]["id"] < body["results"][-1]["id"]
    assert {r["status"] for r in token_client.get("/api/predictions/?status=rejected").json()["results"]} == {
        "rejected"}
    iris = token_client.get("/api/predictions/?model=iris&status=ok").json()["results"]
    assert len(iris) == 3 and all(r["model"]["name"] == "iris" for r in iris)
    assert token_client.get("/api/predictions/?channel=form").json()["results"] == []
    assert len(token_client.get("/api/predictions/?created_after=2000-01-01T00:00:00Z").json()["results"]) == 5
    assert token_client.get("/api/predictions/?created_before=2000-01-01T00:00:00Z").json()["results"] == []
    assert token_client.get("/api/predictions/?reviewed=true").json()["results"] == []


@pytest.mark.parametrize("query", ["model=titanic", "status=maybe", "created_after=yesterday", "reviewed=perhaps",
                                   "channel=fax", "page_size=¹", "page_size=0", "page_size=٣"])
def test_bad_filters_are_400(token_client, query):
    assert_error(token_client.get(f"/api/predictions/?{query}"), 400, "invalid")


def test_one_record_and_404(api_client, token_client):
    made = make_history(api_client)
    body = token_client.get(f"/api/predictions/{made[0]['id']}/").json()
    assert body["outputs"]["label"] == "virginica" and body["inputs"] == IRIS_VIRGINICA
    assert_error(token_client.get("/api/predictions/999999/"), 404, "not_found")


def test_feedback_is_validated_and_recorded(api_client, token_client):
    made = make_history(api_client)
    iris, diamond = made[0]["id"], made[-1]["id"]
    assert_error(post(token_client, f"/api/predictions/{iris}/feedback", {"actual": "rose"}), 400, "invalid")
    assert_error(post(token_client, f"/api/predictions/{diamond}/feedback", {"actual": -3}), 400, "invalid")
    assert_error(post(token_client, f"/api/predictions/{iris}/feedback", {"note": "no actual"}), 400, "invalid")
    response = post(token_client, f"/api/predictions/{iris}/feedback", {"actual": "versicolor", "note": "lab"})
    assert response.status_code == 200
    assert (response.json()["actual"], response.json()["reviewed_by"]) == ("versicolor", "service-account")
    assert post(token_client, f"/api/predictions/{diamond}/feedback", {"actual": 2500}).json()["actual"] == 2500
    rejected = Prediction.objects.get(status=Status.REJECTED).pk
    assert_error(post(token_client, f"/api/predictions/{rejected}/feedback", {"actual": "setosa"}), 400, "invalid")
    assert_error(post(token_client, "/api/predictions/999999/feedback", {"actual": "setosa"}), 404, "not_found")
    assert token_client.get("/api/predictions/?reviewed=true").json()["results"][0]["id"] == diamond


def test_feedback_through_a_session_needs_the_csrf_token(api_client, staff_user):
    made = make_history(api_client)
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    url = f"/api/predictions/{made[0]['id']}/feedback"
    assert_error(post(browser, url, {"actual": "setosa"}), 403, "permission_denied")
    browser.get("/admin/")  # any page with a form sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    assert post(browser, url, {"actual": "setosa"}, HTTP_X_CSRFTOKEN=token).status_code == 200


# --- OpenAPI ----------------------------------------------------------------------------------------------------
def test_the_schema_documents_one_typed_predict_path_per_model(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/models/{name}/predict" not in schema["paths"]
    iris = schema["paths"]["/api/models/iris/predict"]["post"]
    assert iris["requestBody"]["content"]["application/json"]["examples"]["single"]["value"] == IRIS_VIRGINICA
    variants = schema["components"]["schemas"]["DiamondsInput"]["oneOf"]
    assert variants[1]["properties"]["clarity"]["enum"][0] == "I1"
    assert {"/predict", "/api/predict"} <= set(schema["paths"])
    assert "503" in iris["responses"] and "413" in iris["responses"]


def test_the_docs_page_is_served_without_a_cdn(client):
    html = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in html and "cdn.jsdelivr.net" not in html and "unpkg.com" not in html


@pytest.mark.parametrize("path", ["/api/models/iris/predict?version=%00%00", "/api/models/ir%00is/predict"])
def test_nul_characters_in_the_url_are_a_404_not_a_storage_failure(api_client, path):
    assert_error(post(api_client, path, IRIS_VIRGINICA), 404, "not_found")
    assert Prediction.objects.get().status == Status.REJECTED


def test_the_client_address_is_recorded_and_read_behind_a_trusted_proxy(api_client, settings):
    post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA, REMOTE_ADDR="10.0.0.5",
         HTTP_X_FORWARDED_FOR="203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 1
    post(api_client, "/api/models/iris/predict", IRIS_VIRGINICA, REMOTE_ADDR="10.0.0.5",
         HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")  # the left entry is whatever the client claimed
    assert list(Prediction.objects.order_by("pk").values_list("client_ip", flat=True)) == ["10.0.0.5", "203.0.113.9"]
