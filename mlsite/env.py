"""Typed readers for the environment that fail loudly.

A typo in production configuration (``DJANGO_DEBUG=ture``) must stop start-up with a message naming the variable,
never fall back to a default silently — django-environ's own ``bool()`` treats any unknown word as False, so the
scalar readers live here and django-environ is used only for what it does well: parsing database and cache URLs.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = _raw(name)
    if value is None:
        if required:
            raise ImproperlyConfigured(f"{name} must be set.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_choice(name: str, default: str, choices: Sequence[str]) -> str:
    value = _raw(name)
    if value is None:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of: {', '.join(choices)}.")
    return value


def env_list(name: str, default: Sequence[str] = ()) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name: str, default: str) -> dict:
    url = _raw(name) or default
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # noqa: BLE001 - django-environ raises assorted exceptions for bad URLs
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    if not str(config.get("ENGINE", "")).startswith("django.db.backends."):
        scheme = url.split(":", 1)[0]
        raise ImproperlyConfigured(f"{name}: unsupported database {scheme!r}; use postgres://… or sqlite:///….")
    return config


def env_cache(name: str) -> dict | None:
    url = _raw(name)
    if url is None:
        return None
    try:
        return environ.Env.cache_url_config(url)
    except Exception as exc:  # noqa: BLE001 - as above
        raise ImproperlyConfigured(f"{name} is not a valid cache URL: {exc}") from None


def local_secret_key(path: Path) -> str:
    """A development site's secret key: random, created once at ``path`` (readable by its owner only), then reused.

    Never a fixed string, so no two development sites share a key and no key is published with the code. Written to a
    temporary file and linked into place, so concurrent first starts agree on one key and never read half of one.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")  # created mode 0600
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(50) + "\n")
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process published its key first: that one is used
        finally:
            os.unlink(temporary)
    return path.read_text().strip()
