"""Bad input never crashes virtc: random bytes, mutated real tables, huge lines, binary files.

In-process (hypothesis): the parser, lint (``virtc.lint.lint_table``), the lookup
engine (``virtc.lookup``) and the library build either succeed or raise the one
user-facing error type (VirtcError), never anything else.

Through the CLI (subprocesses): build, lint and query on binary files, invalid
UTF-8, a 10 MB line and a 10 MB table exit 0, 1 or 2 with located messages and no
traceback, and their peak RSS (``getrusage(RUSAGE_CHILDREN)`` in a wrapper
process) stays under a linear bound. A 100 MB table runs under ``-m slow``.
The atheris harness in tests/fuzz/ drives the same entry points coverage-guided.
"""

from __future__ import annotations

import ast
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.oracles import ROOT
from support.safety import VIRTC

from virtc.errors import VirtcError
from virtc.lint import lint_table
from virtc.lookup import LookupTable, resolve
from virtc.maps.build import build
from virtc.maps.records import BuildOptions
from virtc.source.parse import parse_bytes

SEEDS = sorted(
    p for p in [*ROOT.glob("fixtures/**/virtusertable"), *ROOT.glob("tests/data/**/*.vt")] if p.is_file()
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)

# Bytes that matter to makemap and sendmail: separators, comment, NUL, CR, 8-bit, @ + * % : " < >.
SPECIAL = b" \t\n\r\0#@+*%:\"<>\\.!\x80\xff"


@st.composite
def mutated_table(draw: st.DrawFn) -> bytes:
    """A real table with a few byte-level mutations (insert, delete, duplicate, flip, splice)."""
    data = bytearray(draw(st.sampled_from(SEEDS)).read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "dup", "flip", "special", "long"]))
        if op == "insert":
            data[pos:pos] = draw(st.binary(max_size=40))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 40))]
        elif op == "dup":
            data[pos:pos] = data[max(0, pos - 60):pos]
        elif op == "flip" and pos < len(data):
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "special":
            data[pos:pos] = bytes([draw(st.sampled_from(SPECIAL))])
        elif op == "long":
            data[pos:pos] = b"x" * draw(st.integers(1000, 3000))
    return bytes(data)


inputs = st.one_of(st.binary(max_size=2000), mutated_table(),
                   st.lists(st.sampled_from(SPECIAL), max_size=300).map(bytes))


def _addresses(table_bytes: bytes, extra: str) -> list[str]:
    """Addresses worth resolving: the table's own keys, variants of them, and junk."""
    lines = table_bytes.splitlines()[:20]
    keys = [line.split(None, 1)[0].decode("latin-1") for line in lines if line.split()]
    out = [extra, "user@example.com", "@", "", "a+b@c", "%1@%2"]
    for k in keys:
        out += [k, "x" + k, k.replace("@", "+detail@"), k.upper()]
    return out


@pytest.mark.skipif(not SEEDS, reason="no seed tables found")
@SETTINGS
@given(data=inputs, extra=st.text(max_size=40))
def test_parse_lint_lookup_never_crash(data: bytes, extra: str) -> None:
    table = parse_bytes(data, "fuzz")
    lint_table(table)
    lookup = LookupTable.from_table(table)
    domains = {k.rsplit("@", 1)[-1].lower() for k in lookup.values if "@" in k}
    for address in _addresses(data, extra):
        resolve(address, lookup)
        resolve(address, lookup, domains, virthost=True)


@pytest.mark.skipif(not SEEDS, reason="no seed tables found")
@settings(max_examples=100, deadline=None, derandomize=True)
@given(data=inputs, lint=st.booleans(), null=st.booleans(), fold=st.booleans(), replace=st.booleans())
def test_library_build_succeeds_or_raises_virtcerror(
        tmp_path_factory: pytest.TempPathFactory, data: bytes, lint: bool, null: bool, fold: bool,
        replace: bool) -> None:
    d = tmp_path_factory.mktemp("fuzzbuild")
    src = d / "src"
    src.write_bytes(data)
    old = d / "m.db"
    old.write_bytes(b"previous map")
    try:
        result = build(src, old, BuildOptions(lint=lint, null=null, foldcase=fold, replace=replace))
    except VirtcError:
        assert old.read_bytes() == b"previous map"
        return
    if not result.written:
        assert old.read_bytes() == b"previous map", "a blocked build must not touch the map"
    assert list(d.glob(".m.db.virtc-tmp-*")) == []


# --- through the CLI, with peak memory -------------------------------------------------------

_MEASURE = """
import resource, subprocess, sys
run = subprocess.run(sys.argv[1:], capture_output=True)
tail = 2_000_000  # keep whole lines: cut at a newline
sys.stdout.write(repr((run.returncode, run.stdout[-tail:], run.stderr[-tail:],
                       resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)))
"""


