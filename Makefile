# c360: two commands on a fresh clone — `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-test run test security lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --disable-pip-version-check -q -e '.[test]'
	touch $@

install: $(VENV)/.installed  ## install the hub into .venv

install-test: $(VENV)/.installed-test

run: install  ## embedded FalkorDB + policy engine + demo data, GraphQL on http://127.0.0.1:8000/graphql
	$(BIN)/c360 serve --demo

test: install-test  ## lint + types + the whole test suite (real FalkorDB, real Rego engine)
	$(BIN)/ruff check .
	$(BIN)/mypy
	# Two worker processes (pytest-xdist), each a test file at a time (its module fixtures, e.g.
	# a live hub, start once); `.venv/bin/pytest` alone runs the suite serially.
	$(BIN)/pytest -n 2 --dist loadfile --durations=20  # the slowest tests, to keep CI short

security: install-test  ## the full security battery: >= 5,000 leak probes over 5 roles, DoS, replay, audit
	C360_SECURITY_ROUNDS=50 $(BIN)/pytest tests/security -p no:cacheprovider -s -q

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python bench/customer360.py --quick

clean:
	rm -rf $(VENV) .c360 .pytest_cache .ruff_cache
