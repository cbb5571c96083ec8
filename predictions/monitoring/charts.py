"""Server-side SVG charts for the dashboard: no JavaScript, nothing from a CDN.

Colours and fonts come from classes styled in static/css/site.css (the Content-Security-Policy forbids inline
styles, and SVG presentation attributes are not styles). Every chart has a text alternative, and each bar a <title>
that browsers show as a tooltip. Sizes are in viewBox units; the SVG scales to its container's width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from predictions.domain.stats import VolumeBucket

WIDTH, HEIGHT = 340, 180  # about the width of a phone screen: text keeps its size there
LEFT, RIGHT, TOP, BOTTOM = 38, 8, 10, 22
STATUSES = ("ok", "rejected", "error")


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _svg(body: list[str], label: str, *, width: int = WIDTH, height: int = HEIGHT, css: str = "chart") -> SafeString:
    # Safe: every text in ``body`` went through escape().
    return mark_safe(
        f'<svg class="{css}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(label)}</title>{"".join(body)}</svg>'
    )


def _y_axis(top: float, plot_h: float, plot_w: float) -> list[str]:
    parts = ['<g class="grid">']
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 5}" y="{y + 3.5:.1f}" text-anchor="end">'
                     f"{escape(_short(top * i / 4))}</text>")
    parts.append("</g>")
    return parts


def volume_chart(series: Sequence[VolumeBucket], bucket: str, *, width: int = WIDTH, height: int = HEIGHT,
                 css: str = "chart") -> SafeString:
    """Stacked bars of ok / rejected / error rows per time bucket."""
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    top = _nice_ceiling(max((b.total for b in series), default=0))
    parts = _y_axis(top, plot_h, plot_w)
    n = max(len(series), 1)
    step = plot_w / n
    gap = min(step * 0.2, 2) if step > 3 else 0
    label_every = max(1, math.ceil(n / (width // 70)))
    for i, b in enumerate(series):
        x = LEFT + i * step
        y = TOP + plot_h
        tip = f"{_when(b.start, bucket)}: {b.ok} ok, {b.rejected} rejected, {b.error} error"
        parts.append(f"<g><title>{escape(tip)}</title>")
        for status in STATUSES:
            value = getattr(b, status)
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            parts.append(f'<rect class="s-{status}" x="{x + gap / 2:.2f}" y="{y:.2f}" '
                         f'width="{max(step - gap, 0.6):.2f}" height="{h:.2f}"/>')
        parts.append("</g>")
        if i % label_every == 0:
            parts.append(f'<text class="axis" x="{x + step / 2:.1f}" y="{height - 6}" text-anchor="middle">'
                         f"{escape(_tick(b.start, bucket, n))}</text>")
    total = sum(b.total for b in series)
    return _svg(parts, f"Predictions over time: {total} rows in {len(series)} time buckets", width=width,
                height=height, css=css)


def _when(moment: datetime, bucket: str) -> str:
    return moment.strftime("%b %d %H:%M" if bucket != "day" else "%b %d")


def _tick(moment: datetime, bucket: str, n: int) -> str:
    if bucket == "minute" or (bucket == "hour" and n <= 48):
        return moment.strftime("%H:%M")
    return moment.strftime("%b %d")


def histogram_chart(counts: Sequence[int], labels: Sequence[str], markers: Sequence[tuple[float, str]] = (),
                    *, label: str) -> SafeString:
    """Vertical bars of ``counts``; ``markers`` are (position in bins, text) drawn as dashed reference lines."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_ceiling(max(counts, default=0))
    parts = _y_axis(top, plot_h, plot_w)
    n = max(len(counts), 1)
    step = plot_w / n
    label_every = max(1, math.ceil(n / 5))
    for i, (count, text) in enumerate(zip(counts, labels, strict=True)):
        x = LEFT + i * step
        h = plot_h * count / top
        parts.append(f'<rect class="bar" x="{x + 1:.2f}" y="{TOP + plot_h - h:.2f}" width="{step - 2:.2f}" '
                     f'height="{h:.2f}"><title>{escape(text)}: {count}</title></rect>')
        if i % label_every == 0:
            parts.append(f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="start">'
                         f"{escape(text.split('–')[0])}</text>")
    for position, text in markers:
        x = LEFT + min(max(position, 0), n) * step
        parts.append(f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}">'
                     f"<title>{escape(text)}</title></line>")
        parts.append(f'<text class="marker-label" x="{x + 3:.1f}" y="{TOP + 9}">{escape(text.split(" ")[-1])}</text>')
    return _svg(parts, label)


