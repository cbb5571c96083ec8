"""Matching request paths against the URL prefixes named in settings."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from django.conf import settings


class PathSet:
    """URL prefixes as settings list them: "/api/" covers everything under it; "/predict" covers "/predict" and
    "/predict/..." but not "/predictions/" (a bare startswith would). Paths under an exception are not covered."""

    def __init__(self, entries: Iterable[str], exceptions: Iterable[str] = ()) -> None:
        entries = tuple(entries)
        self.exact = frozenset(e for e in entries if not e.endswith("/"))
        self.prefixes = tuple(e if e.endswith("/") else e + "/" for e in entries)
        self.exceptions = PathSet(exceptions) if exceptions else None

    def __contains__(self, path: str) -> bool:
        if self.exceptions is not None and path in self.exceptions:
            return False
        return path in self.exact or path.startswith(self.prefixes)


@cache
def _json_paths(entries: tuple[str, ...], exceptions: tuple[str, ...]) -> PathSet:
    return PathSet(entries, exceptions)


def json_paths() -> PathSet:
    """settings.JSON_PATHS minus settings.JSON_PATH_EXCEPTIONS: where errors are JSON and pages' CSP is skipped."""
    return _json_paths(tuple(settings.JSON_PATHS), tuple(settings.JSON_PATH_EXCEPTIONS))
