"""--fix and --diff: safe fixes only, byte-exact elsewhere, atomic, idempotent."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.lint_fakes import Cli, use_fake_rules

from virtc.diagnostics import Diagnostic, Fix, Severity
from virtc.lint.config import LintConfig
from virtc.lint.files import lint_file
from virtc.lint.fix import MAX_ROUNDS, apply_fixes, fix_source, unified_diff
from virtc.source.parse import parse_text
from virtc.table import Table

CATCH = "@x.test\terror:5.1.1:550 User unknown\n"


@pytest.fixture
def virtc(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    use_fake_rules(monkeypatch)
    return Cli(capsys, monkeypatch)


def test_apply_replace_delete_insert() -> None:
    text = "l1\nl2\nl3\n"
    fixes = [Fix(1, 1, "L1\n", ""), Fix(2, 2, "", ""), Fix(4, 3, "l4\n", ""), Fix(3, 2, "x\ny\n", "")]
    assert apply_fixes(text, fixes) == ("L1\nx\ny\nl3\nl4\n", sorted(fixes, key=lambda f: f.line))


def test_overlapping_fixes_first_in_file_order_wins() -> None:
    text = "a\nb\nc\n"
    wide, narrow = Fix(1, 2, "AB\n", ""), Fix(2, 2, "B\n", "")
    assert apply_fixes(text, [narrow, wide]) == ("AB\nc\n", [wide])
    one, two = Fix(2, 1, "i1\n", ""), Fix(2, 1, "i2\n", "")  # two insertions at one place
    new, done = apply_fixes(text, [one, two])
    assert new == "a\ni1\nb\nc\n" and done == [one]
    around = Fix(1, 2, "", "")
    assert apply_fixes(text, [around, Fix(2, 1, "i\n", "")])[1] == [around]  # insertion inside a range
    assert apply_fixes(text, [Fix(3, 2, "i\n", ""), Fix(3, 3, "C\n", "")])[0] == "a\nb\ni\nC\n"


def _apply_one_by_one(text: str, fixes: list[Fix]) -> tuple[str, list[Fix]]:
    """The definition: each fix in file order against every fix chosen before it, then
    spliced into the lines from the last one back."""
    def span(f: Fix) -> tuple[int, int]:
        return f.line - 1, max(f.end_line, f.line - 1)

    def conflict(a: tuple[int, int], b: tuple[int, int]) -> bool:
        if a[0] == a[1] and b[0] == b[1]:
            return a[0] == b[0]
        if a[0] == a[1]:
            return b[0] < a[0] < b[1]
        if b[0] == b[1]:
            return a[0] < b[0] < a[1]
        return a[0] < b[1] and b[0] < a[1]

    lines = text.split("\n")
    final_newline = lines[-1] == ""
    if final_newline:
        lines.pop()
    chosen: list[Fix] = []
    for fix in sorted(set(fixes), key=lambda f: (f.line, f.end_line, f.replacement)):
        if span(fix)[0] >= 0 and span(fix)[1] <= len(lines) and \
                not any(conflict(span(fix), span(c)) for c in chosen):
            chosen.append(fix)
    final_newline = final_newline or any(span(f)[1] == len(lines) for f in chosen)
    for fix in sorted(chosen, key=span, reverse=True):
        new = fix.replacement.split("\n")
        lines[span(fix)[0]:span(fix)[1]] = new[:-1] if new[-1] == "" else new
    return ("\n".join(lines) + ("\n" if final_newline else "")) if lines else "", chosen


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", ""]), max_size=6), st.booleans(),
       st.lists(st.builds(lambda line, width, text: Fix(line, line - 1 + width, text, ""),
                          st.integers(0, 8), st.integers(-1, 3),
                          st.sampled_from(["", "X\n", "Y\nZ\n", "W"])), max_size=6))
def test_fixes_are_chosen_and_applied_as_one_by_one(lines: list[str], newline: bool,
                                                    fixes: list[Fix]) -> None:
    """One pass chooses and applies what checking each fix against every chosen one and
    splicing them in one at a time does."""
    text = "\n".join(lines) + ("\n" if newline and lines else "")
    assert apply_fixes(text, fixes) == _apply_one_by_one(text, fixes)


def _patched(old: str, diff: str) -> str:
    """``old`` with the unified ``diff`` applied (what ``patch`` does, hunks in order)."""
    a = old.split("\n")
    out: list[str] = []
    done = 0  # lines of ``a`` copied or consumed
    lines = diff.split("\n")[2:]
    for line in lines:
        if line.startswith("@@"):
            start = int(line.split()[1][1:].split(",")[0])
            length = int(line.split()[1].split(",")[1]) if "," in line.split()[1] else 1
            at = start - 1 if length else start  # (an empty range names the line before it)
            out += a[done:at]
            done = at
        elif line.startswith((" ", "-")):
            assert a[done] == line[1:], (done, line)
            if line[0] == " ":
                out.append(line[1:])
            done += 1
        elif line.startswith("+"):
            out.append(line[1:])
    return "\n".join(out + a[done:])


_FEW = st.lists(st.sampled_from(["a", "b", "c", "d", ""]), max_size=30)  # lines that repeat
_MANY = st.lists(st.integers(0, 40).map(str), max_size=30)  # lines mostly once: anchors, moved


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.tuples(_FEW, _FEW), st.tuples(_MANY, _MANY), st.tuples(_FEW, _MANY)))
def test_the_diff_turns_the_old_text_into_the_new(texts: tuple[list[str], list[str]]) -> None:
    """The anchored diff is a diff: applied to the old text it gives the new one (lines
    repeated or once, moved, a final newline or not)."""
    old_lines, new_lines = texts
    old, new = "\n".join(old_lines) + "\n", "\n".join(new_lines) + "\n"
    diff = unified_diff("t", old, new)
    assert (diff == "") == (old == new)
    assert _patched(old, diff) == new


def test_identical_fixes_count_once_and_stale_ones_are_dropped() -> None:
    f = Fix(1, 1, "", "")
    assert apply_fixes("a\nb\n", [f, f, Fix(7, 7, "x\n", "")]) == ("b\n", [f])


def test_no_final_newline_is_kept_unless_a_fix_reaches_the_end() -> None:
    assert apply_fixes("a\nb\nc", [Fix(1, 1, "A\n", "")])[0] == "A\nb\nc"
    assert apply_fixes("a\nb", [Fix(3, 2, "c\n", "")])[0] == "a\nb\nc\n"
    assert apply_fixes("a\nb", [Fix(2, 2, "", "")])[0] == "a\n"
    assert apply_fixes("a", [Fix(1, 1, "", "")])[0] == ""


def _first_x_to_y(table: Table) -> list[Diagnostic]:
    """A lint whose fixes all overlap (each rewrites lines 1..N): one per round."""
    lines = table.text.split("\n")[:-1]
    out = []
    for n, line in enumerate(lines, 1):
        if "x" in line:
            new = "".join(s + "\n" for s in lines[: n - 1]) + line.replace("x", "y", 1) + "\n"
            out.append(Diagnostic(table.path, n, 1, n, 2, "VT999", "t", Severity.WARNING, "x",
                                  Fix(1, n, new, "x to y")))
    return out


def test_fix_loops_until_stable_and_is_bounded() -> None:
    result = fix_source(parse_text("x\nx\nx\n"), _first_x_to_y)
    assert (result.text, len(result.applied), result.diagnostics) == ("y\ny\ny\n", 3, [])
    assert len(result.initial) == 3
    many = fix_source(parse_text("x\n" * (MAX_ROUNDS + 5)), _first_x_to_y)
    assert len(many.applied) == MAX_ROUNDS and len(many.diagnostics) == 5


# Line 3 (CRLF comment), 5 (8-bit value), 6 (form feed in a value) must survive byte for byte.
ORIGINAL = (
    b"a@x.test\tgood  \n"  # VT902: trailing blanks
    b"a@x.test\tgood  \n"  # VT902 and VT905 (repeats line 1): overlapping fixes
    b"# a CRLF comment\r\n"
    b"b@x.test\tbad\n"  # VT901: no fix
    b"c@x.test\tcaf\xe9\n"
    b"d@x.test\tv\x0cw\n"
    b"e@y.test\tgood\n"  # VT904 for y.test: insert after the last y.test line
)
FIXED = (
    b"a@x.test\tgood\n"
    b"# a CRLF comment\r\n"
    b"b@x.test\tbad\n"
    b"c@x.test\tcaf\xe9\n"
    b"d@x.test\tv\x0cw\n"
    b"@x.test\terror:5.1.1:550 User unknown\n"
    b"e@y.test\tgood\n"
    b"@y.test\terror:5.1.1:550 User unknown\n"
)


def test_fix_rewrites_atomically_keeps_mode_and_other_bytes(virtc: Cli, tmp_path: Path) -> None:
    src = tmp_path / "virtusertable"
    src.write_bytes(ORIGINAL)
    src.chmod(0o640)
    inode = src.stat().st_ino
    r = virtc("lint", "--fix", "--unsafe-fixes", "--format", "json", src)
    assert r.rc == 1  # the VT901 error has no fix and remains
    doc = json.loads(r.out)
    assert [(d["line"], d["code"]) for d in doc["diagnostics"]] == [(3, "VT901")]  # reported on the new text
    assert doc["summary"]["fixed"] == 4  # line 2's VT902 fix lost to its deletion
    assert src.read_bytes() == FIXED
    assert stat.S_IMODE(src.stat().st_mode) == 0o640
    assert src.stat().st_ino != inode  # replaced, not rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ["virtusertable"]  # no temp file left


def test_fix_is_idempotent(virtc: Cli, tmp_path: Path) -> None:
    src = tmp_path / "v"
    src.write_bytes(ORIGINAL)
    virtc("lint", "--fix", "--unsafe-fixes", src)
    before = (src.read_bytes(), src.stat().st_ino)
    r = virtc("lint", "--fix", "--unsafe-fixes", src)
    assert (src.read_bytes(), src.stat().st_ino) == before  # nothing to fix: not even rewritten
    assert "Fixed" not in r.out


def test_fix_text_report(virtc: Cli, tmp_path: Path) -> None:
    src = tmp_path / "v"
    src.write_bytes(b"a@x.test\tgood \n")
    r = virtc("lint", "--fix", "--unsafe-fixes", src)
    assert (r.rc, r.out) == (0, "Fixed 2 problems. All checks passed (1 file).\n")
    assert src.read_bytes() == b"a@x.test\tgood\n" + CATCH.encode()


def test_fix_applies_safe_fixes_only_unless_asked(virtc: Cli, tmp_path: Path) -> None:
    """Safe fixes change no address's fate; the catch-all (unsafe) needs --unsafe-fixes."""
    src = tmp_path / "v"
    src.write_bytes(b"a@x.test\tgood \n")
    r = virtc("lint", "--fix", src)
    assert r.rc == 1
    assert src.read_bytes() == b"a@x.test\tgood\n"  # the trailing blank only
    assert r.out.endswith("Fixed 1 problem. Found 1 problem in 1 file (1 warning). 1 unsafe fix available "
                          "with `--fix --unsafe-fixes` (they change which mail is accepted: review them "
                          "with `--diff --unsafe-fixes`).\n")
    doc = json.loads(virtc("lint", "--format", "json", src).out)
    assert [d["fix"]["applicability"] for d in doc["diagnostics"]] == ["unsafe"]
    assert (doc["summary"]["fixable"], doc["summary"]["unsafe_fixable"]) == (0, 1)


