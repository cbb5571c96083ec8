# syntax=docker/dockerfile:1
# mlsite image: gunicorn serving the Django site; models live in the MODEL_DIR volume (see below).
#   docker build -t mlsite .        docker compose up        (see README "Deploying")

# --- builder: every dependency as a wheel. Only this stage would need compilers, if a dependency ever lacked a
# binary wheel; the runtime installs from these wheels and never reaches an index.
FROM python:3.11-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt

# --- runtime ----------------------------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HOST=0.0.0.0 \
    PORT=8000 \
    MODEL_DIR=/app/var/models \
    STATIC_ROOT=/app/var/static \
    DJANGO_DEBUG=0

RUN groupadd --system --gid 10001 mlsite \
    && useradd --system --uid 10001 --gid mlsite --home-dir /app --no-create-home --shell /usr/sbin/nologin mlsite

# Dependencies before the code: this layer is rebuilt only when requirements.txt changes. The wheels are mounted
# from the builder, not copied, so they add nothing to the image.
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    python -m venv /opt/venv \
    && pip install --no-index --find-links=/wheels -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

WORKDIR /app
COPY . .

# Static files are collected and compressed once, here; whitenoise serves them from the image by their hashed names
# (and the proxy stage below copies them for nginx). The settings refuse DEBUG=0 without a secret and hosts: a random
# secret that exists only in this RUN, and a placeholder host.
#
# Models are not baked in: they live in MODEL_DIR, a volume every web and worker container shares (compose's
# `models`), listed in the database's catalogue. The one-shot `migrate` service trains the two shipped models into it
# when the catalogue lacks them (a few seconds, from data the image ships, with the image's scikit-learn); anything
# else is registered into it. The directory is created here owned by the server's user, so that a new named volume
# starts writable by it. The code stays owned by root, read-only to that user (mlsite, uid 10001).
RUN python -m compileall -q ml mlsite predictions \
    && DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    && export DJANGO_SECRET_KEY DJANGO_ALLOWED_HOSTS=localhost \
    && python manage.py collectstatic --noinput \
    && mkdir -p /app/var/models \
    && chown 10001:10001 /app/var/models

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "docker/healthcheck.py"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]

# --- proxy: nginx in front of gunicorn (compose's `proxy` service; `docker build --target proxy`) ---------------------
# Buffers slow clients, enforces the body limits, serves /static/ from the files collected above and keeps /metrics
# inside the network. docker/nginx/mlsite.conf.template is rendered at start by the image's envsubst step.
FROM nginx:1.28-bookworm AS proxy
ENV MLSITE_UPSTREAM=web:8000 \
    MLSITE_LISTEN=8080 \
    MLSITE_STATIC_ROOT=/srv/mlsite/static \
    MLSITE_FORWARDED_PROTO=\$scheme
RUN rm -f /etc/nginx/conf.d/default.conf
COPY docker/nginx/mlsite.conf.template /etc/nginx/templates/mlsite.conf.template
COPY --from=runtime /app/var/static /srv/mlsite/static
EXPOSE 8080
