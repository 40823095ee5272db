# The two set-up commands: `make reports` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JOBS   ?=
# The versions `make test` was run with (constraints.txt; `make lock` rewrites it from .venv), so a new
# upstream release cannot change them overnight. -qq: pip prints errors only.
PIP    := $(PY) -m pip install -qq --constraint constraints.txt

.PHONY: reports test test-fast bench lint lock clean-reports help

help:
	@echo "make reports   build every configuration's report into reports/ (creates .venv if missing)"
	@echo "make test      run the test suite (creates .venv if missing)"
	@echo "make bench     suite build speed vs the naive papermill + nbconvert loop"
	@echo "make lock      rewrite constraints.txt (the tested versions) from .venv"

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	rm -rf specnb.egg-info  # left by the former setuptools build; its stale metadata would shadow the install's
	$(PIP) --upgrade pip
	$(PIP) -e '.[test,lab]'
	$(PY) -m specnb.export
	touch $(STAMP)

lock: $(STAMP)
	{ echo "# pip freeze of the venv \`make test\` passed in (\`make lock\` rewrites it); the Makefile installs with it."; \
	  $(PY) -m pip freeze --all --exclude-editable | grep -v -E '^(setuptools|wheel)=='; } > constraints.txt.new
	cmp -s constraints.txt.new constraints.txt && rm constraints.txt.new || mv constraints.txt.new constraints.txt

reports: $(STAMP)
	$(VENV)/bin/specnb build --out reports $(if $(JOBS),--jobs $(JOBS),)

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not browser"

bench: $(STAMP)
	$(PY) benchmarks/bench_build.py

lint: $(STAMP)
	$(VENV)/bin/ruff check specnb tests

clean-reports:
	rm -rf reports/*/ reports/index.html
