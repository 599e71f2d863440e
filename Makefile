# Atiende — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
# the administrative URL creates the database and one role per service (`make migrate`); each
# service logs in as its own role ({service} is its name) and is not given the administrative URL
export ATIENDE_DATABASE_ADMIN_URL ?= postgresql://postgres@127.0.0.1:5432/atiende
export ATIENDE_DATABASE_URL ?= postgresql://atiende_{service}@127.0.0.1:5432/atiende
export ATIENDE_AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672/

.PHONY: help uv sync run migrate test test-fast lint typecheck fmt browser clean audit

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

uv: ## install uv if missing
	@command -v uv >/dev/null 2>&1 || [ -x "$(HOME)/.local/bin/uv" ] || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

sync: uv ## install the workspace (all services, libs and dev tools) into .venv
	@$(UV) sync --frozen --quiet 2>/dev/null || $(UV) sync --quiet

migrate: sync ## create the database and each service's role and schema if missing; apply the migrations
	@$(UV) run atiende migrate all

run: migrate ## run all five services (honcho) on 127.0.0.1:8001-8005
	@echo "intake        http://127.0.0.1:8001/docs"
	@echo "routing       http://127.0.0.1:8002/docs"
	@echo "surveys       http://127.0.0.1:8003/docs   (survey pages at /s/<token>)"
	@echo "notifications http://127.0.0.1:8004/docs   (SMTP: $${ATIENDE_SMTP_HOST:-127.0.0.1}:$${ATIENDE_SMTP_PORT:-1025})"
	@echo "dev inbox     http://127.0.0.1:8025/       (the emails sent; SMTP 127.0.0.1:1025)"
	@echo "indicators    http://127.0.0.1:8005/indicators"
	@echo "authentication on (hs256, secret in .atiende/dev-secret); a token for curl:"
	@echo '  curl -H "Authorization: Bearer $$(uv run atiende token --role agent --sub ana@example.com)" ...'
	@ATIENDE_AUTH_MODE="$${ATIENDE_AUTH_MODE:-hs256}" \
	  ATIENDE_JWT_SECRET="$${ATIENDE_JWT_SECRET:-$$($(UV) run atiende dev-secret)}" \
	  env -u ATIENDE_DATABASE_ADMIN_URL $(UV) run honcho -d . -f deploy/Procfile start

browser: ## install Debian's chromium for the browser tests (needs root)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: sync browser ## run every test: unit, integration, end-to-end, reliability
	@$(UV) run pytest

test-fast: sync ## unit tests only
	@$(UV) run pytest -m "not e2e and not reliability" libs services/*/tests/unit

lint: sync ## ruff, mypy strict and import-linter (the layering contracts in pyproject.toml)
	@$(UV) run ruff check .
	@$(UV) run ruff format --check .
	@$(UV) run mypy libs/*/src services/*/src
	@$(UV) run lint-imports

audit: uv ## pip-audit every locked package; accepted advisories in deploy/pip-audit-ignore.txt
	@UV="$(UV)" deploy/pip-audit.sh

fmt: sync ## format the code
	@$(UV) run ruff format .
	@$(UV) run ruff check --fix .

clean: ## remove caches and the virtualenv
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache

# Measuring harness (docs/benchmarks.md, docs/reliability.md): `make bench RATE=50,100 DURATION=60`,
# `make chaos CASES=2000 RATE=20 FAULTS=kill=10,rabbitmq=2,postgres=2,poison=1`. A variable left
# unset takes the command's own default (`uv run atiende-bench --help`); ARGS passes anything else.
# Each run makes its own database and broker namespace, so it never disturbs `make run`.
.PHONY: bench chaos bench-timers

bench: sync ## measure speed, CPU per case and memory (RATE, DURATION, WARMUP, PRELOAD, MICROBENCH; results/bench-*.json)
	@$(UV) run atiende-bench $(if $(RATE),--rate $(RATE)) $(if $(DURATION),--duration $(DURATION)) \
		$(if $(WARMUP),--warmup $(WARMUP)) $(if $(PRELOAD),--preload $(PRELOAD)) \
		$(if $(MICROBENCH),--microbench-events $(MICROBENCH)) $(ARGS)

bench-timers: sync ## routing's timer lateness p50/p99/max with PENDING deadlines (results/bench-timers-*.json)
	@$(UV) run atiende-bench-timers $(if $(PENDING),--pending $(PENDING)) $(ARGS)

chaos: sync ## inject faults, account for every case (CASES, RATE, FAULTS; results/chaos-*.json)
	@$(UV) run atiende-chaos $(if $(CASES),--cases $(CASES)) $(if $(RATE),--rate $(RATE)) \
		$(if $(FAULTS),--faults $(FAULTS)) $(ARGS)
