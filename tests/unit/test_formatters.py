"""The output formats: text (golden, checked by eye), json, SARIF (schema-valid), GitHub commands."""

from __future__ import annotations

import io
import json
from collections import Counter

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.lint_fakes import fake_rules, use_fake_rules
from support.oracles import ROOT

from virtc.compat import zip_strict
from virtc.diagnostics import Diagnostic, Fix, Severity
from virtc.formatters import Report, github, sarif, text
from virtc.formatters import json as json_format
from virtc.lint import lint_table, registry
from virtc.lint.config import LintConfig
from virtc.source.parse import parse_bytes, parse_file

SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())

# A CRLF value, UTF-8 and Latin-1 bytes, a tab-indented (rejected) line.
SOURCE = b"# demo\ninfo@x.test\tbad \r\ncaf\xc3\xa9@y.test\tbad\n\tindented\nk@y.test\tcaf\xe9 \n"


@pytest.fixture
def report(monkeypatch: pytest.MonkeyPatch) -> Report:
    use_fake_rules(monkeypatch)
    table = parse_bytes(SOURCE, "v")
    return Report(lint_table(table, LintConfig()), {"v": table}, files=1)


GOLDEN_TEXT = """\
v:2:1: VT903 info-key: an info key
  2 | info@x.test     bad \u240d
    | ^^^^^^^^^^^ info
v:2:1: VT904 no-catch-all: no catch-all for x.test
  2 | info@x.test     bad \u240d
    | ^^^^^^^^^^^ warning
    = help: add @x.test (unsafe fix: --fix --unsafe-fixes)
v:2:16: VT902 trailing-space: trailing whitespace
  2 | info@x.test     bad \u240d
    |                    ^^ warning
    = help: strip it
v:3:1: VT904 no-catch-all: no catch-all for y.test
  3 | caf\u00e9@y.test     bad
    | ^^^^^^^^^^^ warning
    = help: add @y.test (unsafe fix: --fix --unsafe-fixes)
v:3:14: VT901 bad-value: value is 'bad'
  3 | caf\u00e9@y.test     bad
    |                 ^^^ error
    = help: write a good value
v:4:1: VT001 syntax-error: a line starting with whitespace: makemap rejects it ("syntax error \
(leading space)"); there are no continuation lines
  4 |         indented
    | ^^^^^^^^ error
v:5:14: VT902 trailing-space: trailing whitespace
  5 | k@y.test        caf\u00e9 \n\
    |                     ^ warning
    = help: strip it
Found 7 problems in 1 file (2 errors, 4 warnings, 1 info). 2 fixable with `virtc lint --fix`. \
2 unsafe fixes available with `--fix --unsafe-fixes` (they change which mail is accepted: review \
them with `--diff --unsafe-fixes`).
"""


def test_text_golden(report: Report) -> None:
    assert text.render(report) == GOLDEN_TEXT


def test_text_quiet_has_no_summary(report: Report) -> None:
    assert text.render(report, quiet=True) == GOLDEN_TEXT[: GOLDEN_TEXT.index("Found")]


@pytest.mark.parametrize(
    ("line", "col", "end", "expected"),
    [
        ("a\tb", 3, 4, ("a       b", 8, 9)),  # tab stops of 8
        ("ab", 3, 3, ("ab", 2, 3)),  # past the end: one caret
        ("a\rb\0", 2, 3, ("a\u240db\u2400", 1, 2)),  # controls shown, one cell each
        ("caf\xc3\xa9 x", 7, 8, ("caf\u00e9 x", 5, 6)),  # UTF-8: byte columns, shown as characters
        ("caf\xe9 x", 6, 7, ("caf\u00e9 x", 5, 6)),  # not UTF-8: Latin-1
        ("\u00e6\u0097\u00a5 x", 5, 6, ("\u65e5 x", 3, 4)),  # a wide character takes two cells
    ],
)
def test_display_columns(line: str, col: int, end: int, expected: tuple[str, int, int]) -> None:
    assert text.display(line, col, end) == expected


@settings(max_examples=2000)
@given(st.text(st.sampled_from("ab @.\t\x7f\r\x00\x85\xa0\xad\xe9\xc3\xa9\xe6\x97\xa5\xcc\x81\xc2\xbc~"),
               max_size=30), st.integers(-2, 35), st.integers(-2, 35))
