"""Errors the model layer raises. Each carries a stable ``code`` (recorded in the history, shown to clients); the
web layer's one table (predictions/http/statuses.py) decides how each is answered. Nothing here knows about HTTP."""

from __future__ import annotations


class MLError(Exception):
    """Base class of the model layer's own errors."""

    code = "model_error"


class InvalidInput(MLError):
    """The features do not satisfy the model's schema. ``fields`` maps a field name to its messages."""

    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ModelNotFound(MLError):
    """No such model, or no such version of it."""

    code = "not_found"


class ArtifactRefused(MLError):
    """An artifact on disk failed verification (checksum, library version, schema) and will not be served."""

    code = "artifact_refused"


class ModelUnavailable(MLError):
    """The model exists but cannot be served: never trained, or its artifact was refused at start-up."""

    code = "model_unavailable"


class ScoringError(MLError):
    """The model raised while scoring validated input."""

    code = "model_error"
