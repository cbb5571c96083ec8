"""HTML pages. Thin: read through selectors, write through services, render templates."""

from __future__ import annotations

import csv
import json
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ml import InvalidInput, ModelNotFound, ModelUnavailable, ScoringError
from predictions.domain import selectors, services
from predictions.domain.errors import DuplicateRequestId, HistoryUnavailable
from predictions.domain.selectors import model_list
from predictions.http import access, error_pages, throttling
from predictions.http.display import error_text, money
from predictions.http.origin import origin_for
from predictions.models import Channel, Status
from predictions.pages import csvio, links
from predictions.pages.forms import CsvUploadForm, FeatureForm, HistoryFilterForm, initial_from


def home(request: HttpRequest) -> HttpResponse:
    base = request.build_absolute_uri("/").rstrip("/")
    cards = []
    for info in model_list():
        example = info.card.schema.example()
        cards.append({
            "info": info,
            "curl": (
                f"curl -s -X POST {base}/api/models/{info.name}/predict \\\n"
                f"  -H 'Content-Type: application/json' \\\n"
                f"  -d '{json.dumps(example)}'"
            ),
        })
    return render(request, "home.html", {"cards": cards})


def _model_or_404(name: str) -> selectors.ModelInfo:
    try:
        return selectors.model_get(name=name)
    except ModelNotFound as exc:
        raise Http404(str(exc)) from exc


# --- one prediction through a form ----------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def model_form(request: HttpRequest, name: str) -> HttpResponse:
    """GET: the form, prefilled with an example (or the inputs of an earlier prediction passed in the query string).
    POST: score and record, then Post/Redirect/Get to the result page; invalid input re-renders with field errors."""
    info = _model_or_404(name)
    schema = info.card.schema
    if request.method == "GET":
        form = FeatureForm(schema, initial=initial_from(schema, request.GET))
        return render(request, "predictions/form.html", {"info": info, "form": form})
    if refusal := access.check_predict(request, session=True):
        return error_pages.refused(request, refusal)
    form = FeatureForm(schema, request.POST)
    form.is_valid()  # the fields are plain text; the schema (in the service) is the validation
    try:
        row = services.prediction_create(model_name=name, inputs=form.features(),
                                         origin=origin_for(request, Channel.FORM))
    except InvalidInput as exc:
        form.add_schema_errors(exc.fields or {"__all__": [str(exc)]})
        return render(request, "predictions/form.html", {"info": info, "form": form}, status=400)
    except ScoringError:
        return redirect(links.prediction_url(request.request_id))  # recorded with status "error"
    except (ModelUnavailable, HistoryUnavailable, DuplicateRequestId) as exc:
        return error_pages.not_taken(request, exc, "Reload the form and submit it again.")
    return redirect(links.prediction_url(row.request_id))


