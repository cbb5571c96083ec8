"""Routes of health, readiness, metrics and the dashboard."""

from django.urls import path

from predictions.monitoring import dashboard, health, prometheus

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", prometheus.metrics_view, name="metrics"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
