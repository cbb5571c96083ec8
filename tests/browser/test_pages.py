"""The pages people use, driven in Chromium: forms, result pages, CSV batches and the staff history."""

from __future__ import annotations

import csv
import io

import pytest

from predictions.models import Prediction, PredictionBatch
from predictions.pages import links

pytestmark = pytest.mark.django_db(transaction=True)


def test_iris_form_predicts_and_shows_the_result_with_probabilities(page, shoot):
    page.goto("/models/iris/")
    shoot(page, "form-iris-desktop")
    page.fill("#id_sepal_length", "6.3")
    page.fill("#id_sepal_width", "3.3")
    page.fill("#id_petal_length", "6.0")
    page.fill("#id_petal_width", "2.5")
    page.click("button[type=submit]")
    page.wait_for_url("**/predictions/*/?key=*")
    row = Prediction.objects.get()
    assert page.url.endswith(links.prediction_url(row.request_id))  # the private link
    assert (row.channel, row.status) == ("form", "ok")
    assert page.get_by_test_id("answer").inner_text() == row.outputs["label"] == "virginica"
    assert page.locator(".bar-row").count() == 3
    shown = page.locator(".bar-row.best .bar-value").inner_text()
    assert shown == f"{row.outputs['probabilities']['virginica'] * 100:.1f}%"
    shoot(page, "result-iris-desktop")


def test_diamond_form_takes_x_y_z_and_computes_the_volume(page, shoot):
    page.goto("/models/diamonds/")
    assert page.input_value("#id_x") and page.input_value("#id_volume") == ""  # the example, given as x, y, z
    page.select_option("#id_cut", "Premium")
    page.select_option("#id_clarity", "VS1")
    page.fill("#id_x", "6.0")
    page.fill("#id_y", "6.1")
    page.fill("#id_z", "3.7")
    page.click("button[type=submit]")
    page.wait_for_url("**/predictions/*/?key=*")
    row = Prediction.objects.get()
    assert row.inputs["cut"] == "Premium" and row.inputs["volume"] == pytest.approx(6.0 * 6.1 * 3.7)
    answer = page.get_by_test_id("answer").inner_text()
    assert answer == f"${row.outputs['prediction']:,.2f}"
    shoot(page, "result-diamonds-desktop")
    # "Predict again" brings the same inputs back into the form.
    page.click("text=Predict again with these inputs")
    assert page.input_value("#id_x") == "6.0" and page.input_value("#id_cut") == "Premium"
    assert page.input_value("#id_volume") == ""


def test_invalid_input_is_shown_next_to_its_field_and_recorded(page, shoot):
    page.goto("/models/diamonds/")
    page.fill("#id_carat", "-2")
    page.fill("#id_y", "")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/models/diamonds/" in page.url
    assert "Must be > 0" in page.locator("#id_carat_error").inner_text()
    assert "required" in page.locator("#id_y_error").inner_text()
    assert page.get_attribute("#id_carat", "aria-invalid") == "true"
    assert page.input_value("#id_carat") == "-2"  # what the user typed stays in the form
    row = Prediction.objects.get()
    assert (row.status, row.channel) == ("rejected", "form")
    assert set(row.error["fields"]) == {"carat", "y"}
    shoot(page, "form-diamonds-errors-desktop")


def test_forms_fit_a_phone(phone_page, shoot):
    for name in ("iris", "diamonds"):
        phone_page.goto(f"/models/{name}/")
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(phone_page, f"form-{name}-phone")
    phone_page.click("button[type=submit]")
    phone_page.wait_for_url("**/predictions/*/?key=*")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(phone_page, "result-diamonds-phone")


