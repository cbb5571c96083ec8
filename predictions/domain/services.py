"""Writes to the prediction history. Every channel (API, form, CSV batch, legacy, V2, MLflow) scores through here.

Flow: resolve the model → validate with its ml schema → score → record → return. Rejected inputs and model
failures are recorded too. In strict mode (the default) nothing is returned unless its row is committed; in
best_effort mode the answer goes out anyway and the lost row is counted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, Error, IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

import ml
from ml import InvalidInput, LoadedModel, ModelNotFound, ModelUnavailable, ScoringError
from predictions.domain import metrics, writer
from predictions.domain.errors import BatchTooLarge, DuplicateRequestId, HistoryUnavailable, error_code
from predictions.domain.payloads import clean_text, storable
from predictions.domain.serving import get_registry
from predictions.models import Channel, Prediction, PredictionBatch, Status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Who asked and through which door; copied onto every row a request writes."""

    channel: str
    request_id: uuid.UUID | None = None
    user: Any = None
    client_ip: str | None = None

    def row_fields(self) -> dict[str, Any]:
        user = self.user if getattr(self.user, "is_authenticated", False) else None
        return {"channel": self.channel, "user": user, "client_ip": self.client_ip}


def prediction_create(
    *,
    model_name: str,
    inputs: Any,
    origin: Origin,
    version: str | None = None,
) -> Prediction:
    """Score one input and record it. Raises InvalidInput, ModelNotFound, ModelUnavailable, ScoringError (each
    after recording a row) or HistoryUnavailable / DuplicateRequestId (nothing recorded).

    A retry carrying the X-Request-ID of a prediction already recorded with the same model, channel and inputs gets
    that recorded prediction back (``row.replayed`` is True) instead of a second row: a client that lost the answer
    to a timeout or a dropped connection can safely ask again.
    """
    request_id = origin.request_id or uuid.uuid4()
    row = Prediction(request_id=request_id, model_name=_label(model_name, 64), model_version=_label(version, 16),
                     **origin.row_fields())
    try:
        model = get_registry().get(model_name, version)
        row.model_version = model.version
        clean = model.card.schema.validate(inputs)
    except (InvalidInput, ModelNotFound, ModelUnavailable) as exc:
        _refuse(row, inputs, exc, resolved=not isinstance(exc, ModelNotFound))
        raise
    started = time.perf_counter()
    try:
        result = model.predict([clean])[0]
    except ScoringError as exc:
        _fail(row, clean, exc, started)
        raise
    row.latency_ms = (time.perf_counter() - started) * 1000
    row.status = Status.OK
    row.inputs = clean
    row.outputs = result
    try:
        _save([row])
    except DuplicateRequestId:
        replay = _replay(row)
        if replay is None:
            raise
        return replay
    _observe(row)
    return row


def _replay(row: Prediction) -> Prediction | None:
    """The recorded prediction a retry of ``row`` should get back, or None (the client then hears 409, and nothing of
    what was recorded). Only the principal who made it gets it: a request id is chosen by the client, so knowing one
    must not be enough to read someone else's answer."""
    existing = Prediction.objects.filter(request_id=row.request_id).first()
    same = (existing is not None and existing.status == Status.OK and same_principal(existing, row)
            and existing.model_name == row.model_name and existing.model_version == row.model_version
            and existing.channel == row.channel and existing.inputs == row.inputs)
    if not same:
        return None
    existing.replayed = True
    return existing


def same_principal(recorded: Prediction | PredictionBatch, asking: Prediction | PredictionBatch) -> bool:
    """Whether two records were made by the same principal: the same user, or for anonymous callers (and the
    CSRF-exempt channels, which never attach a session user) the same client address."""
    if recorded.user_id is not None or asking.user_id is not None:
        return recorded.user_id == asking.user_id
    return recorded.client_ip == asking.client_ip


