"""The paths virtc takes only for large tables give what the small-table paths give.

A table of 50k entries or more is linted in two processes and a source of 4 MiB or
more is kept compressed; here the thresholds are lowered so every rule fixture
goes through those paths, and the results are compared with the plain ones.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.oracles import ROOT, TEST_DATA, require_berkeleydb

import virtc.lint.facts as facts
import virtc.lint.rules.vt205_forwarding_loop as vt205
import virtc.source.blocks
import virtc.source.large
import virtc.speed.parallel as parallel
from virtc.lint import lint_table
from virtc.lint.schedule import lint_table as lint_scheduled
from virtc.source.parse import parse_bytes

DATA = TEST_DATA / "rules"
SOURCES = sorted([*DATA.glob("*/*.vt"), *ROOT.glob("fixtures/*/virtusertable")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_two_process_lint_equals_one_process(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = path.read_bytes()
    serial = lint_table(parse_bytes(data, str(path)))
    forks = []
    real_fork = os.fork

    def counting_fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(parallel, "MIN_ENTRIES", 1)
    monkeypatch.setattr(parallel, "CHUNK", 2)  # (the helper's diagnostics sent in many pickles)
    monkeypatch.setattr(os, "fork", counting_fork)
    monkeypatch.setattr(virtc.source.large, "PACK_SIZE", 0)
    monkeypatch.setattr(vt205, "BATCH", 1)  # (VT205's pass in parts of a forward or a few)
    table = parse_bytes(data, str(path))
    assert lint_scheduled(table, jobs=1) == serial
    assert forks == []  # -j 1: one process, whatever the size
    table = parse_bytes(data, str(path))  # nothing built yet: the key index is built in a helper too
    shared = lint_scheduled(table, jobs=2)
    assert shared == serial
    assert forks == ([1, 1] if len(table.entries) else [])
    # (what the helper sent is rebuilt as such: an int equals an IntEnum, a tuple a NamedTuple)
    assert [(type(d), type(d.severity), type(d.fix)) for d in shared] == \
        [(type(d), type(d.severity), type(d.fix)) for d in serial]
    assert table.text == data.decode("latin-1")  # unpacked from the compressed copy


def test_a_rule_that_raises_in_the_helper_is_an_error_here() -> None:
    def boom() -> list:
        raise ValueError("rule bug")

    with pytest.raises(parallel.HelperFailed, match="ValueError: rule bug"), parallel.Helper(boom) as job:
        job.result()


@pytest.mark.parametrize("n", [0, 1, parallel.CHUNK, parallel.CHUNK + 1, 3 * parallel.CHUNK - 1])
def test_a_long_list_comes_back_whole(n: int) -> None:
    with parallel.Helper(lambda: [(i, str(i)) for i in range(n)]) as job:
        assert job.result() == [(i, str(i)) for i in range(n)]


def test_a_long_list_item_comes_back_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK", 3)  # (sent in pickles of three)

    def items() -> Iterator[object]:
        yield [(i, str(i)) for i in range(10)]
        yield "after"

    with parallel.Helper(items, results=2) as job:
        assert job.result() == [(i, str(i)) for i in range(10)]
        assert job.result() == "after"


def test_column_facts_from_the_helper_are_the_plain_ones() -> None:
    from virtc.lint.config import LintConfig
    from virtc.lint.facts import COLUMN_FACTS, index
    from virtc.lint.rule import LintContext

    path = DATA / "VT205" / "bad.vt"
    ix = index(parse_bytes(path.read_bytes(), str(path)), LintContext(LintConfig()))
    with parallel.Claims(len(COLUMN_FACTS)) as claims, \
            parallel.Helper(lambda: ix.column_facts(claims)) as job:
        theirs = job.result()  # (this process claims none: the helper finds them all)
    plain = index(parse_bytes(path.read_bytes(), str(path)), LintContext(LintConfig()))
    assert list(theirs) == list(COLUMN_FACTS)
    for name in COLUMN_FACTS:
        mine = getattr(plain, name)
        assert (theirs[name] == mine) if isinstance(mine, bool) else (list(theirs[name]) == list(mine)), name
    assert plain.forwards and plain.one_at_each


def test_claims_hand_each_number_to_one_process() -> None:
    claims = parallel.Claims(200)
    with parallel.Helper(lambda: list(claims)) as job:
        mine = list(claims)
        theirs = job.result()
    claims.close()
    assert sorted(mine + theirs) == list(range(200))


def test_the_lint_helper_starts_when_allowed_and_shares_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    # Beside the build's writer: no helper until the writer is done, then one joins in.
    from virtc.lint.schedule import lint_table as scheduled

    path = ROOT / "fixtures/virtusertable"
    serial = lint_table(parse_bytes(path.read_bytes(), str(path)))
    monkeypatch.setattr(parallel, "MIN_ENTRIES", 1)
    asked: list[int] = []

    def allowed() -> bool:
        asked.append(os.getpid())
        return len(asked) >= 3

    table = parse_bytes(path.read_bytes(), str(path))
    assert scheduled(table, key_index=lambda: table.key_index.parts(), helper_allowed=allowed) == serial
    assert asked[:3] == [os.getpid()] * 3 and len(asked) == 3  # asked after each group, until yes
    table = parse_bytes(path.read_bytes(), str(path))
    assert scheduled(table, key_index=lambda: table.key_index.parts()) == serial  # never allowed


def test_the_lint_helper_starts_inside_a_long_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    # A long rule asks between its batches: the helper need not wait for the rule's end.
    import traceback

    from virtc.lint.schedule import lint_table as scheduled

    path = ROOT / "fixtures/virtusertable"
    serial = lint_table(parse_bytes(path.read_bytes(), str(path)))
    monkeypatch.setattr(parallel, "MIN_ENTRIES", 1)
    asked: list[list[str]] = []

    def allowed() -> bool:
        asked.append([frame.name for frame in traceback.extract_stack()])
        return any("proven_ends" in names for names in asked)

    table = parse_bytes(path.read_bytes(), str(path))
    assert scheduled(table, key_index=lambda: table.key_index.parts(), helper_allowed=allowed) == serial
    assert "proven_ends" in asked[-1] and "run_rules" in asked[-1]  # started from VT205's batches
    assert "proven_ends" not in asked[0]


@pytest.mark.parametrize(("value", "inside"), [("u{i}@mx.d{d}.example", "template_words"),
                                               ("u{i}%3@store.example", "exact_verdicts")])
def test_the_build_helper_starts_inside_vt105s_passes(monkeypatch: pytest.MonkeyPatch, value: str,
                                                       inside: str) -> None:
    # VT105 asks between the batches of its template passes (#18: 3 s on relay's 1M
    # entries, which the build's second process waited out).
    import traceback

    from virtc.lint.config import LintConfig
    from virtc.lint.schedule import lint_table as scheduled

    lines = []
    for d in range(30):
        host = f"mx.d{d}" if "mx" in value else "store"
        lines.append(f"@d{d}.example\t%1%3@{host}.example")
        lines += [f"u{i}@d{d}.example\t{value.format(i=i, d=d)}" for i in range(100)]
    data = ("\n".join(lines) + "\n").encode()
    config = LintConfig(select=frozenset({"VT105", "VT201"}))
    serial = lint_table(parse_bytes(data, "t"), config)
    monkeypatch.setattr(parallel, "MIN_ENTRIES", 1)
    monkeypatch.setattr(facts, "BATCH", 500)
    asked: list[list[str]] = []

    def allowed() -> bool:
        asked.append([frame.name for frame in traceback.extract_stack()])
        return any(inside in names for names in asked)

    table = parse_bytes(data, "t")
    found = scheduled(table, config, key_index=lambda: table.key_index.parts(), helper_allowed=allowed)
    assert found == serial
    assert inside in asked[-1] and "run_rules" in asked[-1]


def _loops_with_a_slow_vt205(monkeypatch: pytest.MonkeyPatch, helper_parts: Path) -> bytes:
    """Loops of five keys down a domain (2000 VT205 errors), and between them 50 chains of
    16 keys whose last passes a domain alias's catch-all (the 17th key: 50 errors, found
    only with the catch-alls each part's hops pass), linted as large, VT205's pass in parts
    of 100 forwards, each slow in this process (so that the helper, with no other rule
    left, takes some); the helper notes the parts it does in ``helper_parts``."""
    lines = ["@d.example\terror:5.1.1:550 User unknown", "@al.example\t%1@elsewhere.example"]
    for i in range(2000):
        to = i - 4 if i % 5 == 4 else i + 1
        lines.append(f"u{i}@d.example\tu{to}@d.example")
        if i % 40 == 0:
            c = i // 40
            lines += [f"c{c}k{k}@d.example\tc{c}k{k + 1}@{'al' if k == 15 else 'd'}.example"
                      for k in range(16)]
    parent, real_hops = os.getpid(), vt205._next_hops

    def slow_here(ix: Any, local: Any, nxt: Any, extra: Any, span: range, checkpoint: Any) -> None:
        if os.getpid() == parent:
            time.sleep(0.05)
        else:
            with helper_parts.open("a") as f:
                f.write(f"{span.start}\n")
        real_hops(ix, local, nxt, extra, span, checkpoint)

    monkeypatch.setattr(parallel, "MIN_ENTRIES", 1)
    monkeypatch.setattr(vt205, "BATCH", 100)
    monkeypatch.setattr(vt205, "_next_hops", slow_here)
    return "\n".join(lines).encode() + b"\n"


def test_the_helper_does_parts_of_vt205s_pass_and_the_findings_stay(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    # A part the helper does and this process left out of its hops would report none of
    # its loops.
    from virtc.lint.config import LintConfig

    data = _loops_with_a_slow_vt205(monkeypatch, tmp_path / "parts")
    config = LintConfig(select=frozenset({"VT205", "VT206"}))
    serial = lint_table(parse_bytes(data, "t"), config)
    assert sum(d.code == "VT205" for d in serial) == 2050
    assert lint_scheduled(parse_bytes(data, "t"), config, jobs=2) == serial
    assert (tmp_path / "parts").read_text().split()  # (the helper did some)


def test_a_build_helper_without_lookups_leaves_vt205s_parts_here(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    # Beside the build's writer the helper frees the lookups once it runs a rule without any
    # (here VT201), so it must not take VT205's parts after that: they look keys up.
    import traceback

    from virtc.lint.config import LintConfig

    data = _loops_with_a_slow_vt205(monkeypatch, tmp_path / "parts")
    config = LintConfig(select=frozenset({"VT205", "VT201"}))
    serial = lint_table(parse_bytes(data, "t"), config)
    table = parse_bytes(data, "t")

    def inside_vt205() -> bool:  # (the helper starts from VT205's first checkpoint)
        return any(frame.name == "proven_ends" for frame in traceback.extract_stack())

    assert lint_scheduled(table, config, key_index=lambda: table.key_index.parts(),
                          helper_allowed=inside_vt205) == serial
    assert not (tmp_path / "parts").exists()


@contextlib.contextmanager
def _pipe_with_deadline(why: str) -> Iterator[tuple[int, int]]:
    """A pipe between a test and its helper, and TimeoutError(why) after 20 s: a test whose
    helper waits on the wrong side would otherwise wait forever."""
    import signal

    def timeout(*_: object) -> None:
        raise TimeoutError(why)

    read_end, write_end = os.pipe()
    signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    try:
        yield read_end, write_end
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        os.close(read_end)
        os.close(write_end)


def test_a_helper_sends_each_item_as_it_is_made() -> None:
    # The build's helper sends the key index, then writes the map: the first item must
    # reach the parent while the helper is still at work on the second. Here the helper's
    # second step waits for what the parent sends once it has the first.
    with _pipe_with_deadline("the first item did not come before the helper's second step") as (
            read_end, write_end):

        def work() -> Iterator[int]:
            yield 1
            yield int(os.read(read_end, 1))
            raise ValueError("after two items")

        with parallel.Helper(work, results=3) as job:
            assert job.result() == 1
            os.write(write_end, b"2")
            assert job.result() == 2
            with pytest.raises(parallel.HelperFailed, match="ValueError: after two items"):
                job.result()


def test_a_helper_goes_on_while_its_first_item_waits_to_be_read() -> None:
    # The build's map writer sends the key index (8 MB at 1M entries; a pipe holds 1 MiB),
    # then writes the map: it must not wait until the checking process reads the index.
    big = b"x" * (4 * parallel.PIPE_BYTES)
    with _pipe_with_deadline("the helper waited for its first item to be read") as (read_end, write_end):

        def work() -> Iterator[bytes]:
            yield big
            os.write(write_end, b"!")  # before the parent reads the first item
            yield b"done"

        with parallel.Helper(work, results=2) as job:
            assert os.read(read_end, 1) == b"!"
            assert job.result() == big
            assert job.result() == b"done"


def test_a_helper_error_after_a_large_item_comes_after_it() -> None:
    # (A full disk while the map is written, with the key index still in the pipe.)
    big = b"y" * (4 * parallel.PIPE_BYTES)

    def work() -> Iterator[bytes]:
        yield big
        raise OSError(28, "No space left on device")

    with parallel.Helper(work, results=2) as job:
        assert job.result() == big
        with pytest.raises(OSError, match="No space left"):
            job.result()


def test_a_helper_error_before_the_first_item() -> None:
    def work() -> Iterator[int]:
        raise OSError(5, "disk gone")
        yield 1

    with parallel.Helper(work, results=2) as job, pytest.raises(OSError, match="disk gone"):
        job.result()


def test_packed_source_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(virtc.source.large, "PACK_SIZE", 0)
    table = parse_bytes(b"a@x b\n# c\n\xe9@x d\nlast@x e")
    assert [table.source_line(n) for n in range(0, 6)] == ["", "a@x b", "# c", "\xe9@x d", "last@x e", ""]
    assert isinstance(table._raw(), bytes)
    lines = [3, 0, 1, 5, 3, 4, 2, -1]  # (the text report's batches: each line sliced once)
    assert table.source_lines(lines) == list(map(table.source_line, lines))
    text_table = parse_bytes(b"a@x b\n# c\n\xe9@x d\nlast@x e")
    _ = text_table.text  # (held as text from now on)
    assert isinstance(text_table._raw(), str)
    assert text_table.source_lines(lines) == list(map(table.source_line, lines))
    assert table.last_line == (4, "last@x e")
    assert table.source_size == 24


def _overlapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the large-table build path (a helper writes the map while the build lints)."""
    monkeypatch.setattr(parallel, "MIN_ENTRIES", 1)


