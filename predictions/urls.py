"""Routes of the HTML pages."""

from django.urls import path

from predictions import views

urlpatterns = [
    path("", views.home, name="home"),
]
