"""Routes of health, readiness and metrics."""

from django.urls import path

from predictions.monitoring import health, prometheus

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", prometheus.metrics_view, name="metrics"),
]
