"""The original apps' endpoints, byte for byte."""

from __future__ import annotations

import json

import pytest

from predictions.models import Prediction, Status
from tests.conftest import DIAMOND

pytestmark = pytest.mark.django_db

QUERY = "carat=0.37&cut=3&color=0&clarity=2&depth=59.2&table=61.0&volume=60.063"


def test_iris_answers_the_class_index_as_plain_text(client):
    response = client.post("/predict", "[5.9, 3.0, 5.1, 1.8]", content_type="application/json")
    assert response.status_code == 200
    assert response.content == b"2"
    assert response["Content-Type"].startswith("text/plain")
    row = Prediction.objects.get()
    assert (row.channel, row.status, row.outputs["label"]) == ("legacy", Status.OK, "virginica")
    assert row.inputs == {"sepal_length": 5.9, "sepal_width": 3.0, "petal_length": 5.1, "petal_width": 1.8}


def test_iris_accepts_the_body_whatever_the_content_type(client):
    # Old clients sent the JSON array with curl's default form content type; the original app forced JSON parsing.
    response = client.post("/predict", "[5.1, 3.5, 1.4, 0.2]", content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.content) == (200, b"0")


@pytest.mark.parametrize("body", ["[5.9, 3.0, 5.1]", '{"sepal_length": 5.9}', "[5.9, 3.0, 5.1, -1]",
                                  "[5.9, 3.0, 5.1, \"x\"]", "not json", "", "[NaN, 1, 1, 1]"])
def test_bad_iris_bodies_are_400_and_recorded(client, body):
    response = client.post("/predict", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["message"]
    row = Prediction.objects.get()
    assert (row.channel, row.status, row.model_name) == ("legacy", Status.REJECTED, "iris")


def test_iris_wants_post(client):
    response = client.get("/predict")
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_diamonds_answers_like_flask_jsonify(client, api_client):
    response = client.get(f"/api/predict?{QUERY}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    price = json.loads(response.content)["predicted_price"]
    assert response.content == f'{{"predicted_price":{price!r}}}\n'.encode()
    api = api_client.post("/api/models/diamonds/predict", {
        "carat": 0.37, "cut": "Premium", "color": "J", "clarity": "SI1", "depth": 59.2, "table": 61.0,
        "volume": 60.063}, format="json").json()
    assert api["prediction"] == price
    row = Prediction.objects.filter(channel="legacy").get()
    assert row.inputs["cut"] == "Premium" and row.inputs["color"] == "J" and row.inputs["clarity"] == "SI1"


def test_a_leading_ampersand_works_as_in_the_original_examples(client):
    assert client.get(f"/api/predict?&{QUERY}").status_code == 200


@pytest.mark.parametrize("change", ["cut=9", "cut=2.5", "color=-1", "clarity=VS1", "carat=", "volume=abc",
                                    "depth=1000"])
def test_bad_diamond_queries_are_400_and_recorded(client, change):
    name = change.split("=")[0]
    query = "&".join(part if not part.startswith(name + "=") else change for part in QUERY.split("&"))
    response = client.get(f"/api/predict?{query}")
    assert response.status_code == 400
    assert name in response.json()["error"]["fields"]
    assert Prediction.objects.get().status == Status.REJECTED


def test_a_missing_parameter_is_named(client):
    response = client.get("/api/predict?carat=0.37")
    assert set(response.json()["error"]["fields"]) == {"cut", "color", "clarity", "depth", "table", "volume"}


def test_legacy_answers_match_the_api_for_the_same_diamond(client, api_client):
    codes = {"cut": 4, "color": 3, "clarity": 3}
    query = "&".join(f"{k}={codes.get(k, v)}" for k, v in DIAMOND.items() if k not in "xyz")
    volume = DIAMOND["x"] * DIAMOND["y"] * DIAMOND["z"]
    legacy = json.loads(client.get(f"/api/predict?{query}&volume={volume}").content)["predicted_price"]
    api = api_client.post("/api/models/diamonds/predict", DIAMOND, format="json").json()["prediction"]
    assert legacy == pytest.approx(api, rel=1e-9)
