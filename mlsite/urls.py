"""URL map (the HTTP contract in docs/architecture.md). Each surface keeps its routes next to its views."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("predictions.interop.urls")),  # POST /predict, GET /api/predict, /v2/..., /mlflow/...
    path("api/", include("predictions.api.urls")),
    path("", include("predictions.monitoring.urls")),
    path("", include("predictions.pages.urls")),
]

handler400 = "predictions.http.error_pages.bad_request"
handler403 = "predictions.http.error_pages.permission_denied"
handler404 = "predictions.http.error_pages.page_not_found"
handler500 = "predictions.http.error_pages.server_error"
