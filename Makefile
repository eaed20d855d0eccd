# robopref: two commands on a fresh machine — `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The venv is keyed on requirements.txt + pyproject.toml: it is rebuilt only when they change.
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | sha256sum | cut -c1-16)
export MUJOCO_GL ?= egl
export PYOPENGL_PLATFORM ?= egl
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint typecheck unit interop bench clean chromium

$(STAMP):
	@echo "installing the robopref stack into $(VENV) (once per requirements change; a few minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip
	$(PY) -m pip install -qq -r requirements.txt
	@$(MAKE) --no-print-directory chromium
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

# The browser tests drive Debian's chromium through Playwright (never `playwright install`).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)

chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests (about 2 minutes)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

demo: $(STAMP)
	$(VENV)/bin/robopref demo --out demo-output

test: $(STAMP) lint typecheck unit interop

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP) chromium
	$(PY) -m pytest -n 2 --durations=25 --doctest-modules src/robopref tests

# LeRobot needs Python >= 3.12 and pins its own torch: it gets its own venv, installed once and
# keyed on tests/interop/requirements.txt (cold install measured in docs/pool-ingest.md).
PYTHON312 ?= $(firstword $(shell python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null) \
	$(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12))
VENV312 := .venv312
STAMP312 := $(VENV312)/.installed-$(shell cat tests/interop/requirements.txt | sha256sum | cut -c1-16)

$(STAMP312):
	@test -n "$(PYTHON312)" || { echo "interop needs Python 3.12: set PYTHON312=/path/to/python3.12"; exit 1; }
	test -x $(VENV312)/bin/python || $(PYTHON312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install -q --upgrade pip
	$(VENV312)/bin/python -m pip install -q -r tests/interop/requirements.txt
	rm -f $(VENV312)/.installed-* && touch $(STAMP312)

interop: $(STAMP) $(STAMP312)
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	$(PY) tests/interop/export_tiny_pool.py "$$dir" && \
	ROBOPREF_INTEROP_DIR="$$dir" $(VENV312)/bin/python -m pytest -q -p no:cacheprovider tests/interop

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b; done

clean:
	rm -rf $(VENV) demo-output
