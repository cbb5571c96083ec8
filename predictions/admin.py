"""Staff review of the prediction history in the Django admin.

What was recorded is read-only; only the reviewer's feedback (the actual outcome and a note) can be edited, and it
goes through the same service as the API's feedback endpoint. Built to stay fast on millions of rows: no COUNT(*)
over the whole table (estimated-count paginator), no DISTINCT scans for filter choices (they come from the
registry and the field choices), no foreign keys shown in the list, a UUID search answered by the unique index.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Max, Min
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

import ml
from predictions.domain import catalogue, selectors, services
from predictions.domain.errors import HistoryUnavailable, RegistrationRefused
from predictions.http.display import csv_lines, error_text, money
from predictions.http.permissions import can_review
from predictions.models import ModelVersion, Prediction, PredictionBatch, RegisteredModel

admin.site.site_header = "mlsite review"
admin.site.site_title = "mlsite admin"
admin.site.index_title = "Prediction history"
admin.site.enable_nav_sidebar = False  # the prediction list needs the width


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, a big list is counted from the planner's statistics instead of COUNT(*), which reads every
    matching row: pg_class.reltuples (kept fresh by autovacuum) for the unfiltered table, the planner's row estimate
    (EXPLAIN) for a filtered one. Below ESTIMATE_FROM rows the exact count is cheap and is used instead, so small
    tables and narrow filters show exact figures; large ones show the planner's (page links past the real end
    simply come back empty)."""

    ESTIMATE_FROM = 10_000

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None:
            estimate = _estimated_rows(self.object_list)
            if estimate is not None and estimate >= self.ESTIMATE_FROM:
                return estimate
        return super().count


def _estimated_rows(queryset) -> int | None:
    with connection.cursor() as cursor:
        if not queryset.query.where:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                           [queryset.model._meta.db_table])
            row = cursor.fetchone()
            return int(row[0]) if row and row[0] >= 0 else None
        sql, params = queryset.order_by().query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


class PeriodQuerySet:
    """What the admin's date hierarchy asks of a queryset, answered without a table scan: the first and last
    timestamps come from the index (MIN/MAX), and the years / months / days offered are every period between them
    (Django asks SELECT DISTINCT date_trunc(...), which reads every matching row — 340 ms at 1M rows). A period with
    no rows can be offered; choosing it shows an empty list."""

    def __init__(self, queryset) -> None:
        self.queryset = queryset

    def aggregate(self, *args, **kwargs):
        return self.queryset.aggregate(*args, **kwargs)

    def datetimes(self, field_name: str, kind: str, order: str = "ASC") -> list[dt.datetime]:
        bounds = self.queryset.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        first, last = timezone.localtime(bounds["first"]), timezone.localtime(bounds["last"])
        periods = []
        current = _truncate(first, kind)
        while current <= last:
            periods.append(current)
            current = _next_period(current, kind)
        return periods

    dates = datetimes


def _truncate(moment: dt.datetime, kind: str) -> dt.datetime:
    moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind in ("month", "year"):
        moment = moment.replace(day=1)
    if kind == "year":
        moment = moment.replace(month=1)
    return moment


