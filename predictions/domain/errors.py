"""Domain errors raised by the service layer. One exception handler per surface turns each into HTTP."""

from __future__ import annotations

from ml.errors import InvalidInput, ModelNotFound, ModelUnavailable, ScoringError

__all__ = [
    "BatchTooLarge",
    "DuplicateRequestId",
    "HistoryUnavailable",
    "InvalidInput",
    "ModelNotFound",
    "ModelUnavailable",
    "ScoringError",
]


class HistoryUnavailable(Exception):
    """Strict mode: the prediction could not be committed to the history, so it must not be answered."""


class DuplicateRequestId(Exception):
    """The client's X-Request-ID already names another recorded request."""


class BatchTooLarge(Exception):
    """More rows in one request than PREDICT_MAX_BATCH_ROWS / BATCH_UPLOAD_MAX_ROWS allow."""
