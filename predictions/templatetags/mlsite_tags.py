"""Small template filters for the pages."""

from __future__ import annotations

from django import template

from predictions.pages import links

register = template.Library()


@register.filter
def money(value) -> str:
    """12345.678 → "$12,345.68"; anything that is not a number is shown as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return f"${value:,.2f}"


# Private links (predictions.pages.links): a result page opens for its owner, history readers and its link holders.
@register.simple_tag
def prediction_link(request_id) -> str:
    return links.prediction_url(request_id)


@register.simple_tag
def batch_link(request_id) -> str:
    return links.batch_url(request_id)


@register.simple_tag
def batch_download_link(request_id) -> str:
    return links.batch_download_url(request_id)
