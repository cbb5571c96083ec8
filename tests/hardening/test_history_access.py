"""Who may read the history and who may change it: scoped tokens, private result pages, replays only for their maker.

Each rule is checked from the side of the user it refuses, through the real views, tokens and permissions.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from predictions.management.commands.access import REVIEWERS
from predictions.models import Prediction, PredictionBatch
from predictions.pages import links
from tests.conftest import IRIS_VIRGINICA

pytestmark = pytest.mark.django_db

IRIS_FORM = {k: str(v) for k, v in IRIS_VIRGINICA.items()}
CHOSEN_ID = "00000000-0000-0000-0000-000000000001"  # what an attacker would try first


def token_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def predicted(client=None) -> dict:
    response = (client or APIClient()).post("/api/models/iris/predict", IRIS_VIRGINICA, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def with_permissions(django_user_model, name: str, *codenames: str):
    user = django_user_model.objects.create_user(name)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="predictions",
                                                         codename__in=codenames))
    return django_user_model.objects.get(pk=user.pk)  # fresh: permissions are cached per user object


# --- 1. token scope ---------------------------------------------------------------------------------------------------
def test_a_predict_only_token_predicts_but_is_refused_history_and_feedback(capsys):
    call_command("access", "client", "scoring-bot")
    key = capsys.readouterr().out.strip()
    bot = APIClient()
    bot.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    made = predicted(bot)
    assert Prediction.objects.get(pk=made["id"]).user.username == "scoring-bot"
    for response in (bot.get("/api/predictions/"), bot.get(f"/api/predictions/{made['id']}/"),
                     bot.post(f"/api/predictions/{made['id']}/feedback", {"actual": "setosa"}, format="json")):
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "permission_denied"
        assert "sepal_length" not in response.content.decode() and "127.0.0.1" not in response.content.decode()
    assert Prediction.objects.get(pk=made["id"]).actual is None


def test_the_view_permission_reads_the_history_but_cannot_give_feedback(django_user_model):
    made = predicted()
    reader = token_for(with_permissions(django_user_model, "auditor", "view_prediction"))
    assert reader.get("/api/predictions/").status_code == 200
    assert reader.get(f"/api/predictions/{made['id']}/").json()["inputs"] == IRIS_VIRGINICA
    refused = reader.post(f"/api/predictions/{made['id']}/feedback", {"actual": "setosa"}, format="json")
    assert refused.status_code == 403 and Prediction.objects.get(pk=made["id"]).actual is None


def test_the_change_permission_gives_feedback(django_user_model):
    made = predicted()
    reviewer = token_for(with_permissions(django_user_model, "labeller", "change_prediction"))
    response = reviewer.post(f"/api/predictions/{made['id']}/feedback", {"actual": "setosa"}, format="json")
    assert response.status_code == 200
    assert Prediction.objects.get(pk=made["id"]).reviewed_by.username == "labeller"


def test_staff_outside_the_reviewers_group_read_but_cannot_review(client, django_user_model):
    made = predicted()
    clerk = django_user_model.objects.create_user("clerk", password="pass-1234-x", is_staff=True)
    client.force_login(clerk)
    assert client.get("/api/predictions/").status_code == 200
    assert client.get("/history/").status_code == 200
    assert client.post(f"/api/predictions/{made['id']}/feedback", json.dumps({"actual": "setosa"}),
                       content_type="application/json").status_code == 403
    change = f"/admin/predictions/prediction/{made['id']}/change/"
    assert "Save" not in client.get(change).content.decode()  # the admin shows the record read-only
    assert client.post(change, {"actual": "setosa", "feedback_note": "x"}).status_code == 403
    marked = client.post("/admin/predictions/prediction/", {"action": "mark_reviewed",
                                                            "_selected_action": [made["id"]]})
    assert marked.status_code in (200, 302)
    assert Prediction.objects.get(pk=made["id"]).reviewed_at is None  # the bulk action is not offered either


def test_the_access_command_makes_a_reviewer(client, django_user_model):
    made = predicted()
    alice = django_user_model.objects.create_user("alice", password="pass-1234-x")
    call_command("access", "reviewer", "alice")
    alice.refresh_from_db()
    assert alice.is_staff and alice.groups.filter(name=REVIEWERS).exists()
    client.force_login(alice)
    response = client.post(f"/api/predictions/{made['id']}/feedback", json.dumps({"actual": "virginica"}),
                           content_type="application/json")
    assert response.status_code == 200


def test_the_client_command_will_not_hand_a_token_to_an_account_with_rights(django_user_model):
    django_user_model.objects.create_user("admin", is_staff=True)
    with pytest.raises(Exception, match="more rights than predicting"):
        call_command("access", "client", "admin")
    assert not Token.objects.filter(user__username="admin").exists()


# --- 2. result pages and replays --------------------------------------------------------------------------------------
def test_a_client_chosen_request_id_alone_opens_no_result_page(client):
    APIClient().post("/api/models/iris/predict", IRIS_VIRGINICA, format="json", HTTP_X_REQUEST_ID=CHOSEN_ID)
    assert Prediction.objects.filter(request_id=CHOSEN_ID).exists()
    assert client.get(f"/predictions/{CHOSEN_ID}/").status_code == 404
    assert client.get(f"/predictions/{CHOSEN_ID}/?key=guess").status_code == 404
    batch_key = links.batch_url(CHOSEN_ID).split("key=")[1]  # a batch page's key does not open a prediction
    assert client.get(f"/predictions/{CHOSEN_ID}/?key={batch_key}").status_code == 404
    page = client.get(links.prediction_url(CHOSEN_ID))  # the link only mlsite can make
    assert page.status_code == 200 and b"virginica" in page.content


def test_a_result_page_opens_for_its_signed_in_maker_and_staff_not_for_other_users(client, django_user_model,
                                                                                     staff_user):
    maker = django_user_model.objects.create_user("maker", password="pass-1234-x")
    client.force_login(maker)
    client.post("/models/iris/", IRIS_FORM)
    path = f"/predictions/{Prediction.objects.get().request_id}/"
    assert client.get(path).status_code == 200  # the maker needs no key
    client.force_login(django_user_model.objects.create_user("other", password="pass-1234-x"))
    assert client.get(path).status_code == 404
    client.force_login(staff_user)
    assert client.get(path).status_code == 200


def test_batch_pages_and_downloads_open_only_with_their_link(client):
    content = (",".join(IRIS_FORM) + "\n" + ",".join(IRIS_FORM.values()) + "\n").encode()
    response = client.post("/models/iris/batch/", {"file": SimpleUploadedFile("rows.csv", content, "text/csv")},
                           HTTP_X_REQUEST_ID=CHOSEN_ID)
    assert response["Location"] == links.batch_url(CHOSEN_ID)
    stranger = APIClient()
    assert stranger.get(f"/batches/{CHOSEN_ID}/").status_code == 404
    assert stranger.get(f"/batches/{CHOSEN_ID}/results.csv").status_code == 404
    assert stranger.get(links.batch_url(CHOSEN_ID)).status_code == 200
    assert stranger.get(links.batch_download_url(CHOSEN_ID)).status_code == 200
    row = Prediction.objects.get(batch__request_id=CHOSEN_ID)
    summary = stranger.get(links.batch_url(CHOSEN_ID)).content.decode()
    assert links.prediction_url(row.request_id).replace("&", "&amp;") in summary  # rows open from the batch page


def test_a_replay_answers_only_the_principal_who_made_the_prediction(django_user_model):
    owner = token_for(django_user_model.objects.create_user("owner"))
    first = owner.post("/api/models/iris/predict", IRIS_VIRGINICA, format="json", HTTP_X_REQUEST_ID=CHOSEN_ID)
    assert first.status_code == 201
    again = owner.post("/api/models/iris/predict", IRIS_VIRGINICA, format="json", HTTP_X_REQUEST_ID=CHOSEN_ID)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    thief = token_for(django_user_model.objects.create_user("thief"))
    stolen = thief.post("/api/models/iris/predict", IRIS_VIRGINICA, format="json", HTTP_X_REQUEST_ID=CHOSEN_ID)
    assert stolen.status_code == 409 and stolen.json()["error"]["code"] == "duplicate_request_id"
    assert set(stolen.json()) == {"error", "request_id"} and "virginica" not in stolen.content.decode()
    anonymous = APIClient().post("/api/models/iris/predict", IRIS_VIRGINICA, format="json",
                                 HTTP_X_REQUEST_ID=CHOSEN_ID)
    assert anonymous.status_code == 409
    assert Prediction.objects.filter(request_id=CHOSEN_ID).count() == 1


def test_an_anonymous_replay_answers_only_the_same_client_address():
    body = json.dumps(list(IRIS_VIRGINICA.values()))
    client = APIClient()
    first = client.post("/predict", body, content_type="application/json", HTTP_X_REQUEST_ID=CHOSEN_ID,
                        REMOTE_ADDR="10.0.0.1")
    again = client.post("/predict", body, content_type="application/json", HTTP_X_REQUEST_ID=CHOSEN_ID,
                        REMOTE_ADDR="10.0.0.1")
    other = client.post("/predict", body, content_type="application/json", HTTP_X_REQUEST_ID=CHOSEN_ID,
                        REMOTE_ADDR="10.6.6.6")
    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 409)
    assert first.content == again.content == b"2" and other.content[:1] != b"2"


# --- 9. retried batches get the recorded batch ------------------------------------------------------------------------
def test_a_retried_api_batch_returns_the_recorded_batch_not_a_409():
    rows = [IRIS_VIRGINICA, {**IRIS_VIRGINICA, "petal_length": 1.4, "petal_width": 0.2}]
    batch_id = str(uuid.uuid4())
    client = APIClient()
    first = client.post("/api/models/iris/predict", rows, format="json", HTTP_X_REQUEST_ID=batch_id)
    again = client.post("/api/models/iris/predict", rows, format="json", HTTP_X_REQUEST_ID=batch_id)
    assert (first.status_code, again.status_code) == (201, 200) and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert PredictionBatch.objects.count() == 1 and Prediction.objects.count() == 2
    other = client.post("/api/models/iris/predict", rows[:1], format="json", HTTP_X_REQUEST_ID=batch_id)
    assert other.status_code == 409 and Prediction.objects.count() == 2  # other rows under the id: not a retry


def test_a_retried_invalid_api_batch_gets_the_same_400_and_records_nothing_more():
    rows = [IRIS_VIRGINICA, {**IRIS_VIRGINICA, "petal_width": -1}]
    batch_id = str(uuid.uuid4())
    client = APIClient()
    first = client.post("/api/models/iris/predict", rows, format="json", HTTP_X_REQUEST_ID=batch_id)
    again = client.post("/api/models/iris/predict", rows, format="json", HTTP_X_REQUEST_ID=batch_id)
    assert first.status_code == again.status_code == 400
    assert again.json()["error"] == first.json()["error"]
    assert Prediction.objects.count() == 2


def test_a_retried_upload_returns_the_recorded_batch():
    content = (",".join(IRIS_FORM) + "\n" + ",".join(IRIS_FORM.values()) + "\n").encode()
    batch_id = str(uuid.uuid4())
    client = APIClient()
    answers = [client.post("/models/iris/batch/", {"file": SimpleUploadedFile("rows.csv", content, "text/csv")},
                           HTTP_X_REQUEST_ID=batch_id) for _ in range(2)]
    assert [a.status_code for a in answers] == [302, 302] and answers[0]["Location"] == answers[1]["Location"]
    assert PredictionBatch.objects.count() == 1 and Prediction.objects.count() == 1
    stranger = client.post("/models/iris/batch/", {"file": SimpleUploadedFile("rows.csv", content, "text/csv")},
                           HTTP_X_REQUEST_ID=batch_id, REMOTE_ADDR="10.6.6.6")
    assert stranger.status_code == 409 and links.batch_url(batch_id).encode() not in stranger.content
