from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_home_page_shows_a_card_per_model(page, shoot):
    page.goto("/")
    assert page.locator("article.card").count() == 2
    assert page.get_by_role("heading", name="Iris species").is_visible()
    shoot(page, "home-desktop")


def test_the_home_page_fits_a_phone(phone_page, shoot):
    phone_page.goto("/")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    shoot(phone_page, "home-phone")