def test_fix_refuses_a_read_only_file(virtc: Cli, tmp_path: Path) -> None:
    """#17: --fix rewrote a mode-0444 file silently (root may write anything): refuse, as an
    editor asks before overriding a read-only file."""
    src = tmp_path / "v"
    src.write_bytes(b"a@x.test\tgood \n")
    src.chmod(0o444)
    r = virtc("lint", "--fix", src)
    assert r.rc == 2
    assert r.err == f"virtc: {src}: read-only file (mode 0444): not rewritten; make it writable to fix it\n"
    assert src.read_bytes() == b"a@x.test\tgood \n" and stat.S_IMODE(src.stat().st_mode) == 0o444


def test_fix_through_a_symlink_keeps_the_link(virtc: Cli, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_bytes(b"a@x.test\tgood \n" + CATCH.encode())
    link = tmp_path / "link"
    link.symlink_to(real)
    assert virtc("lint", "--fix", link).rc == 0
    assert link.is_symlink() and real.read_bytes() == b"a@x.test\tgood\n" + CATCH.encode()


def test_fix_on_a_full_disk_leaves_the_file_alone(virtc: Cli, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    src = tmp_path / "v"
    src.write_bytes(b"a@x.test\tgood \n")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    r = virtc("lint", "--fix", src)
    assert (r.rc, r.err) == (2, f"virtc: {src}: no space left on device; the file is unchanged\n")
    assert src.read_bytes() == b"a@x.test\tgood \n"
    assert [p.name for p in tmp_path.iterdir()] == ["v"]


def test_diff_changes_nothing(virtc: Cli, tmp_path: Path) -> None:
    src = tmp_path / "virtusertable"
    original = b"a@x.test\tgood \n# keep\r\n"
    src.write_bytes(original)
    r = virtc("lint", "--diff", "--unsafe-fixes", src)
    assert r.rc == 1  # as without --diff: the findings are still there
    assert src.read_bytes() == original
    assert r.out == (f"--- a/{src}\n+++ b/{src}\n@@ -1,2 +1,3 @@\n"
                     "-a@x.test\tgood \n+a@x.test\tgood\n+@x.test\terror:5.1.1:550 User unknown\n # keep\r\n")
    safe_only = virtc("lint", "--diff", src)
    assert safe_only.out == (f"--- a/{src}\n+++ b/{src}\n@@ -1,2 +1,2 @@\n"
                             "-a@x.test\tgood \n+a@x.test\tgood\n # keep\r\n")


def test_diff_is_byte_exact_and_patch_applies_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_fake_rules(monkeypatch)
    src = tmp_path / "virtusertable"
    src.write_bytes(ORIGINAL)
    diff = lint_file(str(src), LintConfig(), diff=True, unsafe=True).diff
    assert src.read_bytes() == ORIGINAL
    assert diff == unified_diff(str(src), ORIGINAL.decode("latin-1"), FIXED.decode("latin-1"))
    assert "+@y.test\terror:5.1.1:550 User unknown\n" in diff
    patch = shutil.which("patch")
    if patch is None:
        pytest.skip("patch(1) not installed")
    copy = tmp_path / "copy"
    copy.write_bytes(ORIGINAL)
    diff = unified_diff("v", ORIGINAL.decode("latin-1"), FIXED.decode("latin-1")).encode("latin-1")
    subprocess.run([patch, "-s", str(copy)], input=diff, check=True)
    assert copy.read_bytes() == FIXED


def test_diff_without_final_newline_is_marked(virtc: Cli, tmp_path: Path) -> None:
    out = unified_diff("v", "a\nb", "a\nB")
    assert out.endswith("-b\n\\ No newline at end of file\n+B\n\\ No newline at end of file\n")


def test_diff_of_a_clean_file_is_empty(virtc: Cli, tmp_path: Path) -> None:
    src = tmp_path / "v"
    src.write_bytes(b"a@x.test\tgood\n" + CATCH.encode())
    assert virtc("lint", "--diff", src).out == ""
