"""Make arbitrary client payloads safe to store as JSON history.

Rejected requests are recorded with a copy of what the client sent, which may be anything a JSON parser accepts:
megabytes of text, thousands of nesting levels, NUL characters or lone surrogates that Postgres' jsonb refuses.
The copy keeps the shape for reviewers but is bounded in size and depth and always storable.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_CHARS = 4096
MAX_DEPTH = 8
MAX_ITEMS = 50


def storable(value: Any, *, max_chars: int = MAX_CHARS) -> Any:
    """A JSON value safe for jsonb and at most about ``max_chars`` long once serialised."""
    cleaned = _clean(value, MAX_DEPTH)
    text = json.dumps(cleaned, ensure_ascii=False)
    if len(text) <= max_chars:
        return cleaned
    return {"truncated": True, "size": len(text), "preview": text[:max_chars]}


def _clean(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if value is None or isinstance(value, bool | int):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            return clean_text(str(value)[:64])
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth <= 0:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())
        out = {clean_text(str(k))[:200]: _clean(v, depth - 1) for k, v in items[:MAX_ITEMS]}
        if len(items) > MAX_ITEMS:
            out["…"] = f"{len(items) - MAX_ITEMS} more keys"
        return out
    if isinstance(value, list | tuple):
        out = [_clean(v, depth - 1) for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            out.append(f"… {len(value) - MAX_ITEMS} more items")
        return out
    return clean_text(repr(value))[:200]


def clean_text(text: str) -> str:
    """Drop what Postgres cannot store in text or jsonb: NUL characters and unpaired surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text
