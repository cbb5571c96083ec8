"""Bring your own model: a third model, trained here, registered from the command line or imported from an MLflow
directory, then served, recorded and reviewed on every channel without a line of code; and every way registration
refuses a bad card or file while changing nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import joblib
import pytest
import skops.io as sio
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

import ml
from predictions.domain import services
from predictions.models import Channel, ModelVersion, Prediction, PredictionBatch, RegisteredModel
from predictions.pages import links
from tests import byom

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_model_dir(tmp_path, trained_model_dir, settings) -> Path:
    """The store these tests register into: a copy of the session's trained models, private to the test."""
    import shutil

    settings.MODEL_DIR = tmp_path / "models"
    shutil.copytree(trained_model_dir, settings.MODEL_DIR)
    return settings.MODEL_DIR


def register(*args: str | Path) -> str:
    out = io.StringIO()
    call_command("register_model", *map(str, args), stdout=out)
    return out.getvalue()


@pytest.fixture
def wine(tmp_path) -> byom.Brought:
    return byom.wine(tmp_path / "brought")


def test_a_registered_model_is_served_and_recorded_on_every_channel(client, wine, staff_client):
    output = register(wine.card, wine.model, "--reference", wine.reference)
    assert "wine v1 registered" in output
    row = wine.example(0)
    truth = wine.labels[0]

    api = client.post("/api/models/wine/predict", json.dumps(row), content_type="application/json").json()
    assert api["label"] == truth and set(api["probabilities"]) == set(wine.labels)

    v2 = client.post("/v2/models/wine/infer", json.dumps({"inputs": [
        {"name": k, "shape": [1], "datatype": "FP64", "data": [v]} for k, v in row.items()]}),
        content_type="application/json").json()
    assert {o["name"]: o["data"] for o in v2["outputs"]}["label"] == [truth]

    mlflow = client.post("/mlflow/wine/invocations", json.dumps({"dataframe_records": [row, wine.example(70)]}),
                         content_type="application/json").json()
    assert mlflow == {"predictions": [0, 1]}  # the estimator's class values, as mlflow serves them

    page = client.get("/models/wine/").content.decode()
    assert "Wine cultivar" in page and 'name="od280/od315_of_diluted_wines"' in page
    form = client.post("/models/wine/", {k: str(v) for k, v in row.items()})
    assert form.status_code == 302 and truth in client.get(form["Location"]).content.decode()

    template = client.get("/models/wine/batch/template.csv").content.decode()
    assert template.splitlines()[0].split(",") == list(row)
    lines = [",".join(row)] + [",".join(str(v) for v in wine.example(i).values()) for i in (0, 70, 150)]
    upload = client.post("/models/wine/batch/", {"file": SimpleUploadedFile("w.csv", "\n".join(lines).encode())})
    assert upload.status_code == 302
    batch = PredictionBatch.objects.get(model_name="wine", channel=Channel.BATCH)
    assert (batch.rows_total, batch.rows_ok) == (3, 3)
    download = client.get(links.batch_download_url(batch.request_id))
    scored = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert [r["label"] for r in scored] == [wine.labels[0], wine.labels[1], wine.labels[2]]

    recorded = Prediction.objects.filter(model_name="wine", model_version="1", status="ok")
    assert {r.channel for r in recorded} == {Channel.API, Channel.V2, Channel.MLFLOW, Channel.FORM, Channel.BATCH}

    detail = client.get("/api/models/wine/").json()
    assert detail["card"]["name"] == "wine" and detail["versions"][0]["algorithm"] == "Pipeline"
    openapi = client.get("/api/schema/?format=json").json()
    assert "/api/models/wine/predict" in openapi["paths"] and "WineInput" in openapi["components"]["schemas"]
    assert "/v2/models/wine/infer" in openapi["paths"] and "/mlflow/wine/invocations" in openapi["paths"]

    prediction = recorded.filter(channel=Channel.API).get()
    feedback = staff_client.post(f"/api/predictions/{prediction.pk}/feedback", json.dumps({"actual": "merlot"}),
                                 content_type="application/json")
    assert feedback.status_code == 400 and wine.labels[0] in feedback.json()["error"]["fields"]["actual"][0]
    assert staff_client.post(f"/api/predictions/{prediction.pk}/feedback", json.dumps({"actual": truth}),
                             content_type="application/json").status_code == 200
    dashboard = staff_client.get("/dashboard/?model=wine&window=1h").content.decode()
    assert "Wine cultivar" in dashboard and "od280/od315_of_diluted_wines" in dashboard  # drift vs the sample


