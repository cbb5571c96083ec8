"""Matching request paths against the URL prefixes named in settings."""

from __future__ import annotations


class PathSet:
    """URL prefixes as settings list them: "/api/" covers everything under it; "/predict" covers "/predict" and
    "/predict/..." but not "/predictions/" (a bare startswith would)."""

    def __init__(self, entries) -> None:
        entries = tuple(entries)
        self.exact = frozenset(e for e in entries if not e.endswith("/"))
        self.prefixes = tuple(e if e.endswith("/") else e + "/" for e in entries)

    def __contains__(self, path: str) -> bool:
        return path in self.exact or path.startswith(self.prefixes)