def test_display_fast_path_equals_the_plain_one(line: str, col: int, end: int) -> None:
    """Latin-1 and UTF-8 bytes (one cell, wide, combining), controls and tabs."""
    assert text.display(line, col, end) == text._display(line, col, end)


def test_display_narrow_characters_take_one_cell() -> None:
    """What the fast path of display() takes as one cell, rich does too."""
    from rich.cells import cell_len

    from virtc.formatters import visible

    assert all(cell_len(visible(chr(c))) == 1 for c in range(0x300) if c != 0x09)


@given(st.text(st.sampled_from("ab \t\n\x00\x1b\x7f\x85\xa0\xc3\xa9\udcff~"), max_size=20))
def test_safe_fast_path_equals_the_plain_one(line: str) -> None:
    from virtc.formatters import _SAFE, readable, safe

    assert safe(line) == readable(line).translate(_SAFE)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_colour_only_on_a_terminal_without_no_color(report: Report,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for color, env, expect_ansi in [(None, None, True), (None, "1", False), (False, None, False),
                                    (True, None, True)]:
        if env:
            monkeypatch.setenv("NO_COLOR", env)
        else:
            monkeypatch.delenv("NO_COLOR", raising=False)
        out = Terminal()
        text.render_to(report, out, color=color)
        assert ("\x1b[" in out.getvalue()) is expect_ansi, (color, env)
        if not expect_ansi:
            assert out.getvalue() == GOLDEN_TEXT
    plain = io.StringIO()  # not a terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    text.render_to(report, plain)
    assert plain.getvalue() == GOLDEN_TEXT


def test_text_when_all_is_well() -> None:
    assert text.render(Report([], files=2)) == "All checks passed (2 files).\n"
    assert text.render(Report([], files=1, fixed=3)) == "Fixed 3 problems. All checks passed (1 file).\n"


def test_json_structure(report: Report) -> None:
    doc = json.loads(json_format.render(report))
    assert doc["summary"] == {"files": 1, "errors": 2, "warnings": 4, "info": 1, "fixable": 2,
                              "unsafe_fixable": 2, "fixed": 0}
    keys = {"path", "line", "column", "end_line", "end_column", "code", "name", "severity", "message",
            "help", "fix"}
    assert all(set(d) == keys for d in doc["diagnostics"])
    first = doc["diagnostics"][0]
    assert first == {"path": "v", "line": 2, "column": 1, "end_line": 2, "end_column": 12, "code": "VT903",
                     "name": "info-key", "severity": "info", "message": "an info key", "help": None,
                     "fix": None}
    trailing = doc["diagnostics"][2]
    assert trailing["code"] == "VT902"
    assert trailing["fix"] == {"applicability": "safe", "message": "strip it",
                               "edits": [{"line": 2, "end_line": 2, "content": "info@x.test\tbad\n"}]}
    insert = doc["diagnostics"][1]
    assert insert["fix"] == {"applicability": "unsafe", "message": "add @x.test",
                             "edits": [{"line": 3, "end_line": 2,
                                        "content": "@x.test\terror:5.1.1:550 User unknown\n"}]}


def _validate(log: dict[str, object]) -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_sarif_is_valid_against_the_official_schema(report: Report) -> None:
    log = json.loads(sarif.render(report))
    _validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in fake_rules()]
    for r in rules:
        assert {"id", "name", "shortDescription", "fullDescription", "help", "defaultConfiguration"} <= set(r)
    assert rules[[r["id"] for r in rules].index("VT903")]["defaultConfiguration"] == {"level": "note"}
    results = run["results"]
    assert len(results) == len(report.diagnostics)
    for res, d in zip_strict(results, report.diagnostics):
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"] == d.code
        region = res["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"], region["endColumn"]) == (d.line, d.column,
                                                                                    d.end_column)
    assert results[0]["level"] == "note" and results[4]["level"] == "error"


