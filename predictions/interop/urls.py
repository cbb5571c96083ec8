"""Routes of the interoperability protocols (Open Inference Protocol V2, MLflow scoring)."""

urlpatterns: list = []
