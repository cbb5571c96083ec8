"""Number formats of the monitoring dashboard."""

from __future__ import annotations

from django import template

register = template.Library()


def _missing(value) -> bool:
    # None, or what a template gives for a missing key ("") — e.g. no test-set metric for a registered model.
    return isinstance(value, bool) or not isinstance(value, int | float)


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """0.1234 → '12.3 %'; None → '—'."""
    if _missing(value):
        return "—"
    return f"{value * 100:.{int(digits)}f} %"


@register.filter
def ms(value: float | None) -> str:
    """Milliseconds with a precision that suits their size; None → '—'."""
    if _missing(value):
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} µs"
    if value < 100:
        return f"{value:.1f} ms"
    return f"{value:,.0f} ms"


@register.filter
def number(value: float | None, digits: int = 0) -> str:
    if _missing(value):
        return "—"
    return f"{value:,.{int(digits)}f}"