def test_sarif_with_the_real_rules_is_valid() -> None:
    table = parse_file(ROOT / "fixtures" / "virtusertable")
    diags = lint_table(table, LintConfig())
    log = json.loads(sarif.render(Report(diags, {table.path: table}, files=1)))
    _validate(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == [r.code for r in registry.all_rules()]
    assert all(r["fullDescription"]["text"] for r in driver["rules"])
    assert log["runs"][0]["results"]


def test_sarif_uris() -> None:
    assert sarif.uri("etc/mail/virtual user table") == "etc/mail/virtual%20user%20table"
    assert sarif.uri("/etc/mail/virtusertable") == "file:///etc/mail/virtusertable"


def _diag(**kw: object) -> Diagnostic:
    base: dict[str, object] = dict(path="v", line=3, column=2, end_line=3, end_column=5, code="VT901",
                                   name="bad-value", severity=Severity.ERROR, message="m")
    base.update(kw)
    return Diagnostic(**base)  # type: ignore[arg-type]


def test_github_annotation() -> None:
    d = _diag(fix=Fix(3, 3, "", "delete it"))
    assert github.annotation(d) == (
        "::error file=v,line=3,col=2,endLine=3,endColumn=5,title=VT901 bad-value::m%0Ahelp: delete it")
    assert github.annotation(_diag(severity=Severity.WARNING)).startswith("::warning ")
    assert github.annotation(_diag(severity=Severity.INFO)).startswith("::notice ")


def test_github_escaping() -> None:
    d = _diag(path="dir,1/a:b%c\r\nd", message="100% sure:\r\nnext, line", name="x,y:z")
    assert github.annotation(d) == (
        "::error file=dir%2C1/a%3Ab%25c%0D%0Ad,line=3,col=2,endLine=3,endColumn=5,title=VT901 x%2Cy%3Az"
        "::100%25 sure:%0D%0Anext, line"
    )
    assert github.escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert github.escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"


def test_github_report_has_details_in_a_group_and_ends_with_the_summary(report: Report) -> None:
    n = len(report.diagnostics)
    out = github.render(report)
    lines = out.splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines[:n])
    assert out[len("\n".join(lines[:n])) + 1:] == (
        "::group::virtc lint: details\n" + GOLDEN_TEXT[: GOLDEN_TEXT.index("Found")] + "::endgroup::\n"
        + GOLDEN_TEXT[GOLDEN_TEXT.index("Found"):])
    assert github.render(report, quiet=True).count("\n") == n
    assert github.render(Report([], files=1)) == "All checks passed (1 file).\n"


def test_text_never_prints_control_characters_from_the_source() -> None:
    d = _diag(message="value 'a\x1b[31m'", help="x\ry\tz", path="p\x1b")
    out = text.render(Report([d], files=1), quiet=True)
    assert out == "p\u241b:3:2: VT901 bad-value: value 'a\u241b[31m'\n  = help: x\u240dy\tz\n"


def test_sarif_fixes_are_byte_regions_of_the_source(report: Report) -> None:
    table = report.tables["v"]
    results = json.loads(sarif.render(report))["runs"][0]["results"]
    with_fix = [(res, d) for res, d in zip_strict(results, report.diagnostics) if d.fix]
    assert len(with_fix) == report.fixable + report.hidden_fixes == 4
    for res, d in with_fix:
        assert d.fix is not None
        assert res["fixes"][0]["properties"] == {"applicability": d.fix.applicability}
        (change,) = res["fixes"][0]["artifactChanges"]
        (rep,) = change["replacements"]
        start, length = rep["deletedRegion"]["charOffset"], rep["deletedRegion"]["charLength"]
        deleted = "".join(line + "\n" for line in table.text.split("\n")[d.fix.line - 1 : d.fix.end_line])
        assert table.text[start : start + length] == deleted
        assert rep["insertedContent"]["text"] == d.fix.replacement
    assert sarif.line_offsets("a\nb") == [0, 0, 2, 3]
    assert sarif.line_offsets("a\nb\n") == [0, 0, 2, 4]


@pytest.mark.parametrize("items", [[], [{"a": 1}], [{"m": "é\t\"x\"", "n": None}, [1, 2], "s"]])
def test_write_json_is_the_document_with_its_list(items: list[object]) -> None:
    """The JSON and SARIF reports write their long list an item a line (#18: the document
    at once took 1.1 GB for 80k SARIF results): the same document, two-space indents."""
    import io

    from virtc.formatters import ITEMS, write_json

    doc = {"head": {"x": 1}, "runs": [{"results": ITEMS, "after": True}], "tail": "t"}
    out = io.StringIO()
    write_json(doc, iter(items), out)
    text = out.getvalue()
    assert json.loads(text) == {**doc, "runs": [{"results": items, "after": True}]}
    skeleton = json.dumps({**doc, "runs": [{"results": [], "after": True}]}, indent=2)
    assert text.endswith("}\n")
    assert len(text.splitlines()) == len(skeleton.splitlines()) + (len(items) + 1 if items else 0)


