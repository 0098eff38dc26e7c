# Two commands for a fresh machine:
#   make demo   install into .venv, simulate a small data set and run the whole workflow
#   make test   install into .venv and run the test suite
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2
PYTHON ?= python3

.PHONY: install demo test test-all lint report clean

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

clean:
	rm -rf results .snakemake
