"""Property tests: for random tables and random nasty bytes, virtc agrees with the real makemap.

Each example runs makemap, so the default example count is moderate; set
``VIRTC_MAKEMAP_EXAMPLES`` (or run ``-m slow``) for a longer hunt.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.makemap_compare import Flags, compare

pytestmark = pytest.mark.oracle

EXAMPLES = int(os.environ.get("VIRTC_MAKEMAP_EXAMPLES", "150"))
SLOW_EXAMPLES = int(os.environ.get("VIRTC_MAKEMAP_SLOW_EXAMPLES", "2000"))

# makemap's buffer limits: 1022 content bytes per line, records of 1023 bytes.
EDGE_LENGTHS = [1021, 1022, 1023, 1024, 1025, 2045, 2046, 2047, 2048, 2049]

flags_st = st.builds(
    Flags,
    dbtype=st.sampled_from(["hash", "btree"]),
    foldcase=st.booleans(),
    null=st.booleans(),
    replace=st.booleans(),
)

# A small pool of local parts and domains so that keys repeat, in varying case.
_locals = st.sampled_from(["alice", "Bob", "bob+news", "bob++", "bob+*", "++", "+*", "", "j\xd6rg",
                           "\xe9lodie", "\xc9LODIE", "us#er", "info"])
_domains = st.sampled_from(["example.com", "Example.COM", "x.test", "X.TEST", "\xc9cole.fr", ""])


@st.composite
def keys(draw: st.DrawFn) -> str:
    local, domain = draw(_locals), draw(_domains)
    key = f"{local}@{domain}" if draw(st.booleans()) or not local else local
    return "".join(c.upper() if draw(st.booleans()) and c.isascii() else c for c in key) if draw(
        st.booleans()) else key


_values = st.sampled_from(["alice", "bob@other.test", "error:nouser 550 5.1.1 User unknown",
                           "error:5.7.1:550 Relaying denied", "%1@x.test", "a, b", "val  with  space  ",
                           "v\r", "v\t", "#not-a-comment", "\xe9t\xe9", "UPPER"])
_seps = st.sampled_from([" ", "\t", "  ", " \t", "\x0b", "\x0c", "\r ", "\t\t"])


@st.composite
def tables(draw: st.DrawFn) -> bytes:
    """Mostly well-formed tables with comments, blank lines, duplicates and CRLF."""
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["entry"] * 6 + ["comment", "blank", "novalue"]))
        if kind == "entry":
            lines.append(draw(keys()) + draw(_seps) + draw(_values))
        elif kind == "comment":
            lines.append("#" + draw(_values))
        elif kind == "blank":
            lines.append("")
        else:
            lines.append(draw(keys()) + draw(st.sampled_from(["", " ", "\r", "\t "])))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    text = eol.join(lines)
    if lines and draw(st.booleans()):
        text += eol
    return text.encode("latin-1")


# Bytes that matter to makemap's loop: separators, NUL, '#', '@', CR, 8-bit, BOM; and any byte.
_atoms = st.one_of(
    st.sampled_from([
        b"a", b"B", b"@", b"+", b"*", b".", b"#", b" ", b"\t", b"\x0b", b"\x0c", b"\r", b"\0",
        b"\xc9", b"\xe9", b"\xa0", b"\x85", b"\xff", b"\xef\xbb\xbf", b"k@x.test", b"K@X.TEST", b"value",
    ]),
    st.binary(min_size=1, max_size=2),
)


@st.composite
def nasty_line(draw: st.DrawFn) -> bytes:
    line = b"".join(draw(st.lists(_atoms, max_size=12)))
    if draw(st.integers(0, 5)) == 0:
        # Pad to a length around makemap's buffer limits (may put a separator at the edge).
        target = draw(st.sampled_from(EDGE_LENGTHS))
        filler = draw(st.sampled_from([b"x", b"X", b" ", b"x x", b"\t"]))
        line = (line + filler * target)[:target]
        line += b"".join(draw(st.lists(_atoms, max_size=3)))
    return line


@st.composite
def nasty_sources(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(nasty_line(), max_size=8))
    data = b"\n".join(lines)
    if draw(st.booleans()):
        data += b"\n"
    return data


def _check(source: bytes, flags: Flags) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        compare(source, Path(tmp), flags)


_settings = settings(max_examples=EXAMPLES, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.function_scoped_fixture])
_slow = settings(_settings, max_examples=SLOW_EXAMPLES)


@_settings
@given(source=tables(), flags=flags_st)
def test_random_tables_match_makemap(source: bytes, flags: Flags, makemap: str, bdb: None) -> None:
    _check(source, flags)


@_settings
@given(source=nasty_sources(), flags=flags_st)
def test_nasty_lines_match_makemap(source: bytes, flags: Flags, makemap: str, bdb: None) -> None:
    _check(source, flags)


@pytest.mark.slow
@_slow
@given(source=st.one_of(tables(), nasty_sources()), flags=flags_st)
def test_many_sources_match_makemap(source: bytes, flags: Flags, makemap: str, bdb: None) -> None:
    _check(source, flags)
