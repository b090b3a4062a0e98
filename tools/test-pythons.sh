#!/bin/sh
# Run the command-line tests (lint, build, query, makemap) under other Pythons than the
# main suite's: each in its own virtualenv (.venv-X.Y), from pyenv's or the system's
# interpreter. A missing interpreter is one line and a skip; under CI (CI set) a failure.
#   sh tools/test-pythons.sh 3.9 3.13
set -eu
cd "$(dirname "$0")/.."
tests="tests/cli/test_lint_cli.py tests/cli/test_build_cli.py tests/cli/test_query_cli.py
       tests/oracle/test_makemap_dropin.py"
status=0
for v in "$@"; do
    py=""
    for c in "$(pyenv prefix "$v" 2>/dev/null)/bin/python$v" "$HOME"/.pyenv/versions/"$v".*/bin/python"$v" \
             "$(command -v "python$v" 2>/dev/null)"; do
        if [ -x "$c" ]; then py=$c; break; fi
    done
    if [ -z "$py" ]; then
        if [ -n "${CI:-}" ]; then echo "virtc: Python $v not found (CI runs the CLI tests on it)" >&2; exit 1; fi
        echo "virtc: Python $v not found: its CLI tests are skipped"
        continue
    fi
    venv=.venv-$v
    if [ ! -e "$venv/.installed" ] || [ pyproject.toml -nt "$venv/.installed" ]; then
        "$py" -m venv "$venv"
        "$venv/bin/python" -m pip install -q --upgrade pip
        "$venv/bin/python" -m pip install -q -e '.[db]' 'pytest>=8' 'hypothesis>=6.100' 'jsonschema>=4'
        touch "$venv/.installed"
    fi
    echo "== the CLI tests on $("$venv/bin/python" --version)"
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pytest -q -m "not slow" -p no:cacheprovider $tests || status=1
done
exit $status