def test_the_control_searches_find_what_the_stand_ins_change() -> None:
    """controls_shown() (safe() and display()) skips its translate when the search finds
    nothing: the search must find every character the table changes."""
    from virtc import formatters

    assert set(formatters._SAFE) == {c for c in range(0x300) if formatters._CONTROLS.match(chr(c))}
    # printable() (the text report's batch test) is _UNSAFE's search, in one bytes pass
    assert all(formatters.printable(chr(c)) == (formatters._UNSAFE.search(chr(c)) is None)
               for c in range(0x300))
    assert formatters.printable("a\tb ~") and not formatters.printable("a\tb\x7f")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(st.sampled_from("ab@.\t ~"), max_size=12), min_size=1, max_size=6),
       st.lists(st.tuples(st.integers(-1, 8), st.integers(-1, 16), st.integers(0, 1), st.integers(-1, 16),
                          st.sampled_from(["m", "m\tx"]), st.sampled_from([None, "", "h\tx"]),
                          st.sampled_from([None, "safe", "unsafe"]), st.sampled_from(list(Severity))),
                min_size=1, max_size=12),
       st.booleans(), st.integers(0, 300), st.sampled_from(["", "line", "message", "help", "path"]),
       st.sampled_from(["\xe9", "\x1b", "\x7f"]))
def test_text_batch_equals_the_diagnostics_one_by_one(lines: list[str], rows: list[tuple[object, ...]],
                                                      colour: bool, long_line: int, odd: str,
                                                      char: str) -> None:
    """The text report's batch (its checks made once for many diagnostics) writes what each
    diagnostic alone does: tabs before or after the columns, columns past the line's end,
    a span over lines, a line beyond the source or empty, a long line, each severity, and
    (``odd``) a Latin-1 or control character in a source line, a message, a help or the path."""
    if odd == "line":
        lines = [*lines[:-1], lines[-1] + char]
    source = "\n".join([*lines, "x" * long_line]).encode("latin-1") + b"\n"
    table = parse_bytes(source, "v")
    ds = [Diagnostic("v", line, col, line + more, end, "VT901", "bad-value", severity, msg,
                     None if kind is None else Fix(1, 0, "x\n", "fix\tit", kind), help)
          for line, col, more, end, msg, help, kind, severity in rows]  # type: ignore[misc]
    if odd == "path":
        ds = [d._replace(path=f"a{char}") for d in ds]
    elif odd in ("message", "help"):
        ds[-1] = ds[-1]._replace(**{odd: f"{ds[-1].help or ''}{char}" if odd == "help" else f"a{char}"})
    ds.sort(key=Diagnostic.sort_key)
    shown = text._Shown(text.Painter(colour), Report(ds, {"v": table, f"a{char}": table}))
    assert shown.batch(ds) == "".join(map(shown, ds))
    two_files = [ds[0], ds[0]._replace(path="w")]
    assert shown.batch(two_files) == "".join(map(shown, two_files))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(Severity)), st.sampled_from([None, "safe", "unsafe"])),
                max_size=20), st.booleans())
def test_the_summary_counts_are_those_of_each_diagnostic(rows: list[tuple[Severity, str | None]],
                                                        unsafe: bool) -> None:
    """The counts the summary gives (made in C for a large report) are the diagnostics'."""
    ds = [Diagnostic("v", 1, 1, 1, 2, "VT901", "bad-value", severity, "m",
                     None if kind is None else Fix(1, 0, "x\n", "fix", kind))  # type: ignore[arg-type]
          for severity, kind in rows]
    report = Report(ds, unsafe_fixes=unsafe)
    assert report.counts() == Counter(d.severity for d in ds)
    assert report.fixable == sum(d.fix is not None and (unsafe or d.fix.applicability == "safe") for d in ds)
    assert report.hidden_fixes == (0 if unsafe else sum(d.fix is not None and d.fix.applicability == "unsafe"
                                                        for d in ds))
