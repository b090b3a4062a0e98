"""--sendmail-cf, a sendmail.cf beside the table, and the mailbox lists, through the CLI.
(The cf reader itself is checked against the real sendmail in tests/oracle/test_sendmail_cf_oracle.py.)"""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import runner

from virtc.cli import cli

# The lines of an m4-generated cf that virtc reads (from Debian's sendmail-cf 8.17).
CF = """\
V10/Berkeley
Cwlocalhost
C{w}a.example
Fw-o {dir}/local-host-names
Djmail.example.org
C{VirtHost}v.example
Kvirtuser btree -N {dir}/virtusertable
Mlocal,\t\tP=/usr/lib/sm.bin/mail.local, F=lsDFMAw5:/|@qPSXfmnz9, S=EnvFromSMTP/HdrFromL,
\t\tT=DNS/RFC822/SMTP,
\t\tA=mail.local -l
"""


def invoke(*args: object) -> tuple[int, str, str]:
    r = runner().invoke(cli, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr


def setup(tmp_path: Path, table: str) -> Path:
    (tmp_path / "sendmail.cf").write_text(CF.replace("{dir}", str(tmp_path)))
    (tmp_path / "local-host-names").write_text("# local\nb.example\nmail.example.org\n")
    src = tmp_path / "virtusertable"
    src.write_text(table)
    return src


def test_a_cf_beside_the_table_is_used_and_said(tmp_path: Path) -> None:
    src = setup(tmp_path, "x@a.example\tx\nroot@mail.example.org\troot\nz@c.example\tz\n")
    rc, out, _ = invoke("lint", "--isolated", "--format", "text", src)
    assert rc == 1
    assert f"note: using {tmp_path / 'sendmail.cf'} (beside the table" in out
    lines = [line for line in out.splitlines() if ": VT" in line]
    # a.example (C{w}), b.example (Fw file), v.example (VirtHost): VT102; c.example: not local (VT106);
    # mail.example.org is the host's own name ($j): never a catch-all.
    assert [(line.split()[1], line.split("'")[1]) for line in lines] == [
        ("VT102", "a.example"), ("VT102", "b.example"), ("VT102", "v.example"), ("VT106", "c.example")]
    assert "relays any address in it to the domain's MX" in out  # v.example: VirtHost only


def test_explicit_cf_and_config_keys(tmp_path: Path) -> None:
    src = setup(tmp_path,
                "x@a.example\tnobody-here\npostmaster@a.example\troot\n@a.example\terror:5.1.1:550 x\n")
    other = tmp_path / "elsewhere"
    other.mkdir()
    moved = other / "virtusertable"
    moved.write_text(src.read_text())
    (tmp_path / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    rc, out, _ = invoke("lint", "--isolated", "--format", "json", "--select", "VT212", "--sendmail-cf",
                        tmp_path / "sendmail.cf", "--users", tmp_path / "passwd", moved)
    assert rc == 1
    found = json.loads(out)["diagnostics"]
    assert [d["code"] for d in found] == ["VT212"]
    assert "sendmail rejects it at RCPT (550 5.1.1 User unknown" in found[0]["message"]  # F=w in the cf
    (other / ".virtc.toml").write_text(f"sendmail-cf = '{tmp_path / 'sendmail.cf'}'\nusers = '../passwd'\n"
                                       "select = ['VT212']\n")
    _, out, _ = invoke("lint", "--format", "json", moved)
    assert [d["code"] for d in json.loads(out)["diagnostics"]] == ["VT212"]


def test_build_warns_when_the_map_is_not_what_the_cf_reads(tmp_path: Path) -> None:
    src = setup(tmp_path, "postmaster@a.example\troot\n@a.example\terror:5.1.1:550 x\n")
    rc, _, err = invoke("build", "--no-lint", src)
    assert rc == 0, err
    assert "sendmail reads the virtuser map as 'btree', this build writes 'hash'" in err
    assert "the K line has -N: build with -N/--null" in err


def test_diff_compares_with_the_map_the_cf_names(tmp_path: Path) -> None:
    src = setup(tmp_path, "postmaster@a.example\troot\n@a.example\terror:5.1.1:550 x\n")
    rc, out, _ = invoke("diff", "--sendmail-cf", tmp_path / "sendmail.cf", src)
    assert rc == 1
    assert out.endswith(f"{tmp_path / 'virtusertable.db'} (does not exist yet): 2 keys would change: "
                        "2 added, 0 removed, 0 changed (0 unchanged)\n")


def test_query_says_whether_the_user_exists(tmp_path: Path) -> None:
    src = setup(tmp_path, "x@a.example\tnobody-here\ny@a.example\troot\n@a.example\terror:5.1.1:550 x\n")
    (tmp_path / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    rc, out, _ = invoke("query", "--table", src, "--users", tmp_path / "passwd", "--json",
                        "x@a.example", "y@a.example", "z@a.example")
    assert rc == 0
    assert [d["user_exists"] for d in json.loads(out)] == [False, True, None]