def prediction_reject(
    *, model_name: str, raw: Any, error: Exception, origin: Origin, version: str | None = None
) -> None:
    """Record a request refused before it reached the schema (a legacy body of the wrong shape, an unparseable
    V2 tensor, a CSV that is not CSV). The caller raises ``error`` itself afterwards."""
    if version is None:
        try:
            version = get_registry().default_version(model_name)
        except ModelNotFound:
            version = None
    row = Prediction(request_id=origin.request_id or uuid.uuid4(), model_name=_label(model_name, 64),
                     model_version=_label(version, 16), **origin.row_fields())
    _refuse(row, raw, error)


@dataclass
class BatchOutcome:
    batch: PredictionBatch
    rows: list[Prediction] = field(default_factory=list)  # in input order
    replayed: bool = False  # a retry answered from the recorded batch


def prediction_batch_create(
    *,
    model_name: str,
    rows: Sequence[Any],
    origin: Origin,
    version: str | None = None,
    source_name: str = "",
    max_rows: int | None = None,
    partial: bool = True,
) -> BatchOutcome:
    """Validate every row, score the valid ones in one vectorised call and insert everything in one transaction.

    Invalid rows are recorded as rejected with their field errors. With ``partial`` (CSV uploads) the valid rows are
    scored anyway; without it (API clients) one invalid row refuses the whole batch: every row is recorded as
    rejected and InvalidInput is raised with the errors keyed by row index ("3.carat").
    """
    limit = max_rows or settings.PREDICT_MAX_BATCH_ROWS
    request_id = origin.request_id or uuid.uuid4()
    if len(rows) > limit or len(rows) == 0:
        whole = Prediction(request_id=request_id, model_name=_label(model_name, 64),
                           model_version=_label(version, 16), **origin.row_fields())
        if len(rows) == 0:
            exc: Exception = InvalidInput("The batch is empty.",
                                          fields={"non_field_errors": ["Send at least one row."]})
        else:
            exc = BatchTooLarge(f"{len(rows)} rows sent; at most {limit} rows per request.")
        _refuse(whole, {"rows": len(rows), "first": rows[0] if rows else None}, exc)
        raise exc
    try:
        model = get_registry().get(model_name, version)
    except (ModelNotFound, ModelUnavailable) as exc:
        whole = Prediction(request_id=request_id, model_name=_label(model_name, 64),
                           model_version=_label(version, 16), **origin.row_fields())
        _refuse(whole, {"rows": len(rows), "first": rows[0]}, exc)
        raise
    batch = PredictionBatch(request_id=request_id, model_name=model.name, model_version=model.version,
                            source_name=source_name[:255], rows_total=len(rows), digest=rows_digest(rows),
                            **origin.row_fields())
    replay = _batch_replay(batch) if origin.request_id is not None else None
    if replay is not None and not _rejected_whole(replay.batch, partial):
        return replay  # answered from the record, not scored again
    common = {"model_name": model.name, "model_version": model.version, **origin.row_fields()}
    records: list[Prediction] = []
    valid: list[tuple[Prediction, dict[str, Any]]] = []
    for raw in rows:
        record = Prediction(request_id=uuid.uuid4(), batch=batch, **common)
        try:
            clean = model.card.schema.validate(raw)
        except InvalidInput as exc:
            record.status = Status.REJECTED
            record.inputs = _raw_inputs(raw)
            record.error = _error_body(exc)
        else:
            valid.append((record, clean))
        records.append(record)
    if not partial and len(valid) < len(records):
        _refuse_batch(batch, records, valid, model, record=replay is None)
    started = time.perf_counter()
    try:
        results = model.predict([clean for _, clean in valid])
    except ScoringError as exc:
        results = None
        for record, clean in valid:
            record.status, record.inputs, record.error = Status.ERROR, clean, _error_body(exc)
    batch.latency_ms = (time.perf_counter() - started) * 1000
    per_row = batch.latency_ms / max(len(valid), 1)
    for index, (record, clean) in enumerate(valid):
        if results is not None:
            record.status, record.inputs, record.outputs = Status.OK, clean, results[index]
            record.latency_ms = per_row
    batch.rows_ok = sum(r.status == Status.OK for r in records)
    batch.rows_rejected = sum(r.status == Status.REJECTED for r in records)
    batch.rows_error = sum(r.status == Status.ERROR for r in records)
    metrics.BATCH_ROWS.labels(model.name, origin.channel).observe(len(records))
    for status in (Status.OK, Status.REJECTED, Status.ERROR):
        count = sum(r.status == status for r in records)
        if count:
            metrics.PREDICTIONS.labels(model.name, model.version, origin.channel, status).inc(count)
    metrics.PREDICTION_LATENCY.labels(model.name, model.version, origin.channel, "batch").observe(
        batch.latency_ms / 1000)
    try:
        _save(records, batch=batch)
    except DuplicateRequestId:  # a retry that raced its original: answered like any other retry
        if (replay := _batch_replay(batch)) is None:
            raise
        return replay
    return BatchOutcome(batch=batch, rows=records)


