"""The admin's date hierarchy without its table scans (see predictions.admin.PeriodQuerySet)."""

from __future__ import annotations

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

register = template.Library()


@register.tag(name="fast_date_hierarchy")
def fast_date_hierarchy_tag(parser, token):
    from predictions.admin import fast_date_hierarchy

    return InclusionAdminNode(parser, token, func=fast_date_hierarchy, template_name="date_hierarchy.html",
                              takes_context=False)
