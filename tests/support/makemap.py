"""The real ``makemap`` as a test oracle: run it on source bytes, read back what it stored.

``run_makemap(source)`` feeds the bytes to ``makemap [flags] TYPE MAP`` on standard
input and returns its exit code, its complaints as ``Message(line, kind, key)``
(``line`` is makemap's own fgets counter, i.e. virtc's ``Record.seq``) and the
``makemap -u`` dump as ``(key, value)`` byte pairs in the map's own order.
``db_dump_p`` and ``db_verify`` wrap the Berkeley DB utilities.

makemap run as root reads sendmail.cf for ``TrustedUser`` and chowns the map; the
harness passes ``-C`` with an empty cf of its own so that the host's sendmail
configuration never matters.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from support.oracles import require_tool

TIMEOUT = 60

# makemap: MAP: line N: <what>   (MAP as given on the command line)
_MESSAGE = re.compile(rb"makemap: .*?: line (\d+): (.*)", re.S)
# Safety-check chatter about the temp directory's ancestors ("World writable directory /tmp").
_WARNING = b"WARNING: "
_KINDS: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("too-long", re.compile(rb"line too long \(1024 bytes max\)")),
    ("leading-space", re.compile(rb"syntax error \(leading space\)")),
    ("missing-value", re.compile(rb"no RHS for LHS (.*)", re.S)),
    ("duplicate", re.compile(rb"key (.*): duplicate key", re.S)),
)


@dataclass(frozen=True)
class Message:
    """One complaint of makemap about one input record."""

    line: int
    """makemap's line counter (one per fgets call): virtc's ``Record.seq``."""
    kind: str
    """too-long, leading-space, missing-value, duplicate, or other."""
    key: bytes | None = None
    """The key makemap names (missing-value, duplicate)."""


@dataclass
class MakemapResult:
    returncode: int
    messages: list[Message]
    stderr: bytes
    records: list[tuple[bytes, bytes]]
    """The ``makemap -u`` dump, in the map's order."""
    map_file: Path
    dump: bytes = b""
    """The raw ``makemap -u`` output."""
    other_stderr: list[bytes] = field(default_factory=list)
    """stderr lines that are not per-line complaints."""


def parse_messages(stderr: bytes) -> tuple[list[Message], list[bytes]]:
    """makemap's per-line complaints, and any other stderr lines (safety warnings dropped)."""
    messages: list[Message] = []
    other: list[bytes] = []
    for raw in stderr.split(b"\n"):
        if not raw:
            continue
        if raw.startswith(_WARNING):
            continue
        m = _MESSAGE.fullmatch(raw)
        if m is None:
            other.append(raw)
            continue
        line, what = int(m[1]), m[2]
        for kind, pattern in _KINDS:
            k = pattern.fullmatch(what)
            if k is not None:
                messages.append(Message(line, kind, k[1] if k.groups() else None))
                break
        else:
            messages.append(Message(line, "other", what))
    return messages, other


def parse_dump(out: bytes) -> list[tuple[bytes, bytes]]:
    """``makemap -u`` output (key TAB value per line; keys never hold a TAB or newline)."""
    records = []
    for line in out.split(b"\n")[:-1]:
        key, _, value = line.partition(b"\t")
        records.append((key, value))
    return records


def _cf(workdir: Path) -> Path:
    cf = workdir / "makemap-oracle.cf"
    if not cf.exists():
        cf.write_text("# empty sendmail.cf for makemap -C: no TrustedUser, no chown\n")
    return cf


def makemap_dump(map_name: Path, dbtype: str = "hash", workdir: Path | None = None) -> bytes:
    """Raw ``makemap -u TYPE MAP`` output (MAP without or with ``.db``)."""
    makemap = require_tool("makemap")
    with tempfile.TemporaryDirectory() as tmp:
        cf = _cf(workdir or Path(tmp))
        proc = subprocess.run(
            [makemap, "-C", str(cf), "-u", dbtype, str(map_name)],
            capture_output=True, timeout=TIMEOUT, check=False,
        )
    if proc.returncode != 0:
        raise AssertionError(f"makemap -u {map_name} failed ({proc.returncode}): {proc.stderr!r}")
    return proc.stdout


def run_makemap(
    source: bytes,
    workdir: Path,
    *,
    dbtype: str = "hash",
    flags: Sequence[str] = (),
    name: str = "makemap-map",
) -> MakemapResult:
    """Compile ``source`` with the real makemap into ``workdir/name.db`` and dump it."""
    makemap = require_tool("makemap")
    src = workdir / f"{name}.src"
    src.write_bytes(source)
    map_name = workdir / name
    map_file = workdir / f"{name}.db"
    map_file.unlink(missing_ok=True)
    with src.open("rb") as stdin:
        proc = subprocess.run(
            [makemap, "-C", str(_cf(workdir)), *flags, dbtype, str(map_name)],
            stdin=stdin, capture_output=True, timeout=TIMEOUT, check=False,
        )
    messages, other = parse_messages(proc.stderr)
    dump = makemap_dump(map_name, dbtype, workdir) if map_file.exists() else b""
    return MakemapResult(proc.returncode, messages, proc.stderr, parse_dump(dump), map_file, dump, other)


def db_dump_p(map_file: Path) -> str:
    """``db_dump -p`` text (header and printable data), the layout-exact comparison."""
    db_dump = require_tool("db_dump")
    proc = subprocess.run([db_dump, "-p", str(map_file)], capture_output=True, timeout=TIMEOUT,
                          check=False)
    if proc.returncode != 0:
        raise AssertionError(f"db_dump -p {map_file} failed: {proc.stderr!r}")
    return proc.stdout.decode("latin-1")


def db_verify(map_file: Path) -> tuple[bool, str]:
    """(passed, output) of ``db_verify``."""
    verify = require_tool("db_verify")
    proc = subprocess.run([verify, str(map_file)], capture_output=True, timeout=TIMEOUT, check=False)
    return proc.returncode == 0, (proc.stdout + proc.stderr).decode("latin-1")
