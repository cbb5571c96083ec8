"""Small template filters for the pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    """12345.678 → "$12,345.68"; anything that is not a number is shown as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return f"${value:,.2f}"
