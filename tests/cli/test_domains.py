"""`virtc domains` and `virtc query --reverse` on the command line (their verdicts are
checked against sendmail in tests/oracle/test_domains_oracle.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.oracles import ROOT

TABLE = ROOT / "fixtures" / "virtusertable"


def virtc(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "virtc", *map(str, args)], capture_output=True,
                          text=True, timeout=120, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})


def test_domains_text() -> None:
    r = virtc("domains", TABLE)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["domain", "entries", "catch-all", "out", "in", "local", "open"]
    org = next(ln for ln in lines if ln.startswith("example.org"))
    assert org.split()[1:3] == ["2", "none"] and org.split()[-1] == "OPEN"
    com = next(ln for ln in lines if ln.startswith("example.com"))
    assert "reject: 550 5.1.1 User unknown" in com and com.split()[-1] == "no"
    assert lines[-1] == "3 domains, 1 open"


def test_domains_json_and_local_domains(tmp_path: Path) -> None:
    listed = tmp_path / "local-host-names"
    listed.write_text("example.com\nexample.net\n")
    r = virtc("domains", TABLE, "--json", "--local-domains", listed)
    assert r.returncode == 0, r.stderr
    rows = {row["domain"]: row for row in json.loads(r.stdout)}
    assert set(rows) == {"example.com", "example.org", "example.net"}
    assert {k: rows["example.org"][k] for k in ("entries", "catch_all", "open", "local")} == \
        {"entries": 2, "catch_all": "none", "open": False, "local": False}  # not local: never looked up
    assert rows["example.com"]["catch_all"] == "reject" and rows["example.com"]["local"] is True


def test_domains_of_a_built_map(tmp_path: Path) -> None:
    built = tmp_path / "vt.db"
    clean = ROOT / "fixtures" / "clean" / "virtusertable"
    assert virtc("build", "--no-lint", clean, "-o", built).returncode == 0
    r = virtc("domains", built, "--json")
    assert r.returncode == 0, r.stderr
    assert all(row["catch_all"] == "reject" and not row["open"] for row in json.loads(r.stdout))


def test_domains_missing_file_is_one_line() -> None:
    r = virtc("domains", "/nonexistent/vt")
    assert r.returncode == 2 and r.stderr == "virtc: /nonexistent/vt: no such file\n"


def test_reverse(tmp_path: Path) -> None:
    src = tmp_path / "vt"
    src.write_text("a@d1.test\tbob\nb@d1.test\ta@d1.test\nc+*@d1.test\tbob\n@d1.test\terror:5.1.1:550 no\n"
                   "z@d1.test\tcarol\n")
    r = virtc("query", "--table", src, "--reverse", "bob")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["a@d1.test  (line 1)", "b@d1.test  (line 2)  via b@d1.test -> a@d1.test",
                                     "c+*@d1.test  e.g. c+x@d1.test  (line 3)"]
    assert r.stderr == "3 keys end at bob\n"
    data = json.loads(virtc("query", "--table", src, "--reverse", "bob", "--json").stdout)
    assert [d["key"] for d in data] == ["a@d1.test", "b@d1.test", "c+*@d1.test"]


def test_query_needs_addresses_or_reverse() -> None:
    for args in (["query", "--table", TABLE], ["query", "--table", TABLE, "--reverse", "x", "a@b"]):
        r = virtc(*args)
        assert r.returncode == 2 and "give ADDRESS... or --reverse USER" in r.stderr


def test_domains_text_shows_long_names_whole(tmp_path: Path) -> None:
    """A row wider than a terminal is not cut or wrapped: a domain name shows whole."""
    name = "a-very-long-domain-name-for-the-table-of-a-hosting-provider.example.com"
    table = tmp_path / "vt"
    table.write_text(f"a@{name}\tx\n@{name}\terror:5.1.1:550 5.1.1 This user does not exist here at all\n")
    r = virtc("domains", table)
    assert r.returncode == 0, r.stderr
    row = r.stdout.splitlines()[1]
    assert row.split()[0] == name and row.endswith("no")
    assert "reject: 550 5.1.1 This user does not exist here at all" in row


def test_no_color_means_no_escape_codes_even_on_a_terminal() -> None:
    """--no-color and NO_COLOR: plain text, as lint and query print (domains printed bold
    escapes when rich, told there is a terminal, kept styles without colours)."""
    env = {"FORCE_COLOR": "1", "PATH": "/usr/bin:/bin"}
    for args, extra in ((["--no-color"], {}), ([], {"NO_COLOR": "1"})):
        r = subprocess.run([sys.executable, "-m", "virtc", "domains", *args, str(TABLE)], capture_output=True,
                           text=True, timeout=120, env={**env, **extra})
        assert r.returncode == 0 and "\x1b" not in r.stdout, (args, r.stdout)
    coloured = subprocess.run([sys.executable, "-m", "virtc", "domains", str(TABLE)], capture_output=True,
                              text=True, timeout=120, env=env)
    assert "\x1b[1;31mOPEN\x1b[0m" in coloured.stdout
