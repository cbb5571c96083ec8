"""Routes under /api/ (docs/architecture.md "Contracts")."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from predictions.api import views

urlpatterns = [
    path("models/", views.ModelListApi.as_view(), name="api-models"),
    path("model-card.schema.json", views.ModelCardSchemaApi.as_view(), name="api-model-card-schema"),
    path("models/<str:name>/", views.ModelDetailApi.as_view(), name="api-model"),
    path("models/<str:name>/predict", views.PredictApi.as_view(), name="api-predict"),
    path("predictions/", views.PredictionListApi.as_view(), name="api-predictions"),
    path("predictions/<int:pk>/", views.PredictionDetailApi.as_view(), name="api-prediction"),
    path("predictions/<int:pk>/feedback", views.FeedbackApi.as_view(), name="api-feedback"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up code as a separate script, so the docs work under the CSP's
    # script-src 'self'; Swagger UI still injects <style> elements, so only this page allows inline styles.
    path("docs/", csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(
        url_name="api-schema")), name="api-docs"),
]
