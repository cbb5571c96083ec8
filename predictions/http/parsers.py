"""A JSON parser that holds the line on size and shape.

DRF's stock parser reads the body through a stream that bypasses DATA_UPLOAD_MAX_MEMORY_SIZE, and lets the
stdlib's RecursionError (deeply nested arrays) escape as a 500. This one refuses bodies over the limit with 413
before reading them and turns every decoding problem — invalid UTF-8, malformed JSON, NaN/Infinity, absurd
nesting — into a 400.
"""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than {limit} bytes.")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def read_bounded(request, stream) -> bytes:
    """Read at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes of the body, or raise PayloadTooLarge."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise PayloadTooLarge(limit)
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise PayloadTooLarge(limit)
    return body


def loads_strict(body: bytes, encoding: str = "utf-8"):
    """Decode a JSON body; ParseError for anything that is not a finite, reasonably nested JSON document."""
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise ParseError(f"Request body is not valid {encoding} text.") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ParseError("JSON parse error - nested too deeply.") from None
    except ValueError as exc:
        raise ParseError(f"JSON parse error - {exc}") from None


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context["request"]
        body = read_bounded(request, stream)
        try:
            return loads_strict(body, parser_context.get("encoding") or settings.DEFAULT_CHARSET)
        except ParseError as exc:
            exc.body_preview = body[:4096].decode("utf-8", "replace")  # recorded with the rejection
            raise
