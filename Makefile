# mlsite — two commands on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Root installs system packages directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?= -n 2

.PHONY: run test lint system-deps bench clean help

help:
	@echo "make run   - install, migrate, train missing models, serve on http://$(HOST):$(PORT) (SQLite by default)"
	@echo "make test  - install dev tools, run ruff and the whole test suite (set DATABASE_URL for Postgres)"
	@echo "make bench - run the benchmarks in bench/ and print their figures"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamp files make the second run fast: pip runs again only when a requirements file changed.
$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

# Production is the default (DEBUG off, secret key required); the local site turns DEBUG on explicitly and then keeps
# a random secret key of its own under var/.
run: export DJANGO_DEBUG ?= 1
run: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py train --missing
	$(PY) manage.py runserver $(HOST):$(PORT)

# What the tests drive besides Python: Debian's Chromium (browser tests), docker-compose (static validation of
# docker-compose.yml; no Docker engine is needed) and nginx (the proxy config, run for real in front of gunicorn).
# Installed once, skipped when present.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v docker-compose >/dev/null 2>&1 || missing="$$missing docker-compose"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: $(VENV)/.dev
	$(PY) -m ruff check .

test: $(VENV)/.dev system-deps lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Every benchmark in bench/, one after the other (under 10 minutes on 2 cores); outputs in bench/results/latest/.
# Needs the local PostgreSQL (as CI has); bench/README.md quotes these figures.
BENCH_OUT ?= bench/results/latest
bench: $(VENV)/.dev system-deps
	@mkdir -p $(BENCH_OUT)
	$(PY) bench/run.py --duration 10 --out $(BENCH_OUT)/http 2>&1 | tee $(BENCH_OUT)/http.txt
	$(PY) bench/ml_scoring.py 2>&1 | tee $(BENCH_OUT)/ml_scoring.txt
	$(PY) bench/history.py 2>&1 | tee $(BENCH_OUT)/history.txt
	$(PY) bench/rss_preload.py --workers 4 2>&1 | tee $(BENCH_OUT)/rss_preload.txt
	$(PY) bench/explain_history.py 2>&1 | tee $(BENCH_OUT)/explain_history.txt
	$(PY) bench/admin_changelist.py 2>&1 | tee $(BENCH_OUT)/admin_changelist.txt
	$(PY) bench/dashboard.py 2>&1 | tee $(BENCH_OUT)/dashboard.txt
	$(PY) bench/profile_hotpath.py --out $(BENCH_OUT)/profile 2>&1 | tee $(BENCH_OUT)/profile.txt

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
