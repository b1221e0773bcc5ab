# c360: two commands on a fresh clone — `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-test run test security lint bench clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Pinned by constraints.txt: a fresh clone installs the versions CI last passed with, not
# whatever was released since (redis-py 8.1 once changed its default socket timeout under us).
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/pip install --disable-pip-version-check -q -c constraints.txt -e '.[test]'
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

lock:  ## re-resolve pyproject's ranges in a fresh venv and pin the result in constraints.txt
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --disable-pip-version-check -q -e '.[test]'
	{ sed -n '1,2p' constraints.txt; .venv-lock/bin/pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .venv-lock

clean:
	rm -rf $(VENV) .c360 .pytest_cache .ruff_cache
