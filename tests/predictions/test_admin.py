"""Staff review in the Django admin, on the real database: list, filters, search, feedback, bulk actions, export."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.core.management import call_command
from django.db.models import Max, Min
from django.utils import timezone

from predictions.models import Prediction
from tests.conftest import DIAMOND, IRIS_VIRGINICA

pytestmark = pytest.mark.django_db

LIST = "/admin/predictions/prediction/"


@pytest.fixture
def history(api_client):
    """Real predictions through the API: two iris, one diamond, one rejected diamond."""
    for body, model in ((IRIS_VIRGINICA, "iris"), ({**IRIS_VIRGINICA, "petal_length": 1.4}, "iris"),
                        (DIAMOND, "diamonds"), ({**DIAMOND, "cut": "Shiny"}, "diamonds")):
        api_client.post(f"/api/models/{model}/predict", body, format="json")
    return {p.model_name + ("-bad" if p.status != "ok" else str(p.pk)): p for p in Prediction.objects.all()}


def shown(response) -> list[Prediction]:
    return list(response.context["cl"].result_list)


def test_staff_see_the_list_with_summaries(staff_client, history):
    response = staff_client.get(LIST)
    assert response.status_code == 200
    assert len(shown(response)) == 4
    page = response.content.decode()
    assert "virginica" in page and "diamonds v1" in page and "cut: Unknown cut" in page
    assert "Model versions" in page


@pytest.mark.parametrize(("query", "expected"), [
    ("model=iris", {"iris"}),
    ("model=diamonds", {"diamonds"}),
    ("version=1", {"iris", "diamonds"}),
    ("status__exact=rejected", {"diamonds"}),
    ("channel__exact=api", {"iris", "diamonds"}),
    ("channel__exact=form", set()),
    ("reviewed=no", {"iris", "diamonds"}),
    ("reviewed=yes", set()),
])
def test_each_filter_narrows_the_list(staff_client, history, query, expected):
    response = staff_client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    assert {p.model_name for p in shown(response)} == expected


def test_the_date_hierarchy_drills_down(staff_client, history):
    row = next(iter(history.values()))
    day = timezone.localtime(row.created_at)
    hierarchy = staff_client.get(LIST).content.decode()  # all rows on one day: Django offers that day
    assert f"created_at__day={day.day}" in hierarchy and f"created_at__month={day.month}" in hierarchy
    response = staff_client.get(f"{LIST}?created_at__year={day.year}&created_at__month={day.month}"
                                f"&created_at__day={day.day}")
    assert len(shown(response)) == 4
    assert shown(staff_client.get(f"{LIST}?created_at__year={day.year - 1}")) == []


def test_search_by_request_id_is_exact_and_by_input_text(staff_client, history):
    target = Prediction.objects.filter(model_name="diamonds", status="ok").get()
    assert shown(staff_client.get(LIST, {"q": str(target.request_id)})) == [target]
    assert shown(staff_client.get(LIST, {"q": str(uuid.uuid4())})) == []
    assert {p.model_name for p in shown(staff_client.get(LIST, {"q": "Shiny"}))} == {"diamonds"}
    assert shown(staff_client.get(LIST, {"q": "100%_"})) == []


def test_feedback_is_the_only_edit_and_is_validated(staff_client, staff_user, history):
    iris = Prediction.objects.filter(model_name="iris").first()
    recorded = iris.inputs
    url = f"{LIST}{iris.pk}/change/"
    page = staff_client.get(url)
    assert page.status_code == 200 and set(page.context["adminform"].form.fields) == {"actual", "feedback_note"}
    bad = staff_client.post(url, {"actual": "rose", "feedback_note": "?"})
    assert bad.status_code == 200 and "actual" in bad.context["adminform"].form.errors
    iris.refresh_from_db()
    assert iris.actual is None and iris.reviewed_at is None
    good = staff_client.post(url, {"actual": "virginica", "feedback_note": "checked in the lab",
                                   "inputs": "{}", "status": "error"})  # recorded fields cannot be posted over
    assert good.status_code == 302
    iris.refresh_from_db()
    assert (iris.actual, iris.feedback_note, iris.reviewed_by) == ("virginica", "checked in the lab", staff_user)
    assert iris.reviewed_at is not None and iris.status == "ok" and iris.inputs == recorded


@pytest.mark.parametrize(("value", "accepted"), [("1234.5", 1234.5), ("$2,000", 2000.0), ("-3", None),
                                                  ("cheap", None), ("nan", None)])
def test_diamond_feedback_must_be_a_positive_price(staff_client, history, value, accepted):
    diamond = Prediction.objects.filter(model_name="diamonds", status="ok").get()
    response = staff_client.post(f"{LIST}{diamond.pk}/change/", {"actual": value, "feedback_note": ""})
    diamond.refresh_from_db()
    if accepted is None:
        assert response.status_code == 200 and response.context["adminform"].form.errors["actual"]
        assert diamond.actual is None
    else:
        assert response.status_code == 302 and diamond.actual == accepted


def test_mark_reviewed_records_who_and_when(staff_client, staff_user, history):
    ids = list(Prediction.objects.filter(model_name="iris").values_list("pk", flat=True))
    response = staff_client.post(LIST, {"action": "mark_reviewed", "_selected_action": ids})
    assert response.status_code == 302
    reviewed = Prediction.objects.filter(reviewed_at__isnull=False)
    assert sorted(reviewed.values_list("pk", flat=True)) == sorted(ids)
    assert {p.reviewed_by_id for p in reviewed} == {staff_user.pk}
    assert {p.model_name for p in shown(staff_client.get(f"{LIST}?reviewed=yes"))} == {"iris"}


def test_export_streams_the_selected_rows_as_csv(staff_client, history):
    ids = list(Prediction.objects.filter(model_name="diamonds").values_list("pk", flat=True))
    response = staff_client.post(LIST, {"action": "export_csv", "_selected_action": ids})
    assert response.streaming and response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(int(r["id"]) for r in rows) == sorted(ids)
    ok = next(r for r in rows if r["status"] == "ok")
    assert '"cut": "Ideal"' in ok["inputs"] and float(ok["latency_ms"]) > 0


def test_the_model_versions_page_lists_the_registry(staff_client):
    page = staff_client.get(f"{LIST}models/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "hist_gradient_boosting" in text and "logistic_regression" in text and "Serving" in text


def test_batches_link_to_their_rows(staff_client, client):
    client.post("/models/iris/batch/", {"file": io.BytesIO(
        b"sepal_length,sepal_width,petal_length,petal_width\n5,3,1,0.2\n6,3,5,2\n")})
    batch_page = staff_client.get("/admin/predictions/predictionbatch/")
    assert batch_page.status_code == 200 and b"2 rows" in batch_page.content
    batch = batch_page.context["cl"].result_list[0]
    rows = staff_client.get(f"{LIST}?batch__id__exact={batch.pk}")
    assert len(shown(rows)) == 2


def test_nobody_adds_history_and_only_superusers_delete(staff_client, admin_client, history):
    assert staff_client.get(f"{LIST}add/").status_code == 403
    row = Prediction.objects.first()
    assert staff_client.post(f"{LIST}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in staff_client.get(LIST).context["action_form"].fields["action"].choices.__str__()
    assert admin_client.post(f"{LIST}{row.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Prediction.objects.filter(pk=row.pk).exists()


def test_non_staff_users_are_refused(client, django_user_model, history):
    client.force_login(django_user_model.objects.create_user("someone", password="pw-123456-x"))
    response = client.get(LIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_date_hierarchy_offers_every_period_between_the_first_and_last_row(staff_client):
    from predictions.admin import PeriodQuerySet

    call_command("seed_history", rows=90, days=400, stdout=io.StringIO())
    years = PeriodQuerySet(Prediction.objects.all()).datetimes("created_at", "year")
    first, last = (timezone.localtime(d) for d in Prediction.objects.aggregate(
        a=Min("created_at"), b=Max("created_at")).values())
    assert [y.year for y in years] == list(range(first.year, last.year + 1))
    months = PeriodQuerySet(Prediction.objects.filter(created_at__year=last.year)).datetimes("created_at", "month")
    assert months[-1].month == last.month and all(m.day == 1 for m in months)
    page = staff_client.get(LIST).content.decode()
    assert f"created_at__year={first.year}" in page and f"created_at__year={last.year}" in page


@pytest.mark.django_db(transaction=True)  # TRUNCATE cannot run inside a test's transaction with deferred FK checks
def test_seed_history_makes_a_realistic_mix(staff_client):
    out = io.StringIO()
    call_command("seed_history", rows=300, days=3, stdout=out)
    assert "seeded 300 predictions" in out.getvalue()
    assert Prediction.objects.count() == 300
    assert Prediction.objects.filter(status="rejected").count() == 6
    assert Prediction.objects.filter(model_name="iris").count() == 100
    assert Prediction.objects.filter(reviewed_at__isnull=False).count() > 0
    assert staff_client.get(LIST).status_code == 200
    call_command("seed_history", rows=10, truncate=True, stdout=out)
    assert Prediction.objects.count() == 10
