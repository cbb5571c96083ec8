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
