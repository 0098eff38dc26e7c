# Two commands for a fresh machine:
#   make demo   install into .venv, simulate a small data set and run the whole workflow
#   make test   install into .venv and run the fast tests (make test-all: every test, as CI,
#               and the fast ones again on the oldest supported versions: make test-oldest)
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2
PYTHON ?= python3

.PHONY: install demo test test-all test-oldest lock lint report clean docs rulegraph docs-config docs-rules

# pyproject.toml declares the supported version ranges; requirements/lock.txt pins every
# distribution of the tested dev+model install, so .venv is the same everywhere (into an
# existing environment, a Kaggle image say, install with the ranges: pip install -e ".[model]").
LOCK := requirements/lock.txt

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e ".[dev,model]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html
	@echo "Done: results/ holds the outputs, results/report.html the report."

# The fast loop: every test without a marker of pyproject.toml's [tool.pytest.ini_options]
# (slow, network, slurm, browser): offline, on the smallest data, in a worker per core
# (pytest-xdist; a test file stays on one worker, so the session's workflow run is made
# once); the slowest tests are listed at the end.
FAST_TESTS := not slow and not network and not slurm and not browser

test: install
	$(BIN)/pytest -m "$(FAST_TESTS)" -n auto --dist loadfile --durations=15

# Every test, as CI runs it (.ci/run), also a worker per core (files kept whole): most tests
# and the jobs of a small workflow run keep only one core busy. Skip reasons are listed:
# without CI=true a machine lacking a SLURM cluster or a Chromium skips those tests; with
# CI=true they fail instead.
test-all: install
	$(BIN)/pytest -n auto --dist loadfile -rfEs --durations=30
	$(MAKE) test-oldest

# The fast loop on the oldest supported stack (requirements/oldest.txt: pyproject's lower
# bounds, Kaggle's 2025 image on Python 3.11), in $(OLDEST_VENV), built once and rebuilt when
# requirements/oldest.txt or pyproject.toml change. Part of make test-all (CI).
OLDEST := requirements/oldest.txt
OLDEST_VENV ?= .venv-oldest
OLDEST_PYTHON ?= python3.11

$(OLDEST_VENV)/.installed: pyproject.toml $(OLDEST)
	rm -rf $(OLDEST_VENV)
	$(OLDEST_PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/pip install --quiet --upgrade pip
	$(OLDEST_VENV)/bin/pip install --quiet -c $(OLDEST) -e ".[dev,model]"
	touch $@

test-oldest: $(OLDEST_VENV)/.installed
	@$(OLDEST_VENV)/bin/python -c 'import numpy, pandas, scipy, torch; print("oldest stack:", \
	  "numpy", numpy.__version__, "pandas", pandas.__version__, "scipy", scipy.__version__, \
	  "torch", torch.__version__)'
	$(OLDEST_VENV)/bin/pytest -m "$(FAST_TESTS)" -n auto --dist loadfile -rfE \
	  || { echo "FAILED on the oldest supported stack ($(OLDEST)): see the failures above"; exit 1; }

# Rewrites $(LOCK) from .venv: after upgrading a package there (.venv/bin/pip install -U NAME),
# run the tests, then make lock. Local version labels (torch's +cpu) are dropped, so the lock
# installs a CUDA build of the same torch where there is one.
lock: install
	{ echo "# The tested pins of every package of the dev+model install (pyproject.toml declares"; \
	  echo "# the supported ranges); make install installs with -c $(LOCK)."; \
	  echo "# Regenerate with make lock: pip freeze of .venv less the project and local labels."; \
	  $(BIN)/pip freeze --exclude-editable | sed -e 's/+[A-Za-z0-9.]*$$//'; } > $(LOCK)
	touch $(VENV)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint

# The workflow figure: the rule graph of the default config (it simulates, so no raw data
# is needed) as docs/rulegraph.dot (canonical: rules renumbered by name, edges sorted),
# drawn by graphviz's dot (apt-get install graphviz) as docs/rulegraph.svg, and shown in
# the report's front text report/workflow.rst. tests/test_docs.py fails when they are stale.
rulegraph: install
	$(BIN)/python -m spectramind.workflow.rulegraph write-dot
	dot -Tsvg docs/rulegraph.dot -o docs/rulegraph.svg
	$(BIN)/python -m spectramind.workflow.rulegraph embed-svg

# The configuration reference docs/configuration.md, written from config/schema.yaml;
# tests/test_config_docs.py fails when it is stale.
docs-config: install
	$(BIN)/python -m spectramind.core.config_docs config/schema.yaml docs/configuration.md

# Which config keys each rule reads, docs/rules.md, written from
# spectramind/workflow/config_keys.py; tests/test_workflow_plan.py fails when it is stale.
docs-rules: install
	$(BIN)/python -m spectramind.workflow.config_keys > docs/rules.md

# Every generated page: the configuration reference, the rules' config keys, the figure.
docs: docs-config docs-rules rulegraph

clean:
	rm -rf results .snakemake
