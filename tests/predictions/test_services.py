from __future__ import annotations

import uuid

import pytest
from django.db import connection
from prometheus_client import REGISTRY

import ml
from predictions.domain import catalogue, services
from predictions.domain.errors import BatchTooLarge, DuplicateRequestId, InvalidInput, ModelNotFound, ScoringError
from predictions.models import Channel, Prediction, PredictionBatch, Status
from tests.conftest import DIAMOND, IRIS_VIRGINICA

pytestmark = pytest.mark.django_db

API = services.Origin(channel=Channel.API, client_ip="192.0.2.7")


def test_it_records_one_row_per_prediction_with_the_exact_version():
    row = services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=API)
    stored = Prediction.objects.get(pk=row.pk)
    assert stored.status == Status.OK
    assert stored.model_name == "iris" and stored.model_version == "1"
    assert stored.inputs == IRIS_VIRGINICA
    assert stored.outputs["prediction"] == 2 and stored.outputs["label"] == "virginica"
    assert stored.latency_ms > 0
    assert stored.channel == "api" and stored.client_ip == "192.0.2.7"


def test_it_keeps_the_request_id_it_is_given():
    request_id = uuid.uuid4()
    origin = services.Origin(channel=Channel.API, request_id=request_id)
    row = services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=origin)
    assert Prediction.objects.get(request_id=request_id).pk == row.pk


def test_it_serves_an_explicit_version(trained_model_dir, settings, tmp_path):
    import shutil

    shutil.copytree(trained_model_dir, tmp_path / "models")
    settings.MODEL_DIR = tmp_path / "models"
    result = ml.train("iris", settings.MODEL_DIR)
    catalogue.model_adopt(name="iris", version=result.version, source="trained")  # as manage.py train does
    assert services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=API).model_version == "2"
    old = services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=API, version="1")
    assert Prediction.objects.get(pk=old.pk).model_version == "1"


def test_it_records_rejected_input_with_field_errors():
    with pytest.raises(InvalidInput):
        services.prediction_create(model_name="diamonds", inputs=DIAMOND | {"cut": "Superb", "carat": -1},
                                   origin=API)
    row = Prediction.objects.get()
    assert row.status == Status.REJECTED
    assert row.model_version == "1"
    assert set(row.error["fields"]) == {"cut", "carat"}
    assert row.inputs["cut"] == "Superb"  # the raw payload, as sent
    assert row.outputs is None


def test_it_caps_the_raw_payload_of_a_rejection():
    junk = {"note": "x" * 100_000, "nested": [[[[[[[[[[[[1]]]]]]]]]]]], "nul": "a\x00b", "bad": "\ud800"}
    with pytest.raises(InvalidInput):
        services.prediction_create(model_name="iris", inputs=junk, origin=API)
    row = Prediction.objects.get()
    assert row.inputs["truncated"] is True and len(row.inputs["preview"]) <= 4096


def test_it_stores_nul_characters_and_lone_surrogates_safely():
    with pytest.raises(InvalidInput):
        services.prediction_create(model_name="iris", inputs={"a\x00": "b\x00", "c": "\udc80"}, origin=API)
    row = Prediction.objects.get()
    assert row.inputs == {"a\ufffd": "b\ufffd", "c": "?"}


def test_it_records_a_request_for_an_unknown_model():
    with pytest.raises(ModelNotFound):
        services.prediction_create(model_name="titanic", inputs={}, origin=API)
    row = Prediction.objects.get()
    assert (row.model_name, row.status, row.error["code"]) == ("titanic", Status.REJECTED, "not_found")


def test_it_records_a_model_failure_as_an_error(tmp_path, settings):
    # A real artifact whose estimator fails on valid input (coefficients of the wrong shape), put in the store and the
    # catalogue as an operator's restore would, past registration's own test prediction.
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from predictions.domain import catalogue

    card = ml.load_card(ml.get_recipe("iris").card.to_dict() | {"name": "broken-iris"})
    estimator = LogisticRegression(max_iter=1000).fit(np.eye(4).repeat(3, axis=0), [0, 1, 2] * 4)
    estimator.coef_ = np.zeros((3, 2))
    settings.MODEL_DIR = tmp_path
    version, _ = ml.write_version(tmp_path, card, ml.serialize(estimator), {"algorithm": "broken"})
    catalogue.model_adopt(name="broken-iris", version=version)
    with pytest.raises(ScoringError):
        services.prediction_create(model_name="broken-iris", inputs=IRIS_VIRGINICA, origin=API)
    row = Prediction.objects.get()
    assert row.status == Status.ERROR and row.error["code"] == "model_error"
    assert row.inputs == IRIS_VIRGINICA and row.outputs is None


