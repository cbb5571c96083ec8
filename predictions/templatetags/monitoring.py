"""Number formats of the monitoring dashboard."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """0.1234 → '12.3 %'; None → '—'."""
    if value is None:
        return "—"
    return f"{value * 100:.{int(digits)}f} %"


@register.filter
def ms(value: float | None) -> str:
    """Milliseconds with a precision that suits their size; None → '—'."""
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} µs"
    if value < 100:
        return f"{value:.1f} ms"
    return f"{value:,.0f} ms"


@register.filter
def number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{int(digits)}f}"