def rows_digest(rows: Sequence[Any]) -> str:
    """sha256 of a batch's rows as sent, so that a retry of the same batch can be told from another batch that
    reuses its request id."""
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def _batch_replay(batch: PredictionBatch) -> BatchOutcome | None:
    """The recorded batch a retry (same X-Request-ID) gets back, as single predictions do: for the same principal,
    model, version, channel and rows. Another batch under a recorded id raises DuplicateRequestId (409), which
    discloses nothing of the recorded one; None when no batch has this id yet."""
    try:
        existing = PredictionBatch.objects.filter(request_id=batch.request_id).first()
    except Error as exc:
        _discard_broken_connection()
        if settings.PREDICTION_LOG_MODE == "strict":
            raise HistoryUnavailable("The prediction history is unavailable; nothing was answered. "
                                     "Retry later.") from exc
        return None  # best_effort: answered without a record anyway, so without looking for one
    if existing is None:
        return None
    same = (same_principal(existing, batch) and existing.model_name == batch.model_name
            and existing.model_version == batch.model_version and existing.channel == batch.channel
            and existing.digest == batch.digest)
    if not same:
        raise DuplicateRequestId(
            "This X-Request-ID was already used for another request; send a new one or omit the header.")
    return BatchOutcome(batch=existing, rows=list(existing.predictions.order_by("id")), replayed=True)


def _rejected_whole(batch: PredictionBatch, partial: bool) -> bool:
    """An all-or-nothing batch that was refused: its retry is validated again and answered with the same 400."""
    return not partial and batch.rows_ok == 0 and batch.rows_error == 0


# Errors of an all-or-nothing batch are listed for this many rows at most; the message counts the rest. An answer
# listing every row's errors would be larger than the request that caused it.
BATCH_ERRORS_SHOWN = 20


def _refuse_batch(batch: PredictionBatch, records: list[Prediction], valid: list, model: LoadedModel, *,
                  record: bool = True) -> None:
    """Refuse an all-or-nothing batch with an invalid row: every row is recorded as rejected (unless ``record`` is
    False: the retry of a batch refused before) and InvalidInput lists the errors keyed "<row>.<field>"."""
    not_scored = {"code": "batch_rejected", "message": "Not scored: other rows of this batch are invalid."}
    for row, clean in valid:
        row.status, row.inputs, row.error = Status.REJECTED, clean, not_scored
    batch.rows_rejected = len(records)
    if record:
        metrics.PREDICTIONS.labels(model.name, model.version, batch.channel, Status.REJECTED).inc(len(records))
        _save(records, batch=batch)
    bad = [index for index, row in enumerate(records) if row.error.get("fields")]
    fields = {f"{index}.{name}": messages for index in bad[:BATCH_ERRORS_SHOWN]
              for name, messages in records[index].error["fields"].items()}
    shown = ", ".join(str(i) for i in bad[:10]) + (" …" if len(bad) > 10 else "")
    listed = f"; errors listed for the first {BATCH_ERRORS_SHOWN}" if len(bad) > BATCH_ERRORS_SHOWN else ""
    raise InvalidInput(f"{len(bad)} of {len(records)} rows are invalid (rows {shown}){listed}; nothing was scored.",
                       fields=fields)


