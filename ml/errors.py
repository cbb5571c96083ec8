"""Errors the model layer raises; the web layer turns each into one HTTP status."""

from __future__ import annotations


class MLError(Exception):
    """Base class of the model layer's own errors."""


class InvalidInput(MLError):
    """The features do not satisfy the model's schema. ``fields`` maps a field name to its messages."""

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ModelNotFound(MLError):
    """No such model, or no such version of it."""


class ArtifactRefused(MLError):
    """An artifact on disk failed verification (checksum, library version, schema) and will not be served."""


class ModelUnavailable(MLError):
    """The model exists but cannot be served: never trained, or its artifact was refused at start-up."""


class ScoringError(MLError):
    """The model raised while scoring validated input."""
