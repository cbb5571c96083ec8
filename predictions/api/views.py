"""REST API views: one view per operation, thin — parse, call one service or selector, serialize."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, ParseError, UnsupportedMediaType, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import ml
from predictions.api.serializers import (
    ErrorSerializer,
    PredictionRecordSerializer,
    batch_payload,
    model_payload,
    prediction_payload,
)
from predictions.domain import selectors, services
from predictions.http import permissions, throttling
from predictions.http.origin import origin_for
from predictions.http.parsers import PayloadTooLarge
from predictions.http.throttling import PredictThrottle
from predictions.models import Channel, Status


class CanReadHistory(BasePermission):
    """History: a staff account or the predictions.view_prediction permission (predictions.http.permissions)."""

    message = "Reading the history needs a staff account or the predictions.view_prediction permission."

    def has_permission(self, request: Request, view) -> bool:
        return permissions.can_read_history(request.user)


class CanReview(BasePermission):
    """Feedback: the predictions.change_prediction permission (predictions.http.permissions)."""

    message = "Recording feedback needs the predictions.change_prediction permission."

    def has_permission(self, request: Request, view) -> bool:
        return permissions.can_review(request.user)


class PredictPermission(BasePermission):
    """Predictions are open to anonymous clients unless PREDICT_ALLOW_ANONYMOUS is off."""

    message = "Authentication is required to make predictions on this server."

    def has_permission(self, request: Request, view) -> bool:
        if settings.PREDICT_ALLOW_ANONYMOUS:
            return True
        return IsAuthenticated().has_permission(request, view)


# --- models --------------------------------------------------------------------------------------------------------
class ModelListApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="List the models",
        responses={200: inline_serializer("ModelSummary", {"name": serializers.CharField()}, many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response([model_payload(info) for info in selectors.model_list()])


class ModelCardSchemaApi(APIView):
    """The JSON Schema a model card must satisfy (register_model, import_mlflow and the admin check cards with it)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(summary="The JSON Schema of model cards", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(ml.CARD_SCHEMA)


class ModelDetailApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Describe one model: versions, metrics, feature schema, an example input",
        responses={200: inline_serializer("ModelDetail", {"name": serializers.CharField()}), 404: ErrorSerializer},
    )
    def get(self, request: Request, name: str) -> Response:
        return Response(model_payload(selectors.model_get(name=name), detail=True))


# --- predict ----------------------------------------------------------------------------------------------------------
class PredictApi(APIView):
    """One JSON object of features → one prediction; a JSON array of objects → a batch. Always recorded."""

    permission_classes = [PredictPermission]
    throttle_classes = [PredictThrottle]

    @extend_schema(
        summary="Predict",
        parameters=[OpenApiParameter("version", str, description="Model version (default: the served default).")],
        request=dict,
        responses={201: dict},
    )  # the schema hook replaces this operation with one fully typed path per model
    def post(self, request: Request, name: str) -> Response:
        version = request.query_params.get("version") or None
        origin = origin_for(request, Channel.API)
        try:
            try:
                data = request.data
            except RequestDataTooBig:
                raise PayloadTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) from None
        except (ParseError, PayloadTooLarge, UnsupportedMediaType) as exc:
            raw = getattr(exc, "body_preview", None) or {"content_type": request.content_type[:200]}
            services.prediction_reject(model_name=name, raw=raw, error=exc, origin=origin, version=version)
            raise
        if isinstance(data, list):
            throttling.charge(request, len(data) - 1)  # the call was admitted as one row; a batch costs them all
            outcome = services.prediction_batch_create(model_name=name, rows=data, origin=origin, version=version,
                                                       partial=False)
            if outcome.replayed:
                return Response(batch_payload(outcome), status=status.HTTP_200_OK,
                                headers={"Idempotent-Replayed": "true"})
            return Response(batch_payload(outcome), status=status.HTTP_201_CREATED)
        row = services.prediction_create(model_name=name, inputs=data, origin=origin, version=version)
        if row.replayed:  # a retry of a request already answered: the same answer, not a second prediction
            return Response(prediction_payload(row), status=status.HTTP_200_OK, headers={"Idempotent-Replayed": "true"})
        return Response(prediction_payload(row), status=status.HTTP_201_CREATED)


# --- history ---------------------------------------------------------------------------------------------------------
class HistoryPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        # DRF silently falls back to the default on "?page_size=abc"; a client that asked for something else
        # should hear that it did not get it.
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({"page_size": [f"Must be an integer from 1 to {self.max_page_size}."]})
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters


class PredictionListApi(generics.ListAPIView):
    permission_classes = [CanReadHistory]
    serializer_class = PredictionRecordSerializer
    pagination_class = HistoryPagination

    class FilterSerializer(serializers.Serializer):
        model = serializers.CharField(required=False, max_length=64, help_text="A model name (GET /api/models/).")
        version = serializers.RegexField(r"^\d{1,16}$", required=False)
        status = serializers.ChoiceField(choices=Status.choices, required=False)
        channel = serializers.ChoiceField(choices=Channel.choices, required=False)
        created_after = serializers.DateTimeField(required=False)
        created_before = serializers.DateTimeField(required=False)
        reviewed = serializers.BooleanField(required=False, allow_null=True, default=None)

        def validate_model(self, value: str) -> str:
            if value not in selectors.model_names():
                raise serializers.ValidationError(f'"{value[:64]}" is not a valid choice.')
            return value

    @extend_schema(summary="Browse the prediction history (newest first, cursor pages)", parameters=[FilterSerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.prediction_list(filters=filters.validated_data).select_related("user", "reviewed_by",
                                                                                        "batch")


class PredictionDetailApi(APIView):
    permission_classes = [CanReadHistory]

    @extend_schema(summary="One history record", responses={200: PredictionRecordSerializer, 404: ErrorSerializer})
    def get(self, request: Request, pk: int) -> Response:
        row = selectors.prediction_get(pk=pk)
        if row is None:
            raise NotFound("No prediction with this id.")
        return Response(PredictionRecordSerializer(row).data)


class FeedbackApi(APIView):
    permission_classes = [CanReview]

    class InputSerializer(serializers.Serializer):
        actual = serializers.JSONField(help_text="The true outcome: a class label (iris) or a price in USD "
                                                 "(diamonds).")
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    @extend_schema(summary="Record the true outcome of a prediction", request=InputSerializer,
                   responses={200: PredictionRecordSerializer, 400: ErrorSerializer, 404: ErrorSerializer})
    def post(self, request: Request, pk: int) -> Response:
        row = selectors.prediction_get(pk=pk)
        if row is None:
            raise NotFound("No prediction with this id.")
        if row.status != Status.OK:
            raise ValidationError({"actual": [f"Only scored predictions can be reviewed; this one is {row.status}."]})
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.prediction_feedback_set(prediction=row, actual=payload.validated_data["actual"],
                                         note=payload.validated_data["note"], reviewer=request.user)
        return Response(PredictionRecordSerializer(row).data)
