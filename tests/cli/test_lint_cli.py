"""`virtc lint` and `virtc rule` end to end: exit codes, paths, formats, errors, rule docs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.lint_fakes import Cli, use_fake_rules
from support.oracles import ROOT

from virtc.lint.docs import markdown
from virtc.lint.registry import all_rules


@pytest.fixture
def virtc(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch)


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_rules(monkeypatch)


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("latin-1"))
    return path


CLEAN = "a@x.test\tgood\n@x.test\terror:5.1.1:550 User unknown\n"
INFO = "info@x.test\tgood\n@x.test\terror:5.1.1:550 User unknown\n"  # VT903 (info)
WARNING = "a@x.test\tgood  \n@x.test\terror:5.1.1:550 User unknown\n"  # VT902 (warning)
ERROR = "a@x.test\tbad\n@x.test\terror:5.1.1:550 User unknown\n"  # VT901 (error)


@pytest.mark.parametrize(
    ("text", "expected"),  # exit status for --fail-on error, warning (default), info
    [(CLEAN, (0, 0, 0)), (INFO, (0, 0, 1)), (WARNING, (0, 1, 1)), (ERROR, (1, 1, 1))],
)
def test_exit_status_follows_fail_on(virtc: Cli, fakes: None, tmp_path: Path, text: str,
                                     expected: tuple[int, int, int]) -> None:
    src = write(tmp_path / "virtusertable", text)
    got = tuple(virtc("lint", "--fail-on", level, src).rc for level in ("error", "warning", "info"))
    assert got == expected
    assert virtc("lint", src).rc == expected[1]  # warning is the default


def test_default_path_is_virtusertable_in_cwd(virtc: Cli, fakes: None, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "virtusertable", ERROR)
    monkeypatch.chdir(tmp_path)
    r = virtc("lint")
    assert r.rc == 1
    assert r.out.startswith("virtusertable:1:10: VT901 bad-value: value is 'bad'\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "No such option"),
        (["--format", "xml"], "Invalid value for '--format'"),
        (["--fail-on", "fatal"], "Invalid value for '--fail-on'"),
        (["--select", "VT999"], "virtc: --select: unknown rule 'VT999'"),
        (["--ignore", ","], "virtc: --ignore: no rule codes given"),
        (["--local-domains", "/nonexistent/lhn"],
         "virtc: cannot read local domains: /nonexistent/lhn: no such file"),
        (["--config", "/nonexistent/virtc.toml"], "virtc: /nonexistent/virtc.toml: cannot read"),
        (["/nonexistent/virtusertable"], "virtc: /nonexistent/virtusertable: no such file"),
    ],
)
def test_usage_and_io_errors_exit_2_with_one_line(virtc: Cli, fakes: None, args: list[str],
                                                  message: str) -> None:
    r = virtc("lint", *args)
    assert r.rc == 2
    assert message in r.err
    assert "Traceback" not in r.err
    if message.startswith("virtc:"):
        assert r.err.count("\n") == 1


def test_directory_and_unreadable_file_exit_2(virtc: Cli, fakes: None, tmp_path: Path) -> None:
    r = virtc("lint", tmp_path)
    assert (r.rc, r.err) == (2, f"virtc: {tmp_path}: is a directory, not a virtusertable source\n")


def test_several_paths_one_missing_still_reports_the_others(virtc: Cli, fakes: None, tmp_path: Path) -> None:
    a = write(tmp_path / "a", ERROR)
    r = virtc("lint", a, tmp_path / "missing", "--format", "json")
    assert r.rc == 2  # an I/O error outranks findings
    assert [d["path"] for d in json.loads(r.out)["diagnostics"]] == [str(a)]
    assert r.err == f"virtc: {tmp_path / 'missing'}: no such file\n"


def test_stdin(virtc: Cli, fakes: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ERROR.encode())))
    r = virtc("lint", "-")
    assert r.rc == 1
    assert r.out.startswith("<stdin>:1:10: VT901 bad-value:")


def test_select_and_ignore_take_codes_names_and_prefixes(virtc: Cli, fakes: None, tmp_path: Path) -> None:
    src = write(tmp_path / "v", "info@x.test\tbad  \n")  # VT901 (no: value is 'bad  '), VT902, VT903, VT904

    def codes(*args: str) -> list[str]:
        out = virtc("lint", "--format", "json", *args, src).out
        return [d["code"] for d in json.loads(out)["diagnostics"]]

    assert codes() == ["VT903", "VT904", "VT902"]
    assert codes("--select", "info-key,VT902") == ["VT903", "VT902"]
    assert codes("--select", "VT90", "--ignore", "no-catch-all") == ["VT903", "VT902"]
    assert codes("--select", "VT903", "--select", "VT904") == ["VT903", "VT904"]
    assert codes("--ignore", "VT902 VT903") == ["VT904"]


def test_quiet_prints_only_diagnostics(virtc: Cli, fakes: None, tmp_path: Path) -> None:
    src = write(tmp_path / "v", CLEAN)
    assert virtc("lint", src).out == "All checks passed (1 file).\n"
    assert virtc("lint", "-q", src).out == ""
    bad = write(tmp_path / "w", ERROR)
    out = virtc("lint", "-q", bad).out
    assert "VT901" in out and "Found" not in out


def test_auto_format_is_github_under_github_actions(virtc: Cli, fakes: None, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    src = write(tmp_path / "v", ERROR)
    assert virtc("lint", src).out.startswith(f"{src}:1:10: VT901")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert virtc("lint", src).out.startswith("::error file=")
    assert virtc("lint", "--format", "text", src).out.startswith(f"{src}:1:10: VT901")


def test_output_on_stdout_errors_on_stderr(virtc: Cli, fakes: None, tmp_path: Path) -> None:
    src = write(tmp_path / "v", ERROR)
    for fmt in ("text", "json", "sarif", "github"):
        r = virtc("lint", "--format", fmt, src)
        assert r.out and r.err == "", fmt


def test_real_rules_on_the_demo_table() -> None:
    """The shipped rules through the real entry point: a subprocess, as a user runs it."""
    demo = ROOT / "fixtures" / "virtusertable"
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    done = subprocess.run([sys.executable, "-m", "virtc", "lint", "--format", "json", str(demo)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 1, done.stderr
    diags = json.loads(done.stdout)["diagnostics"]
    assert diags and all(d["path"] == str(demo) for d in diags)
    assert {d["code"] for d in diags} <= {r.code for r in all_rules()}


BLOCK_BDB = textwrap.dedent("""
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "berkeleydb" or name.startswith("berkeleydb."):
                raise ImportError("berkeleydb made unavailable by the test")
            return None

    sys.meta_path.insert(0, Block())
    sys.argv = ["virtc", "lint", "--format", "json", *sys.argv[1:]]
    from virtc.cli import main
    try:
        main()
    finally:
        loaded = [m for m in sys.modules if m.startswith(("berkeleydb", "virtc.writers.bdb"))]
        print("LOADED", loaded, file=sys.stderr)