def _next_period(moment: dt.datetime, kind: str) -> dt.datetime:
    naive = moment.replace(tzinfo=None)
    if kind == "day":
        naive = naive + dt.timedelta(days=1)
    elif kind == "month":
        naive = naive.replace(year=naive.year + naive.month // 12, month=naive.month % 12 + 1)
    else:
        naive = naive.replace(year=naive.year + 1)
    return timezone.make_aware(naive)


class _PeriodChangeList:
    """The changelist as the date hierarchy tag sees it: everything as is, but the PeriodQuerySet above."""

    def __init__(self, changelist) -> None:
        self._changelist = changelist
        self.queryset = PeriodQuerySet(changelist.queryset)

    def __getattr__(self, name: str):
        return getattr(self._changelist, name)


def fast_date_hierarchy(changelist) -> dict:
    from django.contrib.admin.templatetags.admin_list import date_hierarchy

    return date_hierarchy(_PeriodChangeList(changelist))


class ModelFilter(admin.SimpleListFilter):
    """Model names from the registry, not from SELECT DISTINCT over the whole history."""

    title = "model"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [(name, name) for name in selectors.model_names()]

    def queryset(self, request, queryset):
        return queryset.filter(model_name=self.value()) if self.value() else queryset


class VersionFilter(admin.SimpleListFilter):
    title = "model version"
    parameter_name = "version"

    def lookups(self, request, model_admin):
        chosen = request.GET.get("model")
        versions = set()
        for info in selectors.model_list():
            if not chosen or info.name == chosen:
                versions.update(v.version for v in info.versions)
        return [(v, f"v{v}") for v in sorted(versions, key=lambda v: (len(v), v))]

    def queryset(self, request, queryset):
        return queryset.filter(model_version=self.value()) if self.value() else queryset


class ReviewedFilter(admin.SimpleListFilter):
    title = "reviewed"
    parameter_name = "reviewed"

    def lookups(self, request, model_admin):
        return [("yes", "Reviewed"), ("no", "Not reviewed")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(reviewed_at__isnull=self.value() == "no")
        return queryset


class FeedbackForm(forms.ModelForm):
    """The only editable part of a prediction: what really happened, checked against the model."""

    actual = forms.CharField(
        label="Actual outcome", required=True, max_length=64,
        help_text="The true class label, or the true value (a number).",
    )

    class Meta:
        model = Prediction
        fields = ["actual", "feedback_note"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.actual is not None:
            self.initial["actual"] = str(self.instance.actual)
        card = selectors.card_for(self.instance.model_name, self.instance.model_version)
        if card is None:
            return
        if card.is_classifier:
            self.fields["actual"] = forms.ChoiceField(
                label="Actual outcome", choices=[("", "—"), *[(label, label) for label in card.labels]],
                help_text="The true class.")
        else:
            unit = f" ({card.target_unit})" if card.target_unit else ""
            self.fields["actual"].help_text = f"The real {card.target or 'value'}{unit}."

    def clean_actual(self) -> Any:
        text = self.cleaned_data["actual"]
        card = selectors.card_for(self.instance.model_name, self.instance.model_version)
        if card is None:
            raise ValidationError("This prediction's model is not served any more; feedback cannot be checked.")
        value: Any = text
        if not card.is_classifier:
            try:
                value = float(text.replace(",", "").replace("$", "").strip())
            except ValueError as exc:
                raise ValidationError("Enter a number, e.g. 1234.50.") from exc
        try:
            return card.validate_actual(value)
        except ml.InvalidInput as exc:
            raise ValidationError(" ".join(exc.fields.get("actual", [str(exc)]))) from exc


RECORDED = ["request_id", "created_at", "model_name", "model_version", "channel", "status", "inputs_pretty",
            "outputs_pretty", "error_pretty", "latency_ms", "user", "client_ip", "batch_link", "reviewed_by",
            "reviewed_at"]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    form = FeedbackForm
    list_display = ["created_at", "model_and_version", "channel", "status_tag", "inputs_summary", "result_summary",
                    "latency", "reviewed_mark"]
    list_display_links = ["created_at"]
    list_filter = [ModelFilter, VersionFilter, "status", "channel", ReviewedFilter]
    date_hierarchy = "created_at"
    search_fields = ["request_id"]  # see get_search_results: a UUID is looked up exactly, other text in inputs
    search_help_text = "A request id (exact), or text found in the inputs (e.g. Ideal)."
    ordering = ["-created_at", "-id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a COUNT per filter choice: seconds on a million rows
    list_per_page = 50
    list_select_related = False
    readonly_fields = RECORDED
    fieldsets = [
        ("Feedback", {"fields": ["actual", "feedback_note", "reviewed_by", "reviewed_at"]}),
        ("Prediction", {"fields": ["request_id", "created_at", "model_name", "model_version", "channel", "status",
                                   "inputs_pretty", "outputs_pretty", "error_pretty", "latency_ms"]}),
        ("Origin", {"fields": ["user", "client_ip", "batch_link"]}),
    ]
    actions = ["mark_reviewed", "export_csv"]
    change_list_template = "admin/predictions/prediction/change_list.html"

    class Media:
        css = {"all": ["css/admin.css"]}

    # --- permissions (predictions.http.permissions): every staff member reads; feedback needs change_prediction (the
    # "reviewers" group); recorded history is never added here; only superusers delete -------------------------------
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request) and can_review(request.user)  # the form lets only the feedback change

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup in ("batch__id__exact", "batch") or super().lookup_allowed(lookup, value, request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    # --- list columns --------------------------------------------------------------------------------------------
    @admin.display(description="model", ordering="model_name")
    def model_and_version(self, obj: Prediction) -> str:
        return f"{obj.model_name} v{obj.model_version}" if obj.model_version else obj.model_name

    @admin.display(description="status", ordering="status")
    def status_tag(self, obj: Prediction) -> str:
        return format_html('<span class="status status-{}">{}</span>', obj.status, obj.status)

    @admin.display(description="inputs")
    def inputs_summary(self, obj: Prediction) -> str:
        if isinstance(obj.inputs, dict):
            text = ", ".join(f"{k}={v}" for k, v in obj.inputs.items())
        else:
            text = json.dumps(obj.inputs, ensure_ascii=False)
        return text if len(text) <= 90 else text[:89] + "…"

    @admin.display(description="result")
    def result_summary(self, obj: Prediction) -> str:
        outputs = obj.outputs if isinstance(obj.outputs, dict) else {}
        if obj.status == "ok":
            if "label" in outputs:
                return str(outputs["label"])
            return money(outputs.get("prediction"))
        text = error_text(obj.error)
        return text if len(text) <= 70 else text[:69] + "…"

    @admin.display(description="latency", ordering="latency_ms")
    def latency(self, obj: Prediction) -> str:
        return "" if obj.latency_ms is None else f"{obj.latency_ms:.2f} ms"

    @admin.display(description="reviewed", boolean=True, ordering="reviewed_at")
    def reviewed_mark(self, obj: Prediction) -> bool:
        return obj.reviewed_at is not None

    # --- detail fields -------------------------------------------------------------------------------------------
    @admin.display(description="inputs")
    def inputs_pretty(self, obj: Prediction) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.inputs, indent=2, ensure_ascii=False))

    @admin.display(description="outputs")
    def outputs_pretty(self, obj: Prediction) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.outputs, indent=2, ensure_ascii=False))

    @admin.display(description="error")
    def error_pretty(self, obj: Prediction) -> str:
        return error_text(obj.error) or "—"

    @admin.display(description="batch")
    def batch_link(self, obj: Prediction) -> str:
        if obj.batch_id is None:
            return "—"
        url = reverse("admin:predictions_predictionbatch_change", args=[obj.batch_id])
        return format_html('<a href="{}">batch #{}</a>', url, obj.batch_id)

    # --- search: exact request id through the unique index, else text in the inputs --------------------------------
    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(request_id=uuid.UUID(term)), False
        except ValueError:
            pass
        if connection.vendor == "postgresql":
            return queryset.extra(where=["inputs::text ILIKE %s"], params=[f"%{_like_escape(term)}%"]), False
        return queryset.filter(inputs__icontains=term), False

    # --- feedback through the service ------------------------------------------------------------------------------
    def save_model(self, request: HttpRequest, obj: Prediction, form, change: bool) -> None:
        try:
            services.prediction_feedback_set(prediction=obj, actual=form.cleaned_data["actual"],
                                             note=form.cleaned_data.get("feedback_note", ""), reviewer=request.user)
        except HistoryUnavailable as exc:
            self.message_user(request, str(exc), messages.ERROR)

    # --- bulk actions -------------------------------------------------------------------------------------------
    @admin.action(description="Mark selected predictions as reviewed", permissions=["change"])
    def mark_reviewed(self, request: HttpRequest, queryset) -> None:
        count = services.predictions_mark_reviewed(queryset=queryset, reviewer=request.user)
        self.message_user(request, f"{count} prediction(s) marked as reviewed.", messages.SUCCESS)

    @admin.action(description="Export selected predictions as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset) -> StreamingHttpResponse:
        response = StreamingHttpResponse(_export_lines(queryset.order_by("-created_at", "-id")),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="predictions.csv"'
        return response

    # --- model versions page -------------------------------------------------------------------------------------
    def get_urls(self):
        extra = [path("models/", self.admin_site.admin_view(self.model_versions_view),
                      name="predictions_prediction_models")]
        return extra + super().get_urls()

    def model_versions_view(self, request: HttpRequest) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "title": "Model versions", "opts": self.model._meta,
                   "models": selectors.model_list()}
        return TemplateResponse(request, "admin/predictions/model_versions.html", context)


EXPORT_FIELDS = ["id", "request_id", "created_at", "model_name", "model_version", "channel", "status", "inputs",
                 "outputs", "error", "latency_ms", "client_ip", "batch_id", "actual", "feedback_note", "reviewed_at"]


def _export_lines(queryset) -> Iterator[str]:
    def rows() -> Iterator[list[Any]]:
        yield EXPORT_FIELDS
        for row in queryset.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000):
            yield [json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else
                   ("" if value is None else value) for value in row]

    return csv_lines(rows())


