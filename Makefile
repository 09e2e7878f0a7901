# Academy LMS: `make run` and `make test` are the whole set-up (see README.md).
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
export FLASK_APP := lms
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: audit-deps install install-test chromium translations messages migrate setup run test test-postgres lint lint-imports format serve worker backup bench capacity screenshots schema

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.'
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q -e '.[test,dev]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test chromium

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null; }

# Compiled catalogues (.mo) are build output; the .po files are the source.
translations: install
	$(VENV)/bin/pybabel -q compile -d translations

# After adding user-facing strings: extract them and update every language's catalogue.
# --ignore-dirs: without it pybabel skips folders starting with "_", i.e. templates/_macros.
messages: install
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--ignore-dirs ".* venv node_modules" \
		--no-wrap --project "Academy LMS" -o translations/messages.pot .
	$(VENV)/bin/pybabel -q update -i translations/messages.pot -d translations --no-fuzzy-matching --no-wrap

migrate: install
	$(FLASK) db upgrade

setup: migrate translations
	$(FLASK) lms orgs load
	$(FLASK) lms content sync
	LMS_ALLOW_LOOPBACK_ISSUER=true $(FLASK) lms demo load

# The job worker runs beside the dev server (same code path as production: a real queue with
# retries and the periodic jobs); stopping `make run` stops both. See docs/operations.md.
run: setup
	@export LMS_ALLOW_LOOPBACK_ISSUER=true; $(FLASK) lms jobs worker --workers 1 & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production: gunicorn, settings from instance/config.py or LMS_* (see README "Deploying").
# `lms certificates did` creates the signing key on first start (readiness requires it).
serve: migrate translations
	$(FLASK) lms certificates did >/dev/null
	$(VENV)/bin/gunicorn --config python:lms.ops.gunicorn_conf 'lms:create_app()'

# Production job worker (run it as its own service next to `make serve`).
worker: install
	$(FLASK) lms jobs worker

backup: install
	$(FLASK) lms backup

test: install-test translations
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

# The same suite against PostgreSQL (CI runs it; needs the server on 127.0.0.1:5432).
test-postgres: install-test translations
	LMS_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(PY) -m pytest -n 2 $(PYTEST_ARGS)

lint: lint-imports
	$(VENV)/bin/ruff format --check lms bench tests migrations/env.py
	$(VENV)/bin/ruff check lms bench tests
	$(VENV)/bin/mypy

# The layers of docs/architecture.md: the import-linter contracts in pyproject.toml ([tool.importlinter]).
# Takes a second; CI runs it before the tests.
lint-imports: install-test
	$(VENV)/bin/lint-imports

format: install-test
	$(VENV)/bin/ruff format lms bench tests
	$(VENV)/bin/ruff check --fix lms bench tests

# docs/schema/*.schema.json: the JSON Schemas of course files, from lms/content/file_models.py, for authors'
# editors (docs/course-format.md). Commit them; tests/test_file_schemas.py fails when they are stale.
schema: install
	$(PY) -m lms.content.file_models
	$(PY) -m lms.surveys.file_format

