# wagate: every developer and CI task goes through these targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export WAGATE_LOCAL ?= $(CURDIR)/.local
PYTEST_ARGS ?=

.PHONY: help setup run stop test test-unit test-integration test-e2e lint format schemas bench chaos clean infra-up infra-down

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "wagate needs Python 3.11+"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

setup: $(BIN)/.installed ## Install everything (idempotent): venv, dependencies, Kafka jars, PostgreSQL
	deploy/local/kafka.sh fetch
	deploy/local/postgres.sh install

infra-up: setup ## Start the local Kafka broker and PostgreSQL
	deploy/local/infra.sh up

infra-down: ## Stop the local Kafka broker and PostgreSQL
	deploy/local/infra.sh down

run: setup ## Run the whole system: Kafka, PostgreSQL, the six services (Ctrl-C stops all)
	deploy/local/run.sh

stop: ## Stop everything `make run` or the tests started
	deploy/local/run.sh stop

test: setup deploy-tools ## All tests: unit, integration (real Kafka and PostgreSQL), end-to-end, manifests
	deploy/local/infra.sh up
	deploy/local/browser.sh install
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: setup ## Unit tests only (no servers)
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

test-integration: setup ## Integration tests against real Kafka and PostgreSQL
	deploy/local/infra.sh up
	$(BIN)/pytest -m "kafka or postgres" $(PYTEST_ARGS)

test-e2e: setup ## End-to-end tests of the wired system
	deploy/local/infra.sh up
	deploy/local/browser.sh install
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

lint: $(BIN)/.installed ## ruff format check, ruff, mypy strict, the contract up to date
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m shared.schemas --check
	$(BIN)/python clients/python/generate.py --check

schemas: $(BIN)/.installed ## Regenerate docs/schemas and docs/asyncapi.yaml from the event models
	$(BIN)/python -m shared.schemas
	$(BIN)/python clients/python/generate.py

format: $(BIN)/.installed ## Format the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

BENCH_ARGS ?=
bench: setup ## One table from one run, every figure beside bare Kafka's (.local/bench/*.json); BENCH_ARGS=--quick
	deploy/local/infra.sh up
	$(BIN)/python -m bench $(BENCH_ARGS)

chaos: setup ## The large chaos run: thousands of intents; ingest, policy, dispatch SIGKILLed, dispatch SIGSTOPped, broker and database restarted, a throttling burst, twice each; one table
	deploy/local/infra.sh up
	WAGATE_CHAOS_INTENTS=$${WAGATE_CHAOS_INTENTS:-3000} WAGATE_CHAOS_CUSTOMERS=$${WAGATE_CHAOS_CUSTOMERS:-300} \
	WAGATE_CHAOS_KILLS=$${WAGATE_CHAOS_KILLS:-ingest,policy,dispatch,ingest,policy,dispatch} \
	WAGATE_CHAOS_OUTAGES=$${WAGATE_CHAOS_OUTAGES:-sigstop,broker,database,throttle,sigstop,broker,database,throttle} \
	WAGATE_CHAOS_TIMEOUT_S=$${WAGATE_CHAOS_TIMEOUT_S:-3600} \
	$(BIN)/pytest tests/chaos -s -q -p no:cacheprovider

deploy-tools: $(BIN)/.installed ## Install what the manifest checks need (kustomize, validators), once
	deploy/k8s/tools.sh

deploy-check: $(BIN)/.installed ## Kubernetes manifests: hadolint, topics vs registry, every overlay rendered and validated offline
	deploy/k8s/check.sh

deploy-topics: $(BIN)/.installed ## Regenerate the Strimzi KafkaTopics from shared/topics.py
	$(BIN)/python deploy/k8s/gen_topics.py

LOCK_TOOLS := $(WAGATE_LOCAL)/lock-tools
UV_VERSION := 0.13.8

lock: ## Regenerate requirements.lock (the image's pinned, hashed dependencies) from pyproject.toml
	@test -x $(LOCK_TOOLS)/bin/uv || { $(PYTHON) -m venv $(LOCK_TOOLS) && $(LOCK_TOOLS)/bin/pip install -q uv==$(UV_VERSION); }
	$(LOCK_TOOLS)/bin/uv pip compile pyproject.toml --extra fast --universal --python-version 3.11 \
		--generate-hashes --quiet --custom-compile-command "make lock" -o requirements.lock

.PHONY: deploy-check deploy-tools deploy-topics lock

clean: stop ## Stop everything and delete the venv and local data
	rm -rf $(VENV) $(WAGATE_LOCAL) .pytest_cache .mypy_cache .ruff_cache *.egg-info
