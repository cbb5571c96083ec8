"""GET /dashboard/: staff only, and the figures on it are those of the history."""

from __future__ import annotations

import pytest

from predictions.domain import services
from predictions.models import Channel
from tests.conftest import DIAMOND, IRIS_VIRGINICA
from tests.monitoring.seed import diamond_rows, models_without_reference, seed_history

pytestmark = pytest.mark.django_db

API = services.Origin(channel=Channel.API)


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/dashboard/")


def test_users_without_staff_status_are_refused(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("visitor", password="s3cret-pass!"))
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_see_accuracy_resting_on_the_reviewed_count(staff_client, staff_user):
    rows = [services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=API) for _ in range(3)]
    services.prediction_feedback_set(prediction=rows[0], actual="virginica", reviewer=staff_user)
    services.prediction_feedback_set(prediction=rows[1], actual="setosa", reviewer=staff_user)
    response = staff_client.get("/dashboard/?model=iris&window=1h")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-kpi="total">3<' in page
    assert 'data-kpi="quality">50.0 %<' in page
    assert "on 2 reviewed of 3" in page
    assert "Predicted classes" in page and page.count("<svg") >= 4
    assert 'aria-current="page">1h<' in page


def test_staff_see_mae_and_drift_for_diamonds(staff_client, staff_user):
    row = services.prediction_create(model_name="diamonds", inputs=DIAMOND, origin=API)
    services.prediction_feedback_set(prediction=row, actual=row.outputs["prediction"] + 250, reviewer=staff_user)
    services.prediction_batch_create(model_name="diamonds", rows=diamond_rows(400, carat_factor=1.8), origin=API,
                                     max_rows=400)
    page = staff_client.get("/dashboard/?model=diamonds&window=24h").content.decode()
    assert 'data-kpi="quality">$250<' in page
    assert '<tr data-feature="carat">' in page
    carat = page.split('<tr data-feature="carat">')[1].split("</tr>")[0]
    assert '<span class="badge significant">significant</span>' in carat
    cut = page.split('<tr data-feature="cut">')[1].split("</tr>")[0]
    assert '<span class="badge stable">stable</span>' in cut
    assert "drift_report --model diamonds --since 24h" in page


def test_an_unknown_model_or_window_falls_back_to_the_defaults(staff_client):
    page = staff_client.get("/dashboard/?model=<script>&window=1y").content.decode()
    assert "<script>" not in page
    assert 'aria-current="page">iris<' in page and 'aria-current="page">24h<' in page


def test_an_empty_history_renders_without_figures(staff_client):
    page = staff_client.get("/dashboard/?model=diamonds").content.decode()
    assert "No reviewed predictions in this window yet" in page
    assert 'data-kpi="total">0<' in page


def test_a_manifest_without_a_training_distribution_is_explained(staff_client, settings, trained_model_dir,
                                                                 tmp_path):
    settings.MODEL_DIR = models_without_reference(trained_model_dir, tmp_path)
    page = staff_client.get("/dashboard/?model=iris").content.decode()
    assert "has no training distribution in its manifest" in page


def test_the_page_costs_a_fixed_number_of_queries(staff_client, django_assert_max_num_queries):
    seed_history(diamonds=200, iris=30)
    with django_assert_max_num_queries(14):  # session, user, then one per figure: none per row or per bucket
        assert staff_client.get("/dashboard/?model=diamonds&window=7d").status_code == 200
    with django_assert_max_num_queries(14):
        assert staff_client.get("/dashboard/?model=iris&window=30d").status_code == 200


def test_long_windows_are_cached_briefly_and_the_last_hour_is_live(staff_client):
    services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=API)
    assert 'data-kpi="total">1<' in staff_client.get("/dashboard/?window=7d").content.decode()
    assert 'data-kpi="total">1<' in staff_client.get("/dashboard/?window=1h").content.decode()
    services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=API)
    cached = staff_client.get("/dashboard/?window=7d").content.decode()
    assert 'data-kpi="total">1<' in cached and "as of" in cached
    assert 'data-kpi="total">2<' in staff_client.get("/dashboard/?window=1h").content.decode()