def test_integer_boolean_and_category_inputs_are_typed_everywhere(client, tmp_path):
    clinic = byom.clinic(tmp_path)
    register(clinic.card, clinic.model)
    body = {"age": 52, "smoker": True, "region": "south", "bmi": 27.5}
    first = client.post("/api/models/clinic/predict", json.dumps(body), content_type="application/json")
    assert first.status_code == 201 and first.json()["prediction"] > 300
    refused = client.post("/api/models/clinic/predict", json.dumps(body | {"age": 52.5, "smoker": "yes"}),
                          content_type="application/json").json()["error"]["fields"]
    assert refused == {"age": ["Must be a whole number."], "smoker": ["Must be true or false."]}
    page = client.get("/models/clinic/").content.decode()
    assert '<option value="south">South</option>' in page and 'step="1"' in page
    form = client.post("/models/clinic/", {"age": "52", "smoker": "true", "region": "south", "bmi": "27.5"})
    assert form.status_code == 302
    upload = client.post("/models/clinic/batch/", {"file": SimpleUploadedFile(
        "c.csv", b"Age,Smoker,Region,BMI\n52,yes,south,27.5\n52,no,south,27.5\n")})
    assert upload.status_code == 302
    outputs = list(Prediction.objects.filter(model_name="clinic").order_by("id").values_list("inputs", "outputs"))
    assert outputs[0][0] == {"age": 52, "smoker": True, "region": "south", "bmi": 27.5}
    assert outputs[0][1] == outputs[2][1] == outputs[3][1]  # API, form and CSV: the same typed inputs
    assert outputs[4][1]["prediction"] < outputs[3][1]["prediction"]  # non-smoker pays less
    metadata = client.get("/v2/models/clinic").json()
    assert {i["name"]: i["datatype"] for i in metadata["inputs"]} == {"age": "INT64", "smoker": "BOOL",
                                                                     "region": "BYTES", "bmi": "FP64"}


def test_a_new_version_is_served_at_once_and_the_old_one_stays_addressable(client, wine):
    register(wine.card, wine.model)
    register(wine.card, wine.model)
    answer = client.post("/api/models/wine/predict", json.dumps(wine.example()), content_type="application/json")
    assert answer.json()["model"]["version"] == "2"
    pinned = client.post("/api/models/wine/predict?version=1", json.dumps(wine.example()),
                         content_type="application/json")
    assert pinned.json()["model"]["version"] == "1"


def test_the_card_schema_is_published(client):
    schema = client.get("/api/model-card.schema.json")
    assert schema.status_code == 200 and schema["Content-Type"].startswith("application/json")
    assert schema.json()["required"] == ["name", "task", "features"]


# --- refusals: each one changes nothing and says why -----------------------------------------------------------------
def refused(*args: str | Path) -> str:
    before = (RegisteredModel.objects.count(), ModelVersion.objects.count())
    with pytest.raises(CommandError) as caught:
        register(*args)
    assert (RegisteredModel.objects.count(), ModelVersion.objects.count()) == before
    return str(caught.value)


def edited(brought: byom.Brought, tmp_path: Path, **changes) -> Path:
    card = yaml.safe_load(brought.card.read_text()) | changes
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(card))
    return path


def test_an_invalid_card_lists_every_problem_with_its_path(wine, tmp_path):
    card = yaml.safe_load(wine.card.read_text())
    card["task"] = "clustering"
    card["features"][0]["type"] = "text"
    card["features"][1]["minimum"] = "low"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(card))
    message = refused(path, wine.model)
    assert "task: 'clustering' is not one of" in message
    assert "features[0].type: 'text' is not one of" in message
    assert "features[1].minimum: 'low' is not of type 'number'" in message


@pytest.mark.parametrize(("change", "expected"), [
    ({"classes": [{"value": 0, "label": "a"}, {"value": 1, "label": "b"}]}, "are not the estimator's classes_"),
    ({"task": "regression", "classes": None}, "the card says regression, but Pipeline is a classifier"),
    ("reverse", "the estimator was fitted on columns"),
    ("drop", "the estimator takes 13 features, the card declares 12"),
    ({"name": "iris", "task": "regression", "classes": None}, "'iris' is already a classification model"),
])
def test_a_card_that_does_not_match_the_model_is_refused(wine, tmp_path, change, expected):
    card = yaml.safe_load(wine.card.read_text())
    if change == "reverse":
        card["features"].reverse()
    elif change == "drop":
        card["features"].pop()
    else:
        card.update(change)
        if card.get("classes") is None:
            card.pop("classes")
    path = tmp_path / "card.yaml"
    path.write_text(yaml.safe_dump(card))
    assert expected in refused(path, wine.model)


def test_files_that_could_run_code_or_are_not_models_are_refused(wine, tmp_path, settings):
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    hostile = tmp_path / "hostile.skops"
    sio.dump(FunctionTransformer(func=eval), hostile)
    assert "untrusted types" in refused(wine.card, hostile) and "eval" in refused(wine.card, hostile)
    pickled = tmp_path / "model.joblib"
    joblib.dump(sio.load(wine.model, trusted=[]), pickled)
    assert "not a readable skops file" in refused(wine.card, pickled)
    garbage = tmp_path / "garbage.skops"
    garbage.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    assert "not a readable skops file" in refused(wine.card, garbage)
    scaler = tmp_path / "scaler.skops"
    sio.dump(StandardScaler().fit([[1.0] * 13, [2.0] * 13]), scaler)
    assert "has no predict method" in refused(wine.card, scaler)
    settings.MODEL_UPLOAD_MAX_SIZE = 1024
    assert "more than MODEL_UPLOAD_MAX_SIZE" in refused(wine.card, wine.model)
    assert not (settings.MODEL_DIR / "wine").exists()  # no artifact was written for any of them