def prediction_detail(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """The result page: for its owner, history readers and holders of its private link (predictions.pages.links)."""
    row = selectors.prediction_get_by_request_id(request_id=request_id)
    if row is None or not links.may_open(request, row, kind="prediction"):
        raise Http404("No prediction with this id.")
    card = selectors.card_for(row.model_name, row.model_version)
    outputs = row.outputs if isinstance(row.outputs, dict) else {}
    probabilities = [
        {"label": label, "value": value, "percent": round(value * 100, 1), "best": label == outputs.get("label")}
        for label, value in (outputs.get("probabilities") or {}).items()
    ]
    inputs = []
    if isinstance(row.inputs, dict):
        for key, value in row.inputs.items():
            feature = _feature(card, key)
            inputs.append({"name": key, "label": feature.label if feature else key,
                           "unit": getattr(feature, "unit", "") if feature else "", "value": value})
    again = None
    if card is not None and row.status != Status.REJECTED and isinstance(row.inputs, dict):
        given = {k: v for k, v in row.inputs.items() if k in card.schema.accepted_names}
        derivation = card.schema.derivations[0] if card.schema.derivations else None
        if derivation and all(s in given for s in derivation.source_names):
            given.pop(derivation.target, None)  # x, y, z were given: volume was computed from them
        again = f"{reverse('model-form', args=[row.model_name])}?{urlencode(given)}"
    return render(request, "predictions/result.html", {
        "row": row, "card": card, "outputs": outputs, "probabilities": probabilities, "inputs": inputs,
        "errors": error_text(row.error), "again": again,
    })


def _feature(card, name: str):
    if card is None:
        return None
    try:
        return card.schema.feature(name)
    except KeyError:
        return None


# --- CSV batches ----------------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def batch_upload(request: HttpRequest, name: str) -> HttpResponse:
    info = _model_or_404(name)
    context = {"info": info, "max_rows": settings.BATCH_UPLOAD_MAX_ROWS,
               "max_mb": settings.FILE_UPLOAD_MAX_SIZE // (1024 * 1024),
               "columns": ",".join(info.card.schema.example())}
    if request.method == "GET":
        return render(request, "predictions/batch.html", {**context, "form": CsvUploadForm()})
    if refusal := access.check_predict(request, session=True):
        return error_pages.refused(request, refusal)
    origin = origin_for(request, Channel.BATCH)
    too_big = _content_length(request) > settings.FILE_UPLOAD_MAX_SIZE + 64 * 1024  # multipart framing
    form = CsvUploadForm(data=None if too_big else request.POST, files=None if too_big else request.FILES)
    upload = None
    if too_big:
        problem = f"The file is larger than {context['max_mb']} MB; split it into smaller files."
    elif not form.is_valid():
        problem = " ".join(form.errors.get("file", ["Choose a CSV file to upload."]))
    else:
        upload = form.cleaned_data["file"]
        problem = None
        if upload.size > settings.FILE_UPLOAD_MAX_SIZE:
            problem = f"The file is larger than {context['max_mb']} MB; split it into smaller files."
    try:
        if problem is None:
            rows = csvio.read_rows(upload.file, info.card.schema, max_rows=settings.BATCH_UPLOAD_MAX_ROWS)
            throttling.charge(request, len(rows) - 1)
            outcome = services.prediction_batch_create(
                model_name=name, rows=[info.card.schema.parse_text_row(row) for row in rows], origin=origin,
                source_name=upload.name or "", max_rows=settings.BATCH_UPLOAD_MAX_ROWS, partial=True)
            return redirect(links.batch_url(outcome.batch.request_id))
    except csvio.CsvProblem as exc:
        problem = str(exc)
    except (ModelUnavailable, HistoryUnavailable, DuplicateRequestId) as exc:
        return error_pages.not_taken(request, exc, "Upload the file again.")
    sent = None if too_big else request.FILES.get("file")
    file_name = getattr(upload or sent, "name", "") or ""
    try:
        services.prediction_reject(model_name=name, raw={"file": file_name[:255]}, origin=origin,
                                   error=InvalidInput(problem, fields={"file": [problem]}))
    except HistoryUnavailable:
        return error_pages.service_unavailable(request)
    form = CsvUploadForm()
    form.errors["file"] = form.error_class([problem])
    return render(request, "predictions/batch.html", {**context, "form": form, "problem": problem},
                  status=413 if too_big else 400)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def batch_template(request: HttpRequest, name: str) -> HttpResponse:
    info = _model_or_404(name)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-template.csv"'
    csv.writer(response).writerows(csvio.template_rows(info.card.schema))
    return response


REJECTED_SHOWN = 200


def _batch_or_404(request: HttpRequest, request_id: uuid.UUID):
    batch = selectors.batch_get_by_request_id(request_id=request_id)
    if batch is None or not links.may_open(request, batch, kind="batch"):
        raise Http404("No batch with this id.")
    return batch


def batch_detail(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    batch = _batch_or_404(request, request_id)
    refused = []
    for number, row in selectors.batch_problem_rows(batch=batch, limit=REJECTED_SHOWN):
        refused.append({"number": number, "status": row.status, "reasons": error_text(row.error)})
    return render(request, "predictions/batch_result.html", {
        "batch": batch, "refused": refused, "more_refused": batch.rows_rejected + batch.rows_error - len(refused),
        "preview": selectors.batch_rows(batch=batch)[:10],
    })


def batch_download(request: HttpRequest, request_id: uuid.UUID) -> StreamingHttpResponse:
    batch = _batch_or_404(request, request_id)
    card = selectors.card_for(batch.model_name, batch.model_version)
    if card is None:
        raise Http404("This batch's model is not served any more.")
    records = selectors.batch_rows(batch=batch).iterator(chunk_size=2000)
    response = StreamingHttpResponse(csvio.result_lines(card.schema, card.labels, records),
                                     content_type="text/csv; charset=utf-8")
    stem = (batch.source_name.rsplit(".", 1)[0] or batch.model_name)[:80]
    safe_stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)
    response["Content-Disposition"] = f'attachment; filename="{safe_stem}-scored.csv"'
    return response


# --- history (staff) ------------------------------------------------------------------------------------------------
HISTORY_PAGE = 50


@staff_member_required
def history(request: HttpRequest) -> HttpResponse:
    """Newest first, filtered, in pages of 50 by keyset (fast at any depth: no OFFSET, no COUNT)."""
    names = [info.name for info in model_list()]
    form = HistoryFilterForm(names, request.GET or None)
    filters = form.selector_filters() if form.is_bound and form.is_valid() else {}
    cursor = selectors.HistoryCursor.parse(request.GET.get("after"))
    rows = list(selectors.prediction_page(filters=filters, after=cursor, size=HISTORY_PAGE + 1))
    next_cursor = selectors.HistoryCursor.of(rows[HISTORY_PAGE - 1]) if len(rows) > HISTORY_PAGE else None
    rows = rows[:HISTORY_PAGE]
    query = {k: v for k, v in request.GET.items() if k != "after" and v}
    return render(request, "predictions/history.html", {
        "form": form, "rows": [_history_row(row) for row in rows],
        "next_url": f"?{urlencode({**query, 'after': str(next_cursor)})}" if next_cursor else None,
        "first_url": f"?{urlencode(query)}" if cursor else None,
    })


def _history_row(row) -> dict:
    outputs = row.outputs if isinstance(row.outputs, dict) else {}
    if row.status == Status.OK:
        summary = outputs.get("label") or money(outputs.get("prediction"))
    else:
        summary = error_text(row.error)
    return {"row": row, "summary": summary}
