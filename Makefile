# Sentra Kreasi POS & Marketplace — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
PIP := $(BIN)/pip --disable-pip-version-check -q
# pip on these machines prints harmless "Location ... is ignored" warnings; keep logs readable.
PIP_FILTER := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: lock run test test-fast test-sqlite test-postgresql system-deps test-system-deps venv deps dev-deps node-deps migrate demo translations lint typecheck imports serve install-server bench clean

# localstripe (loopback :8420, webhook -> the app) stands in for Stripe; STRIPE_LOCAL=0 uses real keys instead.
run: system-deps deps translations migrate demo
	@bash scripts/run-local.sh

test: test-system-deps dev-deps node-deps translations
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q --db=sqlite
	$(BIN)/pytest -q --db=postgresql

# The everyday loop: SQLite only, no browser, no gunicorn/PostgreSQL stack tests (about 2 minutes).
test-fast: dev-deps translations
	$(BIN)/ruff check .
	$(BIN)/pytest -q -m "not e2e and not slow" --ignore=tests/ops --db=sqlite

test-sqlite: test-system-deps dev-deps node-deps translations
	$(BIN)/pytest -q --db=sqlite

test-postgresql: test-system-deps dev-deps node-deps translations
	$(BIN)/pytest -q --db=postgresql

system-deps:
	@bash scripts/install-system-deps.sh

test-system-deps:
	@bash scripts/install-system-deps.sh test

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install --upgrade pip $(PIP_FILTER)

# Installed from the locks (every package pinned with its hashes); `make lock` regenerates them.
$(VENV)/.deps: requirements-local.txt | $(BIN)/python
	$(PIP) install --require-hashes -r requirements-local.txt $(PIP_FILTER)
	@touch $@

$(VENV)/.dev-deps: requirements-local.txt requirements-dev.txt | $(BIN)/python
	$(PIP) install --require-hashes -r requirements-dev.txt $(PIP_FILTER)
	@touch $(VENV)/.deps $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

node-deps: node_modules/.package-lock.json

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

translations: deps
	@$(BIN)/pybabel compile -d translations 2>&1 | { grep -v "^compiling catalog" || true; }

migrate: deps
	$(BIN)/flask db upgrade

demo: deps
	$(BIN)/flask demo load

# Production-style serving: migrate, then gunicorn from an existing venv (no installs here; the one-time
# install is `make install-server`). Needs DATABASE_URL and SECRET_KEY (e.g. from /etc/sentra/sentra.env).
# Jobs need a worker beside it, one per host: `APP_CONFIG=production .venv/bin/flask jobs worker`
# (deploy/sentra-worker.service).
serve:
	@test -x $(BIN)/gunicorn || { echo "No $(VENV) with gunicorn here: run 'make install-server' first"; exit 1; }
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL=postgresql+psycopg://user@host:5432/db"; exit 1; }
	@test -n "$$SECRET_KEY" || { echo "Set SECRET_KEY to a random value of 32+ characters"; exit 1; }
	APP_CONFIG=production $(BIN)/flask db upgrade
	@echo "Background jobs need a worker on this host too: APP_CONFIG=production $(BIN)/flask jobs worker"
	APP_CONFIG=production $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# One-time server install: system packages, the venv from the production lock (hashes required), translations.
install-server: system-deps | $(BIN)/python
	$(PIP) install --require-hashes -r requirements.txt $(PIP_FILTER)
	@$(BIN)/pybabel compile -d translations 2>&1 | { grep -v "^compiling catalog" || true; }

# Benchmarks (not tests): small sizes by default (a few minutes); BENCH_SIZE=full for the sizes in
# BENCHMARKS.md (10,000 products, 1,000,000 sale lines, 20 counters; much longer).
bench: system-deps dev-deps translations
	$(BIN)/python bench/run_all.py --size $${BENCH_SIZE:-small}

lint: dev-deps
	$(BIN)/ruff check .

# Static types of the application packages (mypy.ini says which); part of `make test`.
typecheck: dev-deps
	$(BIN)/mypy

# Import contracts (.importlinter): the layering of DESIGN.md, the independent channels, no
# imports of another package's private names; part of `make test`.
imports: dev-deps
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance/*.db .pytest_cache .mypy_cache

# Regenerate the locked requirements (hashes for every package, transitive ones too) from the *.in files.
PIP_COMPILE := $(BIN)/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: dev-deps
	$(PIP_COMPILE) -o requirements.txt requirements.in $(PIP_FILTER)
	$(PIP_COMPILE) -o requirements-local.txt requirements-local.in $(PIP_FILTER)
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in $(PIP_FILTER)
