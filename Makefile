# Set-up is two commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# torch is pinned to the CPU wheel on local disk; installing it first stops pip pulling a CUDA build.
TORCH ?= torch==2.13.0

.PHONY: demo test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core: pyproject.toml | $(PY)
	$(PIP) install -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.core
	$(PIP) install "$(TORCH)"
	$(PIP) install -e ".[transformers,service,dask,test]"
	touch $@

demo: $(VENV)/.core
	$(VENV)/bin/triage demo

test: $(VENV)/.test
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q

lint: $(VENV)/.test
	$(VENV)/bin/ruff check src tests benchmarks

bench: $(VENV)/.test
	$(PY) -m benchmarks all

clean:
	rm -rf $(VENV) build src/*.egg-info
