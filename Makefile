SHELL := /bin/bash
# MNIST digit classification: the book and its library.
#
#   make site    build the book into _build/html (creates .venv and installs on first use)
#   make test    lint, unit tests, the full-data training test, every notebook through nbval
#
# Every target installs what it needs into .venv first and reuses it afterwards.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Downloads and trained models go to the checkout's git-ignored .cache/ unless told otherwise.
export MNIST_CACHE_DIR ?= $(CURDIR)/.cache
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: install site test lint unit browser nbval notebooks lab train evaluate benchmarks \
	benchmark-report clean help
.DEFAULT_GOAL := help

help:
	@echo "make site       build the book into _build/html"
	@echo "make test       run every test (lint, unit, full-data training, nbval)"
	@echo "make lab        open the chapters in JupyterLab"
	@echo "make notebooks  re-execute the chapters in place (NOTEBOOKS=book/01_data.ipynb for one)"
	@echo "make nbval      re-run every chapter and compare with its stored outputs"
	@echo "make train      train the reference model (or take it from the cache)"
	@echo "make evaluate   test-set accuracy and per-class scores of the reference model"
	@echo "make benchmarks measure training, prediction, site and nbval; rewrite the appendix"
	@echo "make clean      remove the build, the model cache and the virtual environment"

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed (python3.11 or python3)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $(STAMP)

site: $(STAMP)
	mkdir -p _build
	set -o pipefail; $(BIN)/jupyter-book build . --path-output . -W -n --keep-going 2>&1 | tee _build/build.log
	@echo "the site is in _build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not browser"

browser: $(STAMP)
	$(BIN)/python -m pytest -m browser tests/browser

NOTEBOOKS ?= $(sort $(wildcard book/*.ipynb))
NBVAL := -p no:cacheprovider --nbval --nbval-current-env --nbval-sanitize-with book/nbval-sanitize.cfg

nbval: $(STAMP)
	$(if $(NOTEBOOKS),$(BIN)/python -m pytest $(NBVAL) $(NOTEBOOKS),@echo "no notebooks in book/")

notebooks: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py $(NOTEBOOKS)

lab: $(STAMP)
	$(BIN)/jupyter lab book/

test: lint unit nbval site browser

train: $(STAMP)
	$(BIN)/python -m mnist_lib train

evaluate: $(STAMP)
	$(BIN)/python -m mnist_lib evaluate

# Each benchmark prints a table and stores benchmarks/results/NAME.json; the report turns those
# into the book's appendix (book/appendix_benchmarks.md). About an hour on 2 cores, most of it the
# nbval pass from an empty model cache; run it on an otherwise idle machine.
benchmarks: $(STAMP)
	$(BIN)/python -m benchmarks.training_speed
	$(BIN)/python -m benchmarks.inference_speed
	$(BIN)/python -m benchmarks.book_speed
	$(BIN)/python -m benchmarks.report

benchmark-report: $(STAMP)
	$(BIN)/python -m benchmarks.report

clean:
	rm -rf _build .cache $(VENV)
