# virtc: `make demo` and `make test` set up everything on a fresh Debian machine.
VENV    ?= .venv
PY      := $(VENV)/bin/python
VIRTC   := $(VENV)/bin/virtc
STAMP   := $(VENV)/.installed
DEMO    := build/demo

.PHONY: deps demo test test-all lint-code docs bench clean

deps: $(STAMP)

$(STAMP): pyproject.toml tools/install-system-deps.sh
	sh tools/install-system-deps.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: deps
	@mkdir -p $(DEMO)
	@echo '== virtc lint fixtures/virtusertable'
	-$(VIRTC) lint fixtures/virtusertable
	@echo '== virtc build fixtures/clean/virtusertable -o $(DEMO)/virtusertable.db'
	$(VIRTC) build fixtures/clean/virtusertable -o $(DEMO)/virtusertable.db
	@echo '== virtc dump $(DEMO)/virtusertable.db'
	$(VIRTC) dump $(DEMO)/virtusertable.db
	@echo '== virtc query'
	$(VIRTC) query --table $(DEMO)/virtusertable.db alice@example.com bob+news@example.com nobody@example.com

test: deps
	$(PY) -m pytest -q -m "not slow"

test-all: deps
	$(PY) -m pytest -q

lint-code: deps
	$(VENV)/bin/ruff check virtc tests benchmarks
	$(VENV)/bin/mypy

# docs/rules.md is generated from the rule modules' docstrings (a test checks it is current).
docs: deps
	$(VIRTC) rule --markdown > docs/rules.md

bench: deps
	$(PY) benchmarks/run.py

clean:
	rm -rf build dist $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
