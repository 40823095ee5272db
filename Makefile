# The two set-up commands: `make reports` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JOBS   ?=

.PHONY: reports test test-fast bench bench-scale lint clean-reports help

help:
	@echo "make reports   build every configuration's report into reports/ (creates .venv if missing)"
	@echo "make test      run the test suite (creates .venv if missing)"
	@echo "make bench     suite build speed vs the naive papermill + nbconvert loop (34 and 340 configurations)"
	@echo "make bench-scale  the same, plus a 3,400-configuration synthetic suite (memory flat in suite size)"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,lab]'
	$(PY) -m specnb.export
	touch $(STAMP)

reports: $(STAMP)
	$(VENV)/bin/specnb build --out reports $(if $(JOBS),--jobs $(JOBS),)

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not browser"

bench: $(STAMP)
	$(PY) benchmarks/bench_build.py

bench-scale: $(STAMP)
	$(PY) benchmarks/bench_build.py --scale --json benchmarks/last_run.json

lint: $(STAMP)
	$(VENV)/bin/ruff check specnb tests

clean-reports:
	rm -rf reports/*/ reports/index.html
