"""Every output format is valid UTF-8 whatever the input bytes (README: the encoding rule):
bytes that are valid UTF-8 are shown as such, other bytes one character each (Latin-1)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SURROGATE = re.compile("[\ud800-\udfff]")
TABLE = (b"caf\xe9@x.example\tbob\n"          # a Latin-1 key
         b"j\xc3\xb6rg@x.example\tj\xc3\xb6rg\n"  # a UTF-8 key
         b"bad@x.example\t\xff\xfe\x80\n")      # bytes that are neither


def run(*args: str | bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "virtc", *args], capture_output=True, cwd=cwd, env=env,
                          timeout=60)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_lint_output_is_utf8_for_latin1_names_and_bytes(tmp_path: Path, fmt: str) -> None:
    name = b"t\xe9st.vt"  # a file name that is not UTF-8
    (tmp_path / os.fsdecode(name)).write_bytes(TABLE)
    r = run("lint", "--isolated", "--format", fmt, name, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    out = r.stdout.decode("utf-8")  # strict: raises on any invalid byte
    err = r.stderr.decode("utf-8")
    assert not SURROGATE.search(out + err)
    if fmt in ("json", "sarif"):
        doc = json.loads(out)
        assert not SURROGATE.search(json.dumps(doc, ensure_ascii=False))
    if fmt == "json":
        assert {d["path"] for d in json.loads(out)["diagnostics"]} == {"t\u00e9st.vt"}
    if fmt == "sarif":
        uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
                for res in json.loads(out)["runs"][0]["results"] for loc in res["locations"]}
        assert uris == {"t%E9st.vt"}


def test_query_matches_utf8_and_latin1_arguments_and_prints_utf8(tmp_path: Path) -> None:
    (tmp_path / "vt").write_bytes(TABLE)
    r = run("query", "--json", "--table", "vt", b"j\xc3\xb6rg@x.example", b"caf\xe9@x.example", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout.decode("utf-8"))
    assert [(d["kind"], d["result"]) for d in docs] == [("local", "jörg"), ("local", "bob")]
    assert [d["address"] for d in docs] == ["jörg@x.example", "café@x.example"]
