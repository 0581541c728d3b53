# Single entry point for the Vonage CDR warehouse. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9
export PYTHONPATH := $(CURDIR):$(CURDIR)/plugins

.PHONY: help install test lint format lock demo sandbox bench airflow migrate docs clean soak

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv and install the pinned dependencies (seconds when nothing changed)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements-dev.txt -c constraints.txt
	@touch $(STAMP)

lock: ## re-resolve constraints.txt from the requirements files
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip compile -q --python-version 3.11 --no-header requirements-dev.txt -o constraints.txt

test: install ## run the test suite (starts its own PostgreSQL unless CDR_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: install ## run the daily and incremental DAGs end to end on the simulator and a local PostgreSQL
	$(BIN)/python -m include.devtools.demo $(DEMO_ARGS)

airflow: install ## the Airflow UI (airflow standalone) with the simulator and the demo warehouse; Ctrl-C stops all
	$(BIN)/python -m include.devtools.airflow_local $(AIRFLOW_ARGS)

soak: install ## days of both DAGs under injected faults + a killed load, then compare with the ground truth (SOAK_ARGS)
	$(BIN)/python -m include.devtools.soak $(SOAK_ARGS)

sandbox: install ## run the Reports API simulator in the foreground (PORT, VONAGE_API_KEY, VONAGE_API_SECRET)
	$(BIN)/python -m include.simulator

bench: install ## measure throughput and memory of the load path
	$(BIN)/python -m include.vonage_cdr.bench $(BENCH_ARGS)

migrate: install ## apply the warehouse migrations to CDR_WAREHOUSE_URL (idempotent; first run as an admin)
	@test -n "$$CDR_WAREHOUSE_URL" || { echo "make migrate: set CDR_WAREHOUSE_URL" >&2; exit 1; }
	$(BIN)/python -m include.vonage_cdr.warehouse.migrate

docs: install ## regenerate docs/data-dictionary.md from the product registry and the migrations
	$(BIN)/python -m include.vonage_cdr.warehouse.dictionary

clean: ## remove the virtualenv and local state
	rm -rf $(VENV) .state .pytest_cache .ruff_cache

.PHONY: compose-check
compose-check: install ## validate docker-compose.yaml, .env.example and the Dockerfile with Compose v2 (no engine needed)
	$(BIN)/python -m pytest tests/deploy -q $(PYTEST_ARGS)
