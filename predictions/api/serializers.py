"""Output shapes shared by several API views (and by the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

import ml
from predictions.domain.selectors import ModelInfo
from predictions.domain.services import BatchOutcome
from predictions.models import Channel, Prediction, Status


# --- predictions as answered (hot path: plain dicts, no serializer machinery) --------------------------------------
def prediction_payload(row: Prediction) -> dict[str, Any]:
    """The 201 body of a single prediction (docs/architecture.md "Contracts")."""
    body: dict[str, Any] = {
        "id": row.pk,
        "request_id": str(row.request_id),
        "model": {"name": row.model_name, "version": row.model_version},
        "prediction": row.outputs["prediction"],
    }
    if "label" in row.outputs:
        body["label"] = row.outputs["label"]
        body["probabilities"] = row.outputs["probabilities"]
    body["latency_ms"] = round(row.latency_ms, 3)
    body["created_at"] = row.created_at.isoformat().replace("+00:00", "Z")
    return body


def batch_item_payload(index: int, row: Prediction) -> dict[str, Any]:
    item: dict[str, Any] = {"index": index, "id": row.pk, "request_id": str(row.request_id), "status": row.status}
    if row.status == Status.OK:
        item["prediction"] = row.outputs["prediction"]
        if "label" in row.outputs:
            item["label"] = row.outputs["label"]
            item["probabilities"] = row.outputs["probabilities"]
    else:
        item["error"] = row.error
    return item


def batch_payload(outcome: BatchOutcome) -> dict[str, Any]:
    batch = outcome.batch
    return {
        "batch_id": batch.pk,
        "request_id": str(batch.request_id),
        "model": {"name": batch.model_name, "version": batch.model_version},
        "count": batch.rows_total,
        "ok": batch.rows_ok,
        "rejected": batch.rows_rejected,
        "error": batch.rows_error,
        "latency_ms": round(batch.latency_ms or 0.0, 3),
        "created_at": batch.created_at.isoformat().replace("+00:00", "Z"),
        "predictions": [batch_item_payload(i, row) for i, row in enumerate(outcome.rows)],
    }


# --- schema-only serializers for the hand-built payloads above ---------------------------------------------------
class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
    request_id = serializers.UUIDField(allow_null=True)


# --- history records -------------------------------------------------------------------------------------------------
class PredictionRecordSerializer(serializers.ModelSerializer):
    model = serializers.SerializerMethodField()
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    batch = serializers.SlugRelatedField(slug_field="request_id", read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    status = serializers.ChoiceField(choices=Status.choices)
    inputs = serializers.JSONField()
    outputs = serializers.JSONField(allow_null=True)
    error = serializers.JSONField(allow_null=True)
    actual = serializers.JSONField(allow_null=True)

    class Meta:
        model = Prediction
        fields = ["id", "request_id", "created_at", "model", "channel", "status", "inputs", "outputs", "error",
                  "latency_ms", "user", "client_ip", "batch", "actual", "feedback_note", "reviewed_by",
                  "reviewed_at"]
        read_only_fields = fields

    def get_model(self, row: Prediction) -> dict[str, str]:
        return {"name": row.model_name, "version": row.model_version}


# --- model catalogue -----------------------------------------------------------------------------------------------
def model_payload(info: ModelInfo, *, detail: bool = False) -> dict[str, Any]:
    card = info.card
    body: dict[str, Any] = {
        "name": card.name,
        "title": card.title,
        "task": card.task,
        "description": card.description,
        "target": card.target,
        "target_unit": card.target_unit,
        "labels": list(card.labels),
        "default_version": info.default_version,
        "pinned": info.pinned,
        "served": info.served,
        "error": info.error,
        "metrics": info.default.metrics if info.default else {},
        "predict_url": f"/api/models/{card.name}/predict",
    }
    if detail:
        body["versions"] = [
            {"version": v.version, "algorithm": v.algorithm, "created_at": v.created_at, "metrics": v.metrics,
             "rows_train": v.rows_train, "size_bytes": v.size_bytes, "default": v.is_default, "error": v.error}
            for v in info.versions
        ]
        body["card"] = ml.card_dict(card)
        body["features"] = card.schema.describe()
        body["input_schema"] = card.schema.json_schema()
        body["example"] = card.schema.example()
    return body