""")


def test_lint_works_without_berkeleydb(tmp_path: Path) -> None:
    src = write(tmp_path / "virtusertable",
                "a@x.test\ta\npostmaster@x.test\troot\n@x.test\terror:5.1.1:550 User unknown\n")
    bad = write(tmp_path / "bad", "a@x.test\n")
    done = subprocess.run([sys.executable, "-c", BLOCK_BDB, str(src), str(bad)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 1, done.stderr  # VT001 in `bad`
    assert "LOADED []" in done.stderr
    assert [d["code"] for d in json.loads(done.stdout)["diagnostics"]] == ["VT001"]


# -- virtc rule ------------------------------------------------------------------------------------


def test_rule_lists_every_rule(virtc: Cli) -> None:
    r = virtc("rule")
    assert r.rc == 0
    lines = r.out.splitlines()
    assert [line.split()[0] for line in lines] == [rule.code for rule in all_rules()]
    vt002 = next(line for line in lines if line.startswith("VT002"))
    assert vt002.split()[1:3] == ["unused-suppression", "warning"]


@pytest.mark.parametrize("ident", ["VT002", "vt002", "unused-suppression"])
def test_rule_prints_its_documentation(virtc: Cli, ident: str) -> None:
    r = virtc("rule", ident)
    assert r.rc == 0
    assert r.out.startswith("VT002 unused-suppression (default severity: warning; fix: safe)\n\n")
    assert r.out.endswith("\nFix: safe (changes no address's fate; applied by `virtc lint --fix`).\n")
    for section in ("What it does", "Why is this bad", "Example", "Use instead"):
        assert f"\n{section}\n" in r.out


def test_every_fix_has_its_rules_declared_applicability() -> None:
    """A rule's FIX (what `virtc rule` documents) is the applicability of every fix it makes."""
    from support.rules import DATA, local_domains_of

    from virtc.lint import lint_table
    from virtc.lint.config import LintConfig
    from virtc.source.parse import parse_file

    declared = {r.code: r.fix for r in all_rules()}
    seen = set()
    for bad in sorted(DATA.glob("*/bad.vt")):
        for d in lint_table(parse_file(bad), LintConfig(), local_domains_of(bad.parent / "local-domains")):
            if d.fix is not None:
                assert d.fix.applicability == declared[d.code], (bad, d)
                seen.add(d.code)
    assert {"VT101", "VT102", "VT103", "VT203"} <= seen


def test_every_rule_has_the_documented_sections() -> None:
    from virtc.lint.docs import sections

    for rule in all_rules():
        titles = [t for t, body in sections(rule) if body]
        assert titles[:4] == ["What it does", "Why is this bad", "Example", "Use instead"], rule.code


def test_rule_unknown_exits_2(virtc: Cli) -> None:
    r = virtc("rule", "VT999")
    assert (r.rc, r.err) == (2, "virtc: unknown rule 'VT999'; did you mean 'VT209'? "
                                "(see `virtc rule` for the list)\n")


def test_docs_rules_md_is_up_to_date() -> None:
    path = ROOT / "docs" / "rules.md"
    assert path.read_text(encoding="utf-8") == markdown(all_rules()), (
        "docs/rules.md is stale: run `.venv/bin/virtc rule --markdown > docs/rules.md`"
    )


def test_the_program_starts_without_the_collector_and_runs_the_command_with_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``virtc.__main__`` (the console script) turns the cyclic collector off for start-up;
    loading the command turns it back on, with what start-up loaded frozen out of its way."""
    import gc

    import virtc.__main__
    import virtc.commands.rule as rule_command
    from virtc import cli

    seen: list[bool] = []
    original = rule_command.command.callback
    assert original is not None

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(rule_command.command, "callback", spy)
    monkeypatch.setattr(sys, "argv", ["virtc", "rule", "VT101"])
    was_enabled = gc.isenabled()
    try:
        with pytest.raises(SystemExit) as exit_:
            virtc.__main__.main()
    finally:
        gc.unfreeze()  # (this test process keeps collecting as before)
        if was_enabled:
            gc.enable()
    assert exit_.value.code == 0
    assert seen == [True]  # the command ran with the collector on
    assert cli.collector_paused_for_start_up is False
    assert "missing-catch-all" in capsys.readouterr().out
