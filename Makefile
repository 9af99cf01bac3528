# openai-sentinel: `make demo` runs the main job, `make test` passes the tests.
# Both create ./.venv and install what they need on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHONS ?= 3.10 3.11 3.12 3.13
OPENAI_MAJORS ?= 1 2 3
NOX := $(BIN)/nox
# One nox session per (Python, openai major) cell; the openai releases are pinned in noxfile.py.
MATRIX_SESSIONS := $(foreach p,$(PYTHONS),$(foreach m,$(OPENAI_MAJORS),'tests-$(p)(openai$(m))'))

.PHONY: demo test backends browser lint docs check bench bench-peers soak matrix clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[demo,test,lint]"
	touch $(STAMP)

$(NOX): $(STAMP)  # nox runs `make matrix`
	$(BIN)/python -m pip install --quiet "nox >= 2024.10.9"
	touch $(NOX)

demo: $(STAMP)  ## instrumented calls against the embedded simulator (real API with --live)
	$(BIN)/openai-sentinel demo $(DEMO_ARGS)

backends:  ## Prometheus, promtool, Alertmanager and amtool (Debian packages) for tests/backend
	collector-config/scripts/install-backends.sh

browser:  ## headless Chromium (Debian's package) for the demo report's browser test
	scripts/install-browser.sh

test: $(STAMP) backends browser  ## the whole suite (backend tests on real Prometheus, a real browser)
	SENTINEL_REQUIRE_BACKENDS=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff and mypy --strict
	$(BIN)/ruff check src tests bench examples scripts noxfile.py
	$(BIN)/ruff format --check src tests bench examples scripts noxfile.py
	$(BIN)/mypy

docs: $(STAMP)  ## regenerate the reference pages and build the site into site/ (strict)
	$(BIN)/python scripts/generate_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

check: lint test

bench: $(STAMP)  ## overhead benchmarks (reports ratios; never part of the tests)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/redaction_scaling.py
	$(BIN)/python bench/hardening.py
	$(BIN)/python bench/cost.py
	$(BIN)/python bench/drift.py
	$(BIN)/python bench/security.py

bench-peers:  ## overhead against the peer instrumentations, in .venv-peers (see bench/README.md)
	$(PYTHON) -m venv .venv-peers
	.venv-peers/bin/python -m pip install --quiet --upgrade pip
	.venv-peers/bin/python -m pip install --quiet -e ".[sdk,instruments,bench,peers]"
	.venv-peers/bin/python bench/peers.py $(PEERS_ARGS)

soak: $(STAMP)  ## an hour of calls against the simulator: memory, spans, dropped telemetry
	$(BIN)/python bench/soak.py --minutes $(or $(SOAK_MINUTES),60)

matrix: $(NOX)  ## the tests in one venv per Python of $(PYTHONS) x openai major of $(OPENAI_MAJORS)
	$(NOX) $(NOX_ARGS) --sessions $(MATRIX_SESSIONS) -- $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .venv-* .nox .pytest_cache .mypy_cache .ruff_cache build dist
