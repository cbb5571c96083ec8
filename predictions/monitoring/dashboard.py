"""GET /dashboard/ (staff): one model over one time window — volume, status mix, latency, outputs, input drift and
live quality from reviewer feedback. Reads come from predictions.domain.stats, charts from .charts.

Each figure is one aggregate query over the window, so a long window costs a scan of its rows (bench/dashboard.py:
about 0.7 s for a week and 2 s for 30 days of 670,000 rows). The figures of the long windows are therefore cached
for Window.cache_seconds (in the shared cache when REDIS_URL is set); the page says when they were computed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from predictions.domain import selectors, stats
from predictions.monitoring import charts

DEFAULT_WINDOW = "24h"


@never_cache
@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    cards = selectors.model_cards()
    if not cards:
        return render(request, "dashboard/empty.html", status=200)
    names = [card.name for card in cards]
    model = request.GET.get("model") if request.GET.get("model") in names else names[0]
    window = stats.WINDOWS.get(request.GET.get("window", ""), stats.WINDOWS[DEFAULT_WINDOW])
    key = f"mlsite:dashboard:{model}:{window.key}"
    figures = cache.get(key) if window.cache_seconds else None
    if figures is None:
        figures = _figures(model, window)
        if window.cache_seconds:
            cache.set(key, figures, window.cache_seconds)
    context = {"card": cards[names.index(model)], "models": cards,
               "windows": list(stats.WINDOWS.values()), "window": window, "cached": window.cache_seconds, **figures}
    return render(request, "dashboard/index.html", context)


def _figures(model: str, window: stats.Window) -> dict[str, Any]:
    card = selectors.card_for(model)
    end = timezone.now()
    start = end - window.span
    span = {"model": model, "start": start, "end": end}

    series = stats.volume_series(bucket=window.bucket, **span)
    ok, rejected, error = (sum(getattr(b, s) for b in series) for s in charts.STATUSES)
    total = ok + rejected + error
    version, manifest, manifest_problem = stats.served_manifest(model)
    context = {
        "start": start,
        "end": end,
        "version": version,
        "manifest_problem": manifest_problem,
        "total": total,
        "status": [{"key": key, "count": count, "share": count / total if total else 0.0}
                   for key, count in zip(charts.STATUSES, (ok, rejected, error), strict=True)],
        "failure_share": (rejected + error) / total if total else None,
        # Two drawings of one chart, the page's CSS shows the one that fits: SVG text scales with the drawing.
        "volume_chart": charts.volume_chart(series, window.bucket, width=760, height=200, css="chart only-wide"),
        "volume_chart_narrow": charts.volume_chart(series, window.bucket, css="chart only-narrow"),
        "status_bar": charts.status_bar(ok, rejected, error),
        "latency": stats.latency_stats(**span),
        "drift": stats.input_drift(scored=ok, **span),
        "quality": stats.live_quality(scored=ok, manifest=manifest, **span),
    }
    if card.is_classifier:
        mix = stats.class_mix(manifest=manifest, **span)
        context["outputs_chart"] = charts.share_bars(
            [(c.label, c.fraction, c.training_fraction, f"{c.count} · {c.fraction:.0%}") for c in mix],
            label="Predicted classes against their share in the training data")
        context["labels"] = card.labels
    else:
        hist = stats.value_histogram(manifest=manifest, **span)
        w = hist.width
        labels = [f"{i * w:,.0f}–{(i + 1) * w:,.0f}" for i in range(len(hist.counts) - 1)]
        labels.append(f"{(len(hist.counts) - 1) * w:,.0f}+")
        markers = [(q / w, f"training p{round(float(k) * 100)}") for k, q in hist.training_quantiles.items()
                   if k in ("0.05", "0.5", "0.95")]
        context["outputs_chart"] = charts.histogram_chart(
            hist.counts, labels, markers, label=f"Predicted {card.target} ({card.target_unit}), {hist.total} rows")
        context["histogram"] = hist
    context["drift_rows"] = [
        {"feature": f, "spark": charts.bins_sparkline(f.expected, f.actual, f.bins)} for f in context["drift"].features
    ]
    if card.is_classifier and context["quality"].reviewed:
        confusion = context["quality"].confusion
        context["confusion"] = [(actual, [confusion.get((actual, predicted), 0) for predicted in card.labels])
                                for actual in card.labels]
    return context
