# Two commands for a fresh machine:
#   make demo   install into .venv, simulate a small data set and run the whole workflow
#   make test   install into .venv and run the test suite
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2
PYTHON ?= python3

.PHONY: install demo test test-all lint report clean docs rulegraph docs-config docs-rules

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,model]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html
	@echo "Done: results/ holds the outputs, results/report.html the report."

test: install
	$(BIN)/pytest -m "not slow"

test-all: install
	$(BIN)/pytest

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
	$(BIN)/python tests/test_docs.py write-dot
	dot -Tsvg docs/rulegraph.dot -o docs/rulegraph.svg
	$(BIN)/python tests/test_docs.py embed-svg

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