@pytest.mark.parametrize("path", [p for p in SOURCES if p.name == "virtusertable" or p.name == "good.vt"],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_build_while_linting_writes_the_same_map(path: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    require_berkeleydb()
    from virtc.maps.build import build
    from virtc.maps.records import BuildOptions
    from virtc.writers.bdb import read_map

    one = build(path, tmp_path / "one.db")
    _overlapped(monkeypatch)
    forks = []
    real_fork = os.fork

    def counting_fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    two = build(path, tmp_path / "two.db", BuildOptions(jobs=2))
    # One helper for the key index, then the map; a second shares the rules once the map is
    # written (when rules are left by then).
    assert forks in ([1], [1, 1])
    assert (two.written, two.records, two.diagnostics) == (one.written, one.records, one.diagnostics)
    if one.written:
        assert list(read_map(tmp_path / "two.db")) == list(read_map(tmp_path / "one.db"))
    assert sorted(p.name for p in tmp_path.iterdir()) == (["one.db", "two.db"] if one.written else [])


def test_build_while_linting_writes_nothing_for_a_broken_source(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    require_berkeleydb()
    from virtc.maps.build import build
    from virtc.maps.records import BuildOptions

    target = tmp_path / "map.db"
    target.write_bytes(b"old map")
    source = tmp_path / "src"
    source.write_bytes(b"a@x.example b@x.example\nb@x.example a@x.example\n@x.example error:nouser 550 no\n")
    _overlapped(monkeypatch)
    result = build(source, target, BuildOptions(jobs=2))
    assert not result.written and any(d.code == "VT205" for d in result.diagnostics)
    assert target.read_bytes() == b"old map"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.db", "src"]  # no temporary file


def test_build_while_linting_reports_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_berkeleydb()
    import errno

    from virtc.errors import VirtcError
    from virtc.maps.build import build
    from virtc.maps.records import BuildOptions
    from virtc.writers import bdb

    def full(*args: object, **kw: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "map.db"
    target.write_bytes(b"old map")
    source = ROOT / "fixtures" / "clean" / "virtusertable"
    monkeypatch.setattr(bdb, "write_new_map", full)  # the helper, a fork, inherits it
    _overlapped(monkeypatch)
    with pytest.raises(VirtcError, match="no space left on device; the old map is unchanged"):
        build(source, target, BuildOptions(jobs=2))
    assert target.read_bytes() == b"old map"
    assert [p.name for p in tmp_path.iterdir()] == ["map.db"]


def test_a_large_file_is_read_again_only_if_unchanged(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from virtc.errors import VirtcError
    from virtc.source.parse import parse_file
    from virtc.speed.packed import FileSource

    monkeypatch.setattr(virtc.source.large, "PACK_SIZE", 0)
    src = tmp_path / "vt"
    src.write_bytes(b"a@x.example b\n# c\n\xe9@x.example d\n")
    table = parse_file(src)
    assert isinstance(table._source, FileSource)  # not kept in memory
    assert table.source_line(3) == "\xe9@x.example d"
    table = parse_file(src)
    src.write_bytes(b"a@x.example B\n# c\n\xe9@x.example d\n")  # same size, other bytes
    with pytest.raises(VirtcError, match="changed while virtc was checking it"):
        _ = table.text
    stdin_like = parse_bytes(src.read_bytes(), "<stdin>")
    assert stdin_like.text.startswith("a@x.example B")  # kept (compressed): nothing to read again
    monkeypatch.setattr(virtc.source.large, "SPLIT_SIZE", 0)
    assert parse_file(src, jobs=2).source_line(3) == "\xe9@x.example d"  # two halves, one in a helper
    table = parse_file(src, jobs=2)
    src.write_bytes(b"a@x.example B\n# c\n\xe9@x.example D\n")  # the second half changed
    with pytest.raises(VirtcError, match="changed while virtc was checking it"):
        _ = table.text


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("change", ["grows", "shrinks"])
def test_a_file_that_changes_while_it_is_read_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        jobs: int, change: str) -> None:
    # A large file is read a block at a time (by two processes with -j 2): one written to
    # meanwhile is refused, not parsed half old, half new.
    from virtc.errors import VirtcError
    from virtc.source.parse import parse_file

    monkeypatch.setattr(virtc.source.large, "PACK_SIZE", 0)
    monkeypatch.setattr(virtc.source.large, "SPLIT_SIZE", 0)
    monkeypatch.setattr(virtc.source.blocks, "BLOCK", 64)
    src = tmp_path / "vt"
    src.write_bytes(b"".join(b"user%d@example.com local%d\n" % (i, i) for i in range(200)))
    real = virtc.source.large._file_pieces

    def changing(fd: int, start: int, end: int, path: str, crc: list[int]) -> object:
        pieces = real(fd, start, end, path, crc)
        yield next(pieces)
        if change == "grows":
            with src.open("ab") as f:
                f.write(b"late@example.com local\n")
        else:
            os.truncate(src, start + 100)
        yield from pieces

    monkeypatch.setattr(virtc.source.large, "_file_pieces", changing)
    with pytest.raises(VirtcError, match=r"vt: changed while virtc was reading it; run virtc again"):
        parse_file(src, jobs=jobs)


def test_build_while_linting_a_table_whose_key_index_is_built(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The lint does not ask the helper for a key index the table already has: the build
    # must still take the helper's map count, not its key index.
    require_berkeleydb()
    from virtc.maps.build_large import build_while_checking
    from virtc.maps.records import BuildOptions

    source = ROOT / "fixtures" / "clean" / "virtusertable"
    table = parse_bytes(source.read_bytes(), str(source))
    _ = table.key_index
    _overlapped(monkeypatch)
    result = build_while_checking(table, tmp_path / "map.db", BuildOptions(jobs=2))
    assert (result.written, result.records, result.diagnostics) == (True, len(table.entries), [])


def test_a_helpers_pipe_holds_a_mebibyte() -> None:
    # A helper's result can be tens of MB (half a parsed table): a 64 KiB pipe makes both
    # processes wake up for every 64 KiB of it.
    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("no F_GETPIPE_SZ on this system")
    with parallel.Helper(lambda: 1) as job:
        size = fcntl.fcntl(job._pipe.fileno(), fcntl.F_GETPIPE_SZ)
        assert job.result() == 1
    assert size == parallel.PIPE_BYTES


def test_upper_case_keys_are_folded_once_for_both_processes(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys with upper-case letters are stored folded: a copy of the whole key column, made
    before the helper is forked (shared), not once in each process (#18: 1M such keys, 30 MB
    more per copy); the build's writer keeps it for the map instead of folding again."""
    require_berkeleydb()
    import virtc.table
    from virtc.maps.build import build
    from virtc.maps.records import BuildOptions
    from virtc.writers.bdb import read_map

    calls = tmp_path / "folds"
    real_fold = virtc.table.fold

    def logged_fold(text: str) -> str:
        with calls.open("a") as f:
            f.write(f"{os.getpid()} {len(text)}\n")
        return real_fold(text)

    source = tmp_path / "vt"
    source.write_text("".join(f"User{i}@Example{i % 7}.com\tbox{i}\n" for i in range(40))
                      + "".join(f"@Example{d}.com\terror:5.1.1:550 no\n" for d in range(7)))
    one = build(source, tmp_path / "one.db")
    serial = lint_table(parse_bytes(source.read_bytes(), str(source)))
    monkeypatch.setattr(virtc.table, "fold", logged_fold)
    _overlapped(monkeypatch)
    table = parse_bytes(source.read_bytes(), str(source))
    assert lint_scheduled(table, jobs=2) == serial
    assert calls.read_text().split() == [str(os.getpid()), str(len(table.keys.text))]  # (this process, once)
    calls.unlink()
    two = build(source, tmp_path / "two.db", BuildOptions(jobs=2))
    assert (two.written, two.records) == (one.written, one.records) == (True, 47)
    assert list(read_map(tmp_path / "two.db")) == list(read_map(tmp_path / "one.db"))
    assert [line.split()[0] for line in calls.read_text().splitlines()] == [str(os.getpid())]


def test_a_blocked_build_says_the_same_in_one_or_two_processes(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # A blocked build writes nothing: neither path warns about the map's directory then.
    from virtc.maps.build import build
    from virtc.maps.records import BuildOptions

    monkeypatch.setattr(parallel, "MIN_ENTRIES", 1)
    unsafe = tmp_path / "open"
    unsafe.mkdir()
    unsafe.chmod(0o777)
    src = tmp_path / "virtusertable"
    src.write_text("a@example.com\tb@example.net\nA@example.com\tc@example.net\n")
    one = build(src, unsafe / "one.db", BuildOptions(jobs=1))
    two = build(src, unsafe / "two.db", BuildOptions(jobs=2))
    assert not one.written and not two.written
    assert one.warnings == two.warnings == []
    assert one.diagnostics == two.diagnostics and "VT103" in {d.code for d in one.diagnostics}
