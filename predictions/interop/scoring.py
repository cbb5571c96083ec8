"""What both protocols do once a request is read into feature rows: score and record them, or say why not."""

from __future__ import annotations

from typing import Any

from predictions.domain import services
from predictions.domain.services import Origin
from predictions.http.statuses import HttpError, http_error
from predictions.models import Prediction


def score_rows(*, name: str, rows: list[Any], origin: Origin,
               version: str | None = None) -> tuple[list[Prediction], HttpError | None]:
    """One row: one prediction. Several: an all-or-nothing batch (one invalid row refuses them all, every row
    recorded). Returns the recorded rows in input order, or the HTTP form of the domain error, whose message
    includes the first field errors (the protocols' error bodies have no separate field list)."""
    try:
        if len(rows) == 1:
            return [services.prediction_create(model_name=name, inputs=rows[0], origin=origin, version=version)], None
        outcome = services.prediction_batch_create(model_name=name, rows=rows, origin=origin, version=version,
                                                   partial=False)
        return outcome.rows, None
    except Exception as exc:
        error = http_error(exc)
        if error is None:
            raise
        if error.fields:
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in list(error.fields.items())[:20])
            error = HttpError(error.status, error.code, f"{error.message} {details}", error.fields, error.headers)
        return [], error
