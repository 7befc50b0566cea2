# Set-up is two commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# torch is pinned to the CPU wheel on local disk; installing it first stops pip pulling a CUDA build.
TORCH ?= torch==2.13.0

.PHONY: demo test test-fast lint bench clean dist

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

# The inner loop, under 90 s: everything but the tests marked slow (real models, subprocess pipelines),
# fuzzing with 200 examples a property instead of 2,000.
test-fast: $(VENV)/.test
	$(VENV)/bin/ruff check src tests benchmarks
	TRIAGE_FUZZ_EXAMPLES=200 $(PY) -m pytest -q -m "not slow"

lint: $(VENV)/.test
	$(VENV)/bin/ruff check src tests benchmarks

bench: $(VENV)/.test
	$(PY) -m benchmarks all

# sdist + wheel (with the bundled heads and samples) into dist/, then twine's metadata/README check.
dist: $(VENV)/.test
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

clean:
	rm -rf $(VENV) build src/*.egg-info
