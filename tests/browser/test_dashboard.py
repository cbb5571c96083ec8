from __future__ import annotations

import pytest

from tests.monitoring.seed import seed_history

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_see_the_dashboard_with_charts_and_drift(page, logged_in, shoot):
    seed_history()
    logged_in(page)
    page.goto("/dashboard/?model=diamonds&window=24h")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.locator("svg.chart").count() >= 3
    carat = page.locator("tr[data-feature=carat] .badge")
    assert carat.inner_text() == "significant"
    assert page.locator("tr[data-feature=cut] .badge").inner_text() == "stable"
    page.get_by_role("link", name="iris").click()
    page.wait_for_url("**model=iris**")
    assert page.get_by_role("heading", name="Predicted classes").is_visible()
    page.goto("/dashboard/?model=diamonds&window=24h")
    # The stylesheet applies (a stray brace once swallowed every rule after it): KPI tiles in a grid, badges coloured.
    assert page.evaluate("getComputedStyle(document.querySelector('.kpis')).display") == "grid"
    assert page.evaluate("getComputedStyle(document.querySelector('.panel')).borderTopStyle") == "solid"
    shoot(page, "dashboard-desktop")


def test_the_dashboard_fits_a_phone(phone_page, logged_in, shoot):
    seed_history()
    logged_in(phone_page)
    phone_page.goto("/dashboard/?model=iris&window=24h")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the dashboard scrolls sideways on a phone"
    shoot(phone_page, "dashboard-phone")
