"""Durations written the way operators type them: 90d, 12h, 30m, 45s, 2w."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """'90d' → timedelta(days=90). ValueError with a readable message otherwise."""
    match = _PATTERN.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a duration like 90d, 12h, 30m, 2w")
    amount, unit = int(match.group(1)), match.group(2)
    if amount <= 0:
        raise ValueError(f"{text!r}: the duration must be positive")
    return timedelta(**{_UNITS[unit]: amount})
