"""Routes of the HTML pages."""

from django.urls import path

from predictions.pages import views

urlpatterns = [
    path("", views.home, name="home"),
    path("models/<str:name>/", views.model_form, name="model-form"),
    path("models/<str:name>/batch/", views.batch_upload, name="batch-upload"),
    path("models/<str:name>/batch/template.csv", views.batch_template, name="batch-template"),
    path("predictions/<uuid:request_id>/", views.prediction_detail, name="prediction-detail"),
    path("batches/<uuid:request_id>/", views.batch_detail, name="batch-detail"),
    path("batches/<uuid:request_id>/results.csv", views.batch_download, name="batch-download"),
    path("history/", views.history, name="history"),
]
