# Two commands on a fresh machine: `make demo` and `make test`.
# `make demo` installs the runtime only; `make test` (and `make bench`) add the
# development tools and the simulation extras. Each has its own stamp, so
# either may come first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed
BENCH_ARGS ?=

.PHONY: demo test bench docs clean

$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): pyproject.toml $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev,sim]'
	touch $(STAMP)

demo: $(RUNTIME)
	@for who in NOR SOU RRA; do \
	  echo; echo "=== jointplan check examples/northern-strait --as $$who"; \
	  $(BIN)/jointplan check examples/northern-strait --as $$who || exit $$?; \
	done
	$(BIN)/jointplan demo examples/northern-strait --exercise examples/drills/aster-drill-1.yaml $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

docs: $(RUNTIME)
	$(BIN)/python -m jointplan.docgen > docs/cli.md

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