def test_csv_upload_scores_good_rows_lists_bad_ones_and_downloads(page, shoot, tmp_path):
    upload = tmp_path / "stones.csv"
    upload.write_text("carat,cut,color,clarity,depth,table,x,y,z\n"
                      "0.3,Ideal,E,VS1,61.5,55,4.3,4.35,2.66\n"
                      "1.2,Good,Q,SI1,63,58,6.7,6.8,4.25\n"
                      "0.9,Premium,G,VS2,61.0,58,6.2,6.15,3.77\n"
                      "abc,Fair,J,I1,65,60,5,5,3\n", encoding="utf-8")
    page.goto("/models/diamonds/batch/")
    with page.expect_download() as template:
        page.click("text=Download a template CSV")
    header = template.value.path().read_text(encoding="utf-8").splitlines()[0]
    assert header == "carat,cut,color,clarity,depth,table,x,y,z"
    shoot(page, "batch-diamonds-desktop")
    page.set_input_files("#id_file", str(upload))
    page.click("button[type=submit]")
    page.wait_for_url("**/batches/*/?key=*")
    assert page.get_by_test_id("rows-total").inner_text() == "4"
    assert page.get_by_test_id("rows-ok").inner_text() == "2"
    assert page.get_by_test_id("rows-rejected").inner_text() == "2"
    refused = page.get_by_test_id("refused").locator("tbody tr")
    assert refused.nth(0).locator("td").nth(0).inner_text() == "2"
    assert "Unknown color 'Q'" in refused.nth(0).inner_text()
    assert refused.nth(1).locator("td").nth(0).inner_text() == "4" and "carat" in refused.nth(1).inner_text()
    shoot(page, "batch-result-desktop")

    with page.expect_download() as download:
        page.get_by_test_id("download").click()
    scored = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    batch = PredictionBatch.objects.get()
    rows = list(Prediction.objects.filter(batch=batch).order_by("id"))
    assert [r["status"] for r in scored] == ["ok", "rejected", "ok", "rejected"] == [r.status for r in rows]
    assert float(scored[2]["prediction"]) == rows[2].outputs["prediction"]
    assert scored[1]["error"].startswith("color:")
    assert batch.source_name == "stones.csv" and batch.channel == "batch"


def test_a_file_that_is_not_csv_gets_a_clear_message(page, tmp_path):
    picture = tmp_path / "photo.csv"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    page.goto("/models/iris/batch/")
    page.set_input_files("#id_file", str(picture))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "not UTF-8 text" in page.locator(".form-errors").inner_text()
    row = Prediction.objects.get()
    assert row.status == "rejected" and row.channel == "batch" and row.inputs == {"file": "photo.csv"}


def test_staff_log_in_to_browse_and_filter_the_history(page, logged_in, shoot, client):
    for petal in ("1.4", "5.1", "-1"):
        client.post("/models/iris/", {"sepal_length": "5.9", "sepal_width": "3.0", "petal_length": petal,
                                      "petal_width": "1.8"})
    page.goto("/history/")
    assert "/admin/login/" in page.url  # anonymous visitors are sent to the login
    logged_in(page)
    page.goto("/history/")
    rows = page.get_by_test_id("history").locator("tbody tr")
    assert rows.count() == 3
    page.select_option("#id_status", "rejected")
    page.click("text=Filter")
    page.wait_for_url("**status=rejected**")
    assert rows.count() == 1 and "rejected" in rows.nth(0).inner_text()
    rejected = Prediction.objects.get(status="rejected")
    rows.nth(0).locator("text=result").click()
    page.wait_for_url(f"**/predictions/{rejected.request_id}/")
    assert "Input rejected" in page.content()
    page.goto("/history/")
    shoot(page, "history-desktop")


def test_history_fits_a_phone(browser, live_server, staff_user, shoot, client):
    from tests.browser.conftest import PHONE

    client.post("/models/iris/", {"sepal_length": "5.9", "sepal_width": "3.0", "petal_length": "5.1",
                                  "petal_width": "1.8"})
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, is_mobile=True, device_scale_factor=2)
    page = context.new_page()
    page.goto("/admin/login/?next=/history/")
    page.fill("#id_username", staff_user.username)
    page.fill("#id_password", "s3cret-pass!")
    page.click("input[type=submit]")
    page.wait_for_url("**/history/")
    # The table scrolls inside its own box; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "history-phone")
    context.close()
