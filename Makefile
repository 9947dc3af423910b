# The two commands of the README: `make demo` and `make test`. Both create .venv when it is missing and
# (re)install hlsgen into it when pyproject.toml is newer than the last install.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.hlsgen-installed
JOBS ?= 2

.PHONY: demo test lint bench fuzz clean

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

# Differential fuzzing: FUZZ_COUNT random models from FUZZ_SEED on JOBS local processes (or FUZZ_SCHEDULER=
# tcp://host:port for a Dask cluster): convert, emulation == csim == the written project, decode == prefill,
# cosim + cycle estimate every 10th seed; failures shrunk to fuzz_out/failures/seed-S/repro.py; prints models/hour.
FUZZ_SEED ?= 1000
FUZZ_COUNT ?= 100
fuzz: $(STAMP)
	$(VENV)/bin/hlsgen fuzz --seed $(FUZZ_SEED) --count $(FUZZ_COUNT) --cosim-every 10 --decode-csim-every 5 \
		--out fuzz_out $(if $(FUZZ_SCHEDULER),--scheduler $(FUZZ_SCHEDULER),--workers $(JOBS))

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis fuzz_out
