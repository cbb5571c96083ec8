"""Who may open a result page, and the private links that open one.

Request ids are not secrets: a client chooses its own with X-Request-ID. So a result page (one prediction, or one
batch with its scored CSV) opens only for
- whoever may read the history (staff, or the predictions.view_prediction permission),
- the signed-in user who made it,
- a visitor holding the link mlsite generated for it: the page's address plus ``?key=``, an HMAC of the kind of page
  and the request id under SECRET_KEY (django.core.signing). Only mlsite can make one; rotating SECRET_KEY voids them.
Anyone else gets the same 404 as for an id that was never recorded, so a page's existence is not disclosed either.
"""

from __future__ import annotations

import uuid

from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from predictions.http.permissions import can_read_history

KEY_PARAMETER = "key"


def _key(kind: str, request_id: uuid.UUID | str) -> str:
    return signing.Signer(salt=f"mlsite.links.{kind}").signature(str(request_id))


def _url(name: str, kind: str, request_id: uuid.UUID | str) -> str:
    return f"{reverse(name, args=[request_id])}?{KEY_PARAMETER}={_key(kind, request_id)}"


def prediction_url(request_id: uuid.UUID | str) -> str:
    """The private address of one prediction's result page."""
    return _url("prediction-detail", "prediction", request_id)


def batch_url(request_id: uuid.UUID | str) -> str:
    """The private address of a batch's summary page."""
    return _url("batch-detail", "batch", request_id)


def batch_download_url(request_id: uuid.UUID | str) -> str:
    """The private address of a batch's scored CSV."""
    return _url("batch-download", "batch", request_id)


def may_open(request: HttpRequest, record, *, kind: str) -> bool:
    """Whether ``request`` may see ``record`` (a Prediction or a PredictionBatch) on its page; ``kind`` names the
    page family: "prediction" or "batch"."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        if can_read_history(user):
            return True
        if record.user_id is not None and record.user_id == user.pk:
            return True
    given = request.GET.get(KEY_PARAMETER, "")
    return bool(given) and constant_time_compare(given, _key(kind, record.request_id))
