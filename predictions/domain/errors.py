"""The domain's errors: the model layer's (re-exported, so that every surface imports them from here) and the
service layer's own. Each carries its stable ``code`` and whether the client should retry (``retry_after``); how
each is answered over HTTP is decided in one table, predictions/http/statuses.py."""

from __future__ import annotations

from ml import ArtifactRefused, InvalidInput, MLError, ModelNotFound, ModelUnavailable, ScoringError

__all__ = [
    "ArtifactRefused",
    "BatchTooLarge",
    "DatabaseUnavailable",
    "DomainError",
    "DuplicateRequestId",
    "HistoryUnavailable",
    "InvalidInput",
    "MLError",
    "ModelNotFound",
    "ModelUnavailable",
    "RegistrationRefused",
    "ScoringError",
    "error_code",
]


class DomainError(Exception):
    code = "error"
    retry_after = False  # True: the condition passes; the client is told when to try again (HISTORY_RETRY_AFTER)


class HistoryUnavailable(DomainError):
    """Strict mode: the prediction could not be committed to the history, so it must not be answered."""

    code = "history_unavailable"
    retry_after = True


class DatabaseUnavailable(HistoryUnavailable):
    """The database did not answer a read (a page, the admin): answered like HistoryUnavailable."""

    code = "database_unavailable"


class DuplicateRequestId(DomainError):
    """The client's X-Request-ID already names another recorded request."""

    code = "duplicate_request_id"


class BatchTooLarge(DomainError):
    """More rows in one request than PREDICT_MAX_BATCH_ROWS / BATCH_UPLOAD_MAX_ROWS allow."""

    code = "too_many_rows"


class RegistrationRefused(DomainError):
    """A model that cannot be registered; ``problems`` says every reason (nothing was changed)."""

    code = "registration_refused"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("The model was not registered: " + "; ".join(problems[:10])
                         + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""))
        self.problems = problems


def error_code(exc: Exception) -> str:
    """The code a recorded error is filed under: the domain's own, or a protocol error's (DRF's default_code)."""
    return str(getattr(exc, "code", None) or getattr(exc, "default_code", None) or "error")
