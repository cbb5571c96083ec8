"""The prediction history: one row per scored (or rejected) input, plus one row per batch."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Channel(models.TextChoices):
    API = "api", "REST API"
    FORM = "form", "HTML form"
    BATCH = "batch", "CSV batch"
    LEGACY = "legacy", "Legacy endpoint"
    V2 = "v2", "Open Inference Protocol V2"
    MLFLOW = "mlflow", "MLflow scoring protocol"


class Status(models.TextChoices):
    OK = "ok", "OK"
    REJECTED = "rejected", "Rejected"
    ERROR = "error", "Error"


class PredictionBatch(models.Model):
    request_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    model_name = models.CharField(max_length=64)
    model_version = models.CharField(max_length=16, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="prediction_batches")
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    source_name = models.CharField(max_length=255, blank=True, help_text="Uploaded file name, if any.")
    rows_total = models.PositiveIntegerField(default=0)
    rows_ok = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_error = models.PositiveIntegerField(default=0)
    latency_ms = models.FloatField(null=True, blank=True, help_text="Time spent scoring the whole batch.")
    digest = models.CharField(max_length=64, blank=True, editable=False,
                              help_text="sha256 of the rows as sent: tells a retry from another batch with its id.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "prediction batches"
        indexes = [models.Index(fields=["-created_at", "-id"], name="batch_newest")]

    def __str__(self) -> str:
        return f"{self.model_name} batch of {self.rows_total} ({self.request_id})"


class Prediction(models.Model):
    request_id = models.UUIDField(unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    model_name = models.CharField(max_length=64)
    model_version = models.CharField(max_length=16, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    inputs = models.JSONField(help_text="Validated features, or a capped copy of the raw payload when rejected.")
    outputs = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True, help_text="Why the input was rejected or scoring failed.")
    latency_ms = models.FloatField(null=True, blank=True, help_text="Time spent scoring.")
    # Foreign keys are mostly NULL (anonymous callers, single predictions): partial indexes below instead of
    # Django's default full ones, which would index a million NULLs each.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", db_index=False)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    batch = models.ForeignKey(PredictionBatch, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="predictions", db_index=False)
    # Reviewer feedback: the true outcome (a class label for iris, a price for diamonds).
    actual = models.JSONField(null=True, blank=True)
    feedback_note = models.TextField(blank=True, default="")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", db_index=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Measured with EXPLAIN ANALYZE on 1,000,000 rows (see bench/README.md "History indexes"): a B-tree on
        # (created_at DESC, id DESC) answers the newest page in 0.08 ms; a BRIN on created_at is 24 kB but cannot
        # order, so the same page takes 130 ms (parallel seq scan + top-N sort). Status and channel filters walk the
        # newest-first index (5.8 ms even for a 0.1 % status), so they get no full index of their own; only the
        # rare statuses a reviewer hunts for get a small partial one.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="prediction_newest"),
            models.Index(fields=["model_name", "-created_at"], name="prediction_model_newest"),
            models.Index(fields=["status", "-created_at"], name="prediction_failed_newest", condition=~Q(status="ok")),
            models.Index(fields=["-reviewed_at"], name="prediction_reviewed", condition=Q(reviewed_at__isnull=False)),
            models.Index(fields=["batch"], name="prediction_batch", condition=Q(batch__isnull=False)),
            models.Index(fields=["user"], name="prediction_user", condition=Q(user__isnull=False)),
            models.Index(fields=["reviewed_by"], name="prediction_reviewer", condition=Q(reviewed_by__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.model_name} v{self.model_version} {self.status} ({self.request_id})"

    # Set by the service when a retried request (same X-Request-ID) is answered from its recorded row.
    replayed = False


# --- the model catalogue: what is served (artifacts live in MODEL_DIR, a store every replica reads) -----------------
class RegisteredModel(models.Model):
    """A model mlsite serves, by name: its versions, and which one answers by default."""

    name = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=120)
    task = models.CharField(max_length=16, choices=[("classification", "Classification"),
                                                    ("regression", "Regression")])
    pinned_version = models.PositiveIntegerField(null=True, blank=True,
                                                 help_text="Served by default; empty: the newest version.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # Touched by every change of the model or its versions: workers compare it to notice a new catalogue.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ModelVersion(models.Model):
    """One registered version: its card (versioned with the artifact) and the sha256 of its model file."""

    class Source(models.TextChoices):
        TRAINED = "trained", "Trained by manage.py train"
        REGISTERED = "registered", "manage.py register_model"
        MLFLOW = "mlflow", "manage.py import_mlflow"
        ADMIN = "admin", "Uploaded in the admin"
        ADOPTED = "adopted", "Adopted from MODEL_DIR"

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    card = models.JSONField()
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField(default=0)
    estimator = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["model__name", "-version"]
        constraints = [models.UniqueConstraint(fields=["model", "version"], name="model_version_unique")]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.version}"
