# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out/baseline
SCENARIO ?= scenarios/baseline.yaml
# replications run on every core (the tables are the same on any number of workers)
WORKERS ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: run test test-fast lint bench install clean chromium notebook native

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: native

# The engine compiled with mypyc (sim/native.py): a replication in about 1/2 to 1/2.8 of the
# plain engine's CPU since perf43 (1/1.5 to 1/1.8 before; README, "The compiled engine"; docs/performance.md), the same
# tables. Part of every target that runs the model; again after an edit under sim/ (a no-op
# when built for these sources; a one-line note and the plain engine when it cannot be built).
native: $(STAMP)
	$(BIN)/python -m sim.native

run: native
	$(BIN)/cqsim run $(SCENARIO) --out $(OUT) --workers $(WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

CHROMIUM ?= /usr/bin/chromium
# The browser tests (tests/report) open report.html in Debian's Chromium, driven by Playwright
# with that binary (no browser download); CI runs as root on a clean Debian machine.
chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# lint and the engine's compilation are each one process: side by side they take the time
# of the longer (the compilation), not the sum
test: chromium $(STAMP)
	$(MAKE) --no-print-directory -j2 lint native
	$(BIN)/python -m pytest -n 2 -q

# Quick tier while developing: leaves out the tests marked slow (whole processes, theory
# checks against Ciw, most of the bad-input corpus); make test runs everything.
test-fast: native
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

# JupyterLab on notebooks/ (installs the [notebook] extra first).
notebook: native
	$(BIN)/python -m pip install --quiet -e '.[test,notebook]'
	$(BIN)/jupyter lab notebooks/

bench: native
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) out .pytest_cache
