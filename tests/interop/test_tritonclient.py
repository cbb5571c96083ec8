"""A stock Open Inference Protocol client (NVIDIA's tritonclient, HTTP) against a live gunicorn: binary tensors
(its default) and JSON, single rows and batches, the same answers as /api/models/<name>/predict."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from predictions.models import Prediction
from tests.conftest import DIAMOND, IRIS_VIRGINICA
from tests.hardening.live import request, start_gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.slow]

http = pytest.importorskip("tritonclient.http")


@pytest.fixture
def server(trained_model_dir, tmp_path):
    live = start_gunicorn(db_settings=connection.settings_dict, model_dir=trained_model_dir, tmp_path=tmp_path,
                          workers=1)
    yield live
    live.stop()


def api(server, model: str, body: dict) -> dict:
    import json

    status, _, content = request(server, "POST", f"/api/models/{model}/predict", body)
    assert status == 201
    return json.loads(content)


def tensor(name: str, values, binary: bool):
    array = np.asarray(values, dtype=object if isinstance(values[0], str) else np.float32)
    item = http.InferInput(name, list(array.shape), "BYTES" if array.dtype == object else "FP32")
    item.set_data_from_numpy(array, binary_data=binary)
    return item


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclient_gets_the_api_answers(server, binary):
    client = http.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("diamonds")
    assert {i["name"] for i in client.get_model_metadata("iris")["inputs"]} == set(IRIS_VIRGINICA)

    rows = [DIAMOND, {**DIAMOND, "carat": 1.3, "cut": "Good", "clarity": "SI1"}]
    inputs = [tensor(name, [r[name] for r in rows], binary) for name in DIAMOND]
    result = client.infer("diamonds", inputs, outputs=[http.InferRequestedOutput("predict", binary_data=binary)],
                          request_id="triton-1")
    assert result.get_response()["id"] == "triton-1"
    assert result.as_numpy("predict").tolist() == [api(server, "diamonds", r)["prediction"] for r in rows]

    one = client.infer("iris", [tensor(n, [v], binary) for n, v in IRIS_VIRGINICA.items()])  # default outputs
    expected = api(server, "iris", IRIS_VIRGINICA)
    assert one.as_numpy("predict").tolist() == [expected["prediction"]]
    assert [v.decode() if isinstance(v, bytes) else v for v in one.as_numpy("label").tolist()] == ["virginica"]
    assert one.as_numpy("probabilities").shape == (1, 3)

    single = http.InferInput("features", [1, 4], "FP32")
    single.set_data_from_numpy(np.asarray([list(IRIS_VIRGINICA.values())], dtype=np.float32), binary_data=binary)
    assert client.infer("iris", [single]).as_numpy("predict").tolist() == [expected["prediction"]]

    assert Prediction.objects.filter(channel="v2", status="ok").count() == 4

    with pytest.raises(http.InferenceServerException, match="petal_width"):
        client.infer("iris", [tensor(n, [v if n != "petal_width" else -2.0], binary)
                              for n, v in IRIS_VIRGINICA.items()])
    client.close()