def share_bars(rows: Sequence[tuple[str, float, float | None, str]], *, label: str) -> SafeString:
    """Horizontal bars of fractions (label, fraction, reference fraction or None, value text), with a tick at the
    reference (the training share)."""
    row_h, bar_h, name_w, value_w = 30, 16, 92, 70
    height = max(len(rows), 1) * row_h + 6
    plot_w = WIDTH - name_w - value_w
    parts = []
    for i, (name, fraction, reference, text) in enumerate(rows):
        y = 4 + i * row_h
        parts.append(f'<text class="axis name" x="0" y="{y + bar_h - 3}">{escape(name)}</text>')
        parts.append(f'<rect class="track" x="{name_w}" y="{y}" width="{plot_w}" height="{bar_h}" rx="3"/>')
        parts.append(f'<rect class="bar" x="{name_w}" y="{y}" width="{plot_w * min(fraction, 1):.2f}" '
                     f'height="{bar_h}" rx="3"><title>{escape(name)}: {escape(text)}</title></rect>')
        if reference is not None:
            x = name_w + plot_w * min(reference, 1)
            parts.append(f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{y - 3}" y2="{y + bar_h + 3}">'
                         f"<title>training: {reference:.0%}</title></line>")
        parts.append(f'<text class="axis value" x="{WIDTH}" y="{y + bar_h - 3}" text-anchor="end">'
                     f"{escape(text)}</text>")
    return _svg(parts, label, height=height)


def status_bar(ok: int, rejected: int, error: int) -> SafeString:
    """One 100 % bar split by status."""
    total = ok + rejected + error
    width, height = 400, 14
    parts = [f'<rect class="track" x="0" y="0" width="{width}" height="{height}" rx="4"/>']
    x = 0.0
    for status, value in zip(STATUSES, (ok, rejected, error), strict=True):
        if not value:
            continue
        w = width * value / total
        parts.append(f'<rect class="s-{status}" x="{x:.2f}" y="0" width="{w:.2f}" height="{height}">'
                     f"<title>{status}: {value}</title></rect>")
        x += w
    return _svg(parts, f"Status mix: {ok} ok, {rejected} rejected, {error} error", width=width, height=height,
                css="chart status-bar")


def bins_sparkline(expected: Sequence[float], actual: Sequence[float], bins: Sequence[str]) -> SafeString:
    """Training (outline) against live (filled) share of each drift bin."""
    width, height = 180, 30
    n = max(len(expected), 1)
    step = width / n
    top = max([*expected, *actual, 1e-9])
    parts = []
    for i, (e, a, name) in enumerate(zip(expected, actual, bins, strict=True)):
        x = i * step
        ha, he = (height - 2) * a / top, (height - 2) * e / top
        parts.append(f"<g><title>{escape(name)}: training {e:.1%}, live {a:.1%}</title>"
                     f'<rect class="bar" x="{x + 1:.2f}" y="{height - ha:.2f}" width="{step - 2:.2f}" '
                     f'height="{ha:.2f}"/>'
                     f'<rect class="expected" x="{x + 1:.2f}" y="{height - he:.2f}" width="{step - 2:.2f}" '
                     f'height="{he:.2f}"/></g>')
    return _svg(parts, "Training against live share of each bin", width=width, height=height, css="spark")
