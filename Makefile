# Two commands matter: `make run` (the main job) and `make test` (the whole suite).
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test lint bench crash-test worker bench-long test-cluster cluster-up cluster-down cluster-status

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python main.py $(ARGS)

worker: $(STAMP)
	$(VENV)/bin/python worker.py

# Without ARGS, the whole suite also runs the cluster tests on a fresh local cluster (test-cluster
# below: ~3 min, plus ~3 min to build the server once).
test: $(STAMP)
	$(VENV)/bin/python -m pytest $(ARGS)
	$(if $(strip $(ARGS)),,$(VENV)/bin/python -m cluster test)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Every benchmark against native temporalio on one dev server; options via ARGS, e.g.
# make bench ARGS="--only durable,batched --rounds 5 --json bench.json"
bench: $(STAMP)
	$(VENV)/bin/python bench/run.py $(ARGS)

# A 10,000-step instance in durable and batched mode (continue-as-new), ~10 minutes
bench-long: $(STAMP)
	$(VENV)/bin/python bench/long_instance.py $(ARGS)

# Kills the worker every 3-6 s and the server twice under load, then audits every step run:
# make crash-test ARGS="--instances 1000 --durability batched"
crash-test: $(STAMP)
	$(VENV)/bin/python bench/crash_test.py $(ARGS)

# The local production-shaped cluster (cluster/local.py): PostgreSQL, the persistence and SQL
# visibility schemas, and one frontend, two history, one matching and one worker service process.
# test-cluster brings a fresh one up, runs the cluster tests on it (pytest args via ARGS) and
# tears it down; the server is built once with `go install` into ~/.cache/tempflare.
test-cluster: $(STAMP)
	$(VENV)/bin/python -m cluster test $(ARGS)

cluster-up: $(STAMP)
	$(VENV)/bin/python -m cluster up

cluster-down: $(STAMP)
	$(VENV)/bin/python -m cluster down

cluster-status: $(STAMP)
	$(VENV)/bin/python -m cluster status
