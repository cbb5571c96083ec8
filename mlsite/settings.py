"""mlsite settings, read from the environment (see README "Configuration").

DEBUG is off unless DJANGO_DEBUG=1 says otherwise, and then DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS are required:
anything missing or malformed stops start-up. `make run` sets DJANGO_DEBUG=1 and needs nothing else: a SQLite file
under var/ and a random secret key kept there. Production sets DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and
DATABASE_URL.
"""

from __future__ import annotations

import re
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from mlsite.env import (
    env_bool,
    env_cache,
    env_choice,
    env_database,
    env_int,
    env_list,
    env_str,
    local_secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# Fail closed: production is the default. `make run` and the test settings turn DEBUG on explicitly.
DEBUG = env_bool("DJANGO_DEBUG", default=False)

if DEBUG:
    # No fixed fallback key: a development site gets a random key of its own, kept under var/ so that sessions
    # survive a restart of the dev server.
    SECRET_KEY = env_str("DJANGO_SECRET_KEY") or local_secret_key(VAR_DIR / "secret_key")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
else:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (the default). Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))' — or set DJANGO_DEBUG=1 for a local "
            "development site (`make run` does)."
        )
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off (comma-separated host names)."
        )

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "predictions",
]

MIDDLEWARE = [
    "predictions.monitoring.prometheus.RequestMetricsMiddleware",  # outermost: times the whole request
    "predictions.http.middleware.RequestIdMiddleware",
    "predictions.http.middleware.DatabaseErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "predictions.http.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "mlsite.urls"
WSGI_APPLICATION = "mlsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------------
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db["ENGINE"] = "mlsite.db.postgresql"  # Django's backend with cheaper health checks (see its docstring)
    # Persistent connections save a TCP + auth round trip per request; health checks make a connection that the
    # server dropped get replaced at the next request instead of failing it.
    _db["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 600, minimum=0)
    _db["CONN_HEALTH_CHECKS"] = env_bool("DB_CONN_HEALTH_CHECKS", True)
    _db.setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5, minimum=1))
    if env_bool("DB_PREPARED_STATEMENTS", True):
        # Server-side parameter binding lets psycopg prepare the statements a worker repeats (the history INSERT
        # above all) after a few executions: Postgres then skips parsing and planning them. Turn it off behind a
        # transaction-pooling PgBouncer, which cannot keep prepared statements per client.
        _db["OPTIONS"].update({"server_side_binding": True, "prepare_threshold": 5})
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] not in ("", ":memory:"):
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the dev server read while a write is in flight; busy timeout instead of "database is locked".
    _db.setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttling counters); shared across workers and hosts when REDIS_URL is set -----------------------------
CACHES = {"default": env_cache("REDIS_URL") or {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -------------------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
CSRF_FAILURE_VIEW = "predictions.http.error_pages.csrf_failure"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files: collected at build time, served by whitenoise ----------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
# Pre-compressing (gzip + brotli) makes collectstatic take most of a minute; DJANGO_STATIC_COMPRESS=0 skips it where
# nobody downloads the files (a throwaway check) or where the proxy in front compresses.
_STATIC_COMPRESS = env_bool("DJANGO_STATIC_COMPRESS", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage" if _STATIC_COMPRESS
        else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}

# --- Security (production) ------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Health and metrics are probed over plain HTTP from inside the network (Docker HEALTHCHECK, Prometheus).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    if env_bool("DJANGO_BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if not SECURE_SSL_REDIRECT:
        # The operator said the reverse proxy in front redirects HTTP to HTTPS; the deploy check cannot see that.
        SILENCED_SYSTEM_CHECKS = ["security.W008"]

# Where mlsite answers JSON or plain text rather than pages: errors there are JSON, and the Content-Security-Policy
# (which means nothing to an API client and costs the hot path a header) is skipped. One list, read by both the
# error pages and the CSP middleware (predictions.http.paths.PathSet: "/predict" covers "/predict" and "/predict/...",
# never "/predictions/..."). Pages that live under one of these prefixes are listed as exceptions.
JSON_PATHS = ["/api/", "/predict", "/v2", "/mlflow/", "/healthz", "/readyz", "/metrics"]
JSON_PATH_EXCEPTIONS = ["/api/docs/"]  # Swagger UI is a page

# Content-Security-Policy for every page (django-csp): no inline scripts, nothing from other origins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Application ----------------------------------------------------------------------------------------------
MODEL_DIR = Path(env_str("MODEL_DIR", str(VAR_DIR / "models")))
# Seconds a worker may serve its copy of the model catalogue before it checks the database for a change (a newly
# registered model or version, a pin): every worker and replica serves a change within this time.
MODEL_CATALOGUE_REFRESH = env_int("MODEL_CATALOGUE_REFRESH", 2, minimum=0)
# Largest model file accepted at registration (command line or admin upload), in bytes.
MODEL_UPLOAD_MAX_SIZE = env_int("MODEL_UPLOAD_MAX_SIZE", 200 * 1024 * 1024, minimum=1024)
PREDICTION_LOG_MODE = env_choice("PREDICTION_LOG_MODE", "strict", ("strict", "best_effort"))
# Seconds a client is told to wait (Retry-After) when the history store is unavailable.
HISTORY_RETRY_AFTER = env_int("HISTORY_RETRY_AFTER", 5, minimum=1)
# Largest JSON array accepted by one predict call, and largest CSV upload (rows).
PREDICT_MAX_BATCH_ROWS = env_int("PREDICT_MAX_BATCH_ROWS", 1000, minimum=1)
BATCH_UPLOAD_MAX_ROWS = env_int("BATCH_UPLOAD_MAX_ROWS", 100_000, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
FILE_UPLOAD_MAX_SIZE = env_int("FILE_UPLOAD_MAX_SIZE", 20 * 1024 * 1024, minimum=1024)

# Reverse proxies in front of gunicorn that append to X-Forwarded-For (nginx, a load balancer: 1 each). The client
# address recorded in the history and used for per-IP throttling is read from that header only when this is set.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0, minimum=0)

# --- REST API ---------------------------------------------------------------------------------------------------------
PREDICT_ALLOW_ANONYMOUS = env_bool("PREDICT_ALLOW_ANONYMOUS", True)
# Predicted rows per client (user or IP), one budget across every channel; a batch costs its rows
# (predictions.http.throttling). DRF syntax ("20/second", "600/minute"); "off" disables it.
_predict_rate = env_str("PREDICT_THROTTLE_RATE", "20/second")
PREDICT_THROTTLE_RATE = None if _predict_rate.lower() in ("off", "none", "0") else _predict_rate
if PREDICT_THROTTLE_RATE and not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)",
                                              PREDICT_THROTTLE_RATE):
    raise ImproperlyConfigured(f"PREDICT_THROTTLE_RATE={PREDICT_THROTTLE_RATE!r} is not a rate like 20/second, "
                               "600/minute or off.")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous call then gets 401 with "WWW-Authenticate: Token" rather than a bare 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default; each view opens what it must (predict: anyone; history and feedback: staff or token).
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PARSER_CLASSES": ["predictions.http.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "predictions.api.exception_handler.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # 0: throttle by REMOTE_ADDR, never by a client-supplied header
}

SPECTACULAR_SETTINGS = {
    "TITLE": "mlsite API",
    "DESCRIPTION": "Predictions from scikit-learn models, each one recorded in a reviewable history.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # vendored by drf-spectacular-sidecar: the docs work offline, no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "predictions.interop.openapi.postprocess",  # before the API's hook, which completes every operation
        "predictions.api.openapi.postprocess",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