def prediction_feedback_set(*, prediction: Prediction, actual: Any, note: str = "", reviewer: Any) -> Prediction:
    """Record the true outcome of a prediction. ``actual`` is a class label (classifiers) or a positive number."""
    prediction.actual = feedback_card(prediction).validate_actual(actual)
    prediction.feedback_note = note
    prediction.reviewed_by = reviewer if getattr(reviewer, "is_authenticated", False) else None
    prediction.reviewed_at = timezone.now()
    try:
        prediction.save(update_fields=["actual", "feedback_note", "reviewed_by", "reviewed_at"])
    except Error as exc:
        _discard_broken_connection()
        raise HistoryUnavailable("The history store is unavailable; the feedback was not saved.") from exc
    return prediction


def feedback_card(prediction: Prediction) -> ml.ModelCard:
    """The card feedback on ``prediction`` is checked against: that of the version that answered it (the model's
    current one if that version was removed). InvalidInput when the model is not served any more."""
    registry = get_registry()
    try:
        try:
            return registry.card(prediction.model_name, prediction.model_version or None)
        except ModelNotFound:
            return registry.card(prediction.model_name)
    except (ModelNotFound, ModelUnavailable):
        raise InvalidInput("This prediction's model is not served any more; its feedback cannot be checked.",
                           fields={"actual": ["The model is not served any more."]}) from None


def predictions_mark_reviewed(*, queryset, reviewer: Any) -> int:
    """Mark predictions as looked at by ``reviewer`` (now), keeping any actual outcome already given."""
    try:
        return queryset.filter(reviewed_at__isnull=True).update(
            reviewed_by=reviewer if getattr(reviewer, "is_authenticated", False) else None,
            reviewed_at=timezone.now())
    except Error as exc:
        _discard_broken_connection()
        raise HistoryUnavailable("The history store is unavailable; nothing was marked.") from exc


# --- recording ----------------------------------------------------------------------------------------------------
def _refuse(row: Prediction, raw: Any, exc: Exception, *, resolved: bool = False) -> None:
    """Record a refused request. ``resolved``: the row's model name and version name a model that exists (not
    whatever a client put in the URL)."""
    row.status = Status.ERROR if isinstance(exc, ModelUnavailable | ScoringError) else Status.REJECTED
    row.inputs = _raw_inputs(raw)
    row.error = _error_body(exc)
    _observe(row, resolved=resolved)
    _save([row])


def _label(value: Any, length: int) -> str:
    """A model name or version from the URL, storable as text: Postgres refuses NUL characters."""
    return clean_text(str(value or ""))[:length]


def _raw_inputs(raw: Any) -> Any:
    # The column is NOT NULL and a JSON null would be read back as SQL NULL: say what was sent instead.
    return storable(raw) if raw is not None else {"body": None}


def _fail(row: Prediction, clean: dict[str, Any], exc: ScoringError, started: float) -> None:
    row.status = Status.ERROR
    row.inputs = clean
    row.error = _error_body(exc)
    row.latency_ms = (time.perf_counter() - started) * 1000
    _observe(row)
    _save([row])


def _error_body(exc: Exception) -> dict[str, Any]:
    """The error as the history records it: its code, message and field errors (no HTTP status: that is how one
    channel answers, not what happened)."""
    body: dict[str, Any] = {"code": error_code(exc), "message": storable(str(getattr(exc, "detail", exc)))}
    if isinstance(exc, InvalidInput) and exc.fields:
        body["fields"] = storable(exc.fields)
    return body


