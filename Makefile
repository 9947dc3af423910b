# The two commands of the README: `make demo` and `make test`. Both create .venv when it is missing and
# (re)install hlsgen into it when pyproject.toml is newer than the last install.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.hlsgen-installed
JOBS ?= 2

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,torch]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/hlsgen demo

test: $(STAMP)
	$(PY) -m pytest -n $(JOBS) --dist loadgroup -q --durations=25

lint: $(STAMP)
	$(VENV)/bin/ruff check hlsgen tests sim examples benchmarks
	$(VENV)/bin/ruff format --check hlsgen tests sim examples benchmarks

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