def test_a_pickle_is_accepted_only_with_the_operators_word_and_stored_as_skops(wine, tmp_path, settings):
    pickled = tmp_path / "model.joblib"
    joblib.dump(sio.load(wine.model, trusted=[]), pickled)
    output = register(wine.card, pickled, "--trust-pickle")
    assert "wine v1 registered" in output
    stored = settings.MODEL_DIR / "wine" / "1" / "model.skops"
    assert ml.untrusted_types(stored.read_bytes()) == []
    assert services.prediction_create(model_name="wine", inputs=wine.example(),
                                      origin=services.Origin(channel=Channel.API)).outputs["label"] == wine.labels[0]


def test_a_bad_reference_sample_is_refused_by_row(wine, tmp_path):
    sample = tmp_path / "sample.csv"
    rows = wine.frame.head(3).copy()
    rows.iloc[1, 0] = -5  # alcohol below its minimum
    rows.to_csv(sample, index=False)
    assert "reference row 2: Invalid input: check alcohol." in refused(wine.card, wine.model, "--reference", sample)


# --- MLflow -------------------------------------------------------------------------------------------------------
def test_a_model_saved_by_mlflow_imports_and_serves(client, tmp_path):
    import mlflow.sklearn
    from mlflow.models import infer_signature

    wine = byom.wine(tmp_path / "w")
    estimator = sio.load(wine.model, trusted=[])
    directory = tmp_path / "mlflow-wine"
    mlflow.sklearn.save_model(estimator, str(directory), signature=infer_signature(wine.frame, estimator.predict(
        wine.frame)), input_example=wine.frame.iloc[[5]])
    out = io.StringIO()
    call_command("import_mlflow", str(directory), "--name", "wine-mlflow", stdout=out)
    assert "wine-mlflow v1 imported from MLflow" in out.getvalue()
    detail = client.get("/api/models/wine-mlflow/").json()
    assert detail["example"]["alcohol"] == pytest.approx(float(wine.frame.iloc[5]["alcohol"]))  # the input example
    assert detail["labels"] == ["0", "1", "2"] and detail["task"] == "classification"
    answer = client.post("/api/models/wine-mlflow/predict", json.dumps(wine.example(150)),
                         content_type="application/json")
    assert answer.status_code == 201 and answer.json()["label"] == "2"


def test_an_mlflow_pickle_needs_the_operators_word(client, tmp_path):
    import mlflow.sklearn
    from mlflow.models import infer_signature

    wine = byom.wine(tmp_path / "w")
    estimator = sio.load(wine.model, trusted=[])
    directory = tmp_path / "mlflow-pickle"
    mlflow.sklearn.save_model(estimator, str(directory), serialization_format="cloudpickle",
                              signature=infer_signature(wine.frame, estimator.predict(wine.frame)))
    with pytest.raises(CommandError, match="saved as cloudpickle, which runs code"):
        call_command("import_mlflow", str(directory), "--name", "wine-pickled", stdout=io.StringIO())
    assert not RegisteredModel.objects.filter(name="wine-pickled").exists()
    call_command("import_mlflow", str(directory), "--name", "wine-pickled", "--trust-pickle", stdout=io.StringIO())
    assert client.post("/api/models/wine-pickled/predict", json.dumps(wine.example()),
                       content_type="application/json").status_code == 201


def test_only_superusers_register_models_in_the_admin(staff_client, wine, django_user_model):
    from django.test import Client

    client = Client()
    url = "/admin/predictions/registeredmodel/add/"
    files = {"card": SimpleUploadedFile("wine.yaml", wine.card.read_bytes()),
             "model": SimpleUploadedFile("wine.skops", wine.model.read_bytes())}
    assert client.post(url, files).status_code == 302  # anonymous: to the login page
    assert staff_client.get(url).status_code == 403
    assert staff_client.post(url, files).status_code == 403
    assert staff_client.get("/admin/predictions/registeredmodel/").status_code == 200  # staff may look
    assert not RegisteredModel.objects.filter(name="wine").exists()
    client.force_login(django_user_model.objects.create_superuser("root", password="x-Unused-1"))
    files = {"card": SimpleUploadedFile("wine.yaml", wine.card.read_bytes()),
             "model": SimpleUploadedFile("wine.skops", wine.model.read_bytes())}
    assert client.post(url, files).status_code == 302
    assert RegisteredModel.objects.get(name="wine").versions.get().source == "admin"
