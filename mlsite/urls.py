"""URL map (the HTTP contract in DESIGN.md). Each surface keeps its routes next to its views."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("predictions.interop.legacy")),  # POST /predict, GET /api/predict — before the API's own routes
    path("api/", include("predictions.api.urls")),
    path("", include("predictions.monitoring.urls")),
    path("", include("predictions.interop.urls")),
    path("", include("predictions.pages.urls")),
]

handler400 = "predictions.pages.views.bad_request"
handler403 = "predictions.pages.views.permission_denied"
handler404 = "predictions.pages.views.page_not_found"
handler500 = "predictions.pages.views.server_error"