def _observe(row: Prediction, *, resolved: bool = True) -> None:
    name, version = (row.model_name, row.model_version) if resolved else _bounded(row.model_name, row.model_version)
    metrics.PREDICTIONS.labels(name, version, row.channel, row.status).inc()
    if row.latency_ms is not None:
        metrics.PREDICTION_LATENCY.labels(name, version, row.channel, row.status).observe(row.latency_ms / 1000)


def _bounded(name: str, version: str) -> tuple[str, str]:
    """Metric labels for a model name and version taken from a request: each becomes "unknown" unless it names a
    model (version) that exists, so that random names in URLs cannot add a time series each to /metrics."""
    if not get_registry().knows(name):
        return metrics.UNKNOWN, metrics.UNKNOWN
    if version and version not in get_registry().versions(name):
        return name, metrics.UNKNOWN
    return name, version


def _save(rows: list[Prediction], *, batch: PredictionBatch | None = None) -> bool:
    """Insert ``rows`` (and their batch) atomically. Strict mode raises HistoryUnavailable when that fails."""
    try:
        if batch is None and len(rows) == 1 and not connection.in_atomic_block:
            # One INSERT is atomic on its own and, in autocommit mode, committed when it returns: no BEGIN/COMMIT
            # round trips (a third of the database time of a single prediction). Inside a caller's transaction the
            # savepoint below keeps a failed insert from breaking that transaction.
            try:
                writer.insert_one(rows[0])
            except (OperationalError, InterfaceError):
                # Most likely a connection the server dropped while it sat idle (its health check is skipped when
                # it was used a moment ago, see mlsite/db/postgresql): replace it and try once more. Even if the
                # first attempt was committed after all, the retry is safe: the request id is unique, so it comes
                # back as a duplicate and the recorded answer is replayed.
                connection.close()
                writer.insert_one(rows[0])
            return True
        with transaction.atomic():
            if batch is not None:
                batch.save(force_insert=True)
            if batch is None and len(rows) == 1:
                rows[0].save(force_insert=True)
            else:
                for row in rows:
                    row.batch = batch  # re-assign so batch_id picks up the fresh primary key
                writer.insert_many(rows)
        return True
    except IntegrityError as exc:
        if _is_duplicate_request_id(exc):
            raise DuplicateRequestId(
                "This X-Request-ID was already used for another request; send a new one or omit the header."
            ) from exc
        raise  # any other constraint violation is a bug of ours, not an outage: let it be seen
    except (DatabaseError, Error) as exc:
        return _lost(rows, exc)


def _lost(rows: list[Prediction], exc: Exception) -> bool:
    mode = settings.PREDICTION_LOG_MODE
    metrics.HISTORY_WRITE_FAILURES.labels(mode).inc()
    _discard_broken_connection()
    if mode == "strict":
        log.warning("history unavailable, refusing to answer %d row(s): %s", len(rows), exc)
        raise HistoryUnavailable("The prediction history is unavailable; nothing was answered. Retry later.") from exc
    log.error("history unavailable, answering %d row(s) without a record (best_effort): %s", len(rows), exc)
    for row in rows:
        metrics.HISTORY_LOST_RECORDS.labels(row.model_name, row.channel).inc()
    return False


def _is_duplicate_request_id(exc: IntegrityError) -> bool:
    text = str(exc)
    return "request_id" in text or "UNIQUE constraint failed" in text


def _discard_broken_connection() -> None:
    """Drop a connection the server closed, so the next query reconnects instead of failing again.

    Inside an outer transaction (a test case, a caller's atomic block) the connection is left alone: closing it would
    end that transaction behind its owner's back.
    """
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()


__all__ = ["BatchOutcome", "Channel", "Origin", "prediction_batch_create", "prediction_create",
           "prediction_feedback_set", "prediction_reject"]