# Benchmark (docs/performance.md): generate the data set once into its own instance (BENCH_SIZE=S|M|L|XL),
# then serve it with gunicorn (2 sync workers) and load it from other processes; rewrites the table.
# The tooling is the top-level bench/ package (not shipped in the wheel). BENCH_ARGS="--output /tmp/x.md
# --port 8766" for a trial run that leaves docs/performance.md alone.
# BENCH_SIZE=XL: 10M lesson completions (issue 22). BENCH_DB=postgresql: the same on PostgreSQL, database
# bench_<size> on BENCH_PG (created when missing), instance folder bench-<size>-postgresql.
BENCH_SIZE ?= L
BENCH_DB ?= sqlite
BENCH_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432
BENCH_PG_DATABASE ?= bench_$(shell echo $(BENCH_SIZE) | tr A-Z a-z)
BENCH_INSTANCE ?= $(CURDIR)/instance/bench-$(BENCH_SIZE)$(if $(filter postgresql,$(BENCH_DB)),-postgresql)
BENCH_ENV = LMS_INSTANCE_PATH=$(BENCH_INSTANCE)$(if $(filter postgresql,$(BENCH_DB)), LMS_SQLALCHEMY_DATABASE_URI=$(BENCH_PG)/$(BENCH_PG_DATABASE))
BENCH_ARGS ?=
bench: install translations
	@if [ "$(BENCH_DB)" = postgresql ]; then $(PY) -m bench.pg_database "$(BENCH_PG)" $(BENCH_PG_DATABASE); fi
	@test -f $(BENCH_INSTANCE)/bench.json || $(BENCH_ENV) $(FLASK) lms bench generate --size $(BENCH_SIZE)
	$(BENCH_ENV) $(FLASK) db upgrade  # a data set generated before a migration gets it (an index, a column)
	$(BENCH_ENV) $(FLASK) lms certificates did >/dev/null
	$(BENCH_ENV) $(FLASK) lms bench forget-practice-attempts  # each run measures the data set as generated
	$(BENCH_ENV) $(PY) -m bench.runner --instance $(BENCH_INSTANCE) $(BENCH_ARGS)

# Capacity (issue 22, docs/performance.md "Issue 22: capacity"): Locust (the `bench` extra) drives gunicorn
# on data set L, server on core 0 and Locust on core 1; steps of simulated trainees, then a sign-in wave.
# CAPACITY_DB=postgresql uses CAPACITY_DATABASE_URL (its own database, with Redis); CAPACITY_ARGS=--quick
# runs in about a minute, the default in 10-15 min. Rewrites its section of docs/performance.md.
CAPACITY_DB ?= sqlite
CAPACITY_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/capacity_l
CAPACITY_INSTANCE ?= $(CURDIR)/instance/capacity-L$(if $(filter postgresql,$(CAPACITY_DB)),-pg)
CAPACITY_URL := $(if $(filter postgresql,$(CAPACITY_DB)),$(CAPACITY_DATABASE_URL))
CAPACITY_ARGS ?=
$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q -e '.[bench]'
	touch $@

capacity: $(VENV)/.installed-bench translations
	@if [ "$(CAPACITY_DB)" = postgresql ]; then $(PY) -m bench.pg_database "$(patsubst %/,%,$(dir $(CAPACITY_DATABASE_URL)))" \
		$(notdir $(CAPACITY_DATABASE_URL)); fi
	@test -f $(CAPACITY_INSTANCE)/bench.json || LMS_INSTANCE_PATH=$(CAPACITY_INSTANCE) \
		LMS_SQLALCHEMY_DATABASE_URI=$(CAPACITY_URL) $(FLASK) lms bench generate --size L
	LMS_INSTANCE_PATH=$(CAPACITY_INSTANCE) LMS_SQLALCHEMY_DATABASE_URI=$(CAPACITY_URL) $(FLASK) db upgrade
	LMS_INSTANCE_PATH=$(CAPACITY_INSTANCE) LMS_SQLALCHEMY_DATABASE_URI=$(CAPACITY_URL) $(FLASK) lms certificates did >/dev/null
	$(PY) -m bench.capacity.run --instance $(CAPACITY_INSTANCE) --db $(CAPACITY_DB) \
		--database-url "$(CAPACITY_URL)" $(CAPACITY_ARGS)

# docs/screenshots/<page>-<lang>-<desktop|phone>.png: the main pages of a throw-away demo academy, as each role,
# in the four languages at 1280 and 360 px (docs/design.md). SCREENSHOT_ARGS="--languages ar --pages lesson".
screenshots: install-test translations
	$(PY) -m tests.screenshots $(SCREENSHOT_ARGS)

# Known vulnerabilities in the pinned dependencies (docs/security.md). Needs the PyPI advisory
# database over the network, so it is not part of `make test`; run it before each release.
audit-deps: install-test
	$(PY) -m pip install -q pip-audit
	$(VENV)/bin/pip-audit --progress-spinner off --skip-editable
