"""HTML pages through Django's test client on the real database: forms, result pages, CSV batches, history."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from predictions.models import Prediction, PredictionBatch
from predictions.pages import links
from tests.conftest import IRIS_VIRGINICA

pytestmark = pytest.mark.django_db

IRIS_FORM = {k: str(v) for k, v in IRIS_VIRGINICA.items()}


def upload(client, name: str, content: bytes | str, filename: str = "rows.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(f"/models/{name}/batch/", {"file": SimpleUploadedFile(filename, data, "text/csv")})


# --- forms ----------------------------------------------------------------------------------------------------------
def test_the_form_is_built_from_the_schema_with_units_ranges_and_an_example(client):
    page = client.get("/models/diamonds/").content.decode()
    assert "Carat (ct)" in page and "Valid: &gt; 0 and ≤ 10 ct." in page
    assert '<option value="Ideal" selected>Ideal</option>' in page  # the example, prefilled
    assert 'name="x" value="5.7"' in page and 'name="volume"' in page


def test_a_form_post_redirects_to_its_result_page(client):
    response = client.post("/models/iris/", IRIS_FORM)
    row = Prediction.objects.get()
    assert response.status_code == 302 and response["Location"] == links.prediction_url(row.request_id)
    assert response["Location"].startswith(f"/predictions/{row.request_id}/?key=")
    assert (row.channel, row.status, row.outputs["label"]) == ("form", "ok", "virginica")
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"virginica" in page.content


def test_a_request_id_already_recorded_is_a_409_page_that_says_how_to_retry(client):
    taken = str(uuid.uuid4())
    assert client.post("/models/iris/", IRIS_FORM, HTTP_X_REQUEST_ID=taken).status_code == 302
    other = dict(IRIS_FORM, sepal_length="5.0")  # another input under the same id: not a replay
    response = client.post("/models/iris/", other, HTTP_X_REQUEST_ID=taken)
    assert response.status_code == 409 and b"Reload the form and submit it again." in response.content
    assert Prediction.objects.filter(request_id=taken).count() == 1


def test_an_upload_under_a_batch_request_id_already_recorded_is_a_409_page(client):
    taken = str(uuid.uuid4())
    content = (",".join(IRIS_FORM) + "\n" + ",".join(IRIS_FORM.values()) + "\n").encode()
    first = client.post("/models/iris/batch/", {"file": SimpleUploadedFile("rows.csv", content, "text/csv")},
                        HTTP_X_REQUEST_ID=taken)
    assert first.status_code == 302 and first["Location"] == links.batch_url(taken)
    other = content + b"5.0,3.0,1.5,0.2\n"  # another file under the same id: not a retry
    again = client.post("/models/iris/batch/", {"file": SimpleUploadedFile("rows.csv", other, "text/csv")},
                        HTTP_X_REQUEST_ID=taken)
    assert again.status_code == 409 and b"Upload the file again." in again.content
    assert PredictionBatch.objects.filter(request_id=taken).count() == 1


def test_invalid_form_input_is_a_400_with_field_errors_and_a_rejected_row(client):
    response = client.post("/models/iris/", {**IRIS_FORM, "sepal_width": "wide", "petal_width": ""})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["sepal_width"] == ["Must be a number."]
    assert form.errors["petal_width"] == ["This field is required."]
    row = Prediction.objects.get()
    assert row.status == "rejected" and row.channel == "form" and row.inputs["sepal_width"] == "wide"


def test_giving_both_volume_and_x_y_z_is_explained(client):
    data = {"carat": "0.7", "cut": "Ideal", "color": "G", "clarity": "VS2", "depth": "61.8", "table": "57",
            "x": "5.7", "y": "5.72", "z": "3.53", "volume": "115"}
    response = client.post("/models/diamonds/", data)
    assert response.status_code == 400
    assert "not both" in response.context["form"].errors["volume"][0]


def test_predict_again_prefills_the_form_from_the_query_string(client):
    page = client.get("/models/iris/?sepal_length=7.1&petal_width=0.3").content.decode()
    assert 'name="sepal_length" value="7.1"' in page and 'name="petal_width" value="0.3"' in page


UNKNOWN = "8d3c2f6e-1b7a-4c55-9e0a-3f2b1c4d5e6f"  # fixed: xdist workers must collect the same test ids


@pytest.mark.parametrize("path", ["/models/nope/", "/models/nope/batch/", f"/predictions/{UNKNOWN}/",
                                  f"/batches/{UNKNOWN}/", f"/batches/{UNKNOWN}/results.csv",
                                  "/predictions/not-a-uuid/"])
def test_unknown_things_are_404_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404 and b"Page not found" in response.content


# --- CSV batches ----------------------------------------------------------------------------------------------------
def test_the_template_csv_is_accepted_as_it_is(client):
    template = client.get("/models/diamonds/batch/template.csv")
    assert template["Content-Disposition"] == 'attachment; filename="diamonds-template.csv"'
    response = upload(client, "diamonds", template.content)
    batch = PredictionBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == links.batch_url(batch.request_id)
    assert (batch.rows_total, batch.rows_ok, batch.channel) == (1, 1, "batch")


def test_the_scored_csv_streams_every_row_in_file_order(client):
    rows = "\n".join(f"{5 + i / 100},3.0,{1 + i / 50},0.{i % 9 + 1}" for i in range(250))
    upload(client, "iris", "sepal_length,sepal_width,petal_length,petal_width\n" + rows + "\n4,4,4,-4\n")
    batch = PredictionBatch.objects.get()
    response = client.get(links.batch_download_url(batch.request_id))
    assert response.streaming and response["Content-Type"] == "text/csv; charset=utf-8"
    scored = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    recorded = list(Prediction.objects.filter(batch=batch).order_by("id"))
    assert len(scored) == 251 == len(recorded)
    assert [r["row"] for r in scored] == [str(i) for i in range(1, 252)]
    assert [r["label"] for r in scored[:250]] == [r.outputs["label"] for r in recorded[:250]]
    assert float(scored[0]["probability_setosa"]) == recorded[0].outputs["probabilities"]["setosa"]
    assert scored[-1]["status"] == "rejected" and scored[-1]["error"].startswith("petal_width: Must be")
    summary = client.get(links.batch_url(batch.request_id))
    assert [item["number"] for item in summary.context["refused"]] == [251]


def test_text_cells_that_look_like_formulas_are_neutralised_in_the_download(client):
    upload(client, "diamonds", "carat,cut,color,clarity,depth,table,volume\n=1+1,@SUM(A1),G,VS2,61,57,100\n")
    batch = PredictionBatch.objects.get()
    content = b"".join(client.get(links.batch_download_url(batch.request_id)).streaming_content).decode()
    assert "'=1+1" in content and "'@SUM(A1)" in content and ",=1+1" not in content


@pytest.mark.parametrize(("content", "message"), [
    (b"", "file is empty"),
    (b"sepal_length,sepal_width,petal_length,petal_width\n", "no rows to score"),
    (b"sepal_length,sepal_width,petal_length\n1,2,3\n", "Missing column(s): petal_width"),
    (b"sepal_length,sepal_width,petal_length,petal_width,colour\n1,2,3,4,red\n", "Unknown column(s) 'colour'"),
    (b"sepal_length,sepal_length,petal_length,petal_width\n1,2,3,4\n", "named twice: sepal_length"),
    ("sepal_length;sepal_width\n1;2\n".encode("utf-16"), "not UTF-8 text"),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U\x90", "not UTF-8 text"),
    (b"sepal_length,sepal_width,petal_length,petal_width\n1,2,3,\"4\"x\n", "not valid CSV (line 2)"),
])
def test_a_bad_file_gets_a_clear_message_and_is_recorded(client, content, message):
    response = upload(client, "iris", content, "upload.csv")
    assert response.status_code == 400
    assert message in response.context["problem"]
    row = Prediction.objects.get()
    assert row.status == "rejected" and row.channel == "batch" and row.inputs == {"file": "upload.csv"}
    assert message in row.error["message"]
    assert not PredictionBatch.objects.exists()


def test_uploading_without_a_file_is_a_400(client):
    response = client.post("/models/iris/batch/", {})
    assert response.status_code == 400 and Prediction.objects.get().status == "rejected"


def test_too_many_rows_is_refused_before_scoring(client, settings):
    settings.BATCH_UPLOAD_MAX_ROWS = 3
    response = upload(client, "iris", "sepal_length,sepal_width,petal_length,petal_width\n" + "5,3,1,0.2\n" * 4)
    assert response.status_code == 400 and "more than 3 rows" in response.context["problem"]
    assert not PredictionBatch.objects.exists()


def test_a_file_over_the_size_limit_is_a_413_before_it_is_parsed(client, settings):
    settings.FILE_UPLOAD_MAX_SIZE = 1024
    body = "sepal_length,sepal_width,petal_length,petal_width\n" + "5.1,3.5,1.4,0.2\n" * 10_000
    response = upload(client, "iris", body)
    assert response.status_code == 413 and "larger than" in response.context["problem"]
    assert Prediction.objects.get().status == "rejected"


def test_rows_with_missing_or_extra_cells_are_rejected_by_row(client):
    upload(client, "iris", "sepal_length,sepal_width,petal_length,petal_width\n5,3,1\n5,3,1,0.2,9\n\n5,3,1,0.2\n")
    batch = PredictionBatch.objects.get()
    rows = list(Prediction.objects.filter(batch=batch).order_by("id"))
    assert [r.status for r in rows] == ["rejected", "rejected", "ok"]  # the blank line is skipped
    assert "petal_width" in rows[0].error["fields"] and "extra cells" in rows[1].error["fields"]


def test_headers_are_matched_without_case_or_spaces_and_a_bom_is_fine(client):
    upload(client, "iris", "\ufeffSepal_Length, sepal_width ,PETAL_LENGTH,petal_width\n5,3,1,0.2\n")
    assert PredictionBatch.objects.get().rows_ok == 1


# --- history --------------------------------------------------------------------------------------------------------
def test_history_needs_a_staff_login(client, django_user_model):
    response = client.get("/history/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/?next=/history/")
    client.force_login(django_user_model.objects.create_user("visitor", password="x-pass-123"))
    assert client.get("/history/").status_code == 302


def make_rows(count: int, **fields) -> list[Prediction]:
    now = timezone.now()
    rows = [Prediction(request_id=uuid.uuid4(), created_at=now - dt.timedelta(minutes=i), model_name="iris",
                       model_version="1", channel=fields.get("channel", "api"), status=fields.get("status", "ok"),
                       inputs=IRIS_VIRGINICA, outputs={"prediction": 2, "label": "virginica"})
            for i in range(count)]
    return Prediction.objects.bulk_create(rows)


def test_history_pages_by_keyset_newest_first(staff_client):
    make_rows(120)
    first = staff_client.get("/history/")
    shown = [item["row"].pk for item in first.context["rows"]]
    assert len(shown) == 50 and first.context["next_url"]
    second = staff_client.get("/history/" + first.context["next_url"])
    third = staff_client.get("/history/" + second.context["next_url"])
    later = [item["row"].pk for page in (second, third) for item in page.context["rows"]]
    everything = list(Prediction.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    assert shown + later == everything
    assert third.context["next_url"] is None and third.context["first_url"] == "?"


def test_history_filters_by_status_channel_and_dates(staff_client):
    make_rows(3)
    make_rows(2, status="rejected", channel="form")
    response = staff_client.get("/history/", {"status": "rejected", "channel": "form"})
    assert [item["row"].status for item in response.context["rows"]] == ["rejected", "rejected"]
    today = timezone.localdate()
    assert len(staff_client.get("/history/", {"since": today.isoformat()}).context["rows"]) >= 1
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert staff_client.get("/history/", {"since": tomorrow}).context["rows"] == []
    wrong_way = staff_client.get("/history/", {"since": tomorrow, "until": today.isoformat()})
    assert wrong_way.status_code == 200 and wrong_way.context["form"].errors["until"]


def test_a_forged_cursor_is_ignored(staff_client):
    make_rows(2)
    for cursor in ("garbage", "2024-01-01_x", "2024-01-01T00:00:00_5", "_"):
        assert len(staff_client.get("/history/", {"after": cursor}).context["rows"]) == 2


def test_a_nul_character_in_a_cell_is_a_rejected_row_not_a_database_error(client):
    upload(client, "iris", b"sepal_length,sepal_width,petal_length,petal_width\n5,3,1,\"0.2\x00\"\n5,3,1,0.2\n")
    rows = list(Prediction.objects.filter(batch=PredictionBatch.objects.get()).order_by("id"))
    assert [r.status for r in rows] == ["rejected", "ok"]
