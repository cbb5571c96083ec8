"""The MLflow scoring protocol with each payload format MLflow's model server accepts; every call leaves its rows."""

from __future__ import annotations

import json

import pytest

from predictions.models import Prediction
from tests.conftest import DIAMOND, IRIS_VIRGINICA

pytestmark = pytest.mark.django_db

IRIS_SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
NAMES = list(IRIS_VIRGINICA)


def invoke(client, body, content_type="application/json", model="iris"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(f"/mlflow/{model}/invocations", data, content_type=content_type)


@pytest.mark.parametrize("body", [
    {"dataframe_split": {"columns": NAMES, "data": [list(IRIS_VIRGINICA.values()), list(IRIS_SETOSA.values())]}},
    {"dataframe_split": {"index": [0, 1], "columns": NAMES,
                         "data": [list(IRIS_VIRGINICA.values()), list(IRIS_SETOSA.values())]}},
    {"dataframe_records": [IRIS_VIRGINICA, IRIS_SETOSA]},
    {"instances": [IRIS_VIRGINICA, IRIS_SETOSA]},
    {"instances": [list(IRIS_VIRGINICA.values()), list(IRIS_SETOSA.values())]},
    {"inputs": {name: [IRIS_VIRGINICA[name], IRIS_SETOSA[name]] for name in NAMES}},
    {"inputs": [IRIS_VIRGINICA, IRIS_SETOSA]},
])
def test_every_json_format_scores_the_rows_in_order(client, body):
    response = invoke(client, body)
    assert response.status_code == 200 and response.json() == {"predictions": [2, 0]}
    rows = list(Prediction.objects.filter(channel="mlflow", status="ok").order_by("id"))
    assert [r.inputs for r in rows] == [IRIS_VIRGINICA, IRIS_SETOSA]
    assert rows[0].batch is not None and rows[0].batch.channel == "mlflow"


def test_csv_bodies_are_read_with_their_header(client, api_client):
    csv_body = "carat,cut,color,clarity,depth,table,x,y,z\n0.7,Ideal,G,VS2,61.8,57,5.7,5.72,3.53\n"
    response = invoke(client, csv_body, "text/csv", model="diamonds")
    expected = api_client.post("/api/models/diamonds/predict", DIAMOND, format="json").json()["prediction"]
    assert response.status_code == 200 and response.json() == {"predictions": [expected]}
    row = Prediction.objects.get(channel="mlflow")
    assert row.batch is None and row.inputs["cut"] == "Ideal"  # a single row is one prediction


def test_ping_and_version(client):
    assert client.get("/mlflow/iris/ping").status_code == 200
    assert client.get("/mlflow/diamonds/version").content == b"1"
    assert client.get("/mlflow/nope/ping").status_code == 404


@pytest.mark.parametrize(("body", "content_type", "status", "message"), [
    ({"records": [IRIS_VIRGINICA]}, "application/json", 400, "exactly one of"),
    ({"instances": [], "inputs": []}, "application/json", 400, "exactly one of"),
    ({"dataframe_split": {"columns": NAMES, "data": [[1, 2]]}}, "application/json", 400, "list of 4 values"),
    ({"instances": []}, "application/json", 400, "no rows"),
    ({"inputs": {"sepal_length": [1, 2], "sepal_width": [3]}}, "application/json", 400, "same length"),
    ("{oops", "application/json", 400, "JSON parse error"),
    ("sepal_length\n\"5\"x\n", "text/csv", 400, "not valid CSV"),
    ("<iris/>", "application/xml", 415, "not supported"),
    ({"dataframe_records": [IRIS_VIRGINICA, {**IRIS_VIRGINICA, "sepal_width": "wide"}]}, "application/json", 400,
     "1.sepal_width"),
])
def test_bad_payloads_get_mlflows_error_shape_and_are_recorded(client, body, content_type, status, message):
    response = invoke(client, body, content_type)
    assert response.status_code == status
    error = response.json()
    assert error["error_code"] == "BAD_REQUEST" and message in error["message"]
    assert Prediction.objects.filter(channel="mlflow", status="rejected").exists()
    assert not Prediction.objects.filter(status="ok").exists()


@pytest.mark.parametrize("model", ["iris", "diamonds"])
def test_the_openapi_document_describes_v2_and_mlflow_with_examples_that_work(client, model):
    """/api/schema/ documents both interop operations per model, in their own error shapes; the examples it shows
    are accepted as pasted."""
    paths = client.get("/api/schema/?format=json").json()["paths"]
    v2 = paths[f"/v2/models/{model}/infer"]["post"]
    mlflow = paths[f"/mlflow/{model}/invocations"]["post"]
    assert v2["responses"]["400"]["content"]["application/json"]["schema"]["required"] == ["error"]
    assert mlflow["responses"]["400"]["content"]["application/json"]["schema"]["required"] == ["error_code", "message"]
    for path, operation, key in ((f"/v2/models/{model}/infer", v2, "outputs"),
                                 (f"/mlflow/{model}/invocations", mlflow, "predictions")):
        example = operation["requestBody"]["content"]["application/json"]["example"]
        response = client.post(path, json.dumps(example), content_type="application/json")
        assert response.status_code == 200, response.content
        assert key in response.json()
