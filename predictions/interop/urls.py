"""Routes of the other protocols: the original apps' endpoints, Open Inference Protocol V2, MLflow scoring."""

from django.urls import path

from predictions.interop import legacy, mlflow, v2

urlpatterns = [
    path("predict", legacy.iris_predict, name="legacy-iris"),
    path("api/predict", legacy.diamonds_predict, name="legacy-diamonds"),
    path("v2", v2.server_metadata, name="v2-server"),
    path("v2/health/live", v2.server_live, name="v2-live"),
    path("v2/health/ready", v2.server_ready, name="v2-ready"),
    path("v2/models/<str:name>", v2.model_metadata, name="v2-model"),
    path("v2/models/<str:name>/versions/<str:version>", v2.model_metadata, name="v2-model-version"),
    path("v2/models/<str:name>/ready", v2.model_ready, name="v2-model-ready"),
    path("v2/models/<str:name>/versions/<str:version>/ready", v2.model_ready, name="v2-model-version-ready"),
    path("v2/models/<str:name>/infer", v2.infer, name="v2-infer"),
    path("v2/models/<str:name>/versions/<str:version>/infer", v2.infer, name="v2-infer-version"),
    path("mlflow/<str:name>/ping", mlflow.ping, name="mlflow-ping"),
    path("mlflow/<str:name>/version", mlflow.version, name="mlflow-version"),
    path("mlflow/<str:name>/invocations", mlflow.invocations, name="mlflow-invocations"),
]
