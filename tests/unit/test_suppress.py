"""Suppression comments (disable-next-line, disable-file) and VT002 unused-suppression."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.lint_fakes import Cli, use_fake_rules

from virtc.diagnostics import Diagnostic
from virtc.lint import lint_table
from virtc.lint.config import LintConfig
from virtc.source.parse import parse_text

CATCH = "@x.test\terror:5.1.1:550 User unknown\n"


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_rules(monkeypatch)


def lint(text: str, **config: object) -> list[Diagnostic]:
    return lint_table(parse_text(text, "v"), LintConfig(**config))  # type: ignore[arg-type]


def found(text: str, **config: object) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint(text, **config)]


def test_next_line_silences_the_next_entry_only() -> None:
    text = "# virtc: disable-next-line VT901\na@x.test\tbad\nb@x.test\tbad\n" + CATCH
    assert found(text) == [(3, "VT901")]


def test_next_line_skips_blank_and_comment_lines_so_directives_stack() -> None:
    text = ("# virtc: disable-next-line VT901\n\n# virtc: disable-next-line info-key\n# why: legacy\n"
            "info@x.test\tbad\n" + CATCH)
    assert found(text) == []


def test_codes_by_name_with_commas_and_blanks() -> None:
    text = "#virtc:disable-next-line bad-value,info-key  VT904\ninfo@x.test\tbad\n"
    assert found(text) == []


def test_next_line_leaves_other_codes_alone() -> None:
    text = "# virtc: disable-next-line VT903\ninfo@x.test\tbad\n" + CATCH
    assert found(text) == [(2, "VT901")]


def test_disable_file_anywhere_in_the_file() -> None:
    text = "a@x.test\tbad\nb@x.test\tbad\n" + CATCH + "# virtc: disable-file bad-value\n"
    assert found(text) == []


def test_no_codes_or_all_means_every_rule() -> None:
    assert found("# virtc: disable-next-line\ninfo@x.test\tbad\n" + CATCH) == []
    assert found("# virtc: disable-file all\ninfo@x.test\tbad\nb@y.test\tbad\n") == []


def test_unused_suppression_is_reported_at_the_code() -> None:
    text = "# virtc: disable-next-line VT901, VT903\na@x.test\tbad\n" + CATCH
    (d,) = lint(text)
    assert (d.code, d.name, d.line, d.column, d.end_column) == ("VT002", "unused-suppression", 1, 35, 40)
    assert d.message == "disable-next-line: 'VT903' suppresses no diagnostic"
    assert d.fix is not None and d.fix.replacement == "# virtc: disable-next-line VT901\n"


def test_wholly_unused_suppression_fix_deletes_the_comment() -> None:
    (d,) = lint("# virtc: disable-file VT901\na@x.test\tgood\n" + CATCH)
    assert d.message == "disable-file: 'VT901' suppresses no diagnostic"
    assert d.fix is not None and (d.fix.line, d.fix.end_line, d.fix.replacement) == (1, 1, "")
    (d,) = lint("# virtc: disable-next-line\na@x.test\tgood\n" + CATCH)
    assert d.message == "'disable-next-line' suppresses no diagnostic"


def test_directive_with_no_line_after_it_is_unused() -> None:
    assert found(CATCH + "# virtc: disable-next-line VT901\n") == [(2, "VT002")]


def test_unknown_codes_and_directives_are_reported() -> None:
    text = "# virtc: disable-next-line VT999\n# virtc: disable-line VT901\na@x.test\tbad\n" + CATCH
    got = lint(text)
    assert [(d.line, d.code) for d in got] == [(1, "VT002"), (2, "VT002"), (3, "VT901")]
    assert got[0].message == "disable-next-line: unknown rule 'VT999'"
    assert got[1].message.startswith("unknown virtc directive 'disable-line'")


def test_codes_of_rules_that_did_not_run_are_not_unused() -> None:
    text = "# virtc: disable-next-line VT901\na@x.test\tgood\n" + CATCH
    assert found(text, select=frozenset({"VT002", "VT903"})) == []
    assert found(text, ignore=frozenset({"VT901"})) == []
    assert found(text) == [(1, "VT002")]


def test_vt002_can_be_ignored_or_suppressed() -> None:
    text = "# virtc: disable-next-line VT901\na@x.test\tgood\n" + CATCH
    assert found(text, ignore=frozenset({"VT002"})) == []
    assert found("# virtc: disable-file VT002\n" + text) == []


def test_ordinary_comments_are_not_directives() -> None:
    assert found("# virtc is great; disable-next-line VT901\na@x.test\tbad\n" + CATCH) == [(2, "VT901")]


def test_inline_directive_is_part_of_the_value_and_does_nothing() -> None:
    # makemap: a '#' after the value is part of the value, so this is not a comment.
    text = "a@x.test\tbad # virtc: disable-next-line VT901\nb@x.test\tbad\n" + CATCH
    assert found(text) == [(2, "VT901")]


def test_fix_removes_unused_suppressions(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    src = tmp_path / "v"
    src.write_text("# virtc: disable-next-line VT901 VT903\na@x.test\tbad\n"
                   "# virtc: disable-file VT905\n" + CATCH)
    virtc = Cli(capsys, monkeypatch)
    r = virtc("lint", "--fix", "--format", "json", src)
    assert r.rc == 0, r.out
    assert json.loads(r.out)["summary"]["fixed"] == 2
    assert src.read_text() == "# virtc: disable-next-line VT901\na@x.test\tbad\n" + CATCH
