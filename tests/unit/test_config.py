"""Configuration: discovery, precedence (CLI over file), bad files, --local-domains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.lint_fakes import Cli, use_fake_rules

from virtc.diagnostics import Severity
from virtc.lint.config import find_config, load_config
from virtc.maps.check import diagnose
from virtc.maps.records import BuildOptions
from virtc.source.localdomains import parse_local_domains
from virtc.source.parse import parse_file

ERROR_AND_INFO = "info@x.test\tbad\n@x.test\terror:5.1.1:550 User unknown\n"  # VT901 (error), VT903 (info)


@pytest.fixture
def virtc(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    use_fake_rules(monkeypatch)
    return Cli(capsys, monkeypatch)


def codes(virtc: Cli, *args: object) -> list[str]:
    r = virtc("lint", "--format", "json", *args)
    assert r.rc in (0, 1), r.err
    return [d["code"] for d in json.loads(r.out)["diagnostics"]]


def source(directory: Path, text: str = ERROR_AND_INFO) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "virtusertable"
    path.write_text(text)
    return path


def test_nearest_config_wins_and_dotfile_beats_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.virtc]\nignore = ['VT901']\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert find_config(sub) == tmp_path / "pyproject.toml"
    (tmp_path / "a" / ".virtc.toml").write_text("ignore = ['VT903']\n")
    assert find_config(sub) == tmp_path / "a" / ".virtc.toml"
    (tmp_path / "a" / "pyproject.toml").write_text("[tool.virtc]\n")
    assert find_config(sub) == tmp_path / "a" / ".virtc.toml"  # same directory: the dotfile first


def test_pyproject_without_a_virtc_table_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.virtc]\nignore = ['VT901']\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.other]\nvirtc = 1\n")
    assert find_config(inner) == tmp_path / "pyproject.toml"
    (inner / "pyproject.toml").write_text("not toml at all, no v-i-r-t-c mention [")  # never parsed
    assert find_config(inner) == tmp_path / "pyproject.toml"


def test_config_applies_per_file(virtc: Cli, tmp_path: Path) -> None:
    a = source(tmp_path / "a")
    b = source(tmp_path / "b")
    (tmp_path / "a" / ".virtc.toml").write_text("ignore = ['bad-value']\n")
    assert codes(virtc, a, b) == ["VT903", "VT903", "VT901"]


def test_cli_over_config(virtc: Cli, tmp_path: Path) -> None:
    src = source(tmp_path)
    (tmp_path / ".virtc.toml").write_text("select = ['VT901', 'VT903']\nignore = ['VT903']\n")
    assert codes(virtc, src) == ["VT901"]
    assert codes(virtc, "--select", "VT903", src) == ["VT903"]  # --select re-enables an ignored code
    assert codes(virtc, "--ignore", "VT901", src) == []  # --ignore adds to the file's
    assert codes(virtc, "--isolated", src) == ["VT903", "VT901"]


def test_severity_and_fail_on_from_config(virtc: Cli, tmp_path: Path) -> None:
    src = source(tmp_path, "info@x.test\tgood\n@x.test\terror:5.1.1:550 User unknown\n")  # VT903 only
    assert virtc("lint", src).rc == 0
    (tmp_path / ".virtc.toml").write_text("[severity]\ninfo-key = 'error'\n")
    r = virtc("lint", "--format", "json", src)
    assert r.rc == 1 and json.loads(r.out)["diagnostics"][0]["severity"] == "error"
    (tmp_path / ".virtc.toml").write_text("fail-on = 'info'\n")
    assert virtc("lint", src).rc == 1
    assert virtc("lint", "--fail-on", "warning", src).rc == 0  # the option wins


def test_explicit_config_replaces_discovery(virtc: Cli, tmp_path: Path) -> None:
    src = source(tmp_path / "src")
    (tmp_path / "src" / ".virtc.toml").write_text("ignore = ['VT901']\n")
    other = tmp_path / "other.toml"
    other.write_text("ignore = ['VT903']\n")
    assert codes(virtc, src) == ["VT903"]
    assert codes(virtc, "--config", other, src) == ["VT901"]
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.virtc]\nselect = ['VT903']\n")
    assert codes(virtc, "--config", pyproject, src) == ["VT903"]


def test_stdin_uses_the_config_of_the_current_directory(virtc: Cli, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    (tmp_path / ".virtc.toml").write_text("ignore = ['VT903']\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ERROR_AND_INFO.encode())))
    assert codes(virtc, "-") == ["VT901"]


def test_local_domains_from_config_are_relative_to_it(virtc: Cli, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    src = source(tmp_path / "mail", "a@x.test\tgood\nb@y.test\tgood\n")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "lhn").write_text("# local\nX.TEST\n")
    (tmp_path / "mail" / ".virtc.toml").write_text("local-domains = '../conf/lhn'\nselect = ['VT906']\n")
    monkeypatch.chdir(tmp_path / "conf")  # not relative to the cwd
    r = virtc("lint", "--format", "json", src)
    assert [d["message"] for d in json.loads(r.out)["diagnostics"]] == ["y.test not local"]
    (tmp_path / "lhn2").write_text("y.test\n")
    r = virtc("lint", "--format", "json", "--local-domains", tmp_path / "lhn2", src)  # the option wins
    assert [d["message"] for d in json.loads(r.out)["diagnostics"]] == ["x.test not local"]


def test_catch_all_from_config_is_what_fix_inserts(virtc: Cli, tmp_path: Path) -> None:
    src = source(tmp_path, "a@x.test\tgood\n")
    (tmp_path / ".virtc.toml").write_text("catch-all = 'error:nouser 550 No such user'\n")
    r = virtc("lint", "--fix", "--unsafe-fixes", src)
    assert r.rc == 0, r.out
    assert src.read_text() == "a@x.test\tgood\n@x.test\terror:nouser 550 No such user\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (".virtc.toml", "select = [", "invalid TOML"),
        (".virtc.toml", "colour = true\n", "unknown key 'colour'"),
        (".virtc.toml", "select = ['VT999']\n", "select: unknown rule 'VT999'"),
        (".virtc.toml", "select = 3\n", "select must be a list of rule codes or names"),
        (".virtc.toml", "[severity]\nVT901 = 'fatal'\n", "unknown severity 'fatal'"),
        (".virtc.toml", "fail-on = 'fatal'\n", "fail-on: unknown severity 'fatal'"),
        (".virtc.toml", "catch-all = ''\n", "catch-all must be one non-empty line"),
        (".virtc.toml", "catch-all = 'error:nouser No such user'\n",
         "sendmail reads it as a malformed error ('553 5.3.0 No such user')"),
        (".virtc.toml", "catch-all = 'nobody'\n", "sendmail does not reject with it"),
        (".virtc.toml", "catch-all = 'error:4.2.2:450 full'\n", "not a permanent reject ('450 4.2.2 full')"),
        (".virtc.toml", "keep-deliverable = ['abuse@x']\n", "'abuse@x' is not a local part"),
        (".virtc.toml", "sendmail-cf = 3\n", "sendmail-cf must be a string"),
        (".virtc.toml", "users = 3\n", "users must be a list of file names"),
        (".virtc.toml", "local-domains = 'missing'\n", "missing: no such file"),
        ("pyproject.toml", "[tool.virtc]\nignore = ['nope']\n", "[tool.virtc]: ignore: unknown rule 'nope'"),
        ("pyproject.toml", "[tool]\nvirtc = 1\n", "[tool.virtc]: must be a table"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(virtc: Cli, tmp_path: Path, name: str, content: str,
                                           message: str) -> None:
    src = source(tmp_path)
    (tmp_path / name).write_text(content)
    r = virtc("lint", src)
    assert r.rc == 2
    assert r.err.startswith("virtc: ") and r.err.count("\n") == 1, r.err
    assert message in r.err
    assert str(tmp_path) in r.err  # names the file
    assert "Traceback" not in r.err


def test_config_selectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_rules(monkeypatch)
    (tmp_path / ".virtc.toml").write_text(
        "select = 'VT90, syntax-error'\nignore = ['ALL']\n[severity]\nVT90 = 'info'\n")
    cfg = load_config(tmp_path / ".virtc.toml")
    assert cfg.select == {"VT001", "VT901", "VT902", "VT903", "VT904", "VT905", "VT906"}
    assert "VT002" in cfg.ignore
    assert set(cfg.severities.values()) == {Severity.INFO} and len(cfg.severities) == 6


def test_build_honours_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_rules(monkeypatch)
    src = source(tmp_path)
    assert [d.code for d in diagnose(parse_file(src), BuildOptions())] == ["VT903", "VT901"]
    (tmp_path / ".virtc.toml").write_text("ignore = ['VT901']\n")
    assert [d.code for d in diagnose(parse_file(src), BuildOptions())] == ["VT903"]


def test_parse_local_domains() -> None:
    text = "# comment\nExample.COM other.example\n  spaced.example\n#x.example\nlast.example # c\n\n"
    assert set(parse_local_domains(text)) == {"example.com", "spaced.example", "last.example"}
    # CR is blank; ASCII fold only
    assert set(parse_local_domains("a.test\r\n\xc9.test\n")) == {"a.test", "\xc9.test"}


def test_local_domains_read_as_sendmail_reads_its_class_file(tmp_path: Path) -> None:
    """The real sendmail's F{w} reading of local-host-names agrees with parse_local_domains."""
    from support.sendmail import SendmailOracle

    table = tmp_path / "virtusertable"
    table.write_text("a@x.test\ta\n")
    text = ("# comment\nExample.COM other.example\n  spaced.example\n#x.example\n"
            "last.example # trailing\n\nTab\tsep.example\nzz.example")
    with SendmailOracle(table, local_domains=["x.test"]) as oracle:
        (oracle.dir / "local-host-names").write_text(text)
        out = oracle.run(["-bt"], "$=w\n")
    members = {line.strip() for line in out.splitlines()}
    expected = set(parse_local_domains(text))
    candidates = expected | {"other.example", "x.example", "sep.example"}
    found = {m.lower() for m in members if m.lower() in candidates}
    assert found == expected, out
