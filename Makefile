# openai-sentinel: `make demo` runs the main job, `make test` passes the tests.
# Both create ./.venv and install what they need on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHONS ?= 3.10 3.11 3.12 3.13

.PHONY: demo test lint check bench matrix clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[demo,test,lint]"
	touch $(STAMP)

demo: $(STAMP)  ## instrumented calls against the embedded simulator (real API with --live)
	$(BIN)/openai-sentinel demo $(DEMO_ARGS)

test: $(STAMP)  ## the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff and mypy --strict
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy

check: lint test

bench: $(STAMP)  ## overhead benchmarks (reports ratios; never part of the tests)
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/redaction_scaling.py
	$(BIN)/python bench/hardening.py

matrix:  ## the test suite on every installed Python of $(PYTHONS) (python3.X on PATH or pyenv)
	@for version in $(PYTHONS); do \
		interpreter=$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$version.*/bin/python 2>/dev/null | tail -n 1); \
		[ -n "$$interpreter" ] || interpreter=$$(command -v python$$version || true); \
		if [ -z "$$interpreter" ]; then echo "python$$version: not installed, skipped"; continue; fi; \
		echo "== $$interpreter"; \
		$(MAKE) --no-print-directory test PYTHON=$$interpreter VENV=.venv-$$version || exit 1; \
	done

clean:
	rm -rf $(VENV) .venv-* .pytest_cache .mypy_cache .ruff_cache build dist
