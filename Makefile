# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,sim]'
	touch $(STAMP)

demo: $(STAMP)
	@for who in NOR SOU RRA; do \
	  echo; echo "=== jointplan check examples/northern-strait --as $$who"; \
	  $(BIN)/jointplan check examples/northern-strait --as $$who || exit $$?; \
	done
	$(BIN)/jointplan demo examples/northern-strait $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

docs: $(STAMP)
	$(BIN)/python -m jointplan.docgen > docs/cli.md

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
