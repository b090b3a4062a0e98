# virtc: `make demo` and `make test` set up everything on a fresh Debian machine.
VENV    ?= .venv
PY      := $(VENV)/bin/python
VIRTC   := $(VENV)/bin/virtc
DEMO    := build/demo

.PHONY: deps demo-deps oracles demo test test-all lint-code docs bench clean

# The demo needs libdb-dev and a virtualenv with virtc; the tests also need the oracles
# (m4, db-util, tinycdb, and sendmail, slapd and postfix unpacked into .oracles/: never
# installed, see the script) and python-ldap's build headers.
demo-deps: $(VENV)/.demo
deps: $(VENV)/.dev

$(VENV)/.demo: pyproject.toml tools/install-deps.sh
	sh tools/install-deps.sh demo
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[db]'
	touch $@

$(VENV)/.dev: $(VENV)/.demo
	sh tools/install-deps.sh test
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# Always run: it returns at once when everything is there.
oracles:
	sh tools/install-deps.sh test

demo: demo-deps
	@mkdir -p $(DEMO)
	@echo '== virtc lint fixtures/virtusertable'
	-$(VIRTC) lint fixtures/virtusertable
	@echo '== virtc build fixtures/clean/virtusertable -o $(DEMO)/virtusertable.db'
	$(VIRTC) build fixtures/clean/virtusertable -o $(DEMO)/virtusertable.db
	@echo '== virtc dump $(DEMO)/virtusertable.db'
	$(VIRTC) dump $(DEMO)/virtusertable.db
	@echo '== virtc query'
	$(VIRTC) query --table $(DEMO)/virtusertable.db alice@example.com bob+news@example.com nobody@example.com

# The CLI tests also run on the oldest and newest supported Pythons (own venvs .venv-X.Y).
OTHER_PYTHONS ?= 3.9 3.13

test: deps oracles
	sh tools/test-pythons.sh $(OTHER_PYTHONS)
	$(PY) -m pytest -q -m "not slow"

test-all: deps oracles
	$(PY) -m pytest -q

lint-code: deps
	$(VENV)/bin/ruff check virtc tests benchmarks
	$(VENV)/bin/mypy

# docs/rules.md is generated from the rule modules' docstrings (a test checks it is current).
docs: deps
	$(VIRTC) rule --markdown > docs/rules.md

bench: deps oracles
	$(PY) benchmarks/run.py

clean:
	rm -rf build dist $(VENV) .venv-* .oracles .pytest_cache .mypy_cache .ruff_cache .hypothesis
