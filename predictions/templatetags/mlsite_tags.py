"""Small template filters for the pages."""

from __future__ import annotations

from django import template

from predictions.http import display
from predictions.pages import links

register = template.Library()


register.filter("money", display.money)


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