def test_a_reused_request_id_is_replayed_for_the_same_input_and_refused_otherwise():
    request_id = uuid.uuid4()
    origin = services.Origin(channel=Channel.API, request_id=request_id)
    first = services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=origin)
    again = services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=origin)
    assert again.replayed and again.pk == first.pk and again.outputs == first.outputs
    with pytest.raises(DuplicateRequestId):
        services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA | {"petal_width": 0.2}, origin=origin)
    with pytest.raises(DuplicateRequestId):
        services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA,
                                   origin=services.Origin(channel=Channel.FORM, request_id=request_id))
    assert Prediction.objects.count() == 1


def test_a_batch_scores_valid_rows_and_records_every_row():
    rows = [DIAMOND, DIAMOND | {"cut": "Bad"}, DIAMOND | {"carat": 2.0}]
    outcome = services.prediction_batch_create(model_name="diamonds", rows=rows, origin=API)
    batch = PredictionBatch.objects.get()
    assert (batch.rows_total, batch.rows_ok, batch.rows_rejected, batch.rows_error) == (3, 2, 1, 0)
    assert [r.status for r in outcome.rows] == ["ok", "rejected", "ok"]
    stored = list(Prediction.objects.filter(batch=batch).order_by("pk"))
    assert [r.status for r in stored] == ["ok", "rejected", "ok"]
    assert stored[2].outputs["prediction"] > stored[0].outputs["prediction"]
    assert stored[1].error["fields"]["cut"]
    assert len({r.request_id for r in stored}) == 3


def test_a_batch_gives_the_same_predictions_as_single_calls():
    single = services.prediction_create(model_name="diamonds", inputs=DIAMOND, origin=API)
    outcome = services.prediction_batch_create(model_name="diamonds", rows=[DIAMOND, DIAMOND], origin=API)
    assert [r.outputs["prediction"] for r in outcome.rows] == pytest.approx([single.outputs["prediction"]] * 2)


def test_an_empty_or_oversized_batch_is_refused_and_recorded(settings):
    settings.PREDICT_MAX_BATCH_ROWS = 3
    with pytest.raises(InvalidInput):
        services.prediction_batch_create(model_name="iris", rows=[], origin=API)
    with pytest.raises(BatchTooLarge):
        services.prediction_batch_create(model_name="iris", rows=[IRIS_VIRGINICA] * 4, origin=API)
    assert list(Prediction.objects.values_list("status", flat=True)) == ["rejected", "rejected"]
    assert not PredictionBatch.objects.exists()


def test_feedback_is_validated_against_the_model(staff_user):
    iris = services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=API)
    with pytest.raises(InvalidInput):
        services.prediction_feedback_set(prediction=iris, actual="rose", reviewer=staff_user)
    services.prediction_feedback_set(prediction=iris, actual="versicolor", note="checked", reviewer=staff_user)
    iris.refresh_from_db()
    assert (iris.actual, iris.feedback_note, iris.reviewed_by) == ("versicolor", "checked", staff_user)
    assert iris.reviewed_at is not None
    diamond = services.prediction_create(model_name="diamonds", inputs=DIAMOND, origin=API)
    for bad in (-5, 0, "cheap", True, float("nan")):
        with pytest.raises(InvalidInput):
            services.prediction_feedback_set(prediction=diamond, actual=bad, reviewer=staff_user)
    services.prediction_feedback_set(prediction=diamond, actual=2999.5, reviewer=staff_user)
    diamond.refresh_from_db()
    assert diamond.actual == 2999.5


def test_predictions_are_counted_in_the_metrics():
    labels = {"model": "iris", "version": "1", "channel": "api", "status": "ok"}
    before = REGISTRY.get_sample_value("mlsite_predictions_total", labels) or 0
    services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=API)
    assert REGISTRY.get_sample_value("mlsite_predictions_total", labels) == before + 1


@pytest.mark.postgres  # SQLite caps bound parameters, so Django splits its inserts much finer
def test_it_inserts_a_batch_in_one_statement_per_2000_rows(django_assert_max_num_queries):
    rows = [IRIS_VIRGINICA] * 4000
    # savepoint/transaction bookkeeping + batch insert + 2 bulk inserts, never one insert per row
    with django_assert_max_num_queries(8):
        services.prediction_batch_create(model_name="iris", rows=rows, origin=API, max_rows=4000)
    assert Prediction.objects.count() == 4000


def test_connection_vendor_is_known():
    assert connection.vendor in ("sqlite", "postgresql")