def _is_staff(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_staff


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@admin.register(PredictionBatch)
class PredictionBatchAdmin(admin.ModelAdmin):
    list_display = ["created_at", "model_name", "model_version", "channel", "source_name", "rows_total", "rows_ok",
                    "rows_rejected", "rows_error", "predictions_link"]
    list_filter = ["channel"]
    date_hierarchy = "created_at"
    search_fields = ["request_id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = [f.name for f in PredictionBatch._meta.fields] + ["predictions_link"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        try:
            return queryset.filter(request_id=uuid.UUID(search_term.strip())), False
        except ValueError:
            return (queryset.none() if search_term.strip() else queryset), False

    @admin.display(description="rows")
    def predictions_link(self, obj: PredictionBatch) -> str:
        url = reverse("admin:predictions_prediction_changelist") + f"?batch__id__exact={obj.pk}"
        return format_html('<a href="{}">{} rows</a>', url, obj.rows_total)


# --- the model catalogue ------------------------------------------------------------------------------------------
class RegisterModelForm(forms.Form):
    """A model card and a skops file: never a pickle over the web (a skops file cannot run code when loaded)."""

    card = forms.FileField(label="Model card", help_text="YAML or JSON (schema: /api/model-card.schema.json).")
    model = forms.FileField(label="Model file", help_text="Saved with skops.io.dump(model, \"model.skops\").")
    reference = forms.FileField(label="Reference sample", required=False,
                                help_text="Optional CSV of typical inputs: the baseline of the dashboard's drift.")


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    fields = ["version", "source", "estimator", "sha256", "size_bytes", "created_at", "created_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    """Every model served: its versions, the pinned default; superusers register new models and versions here."""

    list_display = ["name", "title", "task", "served_version", "version_count", "updated_at"]
    readonly_fields = ["name", "title", "task", "created_at", "created_by", "updated_at"]
    fields = ["name", "title", "task", "pinned_version", "created_at", "created_by", "updated_at"]
    inlines = [ModelVersionInline]
    add_form_template = "admin/predictions/registeredmodel/register.html"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(versions_count=Count("versions"),
                                                      newest=Max("versions__version"))

    @admin.display(description="served version")
    def served_version(self, obj: RegisteredModel) -> str:
        version = obj.pinned_version or obj.newest
        return f"v{version} (pinned)" if obj.pinned_version else (f"v{version}" if version else "—")

    @admin.display(description="versions", ordering="versions_count")
    def version_count(self, obj: RegisteredModel) -> int:
        return obj.versions_count

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are removed one by one (their files retired), not a whole model's history at once

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RegisterModelForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            files = form.cleaned_data
            too_big = [f.name for f in (files["card"], files["model"], files["reference"])
                       if f is not None and f.size > settings.MODEL_UPLOAD_MAX_SIZE]
            if too_big:
                problems = [f"{name}: larger than MODEL_UPLOAD_MAX_SIZE ({settings.MODEL_UPLOAD_MAX_SIZE:,} bytes)."
                            for name in too_big]
            else:
                try:
                    row = catalogue.model_register(
                        card=files["card"].read(), artifact=files["model"].read(), source=ModelVersion.Source.ADMIN,
                        user=request.user, reference_csv=files["reference"].read() if files["reference"] else None)
                except RegistrationRefused as exc:
                    problems = exc.problems
                else:
                    self.message_user(request, f"{row.model.name} v{row.version} registered and served.",
                                      messages.SUCCESS)
                    return redirect(reverse("admin:predictions_registeredmodel_change", args=[row.model.pk]))
        context = {**self.admin_site.each_context(request), "title": "Register a model", "opts": self.model._meta,
                   "form": form, "problems": problems, **(extra_context or {})}
        return TemplateResponse(request, self.add_form_template, context, status=400 if problems else 200)

    def save_model(self, request: HttpRequest, obj: RegisteredModel, form, change: bool) -> None:
        if "pinned_version" in form.changed_data:
            try:
                catalogue.model_pin(name=obj.name, version=obj.pinned_version and str(obj.pinned_version),
                                    user=request.user)
            except ml.ModelNotFound as exc:
                self.message_user(request, str(exc), messages.ERROR)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["model", "version", "source", "estimator", "created_at", "created_by"]
    list_filter = ["model", "source"]
    readonly_fields = ["model", "version", "source", "estimator", "sha256", "size_bytes", "metrics", "card",
                       "created_at", "created_by"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def delete_model(self, request: HttpRequest, obj: ModelVersion) -> None:
        catalogue.version_remove(name=obj.model.name, version=str(obj.version), user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for row in list(queryset.select_related("model")):
            self.delete_model(request, row)
