"""Staff review a prediction in the real admin, in Chromium: list, open, record the actual outcome."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from predictions.models import Prediction

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_review_a_prediction_in_the_admin(page, logged_in, shoot, client, staff_user):
    for petal in ("1.4", "5.1", "-1"):
        client.post("/models/iris/", {"sepal_length": "5.9", "sepal_width": "3.0", "petal_length": petal,
                                      "petal_width": "1.8"})
    logged_in(page)
    page.goto("/admin/predictions/prediction/")
    assert page.locator("#result_list tbody tr").count() == 3
    shoot(page, "admin-list-desktop")
    page.click("#changelist-filter >> text=Rejected")
    page.wait_for_url("**status__exact=rejected")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.goto("/admin/predictions/prediction/?status__exact=ok")
    page.locator("#result_list tbody tr th a").first.click()
    page.select_option("#id_actual", "virginica")
    page.fill("#id_feedback_note", "Confirmed by the lab.")
    shoot(page, "admin-change-desktop")
    page.click("input[name=_save]")
    assert "was changed successfully" in page.locator(".messagelist").inner_text()
    reviewed = Prediction.objects.get(reviewed_at__isnull=False)
    assert (reviewed.actual, reviewed.reviewed_by) == ("virginica", staff_user)


def test_a_superuser_registers_a_model_in_the_admin_and_predicts_with_its_form(page, admin_user, tmp_path, settings,
                                                                              trained_model_dir, shoot):
    import shutil

    from tests import byom

    settings.MODEL_DIR = tmp_path / "models"  # the store this test registers into, not the session's
    shutil.copytree(trained_model_dir, settings.MODEL_DIR)
    wine = byom.wine(tmp_path / "brought")
    page.goto("/admin/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")  # pytest-django's admin_user
    page.click("input[type=submit]")
    page.goto("/admin/predictions/registeredmodel/add/")
    page.set_input_files("#id_card", str(wine.card))
    page.set_input_files("#id_model", str(wine.model))
    page.set_input_files("#id_reference", str(wine.reference))
    shoot(page, "admin-register-desktop")
    page.click("input[name=_register]")
    expect(page.locator(".messagelist")).to_contain_text("v1 registered and served.")
    page.goto("/models/wine/")
    row = wine.example(150)
    for name, value in row.items():
        page.fill(f"[name='{name}']", str(value))
    page.click("button[type=submit]")
    page.wait_for_url("**/predictions/*/?key=*")
    assert page.get_by_test_id("answer").inner_text() == wine.labels[2]
    recorded = Prediction.objects.get(model_name="wine")
    assert (recorded.channel, recorded.model_version, recorded.outputs["label"]) == ("form", "1", wine.labels[2])


def test_a_hostile_upload_is_refused_in_the_admin_with_its_reasons(page, admin_user, tmp_path, settings,
                                                                  trained_model_dir):
    import shutil

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    from predictions.models import RegisteredModel
    from tests import byom

    settings.MODEL_DIR = tmp_path / "models"
    shutil.copytree(trained_model_dir, settings.MODEL_DIR)
    wine = byom.wine(tmp_path / "brought")
    hostile = tmp_path / "hostile.skops"
    sio.dump(FunctionTransformer(func=eval), hostile)
    page.goto("/admin/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.goto("/admin/predictions/registeredmodel/add/")
    page.set_input_files("#id_card", str(wine.card))
    page.set_input_files("#id_model", str(hostile))
    page.click("input[name=_register]")
    expect(page.get_by_test_id("problems")).to_contain_text("untrusted types")
    assert not RegisteredModel.objects.filter(name="wine").exists()