def run_measured(*args: str | Path, timeout: float = 120) -> tuple[int, str, str, int]:
    """(exit code, stdout tail, stderr tail, peak RSS in KiB) of one virtc run."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, *VIRTC, *map(str, args)],
                         capture_output=True, timeout=timeout, check=True)
    rc, stdout, stderr, rss = ast.literal_eval(out.stdout.decode())
    return rc, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"), rss


def rss_bound_kib(size: int) -> int:
    """Linear in the input: 100 MiB for the interpreter and libraries, plus 30x the source."""
    return 100 * 1024 + 30 * size // 1024


LOCATED = re.compile(r"^(virtc: .+|.+:\d+:\d+: VT\d{3} .+)$")


def assert_clean(path: Path, rc: int, stdout: str, stderr: str) -> None:
    assert rc in (0, 1, 2), f"exit {rc}: {stderr[-2000:]}"
    assert "Traceback" not in stderr + stdout and "internal error" not in stderr, stderr[-3000:]
    for line in stderr.split("\n")[1:-1]:  # the first line may be cut by the tail
        assert LOCATED.match(line), f"unlocated stderr line: {line!r}"
    if rc == 1:
        assert re.search(rf"{re.escape(str(path))}:\d+:\d+:", stdout + stderr), "no located diagnostic"


def commands(src: Path, out: Path) -> dict[str, list[str | Path]]:
    return {
        "build": ["build", src, "-o", out],
        "build-no-lint": ["build", "--no-lint", src, "-o", out],
        "lint": ["lint", "--format", "text", "--no-color", src],
        "query": ["query", "--table", src, "user1@example.com", "nobody@nowhere.test"],
    }


def _binary_inputs(rng: random.Random) -> dict[str, bytes]:
    junk = bytes(rng.getrandbits(8) for _ in range(200_000))
    return {
        "random": junk,
        "invalid-utf8": b"".join(b"u%d@example.com\t\xc3\x28 \xa0\xa1 \xf0\x28\x8c\x28 \xed\xa0\x80\n" % i
                                 for i in range(500)),
        "elf": Path(sys.executable).read_bytes()[:300_000],
        "huge-line": b"k@example.com " + b"v" * (10 * 2**20) + b"\n@example.com error:nouser 550 no\n",
    }


@pytest.mark.parametrize("kind", ["random", "invalid-utf8", "elf", "huge-line"])
def test_cli_on_binary_and_odd_files(tmp_path: Path, kind: str) -> None:
    src = tmp_path / kind
    src.write_bytes(_binary_inputs(random.Random(kind))[kind])
    for name, args in commands(src, tmp_path / "out.db").items():
        rc, stdout, stderr, rss = run_measured(*args)
        assert_clean(src, rc, stdout, stderr)
        assert rss < rss_bound_kib(src.stat().st_size), f"{name}: peak RSS {rss} KiB"


def big_table(size: int) -> bytes:
    """A realistic table of about ``size`` bytes with a sprinkling of every kind of bad line."""
    rng = random.Random(size)
    lines, total, i = [], 0, 0
    bad = [b" leading@space.example x", b"novalue@example.com", b"x" * 1500, b"nul\0@example.com y",
           b"dup@example.com a", b"user+*@example.com %1@elsewhere.example", b"\xff\xfe@\x80.example z"]
    while total < size:
        line = (rng.choice(bad) if rng.random() < 0.001 else
                b"user%d@d%d.example.com\tlocal%d\n" % (i, i % 50, i)).rstrip(b"\n") + b"\n"
        lines.append(line)
        total += len(line)
        i += 1
    return b"".join(lines)


def _big_run(tmp_path: Path, size: int) -> None:
    src = tmp_path / "big"
    src.write_bytes(big_table(size))
    for name in ("build", "lint"):
        rc, stdout, stderr, rss = run_measured(*commands(src, tmp_path / "out.db")[name], timeout=1800)
        assert_clean(src, rc, stdout, stderr)
        assert rc == 1  # the sprinkled bad lines are found...
        assert not (tmp_path / "out.db").exists()  # ...and block the build
        assert rss < rss_bound_kib(size), f"{name}: peak RSS {rss // 1024} MiB for {size // 2**20} MiB"


def test_ten_megabyte_table(tmp_path: Path) -> None:
    _big_run(tmp_path, 10 * 2**20)


@pytest.mark.slow
def test_hundred_megabyte_table(tmp_path: Path) -> None:
    _big_run(tmp_path, 100 * 2**20)


@pytest.mark.parametrize("command", ["build", "lint"])
def test_control_bytes_never_reach_the_terminal(tmp_path: Path, command: str) -> None:
    """An ESC sequence or a CR in a key is shown visibly, and every diagnostic stays one line."""
    src = tmp_path / "esc"
    src.write_bytes(b"a\x1b[2J\x1b]0;owned\x07@example.com\nb\r@example.com\n c\x85@example.com x\n")
    rc, stdout, stderr, _ = run_measured(*commands(src, tmp_path / "out.db")[command])
    assert rc == 1
    assert_clean(src, rc, stdout, stderr)
    for ch in "\x1b\x07\r\x85":
        assert ch not in stdout + stderr, f"raw {ch!r} in the output"
