"""Open Inference Protocol V2 over HTTP/JSON and the binary tensor extension, on the real database and models."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictions.models import Prediction, PredictionBatch
from tests.conftest import DIAMOND, IRIS_VIRGINICA

pytestmark = pytest.mark.django_db

IRIS_SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def infer(client, model: str, body, *, path_version: str | None = None, **headers):
    path = f"/v2/models/{model}" + (f"/versions/{path_version}" if path_version else "") + "/infer"
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(path, data, content_type="application/json", **headers)


def per_feature(rows: list[dict], categorical=("cut", "color", "clarity")) -> list[dict]:
    names = list(rows[0])
    return [{"name": n, "shape": [len(rows)], "datatype": "BYTES" if n in categorical else "FP64",
             "data": [r[n] for r in rows]} for n in names]


def api_answer(api_client, model: str, body: dict):
    return api_client.post(f"/api/models/{model}/predict", body, format="json").json()


def test_server_metadata_and_health(client):
    assert client.get("/v2").json()["extensions"] == ["binary_tensor_data"]
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").status_code == 200


def test_model_metadata_lists_named_typed_inputs(client):
    meta = client.get("/v2/models/diamonds").json()
    inputs = {i["name"]: i["datatype"] for i in meta["inputs"]}
    assert inputs["cut"] == "BYTES" and inputs["carat"] == "FP64" and {"x", "y", "z", "volume"} <= set(inputs)
    assert meta["outputs"] == [{"name": "predict", "datatype": "FP64", "shape": [-1]}]
    assert meta["parameters"]["single_tensor"]["codes"]["cut"][0] == "Fair"
    iris = client.get("/v2/models/iris/versions/1").json()
    assert [o["name"] for o in iris["outputs"]] == ["predict", "label", "probabilities"]
    assert client.get("/v2/models/iris/ready").json() == {"name": "iris", "ready": True}
    assert client.get("/v2/models/nope").status_code == 404
    assert client.get("/v2/models/iris/versions/99/ready").status_code == 404


def test_one_row_per_feature_tensors_matches_the_rest_api(client, api_client):
    response = infer(client, "iris", {"id": "req-7", "inputs": per_feature([IRIS_VIRGINICA])})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "req-7" and body["model_name"] == "iris" and body["model_version"] == "1"
    outputs = {o["name"]: o for o in body["outputs"]}
    expected = api_answer(api_client, "iris", IRIS_VIRGINICA)
    assert outputs["predict"]["data"] == [expected["prediction"]]
    assert outputs["label"] == {"name": "label", "datatype": "BYTES", "shape": [1], "data": ["virginica"]}
    assert outputs["probabilities"]["shape"] == [1, 3]
    assert outputs["probabilities"]["data"] == [expected["probabilities"][k] for k in ("setosa", "versicolor",
                                                                                      "virginica")]
    row = Prediction.objects.get(channel="v2")
    assert str(row.request_id) == body["parameters"]["request_id"] and row.inputs == IRIS_VIRGINICA


def test_a_batch_of_diamonds_with_x_y_z_and_shape_n_by_1(client, api_client):
    rows = [DIAMOND, {**DIAMOND, "carat": 1.1, "cut": "Good"}, {**DIAMOND, "clarity": "IF"}]
    inputs = per_feature(rows)
    for tensor in inputs:
        tensor["shape"] = [3, 1]
    response = infer(client, "diamonds", {"inputs": inputs, "outputs": [{"name": "predict"}]})
    assert response.status_code == 200
    (output,) = response.json()["outputs"]
    expected = [api_answer(api_client, "diamonds", r)["prediction"] for r in rows]
    assert output["shape"] == [3] and output["data"] == expected
    batch = PredictionBatch.objects.get(channel="v2")
    assert (batch.rows_total, batch.rows_ok) == (3, 3)
    assert list(Prediction.objects.filter(batch=batch).order_by("id").values_list("inputs__carat", flat=True)) \
        == [0.7, 1.1, 0.7]


def test_one_tensor_of_n_by_features_in_schema_order_with_ordinal_codes(client, api_client):
    matrix = [[0.37, 3, 0, 2, 59.2, 61.0, 60.063], [0.7, 4, 3, 3, 61.8, 57.0, 115.1]]
    response = infer(client, "diamonds", {"inputs": [{"name": "input-0", "shape": [2, 7], "datatype": "FP32",
                                                      "data": matrix}]})
    assert response.status_code == 200
    got = response.json()["outputs"][0]["data"]
    first = {"carat": 0.37, "cut": "Premium", "color": "J", "clarity": "SI1", "depth": 59.2, "table": 61.0,
             "volume": 60.063}
    assert got[0] == api_answer(api_client, "diamonds", first)["prediction"]
    iris = infer(client, "iris", {"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP64",
                                              "data": [list(IRIS_VIRGINICA.values()), list(IRIS_SETOSA.values())]}]})
    assert [o["data"] for o in iris.json()["outputs"] if o["name"] == "label"] == [["virginica", "setosa"]]


def test_a_version_in_the_path_is_honoured(client):
    response = infer(client, "iris", {"inputs": per_feature([IRIS_SETOSA])}, path_version="1")
    assert response.status_code == 200 and response.json()["model_version"] == "1"
    missing = infer(client, "iris", {"inputs": per_feature([IRIS_SETOSA])}, path_version="42")
    assert missing.status_code == 404 and "42" in missing.json()["error"]


def encode_bytes(values: list[str]) -> bytes:
    return b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)


def test_binary_tensor_extension_in_and_out(client, api_client):
    rows = [DIAMOND, {**DIAMOND, "carat": 1.5}]
    header_inputs, chunks = [], []
    for name in DIAMOND:
        values = [r[name] for r in rows]
        raw = encode_bytes(values) if name in ("cut", "color", "clarity") else np.asarray(values, "<f4").tobytes()
        header_inputs.append({"name": name, "shape": [2], "datatype": "BYTES" if name in ("cut", "color", "clarity")
                              else "FP32", "parameters": {"binary_data_size": len(raw)}})
        chunks.append(raw)
    header = json.dumps({"inputs": header_inputs, "parameters": {"binary_data_output": True}}).encode()
    response = client.post("/v2/models/diamonds/infer", header + b"".join(chunks),
                           content_type="application/octet-stream",
                           HTTP_INFERENCE_HEADER_CONTENT_LENGTH=str(len(header)))
    assert response.status_code == 200
    length = int(response["Inference-Header-Content-Length"])
    meta = json.loads(response.content[:length])
    (output,) = meta["outputs"]
    assert output["parameters"]["binary_data_size"] == 16 and "data" not in output
    prices = np.frombuffer(response.content[length:], "<f8").tolist()
    assert prices == [api_answer(api_client, "diamonds", r)["prediction"] for r in rows]
    stored = Prediction.objects.filter(channel="v2").order_by("id").first()
    assert stored.inputs["x"] == 5.7  # float32 5.7 recorded as the client meant it


@pytest.mark.parametrize(("body", "message"), [
    ({"inputs": []}, "non-empty list"),
    ({"inputs": [{"name": "sepal_length", "shape": [1], "datatype": "FP99", "data": [1]}]}, "datatype"),
    ({"inputs": [{"name": "sepal_length", "shape": [2], "datatype": "FP64", "data": [1]}]}, "needs 2 values"),
    ({"inputs": [{"name": "petals", "shape": [1], "datatype": "FP64", "data": [1]}]}, "Unknown input"),
    ({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [[1, 2, 3]]}]}, "[N, 4]"),
    ({"inputs": [{"name": "sepal_length", "shape": [-1], "datatype": "FP64", "data": [1]}]}, "shape"),
    ({"inputs": [{"name": "sepal_length", "shape": [1], "datatype": "FP64", "data": [5]}],
      "outputs": [{"name": "colour"}]}, "Unknown output"),
    ([1, 2, 3], "JSON object"),
])
def test_malformed_requests_are_400_with_an_error_and_recorded(client, body, message):
    response = infer(client, "iris", body)
    assert response.status_code == 400 and message in response.json()["error"]
    row = Prediction.objects.get()
    assert (row.channel, row.status) == ("v2", "rejected")


def test_an_invalid_row_refuses_the_whole_batch_and_says_which(client):
    rows = [IRIS_VIRGINICA, {**IRIS_VIRGINICA, "petal_width": -1.0}]
    response = infer(client, "iris", {"inputs": per_feature(rows)})
    assert response.status_code == 400 and "1.petal_width" in response.json()["error"]
    assert list(Prediction.objects.values_list("status", flat=True)) == ["rejected", "rejected"]


def test_bad_json_and_bad_binary_are_400_and_unknown_models_404(client):
    assert infer(client, "iris", b"{not json").status_code == 400
    response = client.post("/v2/models/iris/infer", b'{"inputs": []}', content_type="application/octet-stream",
                           HTTP_INFERENCE_HEADER_CONTENT_LENGTH="999")
    assert response.status_code == 400 and "outside the body" in response.json()["error"]
    unknown = infer(client, "tulips", {"inputs": per_feature([IRIS_SETOSA])})
    assert unknown.status_code == 404 and "error" in unknown.json()
    assert Prediction.objects.filter(channel="v2", status="rejected").count() == 3
    assert client.get("/v2/models/iris/infer").status_code == 405



tensor_json = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["inputs", "name", "shape", "datatype", "data", "parameters", "outputs", "id",
                         "binary_data_size", "sepal_length", "FP64", "BYTES"]), children, max_size=5),
    max_leaves=12,
)


@pytest.fixture
def unthrottled(settings):
    settings.PREDICT_THROTTLE_RATE = None  # 150 examples in a second are not what this test is about


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=tensor_json)
def test_any_json_gets_an_answer_or_a_4xx_never_a_5xx(client, unthrottled, body):
    response = infer(client, "iris", body)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert isinstance(response.json()["error"], str)
